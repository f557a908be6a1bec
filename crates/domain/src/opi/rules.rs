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
use serde_json::Value as Json;

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    check_bac_year(c, r, &cod_bac, &daa, today);
    let spe = |c: &mut Checker, raw: &Option<String>, name: &str| {
        bac_choice(
            c,
            r,
            &cod_bac,
            raw,
            name,
            "specialites-bac",
            "bac-specialites",
        )
    };
    let opt = |c: &mut Checker, raw: &Option<String>, name: &str| {
        bac_choice(c, r, &cod_bac, raw, name, "options-bac", "bac-options")
    };
    let checked = dto::Bac {
        cod_spe1_bac_ter: spe(c, &b.cod_spe1_bac_ter, "codSpe1BacTer"),
        cod_spe2_bac_ter: spe(c, &b.cod_spe2_bac_ter, "codSpe2BacTer"),
        cod_spe_bac_pre: spe(c, &b.cod_spe_bac_pre, "codSpeBacPre"),
        cod_opt1_bac: opt(c, &b.cod_opt1_bac, "codOpt1Bac"),
        cod_opt2_bac: opt(c, &b.cod_opt2_bac, "codOpt2Bac"),
        cod_opt3_bac: opt(c, &b.cod_opt3_bac, "codOpt3Bac"),
        cod_opt4_bac: opt(c, &b.cod_opt4_bac, "codOpt4Bac"),
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
    };
    check_bac_choices(c, r, &checked);
    checked
}

/// The spécialité/option verdict of [`super::bac::check`] (the rule the SQL function
/// `pkb_bac.verifier_specialites_et_options_bac` shares): each refusal is a rejection.
fn check_bac_choices(c: &mut Checker, r: &Referential, b: &dto::Bac) {
    let choices = super::bac::BacChoices {
        year: b.daa_obt_bac_oba.as_deref().and_then(|y| y.parse().ok()),
        cod_bac: b.cod_bac.as_deref(),
        specialites: [
            b.cod_spe1_bac_ter.as_deref(),
            b.cod_spe2_bac_ter.as_deref(),
            b.cod_spe_bac_pre.as_deref(),
        ],
        options: [
            b.cod_opt1_bac.as_deref(),
            b.cod_opt2_bac.as_deref(),
            b.cod_opt3_bac.as_deref(),
            b.cod_opt4_bac.as_deref(),
        ],
    };
    if let super::bac::Verdict::Checked(refusals) = super::bac::check(r, &choices) {
        for refusal in refusals {
            c.fail(
                FaultKey::noncoherent("specialitesBac"),
                "BAC_SPECIALITE",
                &path("bac", super::bac::SLOTS[refusal.slot]),
                format!("{} : {}", super::bac::SLOTS[refusal.slot], refusal.message),
            );
        }
    }
}

/// `daaObtBacOba`: not in the future; outside the bac's validity years → warning.
fn check_bac_year(
    c: &mut Checker,
    r: &Referential,
    cod_bac: &Option<String>,
    daa: &Option<String>,
    today: NaiveDate,
) {
    let p = "bac";
    let Some(year) = daa.as_deref().and_then(|y| y.parse::<i32>().ok()) else {
        return;
    };
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

/// A spécialité or option of the bac: when the bac has no rows in its regroupement `group`, a
/// code absent from `table` is a warning (the regroupement check is [`check_bac_choices`]).
fn bac_choice(
    c: &mut Checker,
    r: &Referential,
    cod_bac: &Option<String>,
    raw: &Option<String>,
    name: &str,
    table: &str,
    group: &str,
) -> Option<String> {
    let p = "bac";
    let v = c.text(raw, &path(p, name), 4)?;
    if let Some(bac) = cod_bac {
        let has_group = r.rows(group).any(|row| row.key().first() == Some(bac));
        if !has_group && r.state(table, &[&v]) == CodeState::Unknown {
            c.warn(
                "REF_INCONNU",
                Some(&path(p, name)),
                format!("{name} : code {v} absent du référentiel"),
            );
        }
    }
    Some(v)
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
    let (etat_civil, ine_info) = check_etat_civil(c, &ec);
    let dn = ind.donnees_naissance.clone().unwrap_or_default();
    let donnees_naissance = check_naissance(c, r, &dn, today);
    let individu = dto::Individu {
        cod_etu_opi: cod_etu,
        cod_opi_int_epo: code,
        donnees_naissance: Some(donnees_naissance),
        etat_civil: Some(etat_civil),
        ..check_optional_blocks(c, r, ind)
    };
    (individu, ine_info)
}

/// État civil: INE, sex and names.
fn check_etat_civil(c: &mut Checker, ec: &dto::EtatCivil) -> (dto::EtatCivil, Option<IneInfo>) {
    let pe = "individu.etatCivil";
    let (ine_value, ine_info) = check_ine(c, &ec.cod_nne_ind_opi);
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
    (etat_civil, ine_info)
}

/// `codNneIndOpi` (OPI-14): the normalised INE to store and its check, or nothing (absent, or
/// rejected: an offline-invalid INE is a failure).
fn check_ine(c: &mut Checker, raw: &Option<String>) -> (Option<String>, Option<IneInfo>) {
    let pe = "individu.etatCivil";
    let Some(raw) = present(raw.as_deref()) else {
        return (None, None);
    };
    let checked = ine::check(raw);
    match checked.valid {
        IneValidity::False if checked.family == IneFamily::None => (None, None),
        IneValidity::False => {
            c.fail(
                FaultKey::noncoherent("codNneIndOpi"),
                checked.reason.as_str(),
                &path(pe, "codNneIndOpi"),
                format!("INE {} : {}", checked.normalized, checked.message),
            );
            (None, None)
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
            let info = IneInfo {
                value: checked.normalized.clone(),
                family: checked.family,
                check,
            };
            (Some(checked.normalized), Some(info))
        }
    }
}

/// Birth: date (mandatory, 01/01/1900 … today), its reliability flag (mandatory) and place.
fn check_naissance(
    c: &mut Checker,
    r: &Referential,
    dn: &dto::DonneesNaissance,
    today: NaiveDate,
) -> dto::DonneesNaissance {
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
    dto::DonneesNaissance {
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
    }
}

/// The optional blocks of the individual (personal data and cursus), each checked when present.
fn check_optional_blocks(c: &mut Checker, r: &Referential, ind: &dto::Individu) -> dto::Individu {
    dto::Individu {
        donnees_personnelles: ind
            .donnees_personnelles
            .as_ref()
            .map(|dp| check_donnees_personnelles(c, r, dp)),
        dernier_dipl_obt: ind
            .dernier_dipl_obt
            .as_ref()
            .map(|b| check_dernier_dipl_obt(c, r, b)),
        dernier_etb_frequente: ind
            .dernier_etb_frequente
            .as_ref()
            .map(|b| check_dernier_etb_frequente(c, r, b)),
        inscription_parallele: ind
            .inscription_parallele
            .as_ref()
            .map(|b| check_inscription_parallele(c, r, b)),
        premiere_inscription: ind
            .premiere_inscription
            .as_ref()
            .map(|b| check_premiere_inscription(c, r, b)),
        prg_echange: ind.prg_echange.as_ref().map(|b| check_prg_echange(c, b)),
        situation_ann_pre: ind
            .situation_ann_pre
            .as_ref()
            .map(|b| check_situation_ann_pre(c, r, b)),
        ..dto::Individu::default()
    }
}

fn check_donnees_personnelles(
    c: &mut Checker,
    r: &Referential,
    dp: &dto::DonneesPersonnelles,
) -> dto::DonneesPersonnelles {
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
}

fn check_dernier_dipl_obt(
    c: &mut Checker,
    r: &Referential,
    b: &dto::DernierDiplObt,
) -> dto::DernierDiplObt {
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
}

fn check_dernier_etb_frequente(
    c: &mut Checker,
    r: &Referential,
    b: &dto::DernierEtbFrequente,
) -> dto::DernierEtbFrequente {
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
}

fn check_inscription_parallele(
    c: &mut Checker,
    r: &Referential,
    b: &dto::InscriptionParallele,
) -> dto::InscriptionParallele {
    let pb = "individu.inscriptionParallele";
    dto::InscriptionParallele {
        cod_etb_ann_crt: c.etablissement(r, &b.cod_etb_ann_crt, &path(pb, "codEtbAnnCrt")),
        cod_tpe_ann_crt: c.text(&b.cod_tpe_ann_crt, &path(pb, "codTpeAnnCrt"), 2),
        tem_prl_ann_crt: flag(c, &b.tem_prl_ann_crt, &path(pb, "temPrlAnnCrt")),
    }
}

fn check_premiere_inscription(
    c: &mut Checker,
    r: &Referential,
    b: &dto::PremiereInscription,
) -> dto::PremiereInscription {
    let pb = "individu.premiereInscription";
    dto::PremiereInscription {
        cod_etb: c.etablissement(r, &b.cod_etb, &path(pb, "codEtb")),
        daa_ens_sup_opi: c.year(&b.daa_ens_sup_opi, &path(pb, "daaEnsSupOpi"), false),
        daa_ent_etb_opi: c.year(&b.daa_ent_etb_opi, &path(pb, "daaEntEtbOpi"), false),
        daa_etb_opi: c.year(&b.daa_etb_opi, &path(pb, "daaEtbOpi"), false),
        daa_etr_sup: c.year(&b.daa_etr_sup, &path(pb, "daaEtrSup"), true),
    }
}

fn check_prg_echange(c: &mut Checker, b: &dto::PrgEchange) -> dto::PrgEchange {
    let pb = "individu.prgEchange";
    dto::PrgEchange {
        cod_etr_opi: c.text(&b.cod_etr_opi, &path(pb, "codEtrOpi"), 8),
        cod_prg_opi: c.text(&b.cod_prg_opi, &path(pb, "codPrgOpi"), 1),
        tem_sns_prg_opi: c.text(&b.tem_sns_prg_opi, &path(pb, "temSnsPrgOpi"), 1),
    }
}

fn check_situation_ann_pre(
    c: &mut Checker,
    r: &Referential,
    b: &dto::SituationAnnPre,
) -> dto::SituationAnnPre {
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

/// The error at position `from` of the checker, if any.
fn first_error(c: &Checker, from: usize) -> Option<FieldError> {
    c.errors.get(from).cloned()
}

/// The rejection of vœu `index` for `reason`, with the fault key and message of `err`.
fn rejection(
    index: usize,
    reason: &str,
    err: FieldError,
    key: Option<VoeuKey>,
) -> Box<RejectedVoeu> {
    Box::new(RejectedVoeu {
        index,
        key,
        reason: reason.to_owned(),
        fault_key: err.fault_key,
        message: err.message,
    })
}

/// A vœu whose key could be read (V1 passed).
struct VoeuAt {
    /// Position in the request (0-based).
    index: usize,
    /// Element path (`voeux.item[0]`).
    p: String,
    /// Key.
    key: VoeuKey,
    /// `codVrsVet` as read.
    vet: i64,
}

impl VoeuAt {
    /// Path of a leaf of the vœu.
    fn path(&self, name: &str) -> String {
        path(&self.p, name)
    }

    /// Rejects the vœu for `reason`, with the fault key and message of `err`.
    fn reject(&self, reason: &str, err: FieldError) -> Box<RejectedVoeu> {
        rejection(self.index, reason, err, Some(self.key.clone()))
    }

    /// Rejects the vœu for `reason` on `field`.
    fn fail(&self, reason: &str, fk: FaultKey, field: &str, msg: String) -> Box<RejectedVoeu> {
        self.reject(
            reason,
            FieldError::new(fk, reason, Some(self.path(field)), msg),
        )
    }
}

/// V7: the coded values of a vœu.
struct VoeuValues {
    dem: Option<String>,
    dec: Option<String>,
    psd: Option<String>,
    cls: Option<i64>,
}

/// V8: the profile of a vœu (régime, fee categories).
struct VoeuProfile {
    rge: Option<String>,
    exo: Option<String>,
    oui_si: Option<String>,
    mtf: Option<String>,
    com: Option<String>,
}

/// OPI-16 on one vœu: the first failure rejects it (reason, fault key).
fn check_voeu(
    r: &Referential,
    today: NaiveDate,
    index: usize,
    v: &Voeu,
    ind_rgi: Option<&str>,
) -> Result<AcceptedVoeu, Box<RejectedVoeu>> {
    let at = check_voeu_key(index, v)?;
    check_voeu_cge(r, &at)?;
    check_voeu_vet(r, &at)?;
    let (dip, vdi) = check_voeu_vdi(r, &at, v)?;
    let mut c = Checker::default();
    let values = check_voeu_values(&mut c, &at, v)?;
    let profile = check_voeu_profile(&mut c, r, &at, v)?;
    let cleaned = check_voeu_leaves(&mut c, &at, v, (dip, vdi), values, profile)?;
    let warnings = voeu_warnings(r, today, &at, cleaned.cod_rge.as_deref().or(ind_rgi));
    Ok(AcceptedVoeu {
        index,
        cod_dec_veu: cleaned.cod_dec_veu.clone(),
        key: at.key,
        voeu: cleaned,
        warnings,
    })
}

/// V1 mandatory fields, then the key (`codVrsVet` must be a version number).
fn check_voeu_key(index: usize, v: &Voeu) -> Result<VoeuAt, Box<RejectedVoeu>> {
    let p = format!("voeux.item[{index}]");
    let mut c = Checker::default();
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
        return Err(rejection(index, "VOEU_CHAMP_OBLIGATOIRE", e, None));
    }
    let cge = present(v.cod_cge.as_deref()).unwrap_or_default().to_owned();
    let etp = present(v.cod_etp.as_deref()).unwrap_or_default().to_owned();
    let vet_n = c.int(&v.cod_vrs_vet, &path(&p, "codVrsVet"), 0, 999);
    let Some(vet) = vet_n else {
        return Err(rejection(
            index,
            "VOEU_VALEUR_INVALIDE",
            c.errors.remove(0),
            None,
        ));
    };
    let key = VoeuKey {
        cod_cge: cge,
        cod_etp: etp,
        cod_vrs_vet: i32::try_from(vet).unwrap_or_default(),
    };
    Ok(VoeuAt { index, p, key, vet })
}

/// V2, V3: the CGE exists, is in service and open to remote access.
fn check_voeu_cge(r: &Referential, at: &VoeuAt) -> Result<(), Box<RejectedVoeu>> {
    let (cge, etp, vet) = (&at.key.cod_cge, &at.key.cod_etp, at.vet);
    match r.state("centres-gestion", &[cge]) {
        CodeState::InService => {}
        _ => {
            return Err(at.fail(
                "VOEU_CGE_INCONNU",
                FaultKey::null_retrieve("codCge"),
                "codCge",
                format!("Centre de gestion {cge} inconnu ou hors service"),
            ));
        }
    }
    let remote = r
        .get("centres-gestion", &[cge])
        .and_then(|rec| rec.get("temAccesDistance"))
        .and_then(Value::as_text);
    if remote.as_deref() != Some("O") {
        return Err(at.fail(
            "VOEU_CGE_SANS_ACCES_DISTANCE",
            FaultKey::business_rule("cge.accesdistance"),
            "codCge",
            format!(
                "Le centre de gestion {cge} n'est pas ouvert à l'accès à distance (case AD) : le vœu {etp}/{vet} ne peut pas être enregistré"
            ),
        ));
    }
    Ok(())
}

/// V4, V5: the VET exists, is in service and is managed by the CGE.
fn check_voeu_vet(r: &Referential, at: &VoeuAt) -> Result<(), Box<RejectedVoeu>> {
    let (cge, etp, vet) = (&at.key.cod_cge, &at.key.cod_etp, at.vet);
    if r.state("versions-etape", &[etp, &vet.to_string()]) != CodeState::InService {
        return Err(at.fail(
            "VOEU_VET_INCONNUE",
            FaultKey::null_retrieve("vet"),
            "codEtp",
            format!("Version d'étape {etp}/{vet} inconnue ou hors service"),
        ));
    }
    if !r.contains("etapes-cge", &[etp, cge]) {
        return Err(at.fail(
            "VOEU_CGE_VET_INCOHERENT",
            FaultKey::noncoherent("codCge"),
            "codCge",
            format!("Le centre de gestion {cge} ne gère pas l'étape {etp} (version {vet})"),
        ));
    }
    Ok(())
}

/// V6: `codDip` and `codVrsVdi` both or neither; the VDI exists and contains the VET. Returns
/// them as sent (trimmed).
fn check_voeu_vdi(
    r: &Referential,
    at: &VoeuAt,
    v: &Voeu,
) -> Result<(Option<String>, Option<String>), Box<RejectedVoeu>> {
    let (etp, vet) = (&at.key.cod_etp, at.vet);
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
                || !r.contains("vdi-vet", &[d, &n, etp, &vet.to_string()])
            {
                return Err(at.fail(
                    "VOEU_VDI_INCOHERENT",
                    FaultKey::noncoherent("codDip"),
                    "codDip",
                    format!(
                        "La version de diplôme {d}/{n} n'existe pas ou ne comprend pas l'étape {etp}/{vet}"
                    ),
                ));
            }
        }
        _ => {
            return Err(at.fail(
                "VOEU_VDI_INCOHERENT",
                FaultKey::noncoherent("codDip"),
                "codDip",
                "codDip et codVrsVdi vont ensemble : les deux ou aucun".into(),
            ));
        }
    }
    Ok((dip, vdi))
}

/// V7: `codDemDos`, `codDecVeu`, `temValPsd` and `numCls` values.
fn check_voeu_values(
    c: &mut Checker,
    at: &VoeuAt,
    v: &Voeu,
) -> Result<VoeuValues, Box<RejectedVoeu>> {
    let dem = c.one_of(&v.cod_dem_dos, &at.path("codDemDos"), &["C", "T"]);
    let dec = c.one_of(&v.cod_dec_veu, &at.path("codDecVeu"), &["F", "D", "A"]);
    let psd = c.one_of(&v.tem_val_psd, &at.path("temValPsd"), &["O", "N"]);
    let cls = c.int(&v.num_cls, &at.path("numCls"), 1, 99);
    if let Some(e) = first_error(c, 0) {
        return Err(at.reject("VOEU_VALEUR_INVALIDE", e));
    }
    Ok(VoeuValues { dem, dec, psd, cls })
}

/// V8: régime, fee categories and their motive, fee amount.
fn check_voeu_profile(
    c: &mut Checker,
    r: &Referential,
    at: &VoeuAt,
    v: &Voeu,
) -> Result<VoeuProfile, Box<RejectedVoeu>> {
    let rge = c.code_in(r, "regimes", &v.cod_rge, &at.path("codRge"), 5, false);
    let exo = c.code_in(
        r,
        "categories-exo-ext",
        &v.cod_cat_exo_ext,
        &at.path("codCatExoExt"),
        5,
        false,
    );
    let oui_si = c.code_in(
        r,
        "categories-oui-si",
        &v.cod_cat_oui_si,
        &at.path("codCatOuiSi"),
        5,
        false,
    );
    let mtf = c.text(&v.mtf_cat, &at.path("mtfCat"), 200);
    if mtf.is_some() && oui_si.is_none() && c.errors.is_empty() {
        c.invalid(
            "VOEU_PROFIL_INVALIDE",
            &at.path("mtfCat"),
            "mtfCat n'a de sens qu'avec codCatOuiSi",
        );
    }
    let com = present(v.com_exo_ext.as_deref()).map(str::to_owned);
    if let Some(amount) = &com
        && !is_amount(amount)
        && c.errors.is_empty()
    {
        c.invalid(
            "VOEU_PROFIL_INVALIDE",
            &at.path("comExoExt"),
            format!("comExoExt : « {amount} » n'est pas un montant (ex. 178.00)"),
        );
    }
    if let Some(e) = first_error(c, 0) {
        return Err(at.reject("VOEU_PROFIL_INVALIDE", e));
    }
    Ok(VoeuProfile {
        rge,
        exo,
        oui_si,
        mtf,
        com,
    })
}

/// `^[0-9]{1,12}([.,][0-9]{1,2})?$`.
fn is_amount(amount: &str) -> bool {
    let (int, frac) = amount.split_once(['.', ',']).unwrap_or((amount, ""));
    !int.is_empty()
        && int.len() <= 12
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(amount.contains(['.', ',']) && frac.is_empty())
}

/// V9: lengths and dates; the cleaned vœu.
fn check_voeu_leaves(
    c: &mut Checker,
    at: &VoeuAt,
    v: &Voeu,
    (dip, vdi): (Option<String>, Option<String>),
    values: VoeuValues,
    profile: VoeuProfile,
) -> Result<Voeu, Box<RejectedVoeu>> {
    let p = &at.p;
    let conv = v
        .convocation
        .as_ref()
        .map(|cv| check_convocation(c, cv, &path(p, "convocation")));
    let tae = v
        .titre_acces_externe
        .as_ref()
        .map(|t| check_titre_acces_externe(c, t, &path(p, "titreAccesExterne")));
    let cleaned = Voeu {
        cod_att_dec: c.text(&v.cod_att_dec, &path(p, "codAttDec"), 10),
        cod_cge: Some(at.key.cod_cge.clone()),
        cod_cmp: c.text(&v.cod_cmp, &path(p, "codCmp"), 3),
        cod_rge: profile.rge,
        cod_dec_veu: values.dec,
        cod_cat_oui_si: profile.oui_si,
        mtf_cat: profile.mtf,
        cod_dem_dos: values.dem,
        cod_dip: dip,
        cod_etp: Some(at.key.cod_etp.clone()),
        cod_mfo: c.text(&v.cod_mfo, &path(p, "codMfo"), 10),
        cod_spe1_opi: c.text(&v.cod_spe1_opi, &path(p, "codSpe1Opi"), 10),
        cod_spe2_opi: c.text(&v.cod_spe2_opi, &path(p, "codSpe2Opi"), 10),
        cod_spe3_opi: c.text(&v.cod_spe3_opi, &path(p, "codSpe3Opi"), 10),
        cod_tyd: c.text(&v.cod_tyd, &path(p, "codTyd"), 10),
        cod_vrs_vdi: vdi
            .and_then(|n| n.trim_start_matches('+').parse::<i64>().ok())
            .map(|n| n.to_string()),
        cod_vrs_vet: Some(at.vet.to_string()),
        convocation: conv,
        lib_cmt_jur: c.text(&v.lib_cmt_jur, &path(p, "libCmtJur"), 200),
        num_cls: values.cls.map(|n| n.to_string()),
        tem_val_psd: values.psd,
        titre_acces_externe: tae,
        ctr_adr: c.text(&v.ctr_adr, &path(p, "ctrAdr"), 1),
        cod_cat_exo_ext: profile.exo,
        com_exo_ext: profile.com,
    };
    if let Some(e) = first_error(c, 0) {
        return Err(at.reject("VOEU_VALEUR_INVALIDE", e));
    }
    Ok(cleaned)
}

fn check_convocation(c: &mut Checker, cv: &dto::Convocation, pc: &str) -> dto::Convocation {
    let min = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let max = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or(NaiveDate::MAX);
    dto::Convocation {
        dat_cvc: c
            .date(&cv.dat_cvc, &path(pc, "datCvc"), min, max)
            .map(|d| d.format("%d%m%Y").to_string()),
        dhh_cvc: c
            .int(&cv.dhh_cvc, &path(pc, "dhhCvc"), 0, 23)
            .map(|n| n.to_string()),
        dmn_cvc: c
            .int(&cv.dmn_cvc, &path(pc, "dmnCvc"), 0, 59)
            .map(|n| n.to_string()),
    }
}

fn check_titre_acces_externe(
    c: &mut Checker,
    t: &dto::TitreAccesExterne,
    pt: &str,
) -> dto::TitreAccesExterne {
    dto::TitreAccesExterne {
        cod_dac_opi: c.text(&t.cod_dac_opi, &path(pt, "codDacOpi"), 7),
        cod_dep_pay_dac_opi: c.text(&t.cod_dep_pay_dac_opi, &path(pt, "codDepPayDacOpi"), 3),
        cod_etb_dac_opi: c.text(&t.cod_etb_dac_opi, &path(pt, "codEtbDacOpi"), 8),
        cod_tpe_dac_opi: c.text(&t.cod_tpe_dac_opi, &path(pt, "codTpeDacOpi"), 2),
        cod_typ_dep_pay_dac_opi: c.one_of(
            &t.cod_typ_dep_pay_dac_opi,
            &path(pt, "codTypDepPayDacOpi"),
            &["D", "P"],
        ),
        daa_dac_opi: c.year(&t.daa_dac_opi, &path(pt, "daaDacOpi"), false),
    }
}

/// Warnings on an accepted vœu: régime (of the vœu, else of the individual) not authorised on
/// the VET, VET not open to primo web enrolment today.
fn voeu_warnings(
    r: &Referential,
    today: NaiveDate,
    at: &VoeuAt,
    regime: Option<&str>,
) -> Vec<Warning> {
    let (etp, vet) = (&at.key.cod_etp, at.vet);
    let mut warnings = Vec::new();
    if let Some(rg) = regime
        && !crate::lp::regime_allowed(r, etp, at.key.cod_vrs_vet, rg)
    {
        warnings.push(Warning {
            code: "VOEU_REGIME_NON_AUTORISE".into(),
            field: Some(at.path("codRge")),
            message: format!("Le régime {rg} n'est pas autorisé sur la VET {etp}/{vet}"),
        });
    }
    let year = r.current_year().unwrap_or_default();
    let open_now = crate::lp::opening(
        r,
        crate::lp::TypLpa::Iaprimo,
        &year,
        etp,
        at.key.cod_vrs_vet,
        today,
    ) == Some(true);
    if !open_now {
        warnings.push(Warning { code: "VOEU_VET_FERMEE_IA".into(), field: Some(at.path("codEtp")), message: format!("La VET {etp}/{vet} n'est pas ouverte à l'inscription à distance (primo) pour {year} aujourd'hui") });
    }
    warnings
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

/// Whether a block carries no value at all (every leaf absent, nil or blank: OPI-2): it counts
/// as absent. A PHP client sends an unset block as an object whose strings are all `""`.
fn blank<T: Serialize>(block: &T) -> bool {
    serde_json::to_value(block).is_ok_and(|v| v.is_object() && no_value(&v))
}

fn no_value(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.trim().is_empty(),
        Json::Object(m) => m.values().all(no_value),
        _ => false,
    }
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

/// The individual-level blocks besides the individual itself, checked.
struct Blocks {
    adresse_fixe: Option<dto::Adresse>,
    adresse_annuelle: Option<dto::Adresse>,
    bac: Option<dto::Bac>,
    dac: Option<dto::Dac>,
    these: Option<dto::These>,
}

/// Addresses, bac (`BAC_MANQUANT` when absent), dac and thèse.
fn check_blocks(
    c: &mut Checker,
    r: &Referential,
    donnees: &DonneesOpi,
    today: NaiveDate,
) -> Blocks {
    let adresse_fixe = donnees
        .adresse_fixe
        .as_ref()
        .map(|a| check_adresse(c, r, a, "adresseFixe"));
    let adresse_annuelle = donnees
        .adresse_annuelle
        .as_ref()
        .map(|a| check_adresse(c, r, a, "adresseAnnuelle"));
    let bac = donnees.bac.as_ref().map(|b| check_bac(c, r, b, today));
    if bac.is_none() {
        c.warn(
            "BAC_MANQUANT",
            Some("bac"),
            "Aucun bac : la série et l'année du bac sont exigées pour une primo-inscription",
        );
    }
    let dac = donnees.dac.as_ref().map(|d| check_dac(c, d));
    let these = donnees.donnees_these.as_ref().map(|t| check_these(c, r, t));
    Blocks {
        adresse_fixe,
        adresse_annuelle,
        bac,
        dac,
        these,
    }
}

/// INE required (OPI-14): bac with INE control from a given year, French nationality. A missing
/// INE is then a warning, or a failure when the context says so.
fn check_ine_required(
    c: &mut Checker,
    ctx: &Context<'_>,
    individu: &dto::Individu,
    ine_info: Option<&IneInfo>,
    bac: Option<&dto::Bac>,
) {
    let r = ctx.referential;
    let nat = individu
        .donnees_naissance
        .as_ref()
        .and_then(|n| n.cod_pay_nat.clone());
    if ine_info.is_none()
        && let Some(b) = bac
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
}

/// Applies OPI-9 … OPI-16 to a payload. Individual-level failures reject the whole call (every
/// failure listed, the first one naming the fault); vœu failures are in the plan.
pub fn validate(donnees: &DonneesOpi, ctx: &Context<'_>) -> Result<Intake, Error> {
    let r = ctx.referential;
    let donnees = &without_blank_blocks(&donnees.without_unset_numbers());
    let mut c = Checker::default();
    let individu = donnees.individu.clone().unwrap_or_default();
    let (individu, ine_info) = check_individu(&mut c, r, &individu, ctx.today);
    let blocks = check_blocks(&mut c, r, donnees, ctx.today);
    check_ine_required(
        &mut c,
        ctx,
        &individu,
        ine_info.as_ref(),
        blocks.bac.as_ref(),
    );
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
    intake(individu, ine_info, blocks, voeux_plan, c.warnings)
}

/// The intake of a payload that passed: identity keys read from the cleaned individual.
fn intake(
    individu: dto::Individu,
    ine_info: Option<IneInfo>,
    blocks: Blocks,
    voeux_plan: VoeuxPlan,
    warnings: Vec<Warning>,
) -> Result<Intake, Error> {
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
            adresse_annuelle: blocks.adresse_annuelle,
            adresse_fixe: blocks.adresse_fixe,
            bac: blocks.bac,
            dac: blocks.dac,
            individu: Some(individu),
            voeux,
            donnees_these: blocks.these,
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
        warnings,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A small snapshot, shaped like the demo CSVs of `crates/db/demo`.
    fn referential() -> Result<Referential, String> {
        let files = [
            (
                "annees",
                "codAnu,libAnu,etaAnuIae\n2025,2025/2026,N\n2026,2026/2027,O\n",
            ),
            (
                "centres-gestion",
                "codCge,libCge,licCge,temEnSveCge,temAccesDistance\n\
                 CG1,Centre 1,CG1,O,O\nCG2,Centre 2,CG2,O,N\nCG9,Ancien,CG9,N,O\n",
            ),
            (
                "versions-etape",
                "codEtp,codVrsVet,libVet,temEnSveVet\nETP01,1,L1,O\nETP02,1,L2,O\nETP03,1,L1 CG2,O\n",
            ),
            (
                "etapes-cge",
                "codEtp,codCge\nETP01,CG1\nETP02,CG1\nETP03,CG2\n",
            ),
            (
                "vet-ouvertures",
                "codAnu,codEtp,codVrsVet,codCgeMinpVet,datDebMinpVet,datFinMinpVet,codCgeMinVet,datDebMinVet,datFinMinVet\n\
                 2026,ETP01,1,CG1,2026-03-01,2027-08-31,CG1,2026-03-01,2027-08-31\n",
            ),
            ("vet-regimes", "codEtp,codVrsVet,codRgi\nETP01,1,1\n"),
            (
                "regimes",
                "codRgi,libRgi,temEnSveRgi\n1,Formation initiale,O\n2,Formation continue,O\n",
            ),
            (
                "pays",
                "codPay,libPay,licPay,libNat,temEnSvePay\n100,France,France,Française,O\n109,Allemagne,Allemagne,Allemande,O\n",
            ),
            (
                "departements",
                "codDep,libDep,licDep,temEnSveDep\n021,Côte-d'Or,Côte-d'Or,O\n",
            ),
            (
                "communes",
                "codCom,libCom,codDep,temEnSveCom\n21231,Dijon,021,O\n",
            ),
            ("communes-bdi", "codCom,codBdi\n21231,21000\n"),
            (
                "bacs",
                "codBac,libBac,licBac,daaDebVldBac,daaFinVldBac,temNatBac,temCtrlIne,annCtrlIne,temEnSveBac\n\
                 S,Scientifique,S,1995,2021,O,O,1995,O\n\
                 GDEM,Bac général,G,2021,,O,O,1995,O\n\
                 0031,Titre étranger,Etranger,,,N,N,,O\n",
            ),
            (
                "specialites-bac",
                "codSpeBac,libSpeBac,temEnSveSpeBac\nD001,Mathématiques,O\nD002,Physique-chimie,O\n",
            ),
            ("bac-specialites", "codBac,codSpeBac\nGDEM,D001\n"),
            ("versions-diplome", "codDip,codVrsVdi\nDIP01,1\n"),
            (
                "vdi-vet",
                "codDip,codVrsVdi,codEtp,codVrsVet\nDIP01,1,ETP01,1\n",
            ),
            (
                "categories-oui-si",
                "codCatOuiSi,libCatOuiSi,temEnSveCatOuiSi\n01,Remise à niveau,O\n",
            ),
        ];
        crate::referential::from_csv(&files)
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default()
    }

    fn voeu() -> Json {
        json!({
            "codCge": "CG1", "codEtp": "ETP01", "codVrsVet": "1", "numCls": "1",
            "codDemDos": "C", "codDecVeu": "f", "codDip": "DIP01", "codVrsVdi": "1"
        })
    }

    /// A complete, valid payload.
    fn payload() -> Json {
        json!({
            "individu": {
                "codOpiIntEpo": " EC00000001 ",
                "codEtuOpi": "22512345",
                "etatCivil": {
                    "codNneIndOpi": " 0123456789m ",
                    "codSexEtuOpi": "f",
                    "libNomPatIndOpi": "Le  Gall",
                    "libNomUsuIndOpi": "Martin",
                    "libPr1IndOpi": "Zoé"
                },
                "donneesNaissance": {
                    "dateNaiIndOpi": "14032005",
                    "temDateNaiRelOpi": "N",
                    "codPayNat": "100",
                    "codTypDepPayNai": "D",
                    "codDepPayNai": "021",
                    "codComNaiEtuOpi": "21231"
                },
                "donneesPersonnelles": { "codRgi": "1", "adrMailOpi": "zoe@example.org" }
            },
            "adresseFixe": {
                "codPay": "100", "codBdi": "21000", "codCom": "21231",
                "lib1": "1 rue de la Paix", "numTel": "03.80-00 00/00"
            },
            "bac": { "codBac": "GDEM", "daaObtBacOba": "2023", "codSpe1BacTer": "D001" },
            "voeux": { "item": [voeu()] }
        })
    }

    /// `payload()` with the value at `pointer` (`/individu/etatCivil/codNneIndOpi`) replaced,
    /// or removed when `value` is `None`.
    fn with(mut p: Json, pointer: &str, value: Option<Json>) -> Result<Json, String> {
        let (parent, leaf) = pointer.rsplit_once('/').ok_or("pointer")?;
        let obj = p
            .pointer_mut(parent)
            .and_then(Json::as_object_mut)
            .ok_or_else(|| format!("no object at {parent}"))?;
        match value {
            Some(v) => obj.insert(leaf.to_owned(), v),
            None => obj.remove(leaf),
        };
        Ok(p)
    }

    fn run_with(p: Json, ine_required_is_error: bool) -> Result<Result<Intake, Error>, String> {
        let r = referential()?;
        let donnees: DonneesOpi = serde_json::from_value(p).map_err(|e| e.to_string())?;
        Ok(validate(
            &donnees,
            &Context {
                referential: &r,
                today: today(),
                ine_required_is_error,
            },
        ))
    }

    fn accepted(p: Json) -> Result<Intake, String> {
        run_with(p, false)?.map_err(|e| format!("rejected: {e} {:?}", e.errors))
    }

    fn rejected(p: Json) -> Result<Error, String> {
        match run_with(p, false)? {
            Ok(i) => Err(format!("accepted: {:?}", i.warnings)),
            Err(e) => Ok(e),
        }
    }

    /// Fault key and reason code of every error.
    fn faults(e: &Error) -> Vec<(String, String)> {
        e.errors
            .iter()
            .map(|f| (f.fault_key.to_string(), f.code.clone()))
            .collect()
    }

    fn warning_codes(w: &[Warning]) -> Vec<&str> {
        w.iter().map(|w| w.code.as_str()).collect()
    }

    /// The plan of a payload whose vœux are `items`; the individual part must pass.
    fn plan(items: Vec<Json>) -> Result<VoeuxPlan, String> {
        let p = with(payload(), "/voeux", Some(json!({ "item": items })))?;
        Ok(accepted(p)?.voeux)
    }

    /// The single rejected vœu of a plan.
    fn only_rejection(plan: VoeuxPlan) -> Result<RejectedVoeu, String> {
        match plan {
            VoeuxPlan::Replace {
                accepted,
                mut rejected,
            } if accepted.is_empty() && rejected.len() == 1 => Ok(rejected.remove(0)),
            other => Err(format!("unexpected plan {other:?}")),
        }
    }

    fn voeu_with(field: &str, value: Option<Json>) -> Result<Json, String> {
        with(json!({ "v": voeu() }), &format!("/v/{field}"), value)?
            .get("v")
            .cloned()
            .ok_or_else(|| "v".to_owned())
    }

    #[test]
    fn a_valid_payload_gives_its_intake() -> TestResult {
        let intake = accepted(payload())?;
        assert_eq!(intake.code, "EC00000001");
        assert_eq!(intake.cod_etu_opi, Some(22_512_345));
        assert_eq!(intake.nom_pat, "Le Gall");
        assert_eq!(intake.nom_usu.as_deref(), Some("Martin"));
        assert_eq!(intake.prenom, "Zoé");
        assert_eq!(
            intake.date_naissance,
            NaiveDate::from_ymd_opt(2005, 3, 14).ok_or("date")?
        );
        assert_eq!(intake.match_key, "LEGALL|ZOE|20050314");
        assert_eq!(
            intake.ine,
            Some(IneInfo {
                value: "0123456789M".into(),
                family: IneFamily::Bea,
                check: "ok",
            })
        );
        assert_eq!(warning_codes(&intake.warnings), Vec::<&str>::new());
        let ind = intake.donnees.individu.clone().unwrap_or_default();
        let ec = ind.etat_civil.unwrap_or_default();
        assert_eq!(ec.cod_nne_ind_opi.as_deref(), Some("0123456789M"));
        assert_eq!(ec.cod_sex_etu_opi.as_deref(), Some("F"));
        let adresse = intake.donnees.adresse_fixe.clone().unwrap_or_default();
        assert_eq!(adresse.num_tel.as_deref(), Some("0380000000"));
        let VoeuxPlan::Replace { accepted, rejected } = &intake.voeux else {
            panic!("plan {:?}", intake.voeux);
        };
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(accepted.len(), 1);
        let a = &accepted[0];
        assert_eq!(a.index, 0);
        assert_eq!(
            a.key,
            VoeuKey {
                cod_cge: "CG1".into(),
                cod_etp: "ETP01".into(),
                cod_vrs_vet: 1,
            }
        );
        assert_eq!(a.cod_dec_veu.as_deref(), Some("F"));
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
        let stored = intake.donnees.voeux.clone().unwrap_or_default();
        assert_eq!(stored.item, vec![a.voeu.clone()]);
        Ok(())
    }

    #[test]
    fn missing_mandatory_individual_fields_are_all_listed() -> TestResult {
        let p = json!({ "individu": { "etatCivil": {}, "donneesNaissance": {} } });
        let err = rejected(p)?;
        let keys: Vec<String> = faults(&err).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "codOpiIntEpoobligatoire",
                "libNomPatIndOpiobligatoire",
                "libPr1IndOpiobligatoire",
                "dateNaiIndOpiobligatoire",
                "temDateNaiRelOpiobligatoire",
            ]
            .map(|f| format!("technical.parameter.noncoherentinput.{f}"))
        );
        assert!(err.errors.iter().all(|e| e.code == "CHAMP_OBLIGATOIRE"));
        assert_eq!(
            err.fault_key.as_str(),
            "technical.parameter.noncoherentinput.codOpiIntEpoobligatoire"
        );
        assert_eq!(
            err.errors[3].field.as_deref(),
            Some("individu.donneesNaissance.dateNaiIndOpi")
        );
        Ok(())
    }

    #[test]
    fn a_bad_opi_code_is_a_format_error() -> TestResult {
        let err = rejected(with(
            payload(),
            "/individu/codOpiIntEpo",
            Some(json!("EC-0001")),
        )?)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.codOpiIntEpo".to_owned(),
                "FORMAT".to_owned()
            )]
        );
        Ok(())
    }

    #[test]
    fn an_unknown_vet_is_rejected_in_the_plan() -> TestResult {
        let rej = only_rejection(plan(vec![voeu_with("codEtp", Some(json!("ETP99")))?])?)?;
        assert_eq!(rej.index, 0);
        assert_eq!(rej.reason, "VOEU_VET_INCONNUE");
        assert_eq!(rej.fault_key.as_str(), "technical.data.nullretrieve.vet");
        assert_eq!(
            rej.key,
            Some(VoeuKey {
                cod_cge: "CG1".into(),
                cod_etp: "ETP99".into(),
                cod_vrs_vet: 1,
            })
        );
        Ok(())
    }

    #[test]
    fn cge_rules_v2_v3_v5() -> TestResult {
        let cases = [
            (
                "CG7",
                "VOEU_CGE_INCONNU",
                "technical.data.nullretrieve.codCge",
            ),
            (
                "CG9",
                "VOEU_CGE_INCONNU",
                "technical.data.nullretrieve.codCge",
            ),
            (
                "CG2",
                "VOEU_CGE_SANS_ACCES_DISTANCE",
                "functionnal.borules.cge.accesdistance",
            ),
        ];
        for (cge, reason, key) in cases {
            let rej = only_rejection(plan(vec![voeu_with("codCge", Some(json!(cge)))?])?)?;
            assert_eq!(
                (rej.reason.as_str(), rej.fault_key.as_str()),
                (reason, key),
                "{cge}"
            );
        }
        // ETP03 exists but is managed by CG2 only.
        let v = voeu_with("codEtp", Some(json!("ETP03")))?;
        let v = with(json!({ "v": v }), "/v/codDip", None)?;
        let v = with(v, "/v/codVrsVdi", None)?["v"].clone();
        let rej = only_rejection(plan(vec![v])?)?;
        assert_eq!(rej.reason, "VOEU_CGE_VET_INCOHERENT");
        assert_eq!(
            rej.fault_key.as_str(),
            "technical.parameter.noncoherentinput.codCge"
        );
        Ok(())
    }

    #[test]
    fn a_voeu_without_a_mandatory_field_has_no_key() -> TestResult {
        let rej = only_rejection(plan(vec![voeu_with("numCls", None)?])?)?;
        assert_eq!(rej.reason, "VOEU_CHAMP_OBLIGATOIRE");
        assert_eq!(
            rej.fault_key.as_str(),
            "technical.parameter.noncoherentinput.numClsobligatoire"
        );
        assert_eq!(rej.key, None);
        assert_eq!(rej.message, "Vœu n° 1 : numCls est obligatoire");
        let rej = only_rejection(plan(vec![voeu_with("codVrsVet", Some(json!("1000")))?])?)?;
        assert_eq!(rej.reason, "VOEU_VALEUR_INVALIDE");
        assert_eq!(
            rej.fault_key.as_str(),
            "technical.parameter.noncoherentinput.codVrsVet"
        );
        assert_eq!(rej.key, None);
        Ok(())
    }

    #[test]
    fn vdi_values_and_profile_rules_v6_to_v9() -> TestResult {
        let cases = [
            (
                "codVrsVdi",
                None,
                "VOEU_VDI_INCOHERENT",
                "technical.parameter.noncoherentinput.codDip",
            ),
            (
                "codVrsVdi",
                Some(json!("2")),
                "VOEU_VDI_INCOHERENT",
                "technical.parameter.noncoherentinput.codDip",
            ),
            (
                "codDemDos",
                Some(json!("X")),
                "VOEU_VALEUR_INVALIDE",
                "technical.parameter.noncoherentinput.codDemDos",
            ),
            (
                "numCls",
                Some(json!("100")),
                "VOEU_VALEUR_INVALIDE",
                "technical.parameter.noncoherentinput.numCls",
            ),
            (
                "codRge",
                Some(json!("7")),
                "VOEU_PROFIL_INVALIDE",
                "technical.data.nullretrieve.codRge",
            ),
            (
                "mtfCat",
                Some(json!("motif")),
                "VOEU_PROFIL_INVALIDE",
                "technical.parameter.noncoherentinput.mtfCat",
            ),
            (
                "comExoExt",
                Some(json!("12.")),
                "VOEU_PROFIL_INVALIDE",
                "technical.parameter.noncoherentinput.comExoExt",
            ),
            (
                "libCmtJur",
                Some(json!("x".repeat(201))),
                "VOEU_VALEUR_INVALIDE",
                "technical.parameter.noncoherentinput.libCmtJur",
            ),
            (
                "convocation",
                Some(json!({ "dhhCvc": "24" })),
                "VOEU_VALEUR_INVALIDE",
                "technical.parameter.noncoherentinput.dhhCvc",
            ),
        ];
        for (field, value, reason, key) in cases {
            let rej = only_rejection(plan(vec![voeu_with(field, value)?])?)?;
            assert_eq!(
                (rej.reason.as_str(), rej.fault_key.as_str()),
                (reason, key),
                "{field}"
            );
            assert!(rej.key.is_some(), "{field}");
        }
        Ok(())
    }

    #[test]
    fn profile_values_are_kept_on_an_accepted_voeu() -> TestResult {
        let v = voeu_with("codCatOuiSi", Some(json!("01")))?;
        let v = with(json!({ "v": v }), "/v/mtfCat", Some(json!(" motif ")))?;
        let v = with(v, "/v/comExoExt", Some(json!("178,5")))?["v"].clone();
        let VoeuxPlan::Replace { accepted, rejected } = plan(vec![v])? else {
            panic!("not a replacement");
        };
        assert!(rejected.is_empty(), "{rejected:?}");
        let voeu = &accepted[0].voeu;
        assert_eq!(voeu.cod_cat_oui_si.as_deref(), Some("01"));
        assert_eq!(voeu.mtf_cat.as_deref(), Some("motif"));
        assert_eq!(voeu.com_exo_ext.as_deref(), Some("178,5"));
        assert_eq!(voeu.cod_dem_dos.as_deref(), Some("C"));
        assert_eq!(voeu.num_cls.as_deref(), Some("1"));
        Ok(())
    }

    #[test]
    fn warnings_on_accepted_voeux() -> TestResult {
        let regime = voeu_with("codRge", Some(json!("2")))?;
        let closed = with(json!({ "v": voeu() }), "/v/codEtp", Some(json!("ETP02")))?;
        let closed = with(closed, "/v/codDip", None)?;
        let closed = with(closed, "/v/codVrsVdi", None)?["v"].clone();
        let VoeuxPlan::Replace { accepted, rejected } = plan(vec![regime, closed])? else {
            panic!("not a replacement");
        };
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(
            warning_codes(&accepted[0].warnings),
            ["VOEU_REGIME_NON_AUTORISE"]
        );
        assert_eq!(
            accepted[0].warnings[0].field.as_deref(),
            Some("voeux.item[0].codRge")
        );
        // ETP02/1: régime 1 (of the individual) not authorised, and no opening.
        assert_eq!(
            warning_codes(&accepted[1].warnings),
            ["VOEU_REGIME_NON_AUTORISE", "VOEU_VET_FERMEE_IA"]
        );
        Ok(())
    }

    #[test]
    fn absent_or_empty_voeux_leave_the_stored_ones() -> TestResult {
        let intake = accepted(with(payload(), "/voeux", None)?)?;
        assert_eq!(intake.voeux, VoeuxPlan::Unchanged);
        assert_eq!(intake.donnees.voeux, None);
        assert_eq!(plan(vec![])?, VoeuxPlan::Unchanged);
        Ok(())
    }

    #[test]
    fn one_all_absent_item_deletes_every_voeu() -> TestResult {
        let intake = accepted(with(
            payload(),
            "/voeux",
            Some(json!({ "modEnv": "1", "item": [{ "codCge": null, "numCls": " " }] })),
        )?)?;
        assert_eq!(intake.voeux, VoeuxPlan::DeleteAll);
        assert_eq!(intake.donnees.voeux, None);
        assert_eq!(warning_codes(&intake.warnings), ["MODENV_IGNORE"]);
        Ok(())
    }

    #[test]
    fn empty_and_duplicate_items_among_others_are_rejected() -> TestResult {
        let VoeuxPlan::Replace { accepted, rejected } = plan(vec![voeu(), json!({}), voeu()])?
        else {
            panic!("not a replacement");
        };
        assert_eq!(accepted.len(), 1);
        let got: Vec<(usize, &str, &str, bool)> = rejected
            .iter()
            .map(|r| {
                (
                    r.index,
                    r.reason.as_str(),
                    r.fault_key.as_str(),
                    r.key.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    1,
                    "VOEU_VIDE",
                    "technical.parameter.noncoherentinput.voeux",
                    false
                ),
                (
                    2,
                    "VOEU_DOUBLE",
                    "technical.parameter.noncoherentinput.voeux",
                    true
                ),
            ]
        );
        assert_eq!(rejected[1].message, "Vœu n° 3 en double (CG1 ETP01/1)");
        Ok(())
    }

    #[test]
    fn rejection_of_lists_every_rejected_item() -> TestResult {
        assert!(rejection_of(&[]).is_none());
        let rej = |index: usize, reason: &str, key: FaultKey| RejectedVoeu {
            index,
            key: None,
            reason: reason.into(),
            fault_key: key,
            message: format!("vœu {index}"),
        };
        let err = rejection_of(&[
            rej(2, "VOEU_VET_INCONNUE", FaultKey::null_retrieve("vet")),
            rej(0, "VOEU_VIDE", FaultKey::noncoherent("voeux")),
        ])
        .ok_or("no error")?;
        assert_eq!(err.fault_key.as_str(), "technical.data.nullretrieve.vet");
        assert_eq!(err.message, "vœu 2");
        let fields: Vec<(Option<&str>, &str)> = err
            .errors
            .iter()
            .map(|e| (e.field.as_deref(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (Some("voeux.item[2]"), "VOEU_VET_INCONNUE"),
                (Some("voeux.item[0]"), "VOEU_VIDE"),
            ]
        );
        Ok(())
    }

    #[test]
    fn an_ine_with_a_wrong_key_is_rejected() -> TestResult {
        let p = with(
            payload(),
            "/individu/etatCivil/codNneIndOpi",
            Some(json!("0123456789A")),
        )?;
        let err = rejected(p)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.codNneIndOpi".to_owned(),
                "INE_KEY_MISMATCH".to_owned()
            )]
        );
        assert_eq!(
            err.errors[0].field.as_deref(),
            Some("individu.etatCivil.codNneIndOpi")
        );
        assert!(
            err.message.starts_with("INE 0123456789A : "),
            "{}",
            err.message
        );
        Ok(())
    }

    #[test]
    fn an_ines_is_accepted_unverified_and_a_blank_ine_is_absent() -> TestResult {
        let p = with(
            payload(),
            "/individu/etatCivil/codNneIndOpi",
            Some(json!("123456789AB")),
        )?;
        let intake = accepted(p)?;
        let info = intake.ine.ok_or("no INE")?;
        assert_eq!(
            (info.value.as_str(), info.family, info.check),
            ("123456789AB", IneFamily::Ines, "unverified")
        );
        assert_eq!(warning_codes(&intake.warnings), ["INE_NON_VERIFIE"]);

        let p = with(
            payload(),
            "/individu/etatCivil/codNneIndOpi",
            Some(json!("   ")),
        )?;
        let intake = accepted(p)?;
        assert_eq!(intake.ine, None);
        // GDEM has INE control since 1995 and the candidate is French.
        assert_eq!(warning_codes(&intake.warnings), ["INE_MANQUANT"]);
        Ok(())
    }

    #[test]
    fn a_missing_ine_can_be_made_an_error() -> TestResult {
        let p = with(payload(), "/individu/etatCivil/codNneIndOpi", None)?;
        let err = run_with(p.clone(), true)?.err().ok_or("accepted")?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.codNneIndOpiobligatoire".to_owned(),
                "INE_MANQUANT".to_owned()
            )]
        );
        // Not required for a foreign candidate.
        let p = with(
            p,
            "/individu/donneesNaissance/codPayNat",
            Some(json!("109")),
        )?;
        let intake = run_with(p, true)?.map_err(|e| e.message)?;
        assert_eq!(intake.ine, None);
        assert!(intake.warnings.is_empty(), "{:?}", intake.warnings);
        Ok(())
    }

    #[test]
    fn birth_date_rules() -> TestResult {
        let cases = [
            ("16062026", "DATE_HORS_BORNES"),
            ("31121899", "DATE_HORS_BORNES"),
            ("31022005", "DATE_INVALIDE"),
            ("2005-03-14", "DATE_INVALIDE"),
        ];
        for (date, code) in cases {
            let p = with(
                payload(),
                "/individu/donneesNaissance/dateNaiIndOpi",
                Some(json!(date)),
            )?;
            let err = rejected(p)?;
            assert_eq!(
                faults(&err),
                [(
                    "technical.parameter.noncoherentinput.dateNaiIndOpi".to_owned(),
                    code.to_owned()
                )],
                "{date}"
            );
        }
        // Today is accepted.
        let p = with(
            payload(),
            "/individu/donneesNaissance/dateNaiIndOpi",
            Some(json!("15062026")),
        )?;
        assert_eq!(
            accepted(p)?.date_naissance,
            NaiveDate::from_ymd_opt(2026, 6, 15).ok_or("date")?
        );
        Ok(())
    }

    #[test]
    fn birth_place_rules() -> TestResult {
        let p = with(
            payload(),
            "/individu/donneesNaissance/codTypDepPayNai",
            Some(json!("P")),
        )?;
        let p = with(
            p,
            "/individu/donneesNaissance/codDepPayNai",
            Some(json!("100")),
        )?;
        let err = rejected(p)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.codDepPayNai".to_owned(),
                "VALEUR_INVALIDE".to_owned()
            )]
        );
        let p = with(
            payload(),
            "/individu/donneesNaissance/codDepPayNai",
            Some(json!("099")),
        )?;
        let err = rejected(p)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.data.nullretrieve.codDepPayNai".to_owned(),
                "REF_INCONNU".to_owned()
            )]
        );
        Ok(())
    }

    #[test]
    fn bac_rules() -> TestResult {
        let err = rejected(with(payload(), "/bac/daaObtBacOba", Some(json!("2027")))?)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.daaObtBacOba".to_owned(),
                "VALEUR_INVALIDE".to_owned()
            )]
        );
        let err = rejected(with(payload(), "/bac/codSpe1BacTer", Some(json!("D002")))?)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.specialitesBac".to_owned(),
                "BAC_SPECIALITE".to_owned()
            )]
        );
        // S is delivered until 2021; a bac without regroupement only warns on unknown codes.
        let p = with(
            payload(),
            "/bac",
            Some(json!({ "codBac": "S", "daaObtBacOba": "2023", "codSpe2BacTer": "Z999" })),
        )?;
        let intake = accepted(p)?;
        assert_eq!(
            warning_codes(&intake.warnings),
            ["BAC_HORS_VALIDITE", "REF_INCONNU"]
        );
        Ok(())
    }

    #[test]
    fn a_blank_bac_block_is_no_bac() -> TestResult {
        let p = with(
            payload(),
            "/bac",
            Some(json!({ "codBac": null, "daaObtBacOba": null })),
        )?;
        let intake = accepted(p)?;
        assert_eq!(intake.donnees.bac, None);
        assert_eq!(warning_codes(&intake.warnings), ["BAC_MANQUANT"]);
        Ok(())
    }

    #[test]
    fn address_and_personal_data_rules() -> TestResult {
        let err = rejected(with(
            payload(),
            "/adresseFixe/codBdi",
            Some(json!("25000")),
        )?)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.data.nullretrieve.codCom".to_owned(),
                "REF_INCONNU".to_owned()
            )]
        );
        let err = rejected(with(payload(), "/adresseFixe/lib1", None)?)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.lib1obligatoire".to_owned(),
                "CHAMP_OBLIGATOIRE".to_owned()
            )]
        );
        let p = with(
            payload(),
            "/individu/donneesPersonnelles/adrMailOpi",
            Some(json!("zoe@@example.org")),
        )?;
        let err = rejected(p)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.adrMailOpi".to_owned(),
                "FORMAT".to_owned()
            )]
        );
        Ok(())
    }

    #[test]
    fn individual_errors_come_in_rule_order() -> TestResult {
        let p = with(
            payload(),
            "/individu/etatCivil/codNneIndOpi",
            Some(json!("0123456789A")),
        )?;
        let p = with(p, "/individu/etatCivil/libPr1IndOpi", None)?;
        let p = with(p, "/adresseFixe/codPay", Some(json!("999")))?;
        let p = with(p, "/bac/codBac", Some(json!("ZZZZ")))?;
        let err = rejected(p)?;
        let keys: Vec<String> = faults(&err).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "technical.parameter.noncoherentinput.codNneIndOpi",
                "technical.parameter.noncoherentinput.libPr1IndOpiobligatoire",
                "technical.data.nullretrieve.codPay",
                "technical.data.nullretrieve.codBac",
            ]
        );
        Ok(())
    }

    #[test]
    fn these_block_rules() -> TestResult {
        let p = with(
            payload(),
            "/donneesThese",
            Some(json!({ "codDip": "DIP01", "codVrsVdi": "1", "codEtp": "ETP01" })),
        )?;
        let err = rejected(p)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.parameter.noncoherentinput.codVrsVetobligatoire".to_owned(),
                "CHAMP_OBLIGATOIRE".to_owned()
            )]
        );
        let p = with(
            payload(),
            "/donneesThese",
            Some(
                json!({ "codDip": "DIP01", "codVrsVdi": "1", "codEtp": "ETP01", "codVrsVet": "2" }),
            ),
        )?;
        let err = rejected(p)?;
        assert_eq!(
            faults(&err),
            [(
                "technical.data.nullretrieve.vet".to_owned(),
                "REF_INCONNU".to_owned()
            )]
        );
        Ok(())
    }

    /// The single accepted vœu of a plan.
    fn only_accepted(plan: VoeuxPlan) -> Result<Voeu, String> {
        match plan {
            VoeuxPlan::Replace { accepted, rejected }
                if rejected.is_empty() && accepted.len() == 1 =>
            {
                Ok(accepted[0].voeu.clone())
            }
            other => Err(format!("unexpected plan {other:?}")),
        }
    }

    #[test]
    fn php_zeros_next_to_an_empty_partner_are_no_values() -> TestResult {
        // PHP SoapClient sends "" for every unset string and 0 for every unset integer.
        let v = with(
            voeu_with("codDip", Some(json!("")))?,
            "/codVrsVdi",
            Some(json!(0)),
        )?;
        let v = with(
            v,
            "/convocation",
            Some(json!({ "datCvc": "", "dhhCvc": 0, "dmnCvc": 0 })),
        )?;
        let stored = only_accepted(plan(vec![v])?)?;
        assert_eq!((stored.cod_dip, stored.cod_vrs_vdi), (None, None));
        assert_eq!(stored.convocation, None);
        let v = with(voeu_with("codDip", None)?, "/codVrsVdi", Some(json!("0")))?;
        assert_eq!(only_accepted(plan(vec![v])?)?.cod_vrs_vdi, None);
        // codEtuOpi 0, and a thèse and a dac with nothing but "" and 0: absent.
        let p = with(payload(), "/individu/codEtuOpi", Some(json!(0)))?;
        let p = with(
            p,
            "/donneesThese",
            Some(
                json!({ "codDip": "", "codVrsVdi": 0, "codEtp": "", "codVrsVet": 0, "codDis": 0, "libThs": "" }),
            ),
        )?;
        let p = with(
            p,
            "/dac",
            Some(json!({ "codDac": "", "codNif": 0, "nbrCrdCur": 0 })),
        )?;
        let p = with(
            p,
            "/adresseAnnuelle",
            Some(json!({ "lib1": "", "codPay": "", "numTel": " " })),
        )?;
        let intake = accepted(p)?;
        assert_eq!(intake.cod_etu_opi, None);
        assert_eq!(intake.donnees.donnees_these, None);
        assert_eq!(intake.donnees.dac, None);
        assert_eq!(
            intake.donnees.adresse_annuelle, None,
            "all-blank block: absent"
        );
        Ok(())
    }

    #[test]
    fn a_zero_next_to_a_given_partner_stays_an_error() -> TestResult {
        let key = "technical.parameter.noncoherentinput.codDip";
        let dip_and_zero = voeu_with("codVrsVdi", Some(json!(0)))?;
        let five_without_dip = with(
            voeu_with("codDip", Some(json!("")))?,
            "/codVrsVdi",
            Some(json!(5)),
        )?;
        for v in [dip_and_zero, five_without_dip] {
            let rej = only_rejection(plan(vec![v.clone()])?)?;
            assert_eq!(
                (rej.reason.as_str(), rej.fault_key.as_str()),
                ("VOEU_VDI_INCOHERENT", key),
                "{v}"
            );
        }
        // Midnight is an hour: a convocation with a date keeps its 0 h 0.
        let v = voeu_with(
            "convocation",
            Some(json!({ "datCvc": "01092026", "dhhCvc": 0, "dmnCvc": 0 })),
        )?;
        let c = only_accepted(plan(vec![v])?)?
            .convocation
            .unwrap_or_default();
        assert_eq!(
            (c.dhh_cvc.as_deref(), c.dmn_cvc.as_deref()),
            (Some("0"), Some("0"))
        );
        // A thèse with a diploma and version 0 is refused, not emptied.
        let p = with(
            payload(),
            "/donneesThese",
            Some(json!({ "codDip": "DIP01", "codVrsVdi": 0, "codEtp": "ETP01", "codVrsVet": "1" })),
        )?;
        assert_eq!(
            faults(&rejected(p)?)[0].0,
            "technical.data.nullretrieve.vdi"
        );
        Ok(())
    }

    #[test]
    fn names_are_latin_letters() -> TestResult {
        for name in [
            "Le Gall-N'Diaye",
            "Éloïse",
            "Ørsted",
            "Œuvrard",
            "Ngô Thị",
            "Ł’Dziński",
        ] {
            let p = with(
                payload(),
                "/individu/etatCivil/libNomPatIndOpi",
                Some(json!(name)),
            )?;
            accepted(p).map_err(|e| format!("{name}: {e}"))?;
        }
        // A Cyrillic А (U+0410) or a Greek Ο looks like a Latin letter but is another name,
        // and would vanish from the normalised name identity checks compare.
        for name in ["LEGR\u{410}ND", "ΟLIVIER", "Иванов", "LEGRAND2", "A_B"] {
            let p = with(
                payload(),
                "/individu/etatCivil/libNomPatIndOpi",
                Some(json!(name)),
            )?;
            let err = rejected(p)?;
            assert_eq!(
                faults(&err),
                [(
                    "technical.parameter.noncoherentinput.libNomPatIndOpi".to_owned(),
                    "NOM_INVALIDE".to_owned()
                )],
                "{name}"
            );
        }
        Ok(())
    }

    #[test]
    fn match_key_normalises_names() {
        let date = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap_or_default();
        assert_eq!(
            match_key("Le Gall-N'Diaye", "Chloé", date),
            "LEGALLNDIAYE|CHLOE|19991231"
        );
    }
}
