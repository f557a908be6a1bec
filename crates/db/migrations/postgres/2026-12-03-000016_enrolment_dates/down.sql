ALTER TABLE inscription_etape DROP COLUMN dat_cre_iae;
ALTER TABLE inscription_annuelle DROP COLUMN dat_cre_iaa;
