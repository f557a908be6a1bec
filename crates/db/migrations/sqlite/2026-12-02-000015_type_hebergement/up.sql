-- types-hebergement: Apogée TYP_HEBERGEMENT, the accommodation types that
-- EtudiantMetier.recupererTypeHebergement lists (soap-read-services.md §3.7) and that an annual
-- address names. Definition in apogee_domain::referential::defs; mapping in docs/DATA-MODEL.md.
CREATE TABLE ref_typ_hebergement (
    cod_thb VARCHAR(1) NOT NULL,
    lib_thb VARCHAR(60) NOT NULL,
    lib_web_thb VARCHAR(120),
    tem_en_sve_thb VARCHAR(1) NOT NULL,
    tem_min_thb VARCHAR(1),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64),
    last_trace_id VARCHAR(128),
    PRIMARY KEY (cod_thb)
);
