-- What eCandidat reads from Apogée's referential and the gateway did not hold
-- (shared/spec/apogee-sql-compat.md §5.4, SQL-12, SQL-41): short labels, validity years of the
-- bac spécialités/options, the diploma type, the web label of a VET, the recruitment years of a
-- VDI/VET link, and four whole lists. Loadable like every referential table
-- (PUT /api/v1/referential/{name}, `apogee-gateway referential import`).

-- annees: LIC_ANU (the Apogée view computes `<cod_anu>/<cod_anu+1>` while it is null)
ALTER TABLE ref_annee_uni ADD COLUMN lic_anu VARCHAR(10);
-- diplomes: COD_TPD_ETB (→ types-diplome)
ALTER TABLE ref_diplome ADD COLUMN cod_tpd_etb VARCHAR(2);
-- versions-etape: LIB_WEB_VET
ALTER TABLE ref_version_etape ADD COLUMN lib_web_vet VARCHAR(120);
-- vdi-vet: DAA_DEB_RCT_VET / DAA_FIN_RCT_VET (years of recruitment)
ALTER TABLE ref_vdi_fractionner_vet ADD COLUMN daa_deb_rct_vet VARCHAR(4);
ALTER TABLE ref_vdi_fractionner_vet ADD COLUMN daa_fin_rct_vet VARCHAR(4);
-- specialites-bac, options-bac: short label and validity years (SQL-41)
ALTER TABLE ref_specialite_bac ADD COLUMN lic_spe_bac VARCHAR(10);
ALTER TABLE ref_specialite_bac ADD COLUMN daa_deb_val_spe_bac VARCHAR(4);
ALTER TABLE ref_specialite_bac ADD COLUMN daa_fin_val_spe_bac VARCHAR(4);
ALTER TABLE ref_option_bac ADD COLUMN lic_opt_bac VARCHAR(10);
ALTER TABLE ref_option_bac ADD COLUMN daa_deb_val_opt_bac VARCHAR(4);
ALTER TABLE ref_option_bac ADD COLUMN daa_fin_val_opt_bac VARCHAR(4);
-- mentions-bac: LIC_MNB, TEM_EN_SVE_MNB (rows loaded before are in service)
ALTER TABLE ref_mention_niv_bac ADD COLUMN lic_mnb VARCHAR(10);
ALTER TABLE ref_mention_niv_bac ADD COLUMN tem_en_sve_mnb VARCHAR(1) NOT NULL DEFAULT 'O';
-- etablissements: LIC_ETB
ALTER TABLE ref_etablissement ADD COLUMN lic_etb VARCHAR(10);

-- diplomes-autres-cursus
CREATE TABLE ref_dip_aut_cur (
    cod_dac VARCHAR(7) NOT NULL,
    lib_dac VARCHAR(60) NOT NULL,
    lic_dac VARCHAR(10),
    tem_en_sve_dac VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_dac)
);

-- mentions
CREATE TABLE ref_mention (
    cod_men VARCHAR(2) NOT NULL,
    lib_men VARCHAR(50) NOT NULL,
    lic_men VARCHAR(10),
    tem_en_sve_men VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_men)
);

-- types-diplome
CREATE TABLE ref_typ_diplome (
    cod_tpd_etb VARCHAR(2) NOT NULL,
    lib_tpd VARCHAR(40) NOT NULL,
    lic_tpd VARCHAR(10),
    tem_en_sve_tpd VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_tpd_etb)
);

-- types-resultat
CREATE TABLE ref_typ_resultat (
    cod_tre VARCHAR(4) NOT NULL,
    lib_tre VARCHAR(50) NOT NULL,
    lic_tre VARCHAR(20),
    tem_en_sve_tre VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_tre)
);
