-- Attachments: OPI_PJ (opi_pj: one piece per OPI and PJ type, PJ-5) and TELEM_IAA_TPJ
-- (telem_iaa_tpj: pieces supplied at web enrolment, read by the Apogée PJ REST facade, PJ-11).
-- Files are content-addressed (SHA-256) under the PJ storage directory: storage_key is
-- '<first two hex digits>/<sha256>'; a row commits only once its file is durable (PJ-7).
-- See docs/DATA-MODEL.md.

CREATE TABLE opi_pj (
    cod_ind_opi BIGINT NOT NULL REFERENCES opi_individu (cod_ind_opi) ON DELETE CASCADE,
    cod_tpj VARCHAR(10) NOT NULL,
    cod_opi_int_epo VARCHAR(10) NOT NULL,
    nom_fic VARCHAR(255) NOT NULL,
    cod_etu BIGINT,
    storage_key VARCHAR(67) NOT NULL,
    size_bytes BIGINT NOT NULL,
    media_type VARCHAR(100) NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    received_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind_opi, cod_tpj)
);
-- The primary key indexes the foreign key (cod_ind_opi leads it).
CREATE INDEX opi_pj_storage_key ON opi_pj (storage_key);

CREATE TABLE telem_iaa_tpj (
    cod_anu VARCHAR(4) NOT NULL,
    cod_etu BIGINT NOT NULL,
    cod_tpj VARCHAR(10) NOT NULL,
    lib_tpj VARCHAR(60),
    nom_fic VARCHAR(255),
    tem_dem_pj VARCHAR(1) NOT NULL,
    stu_pj VARCHAR(40),
    mtf_refus VARCHAR(200),
    cmt_mtf_refus VARCHAR(500),
    dat_dem_pj TIMESTAMP,
    dat_rec_pj TIMESTAMP,
    dat_refus TIMESTAMP,
    dat_val TIMESTAMP,
    dat_exp TIMESTAMP,
    daa_pre_tra VARCHAR(4),
    storage_key VARCHAR(67),
    size_bytes BIGINT,
    media_type VARCHAR(100),
    sha256 VARCHAR(64),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_etu, cod_tpj, cod_anu)
);
CREATE INDEX telem_iaa_tpj_storage_key ON telem_iaa_tpj (storage_key);
