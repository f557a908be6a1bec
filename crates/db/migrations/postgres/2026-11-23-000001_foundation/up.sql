-- Foundation: gateway metadata, API clients, the call journal and the referential.
-- Internal names; the mapping to Apogée tables is in docs/DATA-MODEL.md.

CREATE TABLE gateway_meta (
    meta_key VARCHAR(64) NOT NULL PRIMARY KEY,
    meta_value VARCHAR(400) NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE api_client (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(64) NOT NULL UNIQUE,
    secret_sha256 VARCHAR(64) NOT NULL UNIQUE,
    scopes VARCHAR(400) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE call_journal (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    request_id VARCHAR(128) NOT NULL,
    client_name VARCHAR(64),
    channel VARCHAR(8) NOT NULL,
    operation VARCHAR(100) NOT NULL,
    key_kind VARCHAR(32),
    key_value VARCHAR(100),
    outcome VARCHAR(10) NOT NULL,
    http_status INTEGER NOT NULL,
    fault_key VARCHAR(200),
    message VARCHAR(1000),
    warnings VARCHAR(1000),
    duration_ms INTEGER NOT NULL
);
CREATE INDEX call_journal_at ON call_journal (at);
CREATE INDEX call_journal_client_at ON call_journal (client_name, at);
CREATE INDEX call_journal_operation_at ON call_journal (operation, at);
CREATE INDEX call_journal_key_value ON call_journal (key_value);
CREATE INDEX call_journal_fault_key ON call_journal (fault_key);

-- annees
CREATE TABLE ref_annee_uni (
    cod_anu VARCHAR(4) NOT NULL,
    lib_anu VARCHAR(40) NOT NULL,
    eta_anu_iae VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_anu)
);

-- centres-gestion
CREATE TABLE ref_centre_gestion (
    cod_cge VARCHAR(3) NOT NULL,
    lib_cge VARCHAR(40) NOT NULL,
    lic_cge VARCHAR(10),
    tem_en_sve_cge VARCHAR(1) NOT NULL,
    tem_acces_distance VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_cge)
);

-- diplomes
CREATE TABLE ref_diplome (
    cod_dip VARCHAR(7) NOT NULL,
    lib_dip VARCHAR(60) NOT NULL,
    tem_en_sve_dip VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_dip)
);

-- versions-diplome
CREATE TABLE ref_version_diplome (
    cod_dip VARCHAR(7) NOT NULL,
    cod_vrs_vdi INTEGER NOT NULL,
    lib_vdi VARCHAR(60),
    tem_en_sve_vdi VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_dip, cod_vrs_vdi)
);

-- etapes
CREATE TABLE ref_etape (
    cod_etp VARCHAR(6) NOT NULL,
    lib_etp VARCHAR(60) NOT NULL,
    nbr_max_iae_aut INTEGER,
    tem_en_sve_etp VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_etp)
);

-- versions-etape
CREATE TABLE ref_version_etape (
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    lib_vet VARCHAR(60),
    tem_en_sve_vet VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_etp, cod_vrs_vet)
);

-- etapes-cge
CREATE TABLE ref_etp_gerer_cge (
    cod_etp VARCHAR(6) NOT NULL,
    cod_cge VARCHAR(3) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_etp, cod_cge)
);

-- vdi-vet
CREATE TABLE ref_vdi_fractionner_vet (
    cod_dip VARCHAR(7) NOT NULL,
    cod_vrs_vdi INTEGER NOT NULL,
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_dip, cod_vrs_vdi, cod_etp, cod_vrs_vet)
);

-- vet-ouvertures
CREATE TABLE ref_vet_ouverture (
    cod_anu VARCHAR(4) NOT NULL,
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    cod_cge_minp_vet VARCHAR(3),
    dat_deb_minp_vet DATE,
    dat_fin_minp_vet DATE,
    cod_cge_min_vet VARCHAR(3),
    dat_deb_min_vet DATE,
    dat_fin_min_vet DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_anu, cod_etp, cod_vrs_vet)
);

-- vet-regimes
CREATE TABLE ref_rgi_autoriser_vet (
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    cod_rgi VARCHAR(5) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_etp, cod_vrs_vet, cod_rgi)
);

-- regimes-bcn
CREATE TABLE ref_regime_bcn (
    cod_bcn VARCHAR(2) NOT NULL,
    lib_bcn VARCHAR(100) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_bcn)
);

-- regimes
CREATE TABLE ref_regime_ins (
    cod_rgi VARCHAR(5) NOT NULL,
    lib_rgi VARCHAR(65) NOT NULL,
    lic_rgi VARCHAR(15),
    cod_bcn VARCHAR(2),
    tem_en_sve_rgi VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_rgi)
);

-- statuts
CREATE TABLE ref_statut_etu (
    cod_stu VARCHAR(5) NOT NULL,
    lib_stu VARCHAR(65) NOT NULL,
    lic_stu VARCHAR(15),
    tem_en_sve_stu VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_stu)
);

-- categories-oui-si
CREATE TABLE ref_cat_oui_si (
    cod_cat_oui_si VARCHAR(5) NOT NULL,
    lib_cat_oui_si VARCHAR(65) NOT NULL,
    tem_en_sve_cat_oui_si VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_cat_oui_si)
);

-- categories-exo-ext
CREATE TABLE ref_cat_exo_ext (
    cod_cat_exo_ext VARCHAR(5) NOT NULL,
    lib_cat_exo_ext VARCHAR(65) NOT NULL,
    lic_cat_exo_ext VARCHAR(15),
    cod_sis_cat_exo_ext VARCHAR(2),
    tem_en_sve_cat_exo_ext VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_cat_exo_ext)
);

-- bacs
CREATE TABLE ref_bac_oux_equ (
    cod_bac VARCHAR(4) NOT NULL,
    lib_bac VARCHAR(40) NOT NULL,
    lic_bac VARCHAR(10),
    daa_deb_vld_bac VARCHAR(4),
    daa_fin_vld_bac VARCHAR(4),
    tem_nat_bac VARCHAR(1) NOT NULL,
    tem_ctrl_ine VARCHAR(1) NOT NULL,
    ann_ctrl_ine VARCHAR(4),
    tem_en_sve_bac VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_bac)
);

-- specialites-bac
CREATE TABLE ref_specialite_bac (
    cod_spe_bac VARCHAR(4) NOT NULL,
    lib_spe_bac VARCHAR(65) NOT NULL,
    tem_en_sve_spe_bac VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_spe_bac)
);

-- options-bac
CREATE TABLE ref_option_bac (
    cod_opt_bac VARCHAR(4) NOT NULL,
    lib_opt_bac VARCHAR(65) NOT NULL,
    tem_en_sve_opt_bac VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_opt_bac)
);

-- bac-specialites
CREATE TABLE ref_bac_regroupe_spe (
    cod_bac VARCHAR(4) NOT NULL,
    cod_spe_bac VARCHAR(4) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_bac, cod_spe_bac)
);

-- bac-options
CREATE TABLE ref_bac_regroupe_opt (
    cod_bac VARCHAR(4) NOT NULL,
    cod_opt_bac VARCHAR(4) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_bac, cod_opt_bac)
);

-- mentions-bac
CREATE TABLE ref_mention_niv_bac (
    cod_mnb VARCHAR(2) NOT NULL,
    lib_mnb VARCHAR(40) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_mnb)
);

-- pays
CREATE TABLE ref_pays (
    cod_pay VARCHAR(3) NOT NULL,
    lib_pay VARCHAR(40) NOT NULL,
    lic_pay VARCHAR(10),
    lib_nat VARCHAR(40),
    tem_en_sve_pay VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_pay)
);

-- departements
CREATE TABLE ref_departement (
    cod_dep VARCHAR(3) NOT NULL,
    lib_dep VARCHAR(40) NOT NULL,
    lic_dep VARCHAR(10),
    tem_en_sve_dep VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_dep)
);

-- communes
CREATE TABLE ref_commune (
    cod_com VARCHAR(5) NOT NULL,
    lib_com VARCHAR(40) NOT NULL,
    cod_dep VARCHAR(3),
    tem_en_sve_com VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_com)
);

-- communes-bdi
CREATE TABLE ref_com_bdi (
    cod_com VARCHAR(5) NOT NULL,
    cod_bdi VARCHAR(5) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_com, cod_bdi)
);

-- etablissements
CREATE TABLE ref_etablissement (
    cod_etb VARCHAR(8) NOT NULL,
    lib_etb VARCHAR(60) NOT NULL,
    cod_tpe VARCHAR(2),
    cod_dep VARCHAR(3),
    tem_en_sve_etb VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_etb)
);

-- types-pj
CREATE TABLE ref_type_pj (
    cod_tpj VARCHAR(10) NOT NULL,
    lib_tpj VARCHAR(60) NOT NULL,
    tem_en_sve_tpj VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_tpj)
);
