-- Apogée-compatible SQL schema for eCandidat's direct database access (PostgreSQL only:
-- shared/spec/apogee-sql-compat.md; docs/DATA-MODEL.md "Apogée-compatible schema").
--
-- * schema `apogee`: views with Apogée's table and column names (lower case, unquoted: SQL-5)
--   over the gateway's tables, owned by the migration role, without security_invoker (SQL-51);
-- * schema `pkb_bac`: the bac spécialité/option check, two overloads (SQL-18, SQL-19);
-- * the indexes eCandidat's lookups need within its 1 s statement timeout (SQL-4, §5.1).
--
-- The views read the tables of the schema this migration runs in (the gateway's search path;
-- `public` by default). PostgreSQL refuses to drop or retype a column a view reads: a later
-- migration that changes one of these tables must drop and re-create the affected views (and
-- keep `tests/compat_sql.rs` in step). Privileges for eCandidat's role are given by
-- `apogee-gateway compat-sql grant --role NAME` (SQL-52), not here.

CREATE SCHEMA apogee;
CREATE SCHEMA pkb_bac;

-- §5.1: Q4's first term, the INE split (the same expressions as apogee.ind_opi), Q5.
CREATE INDEX opi_individu_cod_opi_int_epo ON opi_individu (cod_opi_int_epo);
CREATE INDEX opi_individu_ine_split ON opi_individu (
    (CASE WHEN ine ~ '^[0-9]{9}[A-Z]{2}$' THEN substr(ine, 1, 9) ELSE substr(ine, 1, 10) END::varchar(10)),
    (CASE WHEN ine ~ '^[0-9]{9}[A-Z]{2}$' THEN substr(ine, 10, 2) ELSE substr(ine, 11, 1) END::varchar(2)));
CREATE INDEX opi_individu_identity ON opi_individu (lib_nom_pat_ind_opi, lib_pr1_ind_opi, date_nai_ind_opi);

CREATE VIEW apogee.dual AS SELECT 'X'::varchar(1) AS dummy;

-- IND_OPI (§2.1, 65 mapped columns + cod_com_nai_etu_opi): typed columns, the INE split the way
-- eCandidat splits it (SQL-30: INES 9 + 2, any other value 10 + 1), the rest from `donnees`.
CREATE VIEW apogee.ind_opi AS
SELECT o.cod_ind_opi AS cod_ind_opi,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,adrMailOpi}', '')::varchar(200) AS adr_mail_opi,
       (CASE WHEN o.ine ~ '^[0-9]{9}[A-Z]{2}$' THEN substr(o.ine, 10, 2) ELSE substr(o.ine, 11, 1) END::varchar(2)) AS cod_cle_nne_ind_opi,
       NULL::varchar(2) AS cod_dap,
       NULLIF(j.d #>> '{individu,situationAnnPre,codDepPayAnnPreOpi}', '')::varchar(3) AS cod_dep_pay_ann_pre_opi,
       NULLIF(j.d #>> '{individu,dernierEtbFrequente,codDepPayAntIaaOpi}', '')::varchar(3) AS cod_dep_pay_ant_iaa_opi,
       NULLIF(j.d #>> '{individu,dernierDiplObt,codDepPayDerDip}', '')::varchar(3) AS cod_dep_pay_der_dip,
       NULLIF(j.d #>> '{individu,donneesNaissance,codDepPayNai}', '')::varchar(3) AS cod_dep_pay_nai,
       NULLIF(j.d #>> '{individu,premiereInscription,codEtb}', '')::varchar(8) AS cod_etb,
       NULLIF(j.d #>> '{individu,inscriptionParallele,codEtbAnnCrt}', '')::varchar(8) AS cod_etb_ann_crt,
       NULLIF(j.d #>> '{individu,situationAnnPre,codEtbAnnPreOpi}', '')::varchar(8) AS cod_etb_ann_pre_opi,
       NULLIF(j.d #>> '{individu,dernierEtbFrequente,codEtbAntIaa}', '')::varchar(8) AS cod_etb_ant_iaa,
       NULLIF(j.d #>> '{individu,dernierDiplObt,codEtbDerDip}', '')::varchar(8) AS cod_etb_der_dip,
       NULLIF(j.d #>> '{individu,prgEchange,codEtrOpi}', '')::varchar(8) AS cod_etr_opi,
       o.cod_etu_opi AS cod_etu_opi,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,codFam}', '')::varchar(1) AS cod_fam,
       NULL::numeric(8) AS cod_ind,
       (CASE WHEN o.ine ~ '^[0-9]{9}[A-Z]{2}$' THEN substr(o.ine, 1, 9) ELSE substr(o.ine, 1, 10) END::varchar(10)) AS cod_nne_ind_opi,
       o.cod_opi_int_epo AS cod_opi_int_epo,
       NULLIF(j.d #>> '{individu,donneesNaissance,codPayNat}', '')::varchar(3) AS cod_pay_nat,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,codPcs}', '')::varchar(2) AS cod_pcs,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,codPcsAp}', '')::varchar(2) AS cod_pcs_ap,
       NULLIF(j.d #>> '{individu,prgEchange,codPrgOpi}', '')::varchar(1) AS cod_prg_opi,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,codRgi}', '')::varchar(5) AS cod_rgi,
       NULLIF(j.d #>> '{individu,etatCivil,codSexEtuOpi}', '')::varchar(1) AS cod_sex_etu_opi,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,codSim}', '')::varchar(1) AS cod_sim,
       NULLIF(j.d #>> '{individu,situationAnnPre,codSisAnnPreOpi}', '')::varchar(1) AS cod_sis_ann_pre_opi,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,codStu}', '')::varchar(5) AS cod_stu,
       NULLIF(j.d #>> '{individu,dernierDiplObt,codTdeDerDip}', '')::varchar(3) AS cod_tde_der_dip,
       NULLIF(j.d #>> '{individu,dernierDiplObt,codTdsOpi}', '')::varchar(1) AS cod_tds_opi,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,codThbOpi}', '')::varchar(1) AS cod_thb_opi,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,codThpOpi}', '')::varchar(2) AS cod_thp_opi,
       NULLIF(j.d #>> '{individu,inscriptionParallele,codTpeAnnCrt}', '')::varchar(2) AS cod_tpe_ann_crt,
       NULLIF(j.d #>> '{individu,dernierEtbFrequente,codTpeAntIaa}', '')::varchar(2) AS cod_tpe_ant_iaa,
       NULLIF(j.d #>> '{individu,situationAnnPre,codTypDepPayAnnPreOpi}', '')::varchar(1) AS cod_typ_dep_pay_ann_pre_opi,
       NULLIF(j.d #>> '{individu,dernierEtbFrequente,codTypDepPayAntIaaOpi}', '')::varchar(1) AS cod_typ_dep_pay_ant_iaa_opi,
       NULLIF(j.d #>> '{individu,dernierDiplObt,codTypDepPayDerDip}', '')::varchar(1) AS cod_typ_dep_pay_der_dip,
       NULLIF(j.d #>> '{individu,donneesNaissance,codTypDepPayNai}', '')::varchar(1) AS cod_typ_dep_pay_nai,
       NULLIF(j.d #>> '{individu,premiereInscription,daaEnsSupOpi}', '')::varchar(4) AS daa_ens_sup_opi,
       NULLIF(j.d #>> '{individu,premiereInscription,daaEntEtbOpi}', '')::varchar(4) AS daa_ent_etb_opi,
       NULLIF(j.d #>> '{individu,premiereInscription,daaEtbOpi}', '')::varchar(4) AS daa_etb_opi,
       NULLIF(j.d #>> '{individu,premiereInscription,daaEtrSup}', '')::varchar(9) AS daa_etr_sup,
       NULLIF(j.d #>> '{individu,dernierEtbFrequente,daaEtbAntIaaOpi}', '')::varchar(9) AS daa_etb_ant_iaa_opi,
       NULLIF(j.d #>> '{individu,dernierDiplObt,daaEtbDerDip}', '')::varchar(9) AS daa_etb_der_dip,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,daaLbtIndOpi}', '')::varchar(4) AS daa_lbt_ind_opi,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,dmmLbtIndOpi}', '')::varchar(2) AS dmm_lbt_ind_opi,
       o.date_nai_ind_opi AS date_nai_ind_opi,
       NULL::numeric(2) AS dur_exp_pro_epo,
       o.lib_nom_pat_ind_opi AS lib_nom_pat_ind_opi,
       NULLIF(o.lib_nom_usu_ind_opi, '')::varchar(30) AS lib_nom_usu_ind_opi,
       o.lib_pr1_ind_opi AS lib_pr1_ind_opi,
       NULLIF(j.d #>> '{individu,etatCivil,libPr2IndOpi}', '')::varchar(20) AS lib_pr2_ind_opi,
       NULLIF(j.d #>> '{individu,etatCivil,libPr3IndOpi}', '')::varchar(20) AS lib_pr3_ind_opi,
       NULLIF(j.d #>> '{individu,donneesNaissance,libVilNaiEtuOpi}', '')::varchar(30) AS lib_vil_nai_etu_opi,
       NULL::numeric(1) AS nb_enf_etu_opi,
       NULL::varchar(15) AS num_tel_ind_opi,
       NULL::varchar(15) AS num_tel_temp_epo,
       NULLIF(j.d #>> '{individu,donneesPersonnelles,numTelPorOpi}', '')::varchar(15) AS num_tel_por_opi,
       COALESCE(NULLIF(j.d #>> '{individu,donneesNaissance,temDateNaiRelOpi}', ''), 'N')::varchar(1) AS tem_date_nai_rel_opi,
       NULL::varchar(1) AS tem_exp_pro_epo,
       NULL::varchar(1) AS tem_int_epo,
       NULL::numeric(2) AS tem_mi_tps_epo,
       NULLIF(j.d #>> '{individu,inscriptionParallele,temPrlAnnCrt}', '')::varchar(1) AS tem_prl_ann_crt,
       NULLIF(j.d #>> '{individu,prgEchange,temSnsPrgOpi}', '')::varchar(1) AS tem_sns_prg_opi,
       NULL::varchar(1) AS tem_trf_ann_crt,
       NULLIF(j.d #>> '{individu,donneesNaissance,codComNaiEtuOpi}', '')::varchar(5) AS cod_com_nai_etu_opi
FROM opi_individu o CROSS JOIN LATERAL (SELECT o.donnees::jsonb AS d) j;

-- VOEUX_INS (§2.1, SQL-32): every vœu, whatever its decision; numbers stay numbers (Q3 binds one).
CREATE VIEW apogee.voeux_ins AS
SELECT v.cod_ind_opi AS cod_ind_opi, v.cod_cge, v.cod_etp, v.cod_vrs_vet AS cod_vrs_vet,
       v.num_cls, NULLIF(v.cod_dem_dos, '')::varchar(1) AS cod_dem_dos,
       NULLIF(v.cod_dec_veu, '')::varchar(1) AS cod_dec_veu, NULLIF(v.cod_dip, '')::varchar(7) AS cod_dip,
       v.cod_vrs_vdi
FROM opi_voeu v;

-- OPI_PJ (§2.1, SQL-33): numeric keys (N4 compares COD_IND_OPI with an unquoted number).
CREATE VIEW apogee.opi_pj AS
SELECT p.cod_ind_opi AS cod_ind_opi, p.cod_tpj, p.cod_opi_int_epo, p.nom_fic, p.cod_etu AS cod_etu
FROM opi_pj p;

-- N4: the same effect as DELETE /api/v1/opi/{code}/pj/{codTpj} — the row goes (under the
-- piece's advisory lock, as repo::pj::delete takes it), its file, now unreferenced, goes with
-- the periodic storage cleanup (pj.cleanup_interval_secs), and the call is journaled
-- (REP-1: channel `sql`, operation `OPI_PJ.DELETE`, key COD_IND_OPI/COD_TPJ, client = the
-- login role). Returns OLD so that the statement reports the row as deleted.
CREATE FUNCTION apogee.opi_pj_instead_of_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    deleted integer;
BEGIN
    PERFORM pg_advisory_xact_lock(1346011137, hashtext('opi:' || OLD.cod_ind_opi || ':' || OLD.cod_tpj));
    DELETE FROM opi_pj WHERE cod_ind_opi = OLD.cod_ind_opi AND cod_tpj = OLD.cod_tpj;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    IF deleted = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO call_journal (at, request_id, client_name, channel, operation, key_kind,
                              key_value, outcome, http_status, fault_key, message, warnings,
                              duration_ms)
    VALUES ((clock_timestamp() AT TIME ZONE 'UTC'),
            'sql-' || pg_backend_pid() || '-' || txid_current(),
            left(session_user::text, 64), 'sql', 'OPI_PJ.DELETE', 'codIndOpi/codTpj',
            left(OLD.cod_ind_opi || '/' || OLD.cod_tpj, 100), 'ok', 204, NULL, NULL, NULL, 0);
    RETURN OLD;
END $$;
-- The gateway's tables, whatever the caller's search path (eCandidat's is `apogee`).
DO $$ BEGIN
    EXECUTE format('ALTER FUNCTION apogee.opi_pj_instead_of_delete() SET search_path = %I, pg_temp',
                   current_schema());
END $$;
REVOKE ALL ON FUNCTION apogee.opi_pj_instead_of_delete() FROM PUBLIC;
CREATE TRIGGER opi_pj_delete INSTEAD OF DELETE ON apogee.opi_pj
    FOR EACH ROW EXECUTE FUNCTION apogee.opi_pj_instead_of_delete();

-- Referential (§2.2, §5.4, SQL-12): labels never NULL, témoins 'O'/'N' never NULL, empty text
-- as NULL (SQL-41).
CREATE VIEW apogee.annee_uni AS
SELECT cod_anu, eta_anu_iae, lib_anu,
       COALESCE(NULLIF(lic_anu, ''), cod_anu || '/' || (cod_anu::integer + 1))::varchar(10) AS lic_anu
FROM ref_annee_uni;

CREATE VIEW apogee.bac_oux_equ AS
SELECT cod_bac, NULLIF(ann_ctrl_ine, '')::varchar(4) AS ann_ctrl_ine,
       NULLIF(daa_deb_vld_bac, '')::varchar(4) AS daa_deb_vld_bac,
       NULLIF(daa_fin_vld_bac, '')::varchar(4) AS daa_fin_vld_bac, lib_bac,
       COALESCE(NULLIF(lic_bac, ''), left(lib_bac, 10))::varchar(10) AS lic_bac,
       COALESCE(tem_ctrl_ine, 'N')::varchar(1) AS tem_ctrl_ine,
       COALESCE(tem_en_sve_bac, 'O')::varchar(1) AS tem_en_sve_bac,
       COALESCE(tem_nat_bac, 'O')::varchar(1) AS tem_nat_bac
FROM ref_bac_oux_equ;

CREATE VIEW apogee.bac_regroupe_opt_bac AS SELECT cod_bac, cod_opt_bac FROM ref_bac_regroupe_opt;
CREATE VIEW apogee.bac_regroupe_spe_bac AS SELECT cod_bac, cod_spe_bac FROM ref_bac_regroupe_spe;

CREATE VIEW apogee.cat_exo_ext AS
SELECT cod_cat_exo_ext, NULLIF(cod_sis_cat_exo_ext, '')::varchar(2) AS cod_sis_cat_exo_ext,
       lib_cat_exo_ext,
       COALESCE(NULLIF(lic_cat_exo_ext, ''), left(lib_cat_exo_ext, 15))::varchar(15) AS lic_cat_exo_ext,
       COALESCE(tem_en_sve_cat_exo_ext, 'O')::varchar(1) AS tem_en_sve_cat_exo_ext
FROM ref_cat_exo_ext;

CREATE VIEW apogee.centre_gestion AS
SELECT cod_cge, lib_cge, COALESCE(NULLIF(lic_cge, ''), left(lib_cge, 10))::varchar(10) AS lic_cge,
       COALESCE(tem_en_sve_cge, 'O')::varchar(1) AS tem_en_sve_cge,
       COALESCE(tem_acces_distance, 'N')::varchar(1) AS tem_acces_distance
FROM ref_centre_gestion;

CREATE VIEW apogee.com_bdi AS SELECT cod_com, cod_bdi FROM ref_com_bdi;

CREATE VIEW apogee.commune AS
SELECT cod_com, lib_com, COALESCE(tem_en_sve_com, 'O')::varchar(1) AS tem_en_sve_com,
       NULLIF(cod_dep, '')::varchar(3) AS cod_dep
FROM ref_commune;

CREATE VIEW apogee.departement AS
SELECT cod_dep, lib_dep, COALESCE(NULLIF(lic_dep, ''), left(lib_dep, 10))::varchar(10) AS lic_dep,
       COALESCE(tem_en_sve_dep, 'O')::varchar(1) AS tem_en_sve_dep
FROM ref_departement;

CREATE VIEW apogee.dip_aut_cur AS
SELECT cod_dac, lib_dac, COALESCE(NULLIF(lic_dac, ''), left(lib_dac, 10))::varchar(10) AS lic_dac,
       COALESCE(tem_en_sve_dac, 'O')::varchar(1) AS tem_en_sve_dac
FROM ref_dip_aut_cur;

CREATE VIEW apogee.etablissement AS
SELECT cod_etb, NULLIF(cod_tpe, '')::varchar(2) AS cod_tpe, lib_etb,
       NULL::varchar(120) AS lib_web_etb,
       COALESCE(NULLIF(lic_etb, ''), left(lib_etb, 10))::varchar(10) AS lic_etb,
       COALESCE(tem_en_sve_etb, 'O')::varchar(1) AS tem_en_sve_etb,
       NULL::varchar(5) AS cod_com_adr_etb, NULLIF(cod_dep, '')::varchar(3) AS cod_dep
FROM ref_etablissement;

CREATE VIEW apogee.mention AS
SELECT cod_men, lib_men, COALESCE(NULLIF(lic_men, ''), left(lib_men, 10))::varchar(10) AS lic_men,
       COALESCE(tem_en_sve_men, 'O')::varchar(1) AS tem_en_sve_men
FROM ref_mention;

CREATE VIEW apogee.mention_niv_bac AS
SELECT cod_mnb, lib_mnb, COALESCE(NULLIF(lic_mnb, ''), left(lib_mnb, 10))::varchar(10) AS lic_mnb,
       COALESCE(tem_en_sve_mnb, 'O')::varchar(1) AS tem_en_sve_mnb
FROM ref_mention_niv_bac;

CREATE VIEW apogee.option_bac AS
SELECT cod_opt_bac, NULLIF(daa_deb_val_opt_bac, '')::varchar(4) AS daa_deb_val_opt_bac,
       NULLIF(daa_fin_val_opt_bac, '')::varchar(4) AS daa_fin_val_opt_bac, lib_opt_bac,
       COALESCE(NULLIF(lic_opt_bac, ''), left(lib_opt_bac, 10))::varchar(10) AS lic_opt_bac,
       COALESCE(tem_en_sve_opt_bac, 'O')::varchar(1) AS tem_en_sve_opt_bac
FROM ref_option_bac;

CREATE VIEW apogee.pays AS
SELECT cod_pay, COALESCE(NULLIF(lib_nat, ''), lib_pay)::varchar(40) AS lib_nat, lib_pay,
       COALESCE(NULLIF(lic_pay, ''), left(lib_pay, 10))::varchar(10) AS lic_pay,
       COALESCE(tem_en_sve_pay, 'O')::varchar(1) AS tem_en_sve_pay
FROM ref_pays;

CREATE VIEW apogee.regime_ins AS
SELECT cod_rgi, lib_rgi, COALESCE(NULLIF(lic_rgi, ''), left(lib_rgi, 15))::varchar(15) AS lic_rgi,
       COALESCE(tem_en_sve_rgi, 'O')::varchar(1) AS tem_en_sve_rgi
FROM ref_regime_ins;

CREATE VIEW apogee.specialite_bac AS
SELECT cod_spe_bac, NULLIF(daa_deb_val_spe_bac, '')::varchar(4) AS daa_deb_val_spe_bac,
       NULLIF(daa_fin_val_spe_bac, '')::varchar(4) AS daa_fin_val_spe_bac, lib_spe_bac,
       COALESCE(NULLIF(lic_spe_bac, ''), left(lib_spe_bac, 10))::varchar(10) AS lic_spe_bac,
       COALESCE(tem_en_sve_spe_bac, 'O')::varchar(1) AS tem_en_sve_spe_bac
FROM ref_specialite_bac;

CREATE VIEW apogee.statut_etu AS
SELECT cod_stu, lib_stu, COALESCE(NULLIF(lic_stu, ''), left(lib_stu, 15))::varchar(15) AS lic_stu,
       COALESCE(tem_en_sve_stu, 'O')::varchar(1) AS tem_en_sve_stu
FROM ref_statut_etu;

CREATE VIEW apogee.typ_diplome AS
SELECT cod_tpd_etb, lib_tpd, COALESCE(NULLIF(lic_tpd, ''), left(lib_tpd, 10))::varchar(10) AS lic_tpd,
       COALESCE(tem_en_sve_tpd, 'O')::varchar(1) AS tem_en_sve_tpd
FROM ref_typ_diplome;

CREATE VIEW apogee.typ_resultat AS
SELECT cod_tre, lib_tre, COALESCE(NULLIF(lic_tre, ''), left(lib_tre, 20))::varchar(20) AS lic_tre,
       COALESCE(tem_en_sve_tre, 'O')::varchar(1) AS tem_en_sve_tre
FROM ref_typ_resultat;

-- API clients are not Apogée users: empty, typed (SQL-12: managers need their CGE set in eCandidat).
CREATE VIEW apogee.utilisateur AS
SELECT NULL::varchar(30) AS cod_uti, NULL::varchar(200) AS adr_mail_uti,
       NULL::varchar(200) AS lib_cmt_uti, NULL::varchar(1) AS tem_en_sve_uti,
       NULL::varchar(3) AS cod_cge
WHERE false;

-- One row, 6.70-shaped (Q2): the gateway's version (written by every start, gateway_meta
-- `gateway_version`), the date of the last migration.
CREATE VIEW apogee.version_apo AS
SELECT ('GW-' || COALESCE((SELECT meta_value FROM gateway_meta WHERE meta_key = 'gateway_version'), 'unknown'))::varchar(30) AS cod_ver,
       0::integer AS cod_patch, 0::integer AS cod_perso,
       COALESCE((SELECT max(run_on) FROM __diesel_schema_migrations)::date, current_date) AS dat_cre,
       'apogee-gateway'::varchar(200) AS lib_com, 'O'::varchar(1) AS tem_base,
       'O'::varchar(1) AS tem_en_sve_ver;

-- The formation views (N2, N3; §4.2, §4.3): versions as varchar (SQL-21); `diplome` has no
-- cod_etp / cod_vrs_vet column (N3 leaves them unqualified).
CREATE VIEW apogee.version_etape AS
SELECT v.cod_etp, v.cod_vrs_vet::varchar(3) AS cod_vrs_vet,
       COALESCE(NULLIF(v.lib_web_vet, ''), NULLIF(v.lib_vet, ''), e.lib_etp)::varchar(120) AS lib_web_vet,
       COALESCE(NULLIF(v.lib_vet, ''), e.lib_etp)::varchar(60) AS lib_vet,
       COALESCE(v.tem_en_sve_vet, 'O')::varchar(1) AS tem_en_sve_vet
FROM ref_version_etape v JOIN ref_etape e ON e.cod_etp = v.cod_etp;

CREATE VIEW apogee.diplome AS
SELECT cod_dip, lib_dip, NULLIF(cod_tpd_etb, '')::varchar(2) AS cod_tpd_etb,
       COALESCE(tem_en_sve_dip, 'O')::varchar(1) AS tem_en_sve_dip
FROM ref_diplome;

CREATE VIEW apogee.vdi_fractionner_vet AS
SELECT cod_dip, cod_vrs_vdi::varchar(3) AS cod_vrs_vdi, cod_etp, cod_vrs_vet::varchar(3) AS cod_vrs_vet,
       COALESCE(NULLIF(daa_deb_rct_vet, ''), '0000')::varchar(4) AS daa_deb_rct_vet,
       COALESCE(NULLIF(daa_fin_rct_vet, ''), '9999')::varchar(4) AS daa_fin_rct_vet
FROM ref_vdi_fractionner_vet;

CREATE VIEW apogee.etp_gerer_cge AS SELECT cod_etp, cod_cge FROM ref_etp_gerer_cge;

-- PKB_BAC.VERIFIER_SPECIALITES_ET_OPTIONS_BAC (SQL-15 … SQL-19): the rule of
-- apogee_domain::opi::bac (same steps, same sentences; tests/compat_sql.rs compares them).
-- Reads the apogee views (security invoker: the caller's SELECT suffices), never raises.
CREATE FUNCTION pkb_bac.verifier_specialites_et_options_bac(
    p_daa_obt_bac varchar, p_cod_bac varchar, p_spe1 varchar, p_spe2 varchar, p_spe_pre varchar,
    p_opt1 varchar, p_opt2 varchar, p_opt3 varchar, p_opt4 varchar) RETURNS varchar
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_year integer := CASE WHEN p_daa_obt_bac ~ '^[0-9]{4}$' THEN p_daa_obt_bac::integer END;
    v_bac varchar := NULLIF(p_cod_bac, '');
    v_items varchar[] := ARRAY[p_spe1, p_spe2, p_spe_pre, p_opt1, p_opt2, p_opt3, p_opt4];
    v_spe boolean;
    v_opt boolean;
    v_code varchar;
    v_label varchar;
    v_deb varchar;
    v_fin varchar;
    v_in boolean;
    v_noun varchar;
BEGIN
    IF v_bac IS NULL THEN
        RETURN 'SS';
    END IF;
    v_spe := EXISTS (SELECT 1 FROM apogee.bac_regroupe_spe_bac WHERE cod_bac = v_bac);
    v_opt := EXISTS (SELECT 1 FROM apogee.bac_regroupe_opt_bac WHERE cod_bac = v_bac);
    IF NOT v_spe AND NOT v_opt THEN
        RETURN 'SS';
    END IF;
    FOR i IN 1..7 LOOP
        v_code := NULLIF(v_items[i], '');
        CONTINUE WHEN v_code IS NULL;
        v_label := NULL;
        v_deb := NULL;
        v_fin := NULL;
        IF i <= 3 THEN
            CONTINUE WHEN NOT v_spe;
            v_noun := 'La spécialité';
            SELECT s.lib_spe_bac, s.daa_deb_val_spe_bac, s.daa_fin_val_spe_bac INTO v_label, v_deb, v_fin
            FROM apogee.specialite_bac s WHERE s.cod_spe_bac = v_code;
            v_in := EXISTS (SELECT 1 FROM apogee.bac_regroupe_spe_bac
                            WHERE cod_bac = v_bac AND cod_spe_bac = v_code);
        ELSE
            CONTINUE WHEN NOT v_opt;
            v_noun := 'L''option';
            SELECT o.lib_opt_bac, o.daa_deb_val_opt_bac, o.daa_fin_val_opt_bac INTO v_label, v_deb, v_fin
            FROM apogee.option_bac o WHERE o.cod_opt_bac = v_code;
            v_in := EXISTS (SELECT 1 FROM apogee.bac_regroupe_opt_bac
                            WHERE cod_bac = v_bac AND cod_opt_bac = v_code);
        END IF;
        v_label := COALESCE(v_label, v_code);
        IF NOT v_in THEN
            RETURN v_noun || ' ' || v_label || ' n''est pas proposée pour ce baccalauréat';
        END IF;
        IF v_year IS NOT NULL AND ((v_deb ~ '^[0-9]{1,9}$' AND v_year < v_deb::integer)
                                   OR (v_fin ~ '^[0-9]{1,9}$' AND v_year > v_fin::integer)) THEN
            RETURN v_noun || ' ' || v_label || ' n''est pas valable pour un baccalauréat obtenu en ' || v_year;
        END IF;
        IF i = 2 AND v_code = NULLIF(p_spe1, '') THEN
            RETURN v_noun || ' ' || v_label || ' est choisie deux fois';
        END IF;
    END LOOP;
    RETURN 'OK';
EXCEPTION
    WHEN OTHERS THEN
        -- SQL-16: an exception breaks every candidate's bac window; `SS` = not checked.
        RETURN 'SS';
END $$;

CREATE FUNCTION pkb_bac.verifier_specialites_et_options_bac(
    p_daa_obt_bac integer, p_cod_bac varchar, p_spe1 varchar, p_spe2 varchar, p_spe_pre varchar,
    p_opt1 varchar, p_opt2 varchar, p_opt3 varchar, p_opt4 varchar) RETURNS varchar
LANGUAGE sql STABLE AS $$
    SELECT pkb_bac.verifier_specialites_et_options_bac(p_daa_obt_bac::varchar, p_cod_bac, p_spe1,
           p_spe2, p_spe_pre, p_opt1, p_opt2, p_opt3, p_opt4)
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA pkb_bac FROM PUBLIC;
