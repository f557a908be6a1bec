DROP TABLE ref_typ_hebergement;
