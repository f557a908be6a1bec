-- Student register and laissez-passer: INDIVIDU (etudiant), INS_ADM_ANU (inscription_annuelle),
-- INS_ADM_ETP (inscription_etape), IND_SANCTIONNE_BLO + BLOCAGE (blocage),
-- TELEM_LAISSER_PASSER (lp_etudiant) and TELEM_LAISSER_PASSER_OPI (lp_opi). See docs/DATA-MODEL.md.

CREATE TABLE etudiant (
    cod_ind INTEGER PRIMARY KEY AUTOINCREMENT,
    cod_etu INTEGER NOT NULL UNIQUE,
    ine VARCHAR(11),
    lib_nom_pat_ind VARCHAR(30) NOT NULL,
    lib_nom_usu_ind VARCHAR(30),
    lib_pr1_ind VARCHAR(20) NOT NULL,
    date_nai_ind DATE NOT NULL,
    match_key VARCHAR(80) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128)
);
CREATE INDEX etudiant_ine ON etudiant (ine);
CREATE INDEX etudiant_match_key ON etudiant (match_key);

CREATE TABLE inscription_annuelle (
    cod_ind INTEGER NOT NULL REFERENCES etudiant (cod_ind) ON DELETE CASCADE,
    cod_anu VARCHAR(4) NOT NULL,
    eta_iaa VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind, cod_anu)
);

CREATE TABLE inscription_etape (
    cod_ind INTEGER NOT NULL REFERENCES etudiant (cod_ind) ON DELETE CASCADE,
    cod_anu VARCHAR(4) NOT NULL,
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    eta_iae VARCHAR(1) NOT NULL,
    eta_pmt_iae VARCHAR(1),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind, cod_anu, cod_etp, cod_vrs_vet)
);
CREATE INDEX inscription_etape_vet ON inscription_etape (cod_anu, cod_etp, cod_vrs_vet);

CREATE TABLE blocage (
    cod_ind INTEGER NOT NULL REFERENCES etudiant (cod_ind) ON DELETE CASCADE,
    cod_blo VARCHAR(10) NOT NULL,
    typ_blo VARCHAR(1) NOT NULL,
    lib_blo VARCHAR(100),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind, cod_blo)
);

CREATE TABLE lp_etudiant (
    cod_ind INTEGER NOT NULL REFERENCES etudiant (cod_ind) ON DELETE CASCADE,
    cod_anu VARCHAR(4) NOT NULL,
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    cod_dip VARCHAR(7),
    cod_vrs_vdi INTEGER,
    cod_rgi VARCHAR(5),
    cod_stu VARCHAR(5),
    cod_cat_oui_si VARCHAR(5),
    mtf_cat VARCHAR(200),
    cod_cat_exo_ext VARCHAR(5),
    lib_cmt_lpa VARCHAR(200),
    dat_cre_lpa TIMESTAMP NOT NULL,
    cod_uti_cre_lpa VARCHAR(64),
    dat_mod_lpa TIMESTAMP,
    cod_uti_mod_lpa VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind, cod_anu, cod_etp, cod_vrs_vet)
);
CREATE INDEX lp_etudiant_vet ON lp_etudiant (cod_anu, cod_etp, cod_vrs_vet);

CREATE TABLE lp_opi (
    cod_ind_opi INTEGER NOT NULL REFERENCES opi_individu (cod_ind_opi) ON DELETE CASCADE,
    cod_anu VARCHAR(4) NOT NULL,
    cod_etp VARCHAR(6) NOT NULL,
    cod_vrs_vet INTEGER NOT NULL,
    cod_dip VARCHAR(7),
    cod_vrs_vdi INTEGER,
    cod_rgi VARCHAR(5),
    cod_stu VARCHAR(5),
    cod_cat_oui_si VARCHAR(5),
    mtf_cat VARCHAR(200),
    cod_cat_exo_ext VARCHAR(5),
    lib_cmt_lpa VARCHAR(200),
    dat_cre_lpa TIMESTAMP NOT NULL,
    cod_uti_cre_lpa VARCHAR(64),
    dat_mod_lpa TIMESTAMP,
    cod_uti_mod_lpa VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind_opi, cod_anu, cod_etp, cod_vrs_vet)
);
CREATE INDEX lp_opi_vet ON lp_opi (cod_anu, cod_etp, cod_vrs_vet);
