-- CVEC: the local attestation register (cvec_attestation, CVEC-6) and every enrolment check
-- (cvec_check, CVEC-13). Gateway-own tables (domain.md §2.5); see docs/DATA-MODEL.md.

CREATE TABLE cvec_attestation (
    cod_anu VARCHAR(4) NOT NULL,
    num_attestation VARCHAR(13) NOT NULL,
    nom VARCHAR(100) NOT NULL,
    nom_usage VARCHAR(100),
    prenom VARCHAR(100) NOT NULL,
    sexe VARCHAR(1),
    date_naissance DATE NOT NULL,
    ine VARCHAR(11),
    crous VARCHAR(100),
    etat_code VARCHAR(10) NOT NULL,
    etat_libelle VARCHAR(200),
    exoneration_active BOOLEAN NOT NULL,
    exoneration_motif VARCHAR(100),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_anu, num_attestation)
);
CREATE INDEX cvec_attestation_num ON cvec_attestation (num_attestation);
CREATE INDEX cvec_attestation_ine ON cvec_attestation (ine);

CREATE TABLE cvec_check (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cod_ind INTEGER,
    cod_ind_opi INTEGER REFERENCES opi_individu (cod_ind_opi) ON DELETE SET NULL,
    cod_anu VARCHAR(4) NOT NULL,
    num_attestation VARCHAR(13),
    lettres_nom VARCHAR(5),
    ine VARCHAR(11),
    identity_key VARCHAR(200),
    source VARCHAR(10),
    http_status INTEGER,
    etat_code VARCHAR(10),
    exoneration_active BOOLEAN,
    exoneration_motif VARCHAR(100),
    cod_cat_exo_ext VARCHAR(5),
    boursier BOOLEAN,
    result VARCHAR(12) NOT NULL,
    reason VARCHAR(40),
    reasons VARCHAR(400),
    warnings VARCHAR(400),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128)
);
CREATE INDEX cvec_check_number ON cvec_check (cod_anu, num_attestation);
CREATE INDEX cvec_check_cod_ind_opi ON cvec_check (cod_ind_opi);
CREATE INDEX cvec_check_cod_ind ON cvec_check (cod_ind);
CREATE INDEX cvec_check_ine ON cvec_check (ine);
CREATE INDEX cvec_check_result_at ON cvec_check (result, created_at);
