DROP TABLE opi_voeu;
DROP TABLE opi_code_alias;
DROP TABLE opi_individu;
