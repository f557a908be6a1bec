DROP TABLE telem_iaa_tpj;
DROP TABLE opi_pj;
