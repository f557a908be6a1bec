DROP TABLE ref_variable_appli;
DROP TABLE ref_signataire;
DROP TABLE ref_cmp_hierarchie;
DROP TABLE ref_composante;
DROP TABLE ref_typ_composante;
DROP TABLE ref_cmp_habiliter_vdi;
ALTER TABLE ref_etp_gerer_cge DROP COLUMN cod_cmp;
