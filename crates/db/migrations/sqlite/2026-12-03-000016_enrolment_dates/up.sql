-- The day an administrative enrolment made the yearly (DAT_CRE_IAA) and étape (DAT_CRE_IAE)
-- enrolments, answered as dateIAA / dateIAE by AdministratifMetier. Set by the enrolment use
-- case only (the server's local day); NULL for enrolments loaded by the student register, whose
-- date the gateway does not know.
ALTER TABLE inscription_annuelle ADD COLUMN dat_cre_iaa DATE;
ALTER TABLE inscription_etape ADD COLUMN dat_cre_iae DATE;
