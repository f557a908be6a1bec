DROP TABLE ref_correspondance;
DROP TABLE ref_formation_pegase;
