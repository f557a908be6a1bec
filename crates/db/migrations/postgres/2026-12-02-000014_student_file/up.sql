-- The student's file (issue 12): what EtudiantMetier answers and what a primo enrolment copies
-- from the OPI. INDIVIDU's other columns (etudiant_dossier), IND_BAC (etudiant_bac), ADRESSE
-- (etudiant_adresse: the fixed address, typ_adr 'F' and cod_anu '', and one annual address per
-- year, typ_adr 'A'), the profile of the enrolments (INS_ADM_ANU.COD_RGI, COD_STU, COD_CAT_EXO_EXT;
-- INS_ADM_ETP.COD_DIP, COD_VRS_VDI, COD_CGE) and the codEtu counter. See docs/DATA-MODEL.md.

CREATE TABLE etudiant_dossier (
    cod_ind BIGINT PRIMARY KEY REFERENCES etudiant (cod_ind) ON DELETE CASCADE,
    cod_sex_etu VARCHAR(1),
    lib_pr2_ind VARCHAR(20),
    lib_pr3_ind VARCHAR(20),
    cod_pay_nat VARCHAR(3),
    cod_typ_dep_pay_nai VARCHAR(1),
    cod_dep_pay_nai VARCHAR(3),
    cod_com_nai VARCHAR(5),
    lib_vil_nai_etu VARCHAR(30),
    tem_date_nai_rel VARCHAR(1),
    adr_mail VARCHAR(200),
    num_tel_por VARCHAR(20),
    cod_fam VARCHAR(1),
    cod_sim VARCHAR(1),
    cod_thp VARCHAR(2),
    daa_ens_sup VARCHAR(4),
    daa_ent_etb VARCHAR(4),
    daa_etb VARCHAR(4),
    daa_etr_sup VARCHAR(4),
    cod_etb_pre_univ VARCHAR(8),
    tem_boursier VARCHAR(1),
    cod_ind_opi BIGINT REFERENCES opi_individu (cod_ind_opi) ON DELETE SET NULL,
    cod_opi_int_epo VARCHAR(50),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128)
);
-- One student per OPI: a repeated primo enrolment finds the student it created.
CREATE UNIQUE INDEX etudiant_dossier_cod_ind_opi ON etudiant_dossier (cod_ind_opi);

CREATE TABLE etudiant_bac (
    cod_ind BIGINT NOT NULL REFERENCES etudiant (cod_ind) ON DELETE CASCADE,
    cod_bac VARCHAR(4) NOT NULL,
    daa_obt_bac VARCHAR(4),
    cod_mnb VARCHAR(2),
    cod_etb VARCHAR(8),
    cod_dep VARCHAR(3),
    cod_tpe VARCHAR(2),
    cod_spe1_bac VARCHAR(4),
    cod_spe2_bac VARCHAR(4),
    cod_spe_bac_pre VARCHAR(4),
    cod_opt1_bac VARCHAR(4),
    cod_opt2_bac VARCHAR(4),
    cod_opt3_bac VARCHAR(4),
    cod_opt4_bac VARCHAR(4),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind, cod_bac)
);

CREATE TABLE etudiant_adresse (
    cod_ind BIGINT NOT NULL REFERENCES etudiant (cod_ind) ON DELETE CASCADE,
    typ_adr VARCHAR(1) NOT NULL,
    cod_anu VARCHAR(4) NOT NULL,
    lib_ad1 VARCHAR(32),
    lib_ad2 VARCHAR(32),
    lib_ad3 VARCHAR(32),
    lib_ade VARCHAR(32),
    cod_bdi VARCHAR(5),
    cod_com VARCHAR(5),
    cod_pay VARCHAR(3),
    num_tel VARCHAR(15),
    cod_thb VARCHAR(1),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_ind, typ_adr, cod_anu),
    CHECK ((typ_adr = 'F' AND cod_anu = '') OR (typ_adr = 'A' AND cod_anu <> ''))
);

ALTER TABLE inscription_annuelle ADD COLUMN cod_rgi VARCHAR(5);
ALTER TABLE inscription_annuelle ADD COLUMN cod_stu VARCHAR(5);
ALTER TABLE inscription_annuelle ADD COLUMN cod_cat_exo_ext VARCHAR(5);
ALTER TABLE inscription_etape ADD COLUMN cod_dip VARCHAR(7);
ALTER TABLE inscription_etape ADD COLUMN cod_vrs_vdi INTEGER;
ALTER TABLE inscription_etape ADD COLUMN cod_cge VARCHAR(3);

-- The codEtu counter of a configured range (`enrolment.cod_etu_first`-`cod_etu_last`): a number
-- handed out is never handed out again, even when its enrolment is cancelled.
CREATE TABLE cod_etu_allocation (
    plage VARCHAR(20) PRIMARY KEY,
    next_cod_etu BIGINT NOT NULL,
    last_cod_etu BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
