DROP SCHEMA pkb_bac CASCADE;
DROP SCHEMA apogee CASCADE;
DROP INDEX opi_individu_identity;
DROP INDEX opi_individu_ine_split;
DROP INDEX opi_individu_cod_opi_int_epo;
