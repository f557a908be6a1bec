DROP TABLE lp_opi;
DROP TABLE lp_etudiant;
DROP TABLE blocage;
DROP TABLE inscription_etape;
DROP TABLE inscription_annuelle;
DROP TABLE etudiant;
