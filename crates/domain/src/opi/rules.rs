//! OPI rules: individual data (OPI-9 … OPI-14) and vœux (OPI-15, OPI-16) checked against the
//! referential snapshot. The result is either a rejection (every failure listed) or an
//! [`Intake`]: the cleaned payload, its identity keys, the vœux plan and the warnings. Storage
//! (upsert order, merges, vœux replacement) is applied by `apogee-db`.

use super::check::{Checker, Warning, path};
use super::dto::{self, DonneesOpi, Voeu};
use crate::error::{Error, FaultKey, FieldError};
use crate::ine::{self, IneFamily, IneValidity};
use crate::referential::Referential;
use crate::referential::Value;
use crate::referential::snapshot::CodeState;
use crate::text::{normalized_name, present};
use chrono::NaiveDate;
use serde::Serialize;

/// What the rules need besides the payload.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Referential snapshot.
    pub referential: &'a Referential,
    /// Today (birth dates, bac years, enrolment windows).
    pub today: NaiveDate,
    /// A missing INE where one is required is a rejection instead of a warning.
    pub ine_required_is_error: bool,
}

/// The INE of the candidate, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IneInfo {
    /// Normalised 11 characters.
    pub value: String,
    /// Family.
    pub family: IneFamily,
    /// `ok` (key checked offline) or `unverified` (shape only, INE-8 with no verifier).
    pub check: &'static str,
}

/// Key of a vœu (`VOEUX_INS` primary key without the person).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoeuKey {
    /// Centre de gestion.
    pub cod_cge: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
}

/// A vœu that passed OPI-16.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedVoeu {
    /// Position in the request (0-based).
    pub index: usize,
    /// Key.
    pub key: VoeuKey,
    /// The cleaned vœu (trimmed values).
    pub voeu: Voeu,
    /// Decision (`F`, `D`, `A`).
    pub cod_dec_veu: Option<String>,
    /// Warnings on this vœu.
    pub warnings: Vec<Warning>,
}

/// A vœu refused by OPI-15/OPI-16.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedVoeu {
    /// Position in the request (0-based).
    pub index: usize,
    /// Key, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub key: Option<VoeuKey>,
    /// Reason code (`VOEU_VET_INCONNUE` …).
    pub reason: String,
    /// Apogée fault key.
    pub fault_key: FaultKey,
    /// French message.
    pub message: String,
}

/// What to do with the stored vœux (OPI-15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoeuxPlan {
    /// `voeux` absent, nil or without items: stored vœux unchanged.
    Unchanged,
    /// Exactly one all-absent item: delete every vœu.
    DeleteAll,
    /// Replace the stored set by the accepted items (rejected ones reported).
    Replace {
        /// Accepted items.
        accepted: Vec<AcceptedVoeu>,
        /// Rejected items.
        rejected: Vec<RejectedVoeu>,
    },
}

/// A payload that passed the individual-level rules.
#[derive(Debug, Clone)]
pub struct Intake {
    /// The cleaned payload (values trimmed, INE normalised, phone separators removed).
    pub donnees: DonneesOpi,
    /// `codOpiIntEpo` as sent (trimmed).
    pub code: String,
    /// `codEtuOpi`.
    pub cod_etu_opi: Option<i64>,
    /// INE, when sent.
    pub ine: Option<IneInfo>,
    /// Birth surname.
    pub nom_pat: String,
    /// Usage surname.
    pub nom_usu: Option<String>,
    /// First name.
    pub prenom: String,
    /// Birth date.
    pub date_naissance: NaiveDate,
    /// Normalised birth surname + first name + birth date (duplicates, REP-6).
    pub match_key: String,
    /// Vœux plan.
    pub voeux: VoeuxPlan,
    /// Individual-level warnings.
    pub warnings: Vec<Warning>,
}

/// The match key of a person.
pub fn match_key(nom_pat: &str, prenom: &str, date: NaiveDate) -> String {
    format!(
        "{}|{}|{}",
        normalized_name(nom_pat),
        normalized_name(prenom),
        date.format("%Y%m%d")
    )
}

fn phone(c: &mut Checker, raw: &Option<String>, p: &str) -> Option<String> {
    let cleaned: Option<String> = present(raw.as_deref()).map(|v| {
        v.chars()
            .filter(|ch| !matches!(ch, ' ' | '.' | '-' | '/'))
            .collect()
    });
    c.text(&cleaned, p, 15)
}

fn flag(c: &mut Checker, raw: &Option<String>, p: &str) -> Option<String> {
    c.one_of(raw, p, &["O", "N"])
}

/// `D` + département or `P` + country (not France).
fn dep_or_country(
    c: &mut Checker,
    r: &Referential,
    typ: &Option<String>,
    code: &Option<String>,
    p_typ: &str,
    p_code: &str,
) -> (Option<String>, Option<String>) {
    let t = c.one_of(typ, p_typ, &["D", "P"]);
    let code = match t.as_deref() {
        Some("D") => c.code_in(r, "departements", code, p_code, 3, true),
        Some("P") => {
            let v = c.code_in(r, "pays", code, p_code, 3, true);
            if v.as_deref() == Some("100") {
                c.invalid(
                    "VALEUR_INVALIDE",
                    p_code,
                    "Type P (pays) avec le code 100 (France) : utiliser D et le département",
                );
                None
            } else {
                v
            }
        }
        _ => c.text(code, p_code, 3),
    };
    (t, code)
}

fn check_adresse(c: &mut Checker, r: &Referential, a: &dto::Adresse, p: &str) -> dto::Adresse {
    let cod_pay = c.code_in(r, "pays", &a.cod_pay, &path(p, "codPay"), 3, true);
    let mut cod_bdi = c.text(&a.cod_bdi, &path(p, "codBdi"), 5);
    let cod_com = c.text(&a.cod_com, &path(p, "codCom"), 5);
    if cod_pay.as_deref() == Some("100") {
        cod_bdi = c.digits(&cod_bdi, &path(p, "codBdi"), 5);
        if let (Some(com), Some(bdi)) = (&cod_com, &cod_bdi)
            && !r.contains("communes-bdi", &[com, bdi])
        {
            c.fail(
                FaultKey::null_retrieve("codCom"),
                "REF_INCONNU",
                &path(p, "codCom"),
                format!("La commune {com} n'a pas le code postal {bdi}"),
            );
        }
    }
    let lib1 = c.required(&a.lib1, &path(p, "lib1"), 32);
    dto::Adresse {
        cod_bdi,
        cod_com,
        cod_pay,
        lib1,
        lib2: c.text(&a.lib2, &path(p, "lib2"), 32),
        lib3: c.text(&a.lib3, &path(p, "lib3"), 32),
        lib_ade: c.text(&a.lib_ade, &path(p, "libAde"), 32),
        num_tel: phone(c, &a.num_tel, &path(p, "numTel")),
    }
}

fn check_bac(c: &mut Checker, r: &Referential, b: &dto::Bac, today: NaiveDate) -> dto::Bac {
    let p = "bac";
    let cod_bac = c.code_in(r, "bacs", &b.cod_bac, &path(p, "codBac"), 4, true);
    let daa = c.digits(&b.daa_obt_bac_oba, &path(p, "daaObtBacOba"), 4);
    if let Some(year) = daa.as_deref().and_then(|y| y.parse::<i32>().ok()) {
        if year > chrono::Datelike::year(&today) {
            c.invalid(
                "VALEUR_INVALIDE",
                &path(p, "daaObtBacOba"),
                format!("daaObtBacOba : {year} est dans le futur"),
            );
        }
        if let Some(rec) = cod_bac.as_deref().and_then(|code| r.get("bacs", &[code])) {
            let bound = |n: &str| {
                rec.get(n)
                    .and_then(Value::as_text)
                    .and_then(|v| v.parse::<i32>().ok())
            };
            let out = bound("daaDebVldBac").is_some_and(|d| year < d)
                || bound("daaFinVldBac").is_some_and(|f| year > f);
            if out {
                c.warn(
                    "BAC_HORS_VALIDITE",
                    Some(&path(p, "daaObtBacOba")),
                    format!("Le bac {} n'est pas délivré en {year}", rec.key().join("")),
                );
            }
        }
    }
    let spe_opt = |c: &mut Checker,
                   raw: &Option<String>,
                   name: &str,
                   table: &str,
                   group: &str|
     -> Option<String> {
        let v = c.text(raw, &path(p, name), 4)?;
        if let Some(bac) = &cod_bac {
            let has_group = r.rows(group).any(|row| row.key().first() == Some(bac));
            if has_group && !r.contains(group, &[bac, &v]) {
                c.fail(
                    FaultKey::noncoherent("specialitesBac"),
                    "BAC_SPECIALITE",
                    &path(p, name),
                    format!("{name} : {v} n'est pas une spécialité ou option du bac {bac}"),
                );
            } else if !has_group && r.state(table, &[&v]) == CodeState::Unknown {
                c.warn(
                    "REF_INCONNU",
                    Some(&path(p, name)),
                    format!("{name} : code {v} absent du référentiel"),
                );
            }
        }
        Some(v)
    };
    dto::Bac {
        cod_spe1_bac_ter: spe_opt(
            c,
            &b.cod_spe1_bac_ter,
            "codSpe1BacTer",
            "specialites-bac",
            "bac-specialites",
        ),
        cod_spe2_bac_ter: spe_opt(
            c,
            &b.cod_spe2_bac_ter,
            "codSpe2BacTer",
            "specialites-bac",
            "bac-specialites",
        ),
        cod_spe_bac_pre: spe_opt(
            c,
            &b.cod_spe_bac_pre,
            "codSpeBacPre",
            "specialites-bac",
            "bac-specialites",
        ),
        cod_opt1_bac: spe_opt(
            c,
            &b.cod_opt1_bac,
            "codOpt1Bac",
            "options-bac",
            "bac-options",
        ),
        cod_opt2_bac: spe_opt(
            c,
            &b.cod_opt2_bac,
            "codOpt2Bac",
            "options-bac",
            "bac-options",
        ),
        cod_opt3_bac: spe_opt(
            c,
            &b.cod_opt3_bac,
            "codOpt3Bac",
            "options-bac",
            "bac-options",
        ),
        cod_opt4_bac: spe_opt(
            c,
            &b.cod_opt4_bac,
            "codOpt4Bac",
            "options-bac",
            "bac-options",
        ),
        cod_dep: c.code_in(r, "departements", &b.cod_dep, &path(p, "codDep"), 3, true),
        cod_etb: c.etablissement(r, &b.cod_etb, &path(p, "codEtb")),
        cod_mention: c.code_in(
            r,
            "mentions-bac",
            &b.cod_mention,
            &path(p, "codMention"),
            2,
            true,
        ),
        cod_tpe: c.text(&b.cod_tpe, &path(p, "codTpe"), 2),
        cod_bac,
        daa_obt_bac_oba: daa,
    }
}

fn check_individu(
    c: &mut Checker,
    r: &Referential,
    ind: &dto::Individu,
    today: NaiveDate,
) -> (dto::Individu, Option<IneInfo>) {
    let p = "individu";
    let code = c.required(&ind.cod_opi_int_epo, &path(p, "codOpiIntEpo"), 10);
    if let Some(code) = &code
        && !code.chars().all(|ch| ch.is_ascii_alphanumeric())
    {
        c.invalid("FORMAT", &path(p, "codOpiIntEpo"), format!("codOpiIntEpo : « {code} » ne doit contenir que des lettres et des chiffres (10 au plus)"));
    }
    let cod_etu = c
        .int(&ind.cod_etu_opi, &path(p, "codEtuOpi"), 1, 99_999_999)
        .map(|n| n.to_string());

    let ec = ind.etat_civil.clone().unwrap_or_default();
    let pe = "individu.etatCivil";
    let mut ine_info = None;
    let ine_raw = present(ec.cod_nne_ind_opi.as_deref()).map(str::to_owned);
    let ine_value = match &ine_raw {
        None => None,
        Some(raw) => {
            let checked = ine::check(raw);
            match checked.valid {
                IneValidity::False if checked.family == IneFamily::None => None,
                IneValidity::False => {
                    c.fail(
                        FaultKey::noncoherent("codNneIndOpi"),
                        checked.reason.as_str(),
                        &path(pe, "codNneIndOpi"),
                        format!("INE {} : {}", checked.normalized, checked.message),
                    );
                    None
                }
                validity => {
                    let check = if validity == IneValidity::True {
                        "ok"
                    } else {
                        "unverified"
                    };
                    if check == "unverified" {
                        c.warn("INE_NON_VERIFIE", Some(&path(pe, "codNneIndOpi")), format!("INE {} de forme correcte mais non vérifiable hors ligne (aucun service de vérification configuré)", checked.family.as_str()));
                    }
                    if checked.family == IneFamily::Provisoire {
                        c.warn(
                            "INE_PROVISOIRE",
                            Some(&path(pe, "codNneIndOpi")),
                            "INE provisoire",
                        );
                    }
                    ine_info = Some(IneInfo {
                        value: checked.normalized.clone(),
                        family: checked.family,
                        check,
                    });
                    Some(checked.normalized)
                }
            }
        }
    };
    let etat_civil = dto::EtatCivil {
        cod_nne_ind_opi: ine_value,
        cod_sex_etu_opi: c.one_of(&ec.cod_sex_etu_opi, &path(pe, "codSexEtuOpi"), &["M", "F"]),
        lib_nom_pat_ind_opi: c.name(
            &ec.lib_nom_pat_ind_opi,
            &path(pe, "libNomPatIndOpi"),
            30,
            true,
        ),
        lib_nom_usu_ind_opi: c.name(
            &ec.lib_nom_usu_ind_opi,
            &path(pe, "libNomUsuIndOpi"),
            30,
            false,
        ),
        lib_pr1_ind_opi: c.name(&ec.lib_pr1_ind_opi, &path(pe, "libPr1IndOpi"), 20, true),
        lib_pr2_ind_opi: c.name(&ec.lib_pr2_ind_opi, &path(pe, "libPr2IndOpi"), 20, false),
        lib_pr3_ind_opi: c.name(&ec.lib_pr3_ind_opi, &path(pe, "libPr3IndOpi"), 20, false),
    };

    let dn = ind.donnees_naissance.clone().unwrap_or_default();
    let pn = "individu.donneesNaissance";
    if present(dn.date_nai_ind_opi.as_deref()).is_none() {
        c.fail(
            FaultKey::mandatory("dateNaiIndOpi"),
            "CHAMP_OBLIGATOIRE",
            &path(pn, "dateNaiIndOpi"),
            "dateNaiIndOpi est obligatoire",
        );
    }
    let min = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let date = c.date(&dn.date_nai_ind_opi, &path(pn, "dateNaiIndOpi"), min, today);
    if present(dn.tem_date_nai_rel_opi.as_deref()).is_none() {
        c.fail(
            FaultKey::mandatory("temDateNaiRelOpi"),
            "CHAMP_OBLIGATOIRE",
            &path(pn, "temDateNaiRelOpi"),
            "temDateNaiRelOpi est obligatoire",
        );
    }
    let (typ, dep) = dep_or_country(
        c,
        r,
        &dn.cod_typ_dep_pay_nai,
        &dn.cod_dep_pay_nai,
        &path(pn, "codTypDepPayNai"),
        &path(pn, "codDepPayNai"),
    );
    let donnees_naissance = dto::DonneesNaissance {
        cod_dep_pay_nai: dep,
        cod_pay_nat: c.code_in(r, "pays", &dn.cod_pay_nat, &path(pn, "codPayNat"), 3, true),
        cod_typ_dep_pay_nai: typ,
        date_nai_ind_opi: date.map(|d| d.format("%d%m%Y").to_string()),
        cod_com_nai_etu_opi: c.code_in(
            r,
            "communes",
            &dn.cod_com_nai_etu_opi,
            &path(pn, "codComNaiEtuOpi"),
            5,
            true,
        ),
        lib_vil_nai_etu_opi: c.text(&dn.lib_vil_nai_etu_opi, &path(pn, "libVilNaiEtuOpi"), 30),
        tem_date_nai_rel_opi: flag(c, &dn.tem_date_nai_rel_opi, &path(pn, "temDateNaiRelOpi")),
    };

    let donnees_personnelles = ind.donnees_personnelles.as_ref().map(|dp| {
        let pp = "individu.donneesPersonnelles";
        let mail = c.text(&dp.adr_mail_opi, &path(pp, "adrMailOpi"), 200);
        if let Some(m) = &mail
            && (m.matches('@').count() != 1
                || m.chars().any(char::is_whitespace)
                || m.starts_with('@')
                || m.ends_with('@'))
        {
            c.invalid(
                "FORMAT",
                &path(pp, "adrMailOpi"),
                format!("adrMailOpi : « {m} » n'est pas une adresse électronique"),
            );
        }
        let dmm = c
            .int(&dp.dmm_lbt_ind_opi, &path(pp, "dmmLbtIndOpi"), 1, 12)
            .map(|m| format!("{m:02}"));
        dto::DonneesPersonnelles {
            adr_mail_opi: mail,
            cod_fam: c.text(&dp.cod_fam, &path(pp, "codFam"), 1),
            cod_pcs: c.text(&dp.cod_pcs, &path(pp, "codPcs"), 2),
            cod_pcs_ap: c.text(&dp.cod_pcs_ap, &path(pp, "codPcsAp"), 2),
            cod_sim: c.text(&dp.cod_sim, &path(pp, "codSim"), 1),
            cod_thb_opi: c.text(&dp.cod_thb_opi, &path(pp, "codThbOpi"), 1),
            cod_thp_opi: c.text(&dp.cod_thp_opi, &path(pp, "codThpOpi"), 2),
            daa_lbt_ind_opi: c.digits(&dp.daa_lbt_ind_opi, &path(pp, "daaLbtIndOpi"), 4),
            dmm_lbt_ind_opi: dmm,
            num_tel_por_opi: phone(c, &dp.num_tel_por_opi, &path(pp, "numTelPorOpi")),
            cod_rgi: c.code_in(r, "regimes", &dp.cod_rgi, &path(pp, "codRgi"), 5, false),
            cod_stu: c.code_in(r, "statuts", &dp.cod_stu, &path(pp, "codStu"), 5, false),
        }
    });

    let dernier_dipl_obt = ind.dernier_dipl_obt.as_ref().map(|b| {
        let pb = "individu.dernierDiplObt";
        let (t, d) = dep_or_country(
            c,
            r,
            &b.cod_typ_dep_pay_der_dip,
            &b.cod_dep_pay_der_dip,
            &path(pb, "codTypDepPayDerDip"),
            &path(pb, "codDepPayDerDip"),
        );
        dto::DernierDiplObt {
            cod_tde_der_dip: c.text(&b.cod_tde_der_dip, &path(pb, "codTdeDerDip"), 3),
            cod_dep_pay_der_dip: d,
            cod_typ_dep_pay_der_dip: t,
            cod_etb_der_dip: c.etablissement(r, &b.cod_etb_der_dip, &path(pb, "codEtbDerDip")),
            cod_tds_opi: c.text(&b.cod_tds_opi, &path(pb, "codTdsOpi"), 1),
            daa_etb_der_dip: c.year(&b.daa_etb_der_dip, &path(pb, "daaEtbDerDip"), true),
        }
    });
    let dernier_etb_frequente = ind.dernier_etb_frequente.as_ref().map(|b| {
        let pb = "individu.dernierEtbFrequente";
        let (t, d) = dep_or_country(
            c,
            r,
            &b.cod_typ_dep_pay_ant_iaa_opi,
            &b.cod_dep_pay_ant_iaa_opi,
            &path(pb, "codTypDepPayAntIaaOpi"),
            &path(pb, "codDepPayAntIaaOpi"),
        );
        dto::DernierEtbFrequente {
            cod_dep_pay_ant_iaa_opi: d,
            cod_etb_ant_iaa: c.etablissement(r, &b.cod_etb_ant_iaa, &path(pb, "codEtbAntIaa")),
            cod_tpe_ant_iaa: c.text(&b.cod_tpe_ant_iaa, &path(pb, "codTpeAntIaa"), 2),
            cod_typ_dep_pay_ant_iaa_opi: t,
            daa_etb_ant_iaa_opi: c.year(&b.daa_etb_ant_iaa_opi, &path(pb, "daaEtbAntIaaOpi"), true),
        }
    });
    let inscription_parallele = ind.inscription_parallele.as_ref().map(|b| {
        let pb = "individu.inscriptionParallele";
        dto::InscriptionParallele {
            cod_etb_ann_crt: c.etablissement(r, &b.cod_etb_ann_crt, &path(pb, "codEtbAnnCrt")),
            cod_tpe_ann_crt: c.text(&b.cod_tpe_ann_crt, &path(pb, "codTpeAnnCrt"), 2),
            tem_prl_ann_crt: flag(c, &b.tem_prl_ann_crt, &path(pb, "temPrlAnnCrt")),
        }
    });
    let premiere_inscription = ind.premiere_inscription.as_ref().map(|b| {
        let pb = "individu.premiereInscription";
        dto::PremiereInscription {
            cod_etb: c.etablissement(r, &b.cod_etb, &path(pb, "codEtb")),
            daa_ens_sup_opi: c.year(&b.daa_ens_sup_opi, &path(pb, "daaEnsSupOpi"), false),
            daa_ent_etb_opi: c.year(&b.daa_ent_etb_opi, &path(pb, "daaEntEtbOpi"), false),
            daa_etb_opi: c.year(&b.daa_etb_opi, &path(pb, "daaEtbOpi"), false),
            daa_etr_sup: c.year(&b.daa_etr_sup, &path(pb, "daaEtrSup"), true),
        }
    });
    let prg_echange = ind.prg_echange.as_ref().map(|b| {
        let pb = "individu.prgEchange";
        dto::PrgEchange {
            cod_etr_opi: c.text(&b.cod_etr_opi, &path(pb, "codEtrOpi"), 8),
            cod_prg_opi: c.text(&b.cod_prg_opi, &path(pb, "codPrgOpi"), 1),
            tem_sns_prg_opi: c.text(&b.tem_sns_prg_opi, &path(pb, "temSnsPrgOpi"), 1),
        }
    });
    let situation_ann_pre = ind.situation_ann_pre.as_ref().map(|b| {
        let pb = "individu.situationAnnPre";
        let (t, d) = dep_or_country(
            c,
            r,
            &b.cod_typ_dep_pay_ann_pre_opi,
            &b.cod_dep_pay_ann_pre_opi,
            &path(pb, "codTypDepPayAnnPreOpi"),
            &path(pb, "codDepPayAnnPreOpi"),
        );
        dto::SituationAnnPre {
            cod_dep_pay_ann_pre_opi: d,
            cod_etb_ann_pre_opi: c.etablissement(
                r,
                &b.cod_etb_ann_pre_opi,
                &path(pb, "codEtbAnnPreOpi"),
            ),
            cod_sis_ann_pre_opi: c.text(&b.cod_sis_ann_pre_opi, &path(pb, "codSisAnnPreOpi"), 1),
            cod_typ_dep_pay_ann_pre_opi: t,
        }
    });
    (
        dto::Individu {
            cod_etu_opi: cod_etu,
            cod_opi_int_epo: code,
            dernier_dipl_obt,
            dernier_etb_frequente,
            donnees_naissance: Some(donnees_naissance),
            donnees_personnelles,
            etat_civil: Some(etat_civil),
            inscription_parallele,
            premiere_inscription,
            prg_echange,
            situation_ann_pre,
        },
        ine_info,
    )
}

fn check_these(c: &mut Checker, r: &Referential, t: &dto::These) -> dto::These {
    let p = "donneesThese";
    let cod_dip = c.required(&t.cod_dip, &path(p, "codDip"), 7);
    let vdi = if present(t.cod_vrs_vdi.as_deref()).is_none() {
        c.fail(
            FaultKey::mandatory("codVrsVdi"),
            "CHAMP_OBLIGATOIRE",
            &path(p, "codVrsVdi"),
            "codVrsVdi est obligatoire",
        );
        None
    } else {
        c.int(&t.cod_vrs_vdi, &path(p, "codVrsVdi"), 0, 999)
    };
    let cod_etp = c.required(&t.cod_etp, &path(p, "codEtp"), 6);
    let vet = if present(t.cod_vrs_vet.as_deref()).is_none() {
        c.fail(
            FaultKey::mandatory("codVrsVet"),
            "CHAMP_OBLIGATOIRE",
            &path(p, "codVrsVet"),
            "codVrsVet est obligatoire",
        );
        None
    } else {
        c.int(&t.cod_vrs_vet, &path(p, "codVrsVet"), 0, 999)
    };
    if let (Some(dip), Some(v)) = (&cod_dip, vdi)
        && !r.contains("versions-diplome", &[dip, &v.to_string()])
    {
        c.fail(
            FaultKey::null_retrieve("vdi"),
            "REF_INCONNU",
            &path(p, "codDip"),
            format!("Version de diplôme {dip}/{v} inconnue"),
        );
    }
    if let (Some(etp), Some(v)) = (&cod_etp, vet)
        && !r.contains("versions-etape", &[etp, &v.to_string()])
    {
        c.fail(
            FaultKey::null_retrieve("vet"),
            "REF_INCONNU",
            &path(p, "codEtp"),
            format!("Version d'étape {etp}/{v} inconnue"),
        );
    }
    let int_leaf = |c: &mut Checker, raw: &Option<String>, name: &str| {
        c.int(
            raw,
            &path(p, name),
            i64::from(i32::MIN),
            i64::from(i32::MAX),
        )
        .map(|n| n.to_string())
    };
    dto::These {
        cod_dip,
        cod_vrs_vdi: vdi.map(|n| n.to_string()),
        cod_etp,
        cod_vrs_vet: vet.map(|n| n.to_string()),
        cod_ths_trv: c.text(&t.cod_ths_trv, &path(p, "codThsTrv"), 20),
        cod_dis: int_leaf(c, &t.cod_dis, "codDis"),
        lib_ths: c.text(&t.lib_ths, &path(p, "libThs"), 500),
        lib_ths_lng: c.text(&t.lib_ths_lng, &path(p, "libThsLng"), 500),
        cod_lng: c.text(&t.cod_lng, &path(p, "codLng"), 10),
        cod_edo: c.text(&t.cod_edo, &path(p, "codEdo"), 10),
        cod_per_dir: int_leaf(c, &t.cod_per_dir, "codPerDir"),
        cod_per_cdr: int_leaf(c, &t.cod_per_cdr, "codPerCdr"),
        cod_per_cdr2: int_leaf(c, &t.cod_per_cdr2, "codPerCdr2"),
        cod_eqr: c.text(&t.cod_eqr, &path(p, "codEqr"), 10),
    }
}

fn check_dac(c: &mut Checker, d: &dto::Dac) -> dto::Dac {
    let p = "dac";
    let t = |c: &mut Checker, raw: &Option<String>, name: &str| c.text(raw, &path(p, name), 100);
    let nbr = present(d.nbr_crd_cur.as_deref()).map(str::to_owned);
    if let Some(n) = &nbr
        && n.parse::<f64>().is_err()
    {
        c.invalid(
            "FORMAT",
            &path(p, "nbrCrdCur"),
            format!("nbrCrdCur : « {n} » n'est pas un nombre décimal"),
        );
    }
    dto::Dac {
        cod_cur_opi: t(c, &d.cod_cur_opi, "codCurOpi"),
        cod_dac: t(c, &d.cod_dac, "codDac"),
        cod_dep_pay: t(c, &d.cod_dep_pay, "codDepPay"),
        cod_dip_cur: t(c, &d.cod_dip_cur, "codDipCur"),
        cod_etb: t(c, &d.cod_etb, "codEtb"),
        cod_nif: c
            .int(
                &d.cod_nif,
                &path(p, "codNif"),
                i64::from(i32::MIN),
                i64::from(i32::MAX),
            )
            .map(|n| n.to_string()),
        cod_tpe: t(c, &d.cod_tpe, "codTpe"),
        cod_typ_dep_pay: t(c, &d.cod_typ_dep_pay, "codTypDepPay"),
        daa_uni_dac: t(c, &d.daa_uni_dac, "daaUniDac"),
        dip_cur: t(c, &d.dip_cur, "dipCur"),
        lib_cmt_dac: t(c, &d.lib_cmt_dac, "libCmtDac"),
        nbr_crd_cur: nbr,
        tem_obt_cur_vae: t(c, &d.tem_obt_cur_vae, "temObtCurVae"),
        tem_obt_dac: t(c, &d.tem_obt_dac, "temObtDac"),
    }
}

/// Which régime and fee categories an accepted vœu carries, for LP priority and reports.
fn first_error(c: &Checker, from: usize) -> Option<FieldError> {
    c.errors.get(from).cloned()
}

/// OPI-16 on one vœu: the first failure rejects it (reason, fault key).
fn check_voeu(
    r: &Referential,
    today: NaiveDate,
    index: usize,
    v: &Voeu,
    ind_rgi: Option<&str>,
) -> Result<AcceptedVoeu, Box<RejectedVoeu>> {
    let p = format!("voeux.item[{index}]");
    let mut c = Checker::default();
    let reject = |reason: &str, err: FieldError, key: Option<VoeuKey>| {
        Box::new(RejectedVoeu {
            index,
            key,
            reason: reason.to_owned(),
            fault_key: err.fault_key,
            message: err.message,
        })
    };
    // V1 mandatory fields.
    for (name, value) in [
        ("codCge", &v.cod_cge),
        ("codEtp", &v.cod_etp),
        ("codVrsVet", &v.cod_vrs_vet),
        ("numCls", &v.num_cls),
        ("codDemDos", &v.cod_dem_dos),
    ] {
        if present(value.as_deref()).is_none() {
            c.fail(
                FaultKey::mandatory(name),
                "CHAMP_OBLIGATOIRE",
                &path(&p, name),
                format!("Vœu n° {} : {name} est obligatoire", index + 1),
            );
        }
    }
    if let Some(e) = first_error(&c, 0) {
        return Err(reject("VOEU_CHAMP_OBLIGATOIRE", e, None));
    }
    let cge = present(v.cod_cge.as_deref()).unwrap_or_default().to_owned();
    let etp = present(v.cod_etp.as_deref()).unwrap_or_default().to_owned();
    let vet_n = c.int(&v.cod_vrs_vet, &path(&p, "codVrsVet"), 0, 999);
    let Some(vet) = vet_n else {
        return Err(reject("VOEU_VALEUR_INVALIDE", c.errors.remove(0), None));
    };
    let key = VoeuKey {
        cod_cge: cge.clone(),
        cod_etp: etp.clone(),
        cod_vrs_vet: i32::try_from(vet).unwrap_or_default(),
    };
    let vet_s = vet.to_string();
    let fail = |reason: &str, fk: FaultKey, field: &str, msg: String| {
        Err(reject(
            reason,
            FieldError::new(fk, reason, Some(path(&p, field)), msg),
            Some(key.clone()),
        ))
    };
    // V2, V3 CGE.
    match r.state("centres-gestion", &[&cge]) {
        CodeState::InService => {}
        _ => {
            return fail(
                "VOEU_CGE_INCONNU",
                FaultKey::null_retrieve("codCge"),
                "codCge",
                format!("Centre de gestion {cge} inconnu ou hors service"),
            );
        }
    }
    let remote = r
        .get("centres-gestion", &[&cge])
        .and_then(|rec| rec.get("temAccesDistance"))
        .and_then(Value::as_text);
    if remote.as_deref() != Some("O") {
        return fail(
            "VOEU_CGE_SANS_ACCES_DISTANCE",
            FaultKey::business_rule("cge.accesdistance"),
            "codCge",
            format!(
                "Le centre de gestion {cge} n'est pas ouvert à l'accès à distance (case AD) : le vœu {etp}/{vet} ne peut pas être enregistré"
            ),
        );
    }
    // V4 VET.
    if r.state("versions-etape", &[&etp, &vet_s]) != CodeState::InService {
        return fail(
            "VOEU_VET_INCONNUE",
            FaultKey::null_retrieve("vet"),
            "codEtp",
            format!("Version d'étape {etp}/{vet} inconnue ou hors service"),
        );
    }
    // V5 CGE manages the étape.
    if !r.contains("etapes-cge", &[&etp, &cge]) {
        return fail(
            "VOEU_CGE_VET_INCOHERENT",
            FaultKey::noncoherent("codCge"),
            "codCge",
            format!("Le centre de gestion {cge} ne gère pas l'étape {etp} (version {vet})"),
        );
    }
    // V6 VDI.
    let dip = present(v.cod_dip.as_deref()).map(str::to_owned);
    let vdi = present(v.cod_vrs_vdi.as_deref()).map(str::to_owned);
    match (&dip, &vdi) {
        (None, None) => {}
        (Some(d), Some(n)) => {
            let n = n
                .trim_start_matches('+')
                .parse::<i64>()
                .map(|x| x.to_string())
                .unwrap_or_else(|_| n.clone());
            if !r.contains("versions-diplome", &[d, &n])
                || !r.contains("vdi-vet", &[d, &n, &etp, &vet_s])
            {
                return fail(
                    "VOEU_VDI_INCOHERENT",
                    FaultKey::noncoherent("codDip"),
                    "codDip",
                    format!(
                        "La version de diplôme {d}/{n} n'existe pas ou ne comprend pas l'étape {etp}/{vet}"
                    ),
                );
            }
        }
        _ => {
            return fail(
                "VOEU_VDI_INCOHERENT",
                FaultKey::noncoherent("codDip"),
                "codDip",
                "codDip et codVrsVdi vont ensemble : les deux ou aucun".into(),
            );
        }
    }
    // V7 values.
    let dem = c.one_of(&v.cod_dem_dos, &path(&p, "codDemDos"), &["C", "T"]);
    let dec = c.one_of(&v.cod_dec_veu, &path(&p, "codDecVeu"), &["F", "D", "A"]);
    let psd = c.one_of(&v.tem_val_psd, &path(&p, "temValPsd"), &["O", "N"]);
    let cls = c.int(&v.num_cls, &path(&p, "numCls"), 1, 99);
    if let Some(e) = first_error(&c, 0) {
        return Err(reject("VOEU_VALEUR_INVALIDE", e, Some(key)));
    }
    // V8 profile.
    let rge = c.code_in(r, "regimes", &v.cod_rge, &path(&p, "codRge"), 5, false);
    let exo = c.code_in(
        r,
        "categories-exo-ext",
        &v.cod_cat_exo_ext,
        &path(&p, "codCatExoExt"),
        5,
        false,
    );
    let oui_si = c.code_in(
        r,
        "categories-oui-si",
        &v.cod_cat_oui_si,
        &path(&p, "codCatOuiSi"),
        5,
        false,
    );
    let mtf = c.text(&v.mtf_cat, &path(&p, "mtfCat"), 200);
    if mtf.is_some() && oui_si.is_none() && c.errors.is_empty() {
        c.invalid(
            "VOEU_PROFIL_INVALIDE",
            &path(&p, "mtfCat"),
            "mtfCat n'a de sens qu'avec codCatOuiSi",
        );
    }
    let com = present(v.com_exo_ext.as_deref()).map(str::to_owned);
    if let Some(amount) = &com {
        let ok = {
            let (int, frac) = amount.split_once(['.', ',']).unwrap_or((amount, ""));
            !int.is_empty()
                && int.len() <= 12
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.len() <= 2
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(amount.contains(['.', ',']) && frac.is_empty())
        };
        if !ok && c.errors.is_empty() {
            c.invalid(
                "VOEU_PROFIL_INVALIDE",
                &path(&p, "comExoExt"),
                format!("comExoExt : « {amount} » n'est pas un montant (ex. 178.00)"),
            );
        }
    }
    if let Some(e) = first_error(&c, 0) {
        return Err(reject("VOEU_PROFIL_INVALIDE", e, Some(key)));
    }
    // V9 lengths and dates.
    let conv = v.convocation.as_ref().map(|cv| {
        let pc = path(&p, "convocation");
        let min = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        let max = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or(NaiveDate::MAX);
        dto::Convocation {
            dat_cvc: c
                .date(&cv.dat_cvc, &path(&pc, "datCvc"), min, max)
                .map(|d| d.format("%d%m%Y").to_string()),
            dhh_cvc: c
                .int(&cv.dhh_cvc, &path(&pc, "dhhCvc"), 0, 23)
                .map(|n| n.to_string()),
            dmn_cvc: c
                .int(&cv.dmn_cvc, &path(&pc, "dmnCvc"), 0, 59)
                .map(|n| n.to_string()),
        }
    });
    let tae = v.titre_acces_externe.as_ref().map(|t| {
        let pt = path(&p, "titreAccesExterne");
        dto::TitreAccesExterne {
            cod_dac_opi: c.text(&t.cod_dac_opi, &path(&pt, "codDacOpi"), 7),
            cod_dep_pay_dac_opi: c.text(&t.cod_dep_pay_dac_opi, &path(&pt, "codDepPayDacOpi"), 3),
            cod_etb_dac_opi: c.text(&t.cod_etb_dac_opi, &path(&pt, "codEtbDacOpi"), 8),
            cod_tpe_dac_opi: c.text(&t.cod_tpe_dac_opi, &path(&pt, "codTpeDacOpi"), 2),
            cod_typ_dep_pay_dac_opi: c.one_of(
                &t.cod_typ_dep_pay_dac_opi,
                &path(&pt, "codTypDepPayDacOpi"),
                &["D", "P"],
            ),
            daa_dac_opi: c.year(&t.daa_dac_opi, &path(&pt, "daaDacOpi"), false),
        }
    });
    let cleaned = Voeu {
        cod_att_dec: c.text(&v.cod_att_dec, &path(&p, "codAttDec"), 10),
        cod_cge: Some(cge.clone()),
        cod_cmp: c.text(&v.cod_cmp, &path(&p, "codCmp"), 3),
        cod_rge: rge.clone(),
        cod_dec_veu: dec.clone(),
        cod_cat_oui_si: oui_si,
        mtf_cat: mtf,
        cod_dem_dos: dem,
        cod_dip: dip,
        cod_etp: Some(etp.clone()),
        cod_mfo: c.text(&v.cod_mfo, &path(&p, "codMfo"), 10),
        cod_spe1_opi: c.text(&v.cod_spe1_opi, &path(&p, "codSpe1Opi"), 10),
        cod_spe2_opi: c.text(&v.cod_spe2_opi, &path(&p, "codSpe2Opi"), 10),
        cod_spe3_opi: c.text(&v.cod_spe3_opi, &path(&p, "codSpe3Opi"), 10),
        cod_tyd: c.text(&v.cod_tyd, &path(&p, "codTyd"), 10),
        cod_vrs_vdi: vdi
            .and_then(|n| n.trim_start_matches('+').parse::<i64>().ok())
            .map(|n| n.to_string()),
        cod_vrs_vet: Some(vet_s.clone()),
        convocation: conv,
        lib_cmt_jur: c.text(&v.lib_cmt_jur, &path(&p, "libCmtJur"), 200),
        num_cls: cls.map(|n| n.to_string()),
        tem_val_psd: psd,
        titre_acces_externe: tae,
        ctr_adr: c.text(&v.ctr_adr, &path(&p, "ctrAdr"), 1),
        cod_cat_exo_ext: exo,
        com_exo_ext: com,
    };
    if let Some(e) = first_error(&c, 0) {
        return Err(reject("VOEU_VALEUR_INVALIDE", e, Some(key)));
    }
    // Warnings on the accepted vœu.
    let mut warnings = Vec::new();
    let regime = rge.as_deref().or(ind_rgi);
    if let Some(rg) = regime
        && !crate::lp::regime_allowed(r, &etp, key.cod_vrs_vet, rg)
    {
        warnings.push(Warning {
            code: "VOEU_REGIME_NON_AUTORISE".into(),
            field: Some(path(&p, "codRge")),
            message: format!("Le régime {rg} n'est pas autorisé sur la VET {etp}/{vet}"),
        });
    }
    let year = r.current_year().unwrap_or_default();
    let open_now = crate::lp::opening(
        r,
        crate::lp::TypLpa::Iaprimo,
        &year,
        &etp,
        key.cod_vrs_vet,
        today,
    ) == Some(true);
    if !open_now {
        warnings.push(Warning { code: "VOEU_VET_FERMEE_IA".into(), field: Some(path(&p, "codEtp")), message: format!("La VET {etp}/{vet} n'est pas ouverte à l'inscription à distance (primo) pour {year} aujourd'hui") });
    }
    Ok(AcceptedVoeu {
        index,
        key,
        voeu: cleaned,
        cod_dec_veu: dec,
        warnings,
    })
}

fn plan_voeux(
    c: &mut Checker,
    r: &Referential,
    today: NaiveDate,
    voeux: Option<&dto::Voeux>,
    ind_rgi: Option<&str>,
) -> VoeuxPlan {
    let Some(voeux) = voeux else {
        return VoeuxPlan::Unchanged;
    };
    if present(voeux.mod_env.as_deref()).is_some() {
        c.warn(
            "MODENV_IGNORE",
            Some("voeux.modEnv"),
            "modEnv est accepté et ignoré (signification non documentée)",
        );
    }
    match voeux.item.as_slice() {
        [] => return VoeuxPlan::Unchanged,
        [only] if only.is_empty() => return VoeuxPlan::DeleteAll,
        _ => {}
    }
    let mut accepted: Vec<AcceptedVoeu> = Vec::new();
    let mut rejected = Vec::new();
    for (i, v) in voeux.item.iter().enumerate() {
        if v.is_empty() {
            rejected.push(RejectedVoeu {
                index: i,
                key: None,
                reason: "VOEU_VIDE".into(),
                fault_key: FaultKey::noncoherent("voeux"),
                message: format!("Vœu n° {} vide parmi d'autres vœux", i + 1),
            });
            continue;
        }
        match check_voeu(r, today, i, v, ind_rgi) {
            Ok(a) if accepted.iter().any(|x| x.key == a.key) => rejected.push(RejectedVoeu {
                index: i,
                message: format!(
                    "Vœu n° {} en double ({} {}/{})",
                    i + 1,
                    a.key.cod_cge,
                    a.key.cod_etp,
                    a.key.cod_vrs_vet
                ),
                key: Some(a.key),
                reason: "VOEU_DOUBLE".into(),
                fault_key: FaultKey::noncoherent("voeux"),
            }),
            Ok(a) => accepted.push(a),
            Err(rej) => rejected.push(*rej),
        }
    }
    VoeuxPlan::Replace { accepted, rejected }
}

/// Whether a block carries no value at all (every leaf absent): it counts as absent.
fn blank<T: Serialize>(block: &T) -> bool {
    serde_json::to_value(block).is_ok_and(|v| v.as_object().is_some_and(serde_json::Map::is_empty))
}

fn present_block<T: Serialize + Clone>(block: &Option<T>) -> Option<T> {
    block.as_ref().filter(|b| !blank(*b)).cloned()
}

/// The payload with all-absent blocks removed (a JAXB client sends `<bac>` with nil leaves when it
/// has no bac: that is no bac).
fn without_blank_blocks(d: &DonneesOpi) -> DonneesOpi {
    let individu = d.individu.as_ref().map(|i| dto::Individu {
        cod_etu_opi: i.cod_etu_opi.clone(),
        cod_opi_int_epo: i.cod_opi_int_epo.clone(),
        dernier_dipl_obt: present_block(&i.dernier_dipl_obt),
        dernier_etb_frequente: present_block(&i.dernier_etb_frequente),
        donnees_naissance: i.donnees_naissance.clone(),
        donnees_personnelles: present_block(&i.donnees_personnelles),
        etat_civil: i.etat_civil.clone(),
        inscription_parallele: present_block(&i.inscription_parallele),
        premiere_inscription: present_block(&i.premiere_inscription),
        prg_echange: present_block(&i.prg_echange),
        situation_ann_pre: present_block(&i.situation_ann_pre),
    });
    DonneesOpi {
        adresse_annuelle: present_block(&d.adresse_annuelle),
        adresse_fixe: present_block(&d.adresse_fixe),
        bac: present_block(&d.bac),
        dac: present_block(&d.dac),
        individu,
        voeux: d.voeux.clone(),
        donnees_these: present_block(&d.donnees_these),
    }
}

/// Applies OPI-9 … OPI-16 to a payload. Individual-level failures reject the whole call (every
/// failure listed, the first one naming the fault); vœu failures are in the plan.
pub fn validate(donnees: &DonneesOpi, ctx: &Context<'_>) -> Result<Intake, Error> {
    let r = ctx.referential;
    let donnees = &without_blank_blocks(donnees);
    let mut c = Checker::default();
    let individu = donnees.individu.clone().unwrap_or_default();
    let (individu, ine_info) = check_individu(&mut c, r, &individu, ctx.today);
    let adresse_fixe = donnees
        .adresse_fixe
        .as_ref()
        .map(|a| check_adresse(&mut c, r, a, "adresseFixe"));
    let adresse_annuelle = donnees
        .adresse_annuelle
        .as_ref()
        .map(|a| check_adresse(&mut c, r, a, "adresseAnnuelle"));
    let bac = donnees
        .bac
        .as_ref()
        .map(|b| check_bac(&mut c, r, b, ctx.today));
    if bac.is_none() {
        c.warn(
            "BAC_MANQUANT",
            Some("bac"),
            "Aucun bac : la série et l'année du bac sont exigées pour une primo-inscription",
        );
    }
    let dac = donnees.dac.as_ref().map(|d| check_dac(&mut c, d));
    let these = donnees
        .donnees_these
        .as_ref()
        .map(|t| check_these(&mut c, r, t));

    // INE required (OPI-14): bac with INE control from a given year, French nationality.
    let nat = individu
        .donnees_naissance
        .as_ref()
        .and_then(|n| n.cod_pay_nat.clone());
    if ine_info.is_none()
        && let Some(b) = &bac
        && let (Some(code), Some(year)) = (&b.cod_bac, &b.daa_obt_bac_oba)
        && let Some(rec) = r.get("bacs", &[code])
        && rec.get("temCtrlIne").and_then(Value::as_text).as_deref() == Some("O")
        && rec
            .get("annCtrlIne")
            .and_then(Value::as_text)
            .is_none_or(|a| year.as_str() >= a.as_str())
        && nat.as_deref() == Some("100")
    {
        let msg = format!(
            "INE manquant : le bac {code} de {year} impose un INE (l'inscription sera bloquée)"
        );
        if ctx.ine_required_is_error {
            c.fail(
                FaultKey::mandatory("codNneIndOpi"),
                "INE_MANQUANT",
                "individu.etatCivil.codNneIndOpi",
                msg,
            );
        } else {
            c.warn("INE_MANQUANT", Some("individu.etatCivil.codNneIndOpi"), msg);
        }
    }
    let ind_rgi = individu
        .donnees_personnelles
        .as_ref()
        .and_then(|d| d.cod_rgi.clone());
    let voeux_plan = plan_voeux(
        &mut c,
        r,
        ctx.today,
        donnees.voeux.as_ref(),
        ind_rgi.as_deref(),
    );
    if !c.errors.is_empty() {
        return Err(Error::validation(c.errors));
    }
    let ec = individu.etat_civil.clone().unwrap_or_default();
    let dn = individu.donnees_naissance.clone().unwrap_or_default();
    let (Some(code), Some(nom_pat), Some(prenom), Some(date)) = (
        individu.cod_opi_int_epo.clone(),
        ec.lib_nom_pat_ind_opi.clone(),
        ec.lib_pr1_ind_opi.clone(),
        dn.date_nai_ind_opi
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%d%m%Y").ok()),
    ) else {
        return Err(Error::internal("identité incomplète après validation"));
    };
    let cod_etu_opi = individu.cod_etu_opi.as_deref().and_then(|s| s.parse().ok());
    let voeux = match &voeux_plan {
        VoeuxPlan::Replace { accepted, .. } => Some(dto::Voeux {
            mod_env: None,
            item: accepted.iter().map(|a| a.voeu.clone()).collect(),
        }),
        _ => None,
    };
    Ok(Intake {
        donnees: DonneesOpi {
            adresse_annuelle,
            adresse_fixe,
            bac,
            dac,
            individu: Some(individu),
            voeux,
            donnees_these: these,
        },
        code,
        cod_etu_opi,
        ine: ine_info,
        match_key: match_key(&nom_pat, &prenom, date),
        nom_usu: ec.lib_nom_usu_ind_opi.clone(),
        nom_pat,
        prenom,
        date_naissance: date,
        voeux: voeux_plan,
        warnings: c.warnings,
    })
}

/// OPI-17 outside partial mode: any rejected vœu fails the call, listing every rejected item.
pub fn rejection_of(rejected: &[RejectedVoeu]) -> Option<Error> {
    let errors: Vec<FieldError> = rejected
        .iter()
        .map(|r| {
            FieldError::new(
                r.fault_key.clone(),
                r.reason.clone(),
                Some(format!("voeux.item[{}]", r.index)),
                r.message.clone(),
            )
        })
        .collect();
    (!errors.is_empty()).then(|| Error::validation(errors))
}
