-- What the read services (ReferentielMetier, OffreFormationMetier.recupererSE_v4) answer and the
-- referential lacked: composantes with their types, hierarchy and signataires, the
-- establishment's application variables, and the links of étapes and diploma versions to
-- composantes. Definitions in apogee_domain::referential::defs; mapping in docs/DATA-MODEL.md.

-- etapes-cge: the étape's composante in that centre de gestion (ETP_GERER_CGE.COD_CMP)
ALTER TABLE ref_etp_gerer_cge ADD COLUMN cod_cmp VARCHAR(3);

-- vdi-composantes
CREATE TABLE ref_cmp_habiliter_vdi (
    cod_dip VARCHAR(7) NOT NULL,
    cod_vrs_vdi INTEGER NOT NULL,
    cod_cmp VARCHAR(3) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_dip, cod_vrs_vdi, cod_cmp)
);

-- types-composante
CREATE TABLE ref_typ_composante (
    cod_typ_cmp VARCHAR(4) NOT NULL,
    lib_typ_cmp VARCHAR(60) NOT NULL,
    tem_en_sve_typ_cmp VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_typ_cmp)
);

-- composantes
CREATE TABLE ref_composante (
    cod_cmp VARCHAR(3) NOT NULL,
    lib_cmp VARCHAR(60) NOT NULL,
    lib_web_cmp VARCHAR(120),
    cod_sig VARCHAR(6),
    cod_nat_cmp VARCHAR(4),
    cod_typ_cmp VARCHAR(4),
    cod_rne_cmp VARCHAR(8),
    lib_adr1_cmp VARCHAR(32),
    lib_adr2_cmp VARCHAR(32),
    lib_adr3_cmp VARCHAR(32),
    cod_pos_adr_cmp VARCHAR(5),
    cod_com_adr_cmp VARCHAR(5),
    tem_elc_cmp VARCHAR(1) NOT NULL,
    tem_en_sve_cmp VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_cmp)
);

-- composantes-hierarchie
CREATE TABLE ref_cmp_hierarchie (
    cod_cmp_pere VARCHAR(3) NOT NULL,
    cod_cmp_fils VARCHAR(3) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_cmp_pere, cod_cmp_fils)
);

-- signataires
CREATE TABLE ref_signataire (
    cod_sig VARCHAR(6) NOT NULL,
    nom_sig VARCHAR(60) NOT NULL,
    qua_sig VARCHAR(100),
    tem_en_sve_sig VARCHAR(1) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_sig)
);

-- variables-appli
CREATE TABLE ref_variable_appli (
    cod_vap VARCHAR(10) NOT NULL,
    lib_vap VARCHAR(60) NOT NULL,
    par_vap VARCHAR(200),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_vap)
);
