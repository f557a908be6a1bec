-- Mapping tables of the OPI batch channel (OPI-23, OPI-24): Pégase formation codes to VETs, and
-- external labels or codes (Parcoursup, Pégase) to Apogée codes. Referential tables.

CREATE TABLE ref_formation_pegase (
    code_voeu VARCHAR(30) NOT NULL,
    cod_cge VARCHAR(3) NOT NULL,
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (code_voeu)
);

CREATE TABLE ref_correspondance (
    domaine VARCHAR(20) NOT NULL,
    valeur VARCHAR(100) NOT NULL,
    code VARCHAR(10) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (domaine, valeur)
);
