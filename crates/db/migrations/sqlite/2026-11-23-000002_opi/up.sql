-- OPI: IND_OPI (opi_individu), VOEUX_INS (opi_voeu) and the codes merged into another OPI
-- (opi_code_alias, OPI-4). Blocks that no rule queries are stored as JSON documents of the DTO
-- (column donnees); the columns rules and searches use are typed. See docs/DATA-MODEL.md.

CREATE TABLE opi_individu (
    cod_ind_opi INTEGER PRIMARY KEY AUTOINCREMENT,
    cod_opi_int_epo VARCHAR(10) NOT NULL,
    cod_opi_int_epo_upper VARCHAR(10) NOT NULL UNIQUE,
    cod_etu_opi INTEGER,
    ine VARCHAR(11),
    ine_family VARCHAR(12),
    ine_check VARCHAR(12),
    lib_nom_pat_ind_opi VARCHAR(30) NOT NULL,
    lib_nom_usu_ind_opi VARCHAR(30),
    lib_pr1_ind_opi VARCHAR(20) NOT NULL,
    date_nai_ind_opi DATE NOT NULL,
    match_key VARCHAR(80) NOT NULL,
    donnees TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128)
);
CREATE INDEX opi_individu_cod_etu ON opi_individu (cod_etu_opi);
CREATE INDEX opi_individu_ine ON opi_individu (ine);
CREATE INDEX opi_individu_match_key ON opi_individu (match_key);

CREATE TABLE opi_code_alias (
    alias_upper VARCHAR(10) NOT NULL PRIMARY KEY,
    alias VARCHAR(10) NOT NULL,
    cod_ind_opi INTEGER NOT NULL REFERENCES opi_individu (cod_ind_opi) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX opi_code_alias_cod_ind_opi ON opi_code_alias (cod_ind_opi);

CREATE TABLE opi_voeu (
    cod_ind_opi INTEGER NOT NULL REFERENCES opi_individu (cod_ind_opi) ON DELETE CASCADE,
    cod_cge VARCHAR(3) NOT NULL,
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    num_cls INTEGER,
    cod_dem_dos VARCHAR(1),
    cod_dec_veu VARCHAR(1),
    cod_dip VARCHAR(7),
    cod_vrs_vdi INTEGER,
    cod_rge VARCHAR(5),
    cod_cat_oui_si VARCHAR(5),
    cod_cat_exo_ext VARCHAR(5),
    donnees TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind_opi, cod_cge, cod_etp, cod_vrs_vet)
);
CREATE INDEX opi_voeu_vet ON opi_voeu (cod_etp, cod_vrs_vet);
