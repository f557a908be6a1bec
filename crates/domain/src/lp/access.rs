//! Access to a formation for one person and one year (LP-12 … LP-15): which VETs a person may
//! enrol in, where the enrolment profile comes from (LP or vœu), and what still blocks the
//! enrolment. Storage gathers the facts ([`Person`], [`Candidate`]); these functions decide.

use super::{LpAttributes, TypLpa, opening, regime_allowed};
use crate::opi::Warning;
use crate::referential::Referential;
use crate::referential::snapshot::CodeState;
use chrono::NaiveDate;
use serde::Serialize;

/// Every blocking reason, in the order they are reported (LP-15).
pub const BLOCAGES: &[&str] = &[
    "ACCES_DEJA_INSCRIT",
    "ACCES_IAA_ANNULEE",
    "ACCES_JAMAIS_PAYE",
    "ACCES_INE_MANQUANT",
    "ACCES_VET_FERMEE",
    "ACCES_HORS_DATES",
    "ACCES_REGIME_NON_AUTORISE",
    "ACCES_BLOCAGE",
    "ACCES_PLAFOND_ANNUEL",
    "ACCES_BAC_MANQUANT",
    "ACCES_NATIONALITE_HORS_SERVICE",
    "ACCES_DECISION_DEFAVORABLE",
];

/// What storage knows about a person for one academic year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// An OPI person (primo-enrolment); otherwise a known student (re-enrolment).
    pub primo: bool,
    /// An INE is stored.
    pub has_ine: bool,
    /// Codes of the explicit bans (`IND_SANCTIONNE_BLO`, types `A`/`T`).
    pub bans: Vec<String>,
    /// The annual enrolment of the year is cancelled (`ETA_IAA = 'A'`).
    pub iaa_annulee: bool,
    /// VETs the person is already enrolled in for the year (`INS_ADM_ETP`, not cancelled).
    pub enrolled: Vec<(String, i32)>,
    /// An enrolment of an earlier year was paid (`ETA_PMT_IAE = 'P'`).
    pub paid_before: bool,
    /// Primo: bac series and bac year present.
    pub bac_present: bool,
    /// Primo: nationality (`codPayNat`).
    pub cod_pay_nat: Option<String>,
}

/// A stored vœu, as the access rules read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VoeuFacts {
    /// Centre de gestion.
    pub cod_cge: String,
    /// Decision (`F`, `D`, `A` or absent).
    pub cod_dec_veu: Option<String>,
    /// Rank.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_cls: Option<i32>,
    /// Régime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_rge: Option<String>,
    /// « Oui si » category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_cat_oui_si: Option<String>,
    /// Its motive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtf_cat: Option<String>,
    /// Fee category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_cat_exo_ext: Option<String>,
    /// Diplôme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_dip: Option<String>,
    /// Version de diplôme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_vrs_vdi: Option<i32>,
}

/// One VET a person may reach: through an LP, a vœu, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// The LP on this VET for the year.
    pub lp: Option<LpAttributes>,
    /// The vœu on this VET (primo only).
    pub voeu: Option<VoeuFacts>,
}

/// A profile attribute and where it comes from (LP-13 b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attribute {
    /// The value.
    pub value: String,
    /// `lp` or `voeu`.
    pub origin: &'static str,
}

/// The enrolment profile (LP-13 b): each attribute the LP sets, else the vœu's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Profil {
    /// Régime (LP `codRgi` over vœu `codRge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_rgi: Option<Attribute>,
    /// Statut (LP only: a vœu has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_stu: Option<Attribute>,
    /// « Oui si » category (with its motive, as one pair).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_cat_oui_si: Option<Attribute>,
    /// Motive of the « Oui si » category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtf_cat: Option<Attribute>,
    /// Fee category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_cat_exo_ext: Option<Attribute>,
    /// Diplôme (with its version, as one pair).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_dip: Option<Attribute>,
    /// Version de diplôme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_vrs_vdi: Option<Attribute>,
}

/// One line of the admissions view (LP-15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Admission {
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// `lp` when an LP exists, else `voeu`.
    pub source: &'static str,
    /// The LP's attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lp: Option<LpAttributes>,
    /// The vœu on the same VET, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voeu: Option<VoeuFacts>,
    /// The vœu is overridden by the LP (`VOEU_COUVERT_PAR_LP`, LP-13 c).
    pub voeu_couvert: bool,
    /// Enrolment profile with the origin of each attribute.
    pub profil: Profil,
    /// What blocks the enrolment (empty: access granted).
    pub blocages: Vec<&'static str>,
    /// No blocking reason.
    pub acces_autorise: bool,
}

fn pick(lp: Option<&String>, voeu: Option<&String>) -> Option<Attribute> {
    match (lp, voeu) {
        (Some(v), _) => Some(Attribute {
            value: v.clone(),
            origin: "lp",
        }),
        (None, Some(v)) => Some(Attribute {
            value: v.clone(),
            origin: "voeu",
        }),
        (None, None) => None,
    }
}

fn attr(value: Option<String>, origin: &'static str) -> Option<Attribute> {
    value.map(|value| Attribute { value, origin })
}

/// LP-13 b: the LP's attributes, else the vœu's; pairs (Oui-si category and motive, diploma and
/// version) come from the same source.
pub fn profil(lp: Option<&LpAttributes>, voeu: Option<&VoeuFacts>) -> Profil {
    let (oui_si, mtf) = match (lp, voeu) {
        (Some(l), _) if l.cod_cat_oui_si.is_some() => (
            attr(l.cod_cat_oui_si.clone(), "lp"),
            attr(l.mtf_cat.clone(), "lp"),
        ),
        (_, Some(v)) => (
            attr(v.cod_cat_oui_si.clone(), "voeu"),
            attr(v.mtf_cat.clone(), "voeu"),
        ),
        _ => (None, None),
    };
    let (dip, vdi) = match (lp, voeu) {
        (Some(l), _) if l.cod_dip.is_some() => (
            attr(l.cod_dip.clone(), "lp"),
            attr(l.cod_vrs_vdi.map(|n| n.to_string()), "lp"),
        ),
        (_, Some(v)) => (
            attr(v.cod_dip.clone(), "voeu"),
            attr(v.cod_vrs_vdi.map(|n| n.to_string()), "voeu"),
        ),
        _ => (None, None),
    };
    Profil {
        cod_rgi: pick(
            lp.and_then(|l| l.cod_rgi.as_ref()),
            voeu.and_then(|v| v.cod_rge.as_ref()),
        ),
        cod_stu: pick(lp.and_then(|l| l.cod_stu.as_ref()), None),
        cod_cat_oui_si: oui_si,
        mtf_cat: mtf,
        cod_cat_exo_ext: pick(
            lp.and_then(|l| l.cod_cat_exo_ext.as_ref()),
            voeu.and_then(|v| v.cod_cat_exo_ext.as_ref()),
        ),
        cod_dip: dip,
        cod_vrs_vdi: vdi,
    }
}

/// The blocking reasons that depend on the person only (no referential), for a VET and a year.
pub fn person_blocages(person: &Person, cod_etp: &str, cod_vrs_vet: i32) -> Vec<&'static str> {
    let mut out = Vec::new();
    if person
        .enrolled
        .iter()
        .any(|(e, v)| e == cod_etp && *v == cod_vrs_vet)
    {
        out.push("ACCES_DEJA_INSCRIT");
    }
    if person.iaa_annulee {
        out.push("ACCES_IAA_ANNULEE");
    }
    if !person.primo && !person.paid_before {
        out.push("ACCES_JAMAIS_PAYE");
    }
    if !person.has_ine {
        out.push("ACCES_INE_MANQUANT");
    }
    if !person.bans.is_empty() {
        out.push("ACCES_BLOCAGE");
    }
    if person.primo && !person.bac_present {
        out.push("ACCES_BAC_MANQUANT");
    }
    out
}

/// LP-11: what will block the enrolment despite the LP, reported as warnings on insertion
/// (`LP_INE_MANQUANT`, `LP_BLOCAGE`, `LP_IAA_ANNULEE` …).
pub fn insertion_warnings(person: &Person, cod_etp: &str, cod_vrs_vet: i32) -> Vec<Warning> {
    person_blocages(person, cod_etp, cod_vrs_vet)
        .into_iter()
        .map(|code| {
            let (field, message) = match code {
                "ACCES_DEJA_INSCRIT" => (None, format!("Déjà inscrit dans la VET {cod_etp}/{cod_vrs_vet} pour cette année")),
                "ACCES_IAA_ANNULEE" => (None, "L'inscription annuelle de cette année est annulée : le laissez-passer ne la rétablit pas".to_owned()),
                "ACCES_JAMAIS_PAYE" => (None, "Aucune inscription antérieure payée : la réinscription sera bloquée".to_owned()),
                "ACCES_INE_MANQUANT" => (Some("ine"), "Code INE/BEA manquant : l'inscription sera bloquée malgré le laissez-passer".to_owned()),
                "ACCES_BLOCAGE" => (None, format!("Blocage(s) {} : l'inscription sera bloquée malgré le laissez-passer", person.bans.join(", "))),
                "ACCES_BAC_MANQUANT" => (Some("bac"), "Série ou année du bac manquante dans l'OPI : la primo-inscription sera bloquée".to_owned()),
                other => (None, other.to_owned()),
            };
            Warning {
                code: code.replacen("ACCES_", "LP_", 1),
                field: field.map(str::to_owned),
                message,
            }
        })
        .collect()
}

/// LP-13, LP-14, LP-18 of one candidate VET: source, profile, blocking reasons.
pub fn evaluate(
    r: &Referential,
    today: NaiveDate,
    cod_anu: &str,
    person: &Person,
    cand: &Candidate,
) -> Admission {
    let typ = if person.primo {
        TypLpa::Iaprimo
    } else {
        TypLpa::Reins
    };
    let profil = profil(cand.lp.as_ref(), cand.voeu.as_ref());
    let mut blocages = person_blocages(person, &cand.cod_etp, cand.cod_vrs_vet);
    match opening(r, typ, cod_anu, &cand.cod_etp, cand.cod_vrs_vet, today) {
        None => blocages.push("ACCES_VET_FERMEE"),
        Some(false) => blocages.push("ACCES_HORS_DATES"),
        Some(true) => {}
    }
    if let Some(rg) = &profil.cod_rgi
        && !regime_allowed(r, &cand.cod_etp, cand.cod_vrs_vet, &rg.value)
    {
        blocages.push("ACCES_REGIME_NON_AUTORISE");
    }
    if person.primo
        && person
            .cod_pay_nat
            .as_deref()
            .is_none_or(|p| r.state("pays", &[p]) != CodeState::InService)
    {
        blocages.push("ACCES_NATIONALITE_HORS_SERVICE");
    }
    if cand.lp.is_none()
        && cand
            .voeu
            .as_ref()
            .is_some_and(|v| v.cod_dec_veu.as_deref() != Some("F"))
    {
        blocages.push("ACCES_DECISION_DEFAVORABLE");
    }
    blocages.sort_by_key(|b| BLOCAGES.iter().position(|x| x == b));
    blocages.dedup();
    Admission {
        cod_etp: cand.cod_etp.clone(),
        cod_vrs_vet: cand.cod_vrs_vet,
        source: if cand.lp.is_some() { "lp" } else { "voeu" },
        voeu_couvert: cand.lp.is_some() && cand.voeu.is_some(),
        lp: cand.lp.clone(),
        voeu: cand.voeu.clone(),
        profil,
        acces_autorise: blocages.is_empty(),
        blocages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default()
    }

    fn primo() -> Person {
        Person {
            primo: true,
            has_ine: true,
            bac_present: true,
            cod_pay_nat: None,
            ..Person::default()
        }
    }

    fn voeu(dec: &str, rge: Option<&str>) -> VoeuFacts {
        VoeuFacts {
            cod_cge: "CG1".into(),
            cod_dec_veu: Some(dec.into()),
            cod_rge: rge.map(str::to_owned),
            cod_cat_exo_ext: Some("02".into()),
            ..VoeuFacts::default()
        }
    }

    fn referential() -> Result<Referential, String> {
        super::super::tests::referential_with(&[(
            "pays",
            "codPay,libPay,temEnSvePay\n100,France,O\n115,Tchécoslovaquie,N\n",
        )])
    }

    #[test]
    fn an_lp_overrides_an_unfavourable_voeu_and_its_profile() -> Result<(), String> {
        let r = referential()?;
        let person = Person {
            cod_pay_nat: Some("100".into()),
            ..primo()
        };
        let lp = LpAttributes {
            cod_rgi: Some("2".into()),
            ..LpAttributes::default()
        };
        let cand = Candidate {
            cod_etp: "ETP01".into(),
            cod_vrs_vet: 1,
            lp: Some(lp),
            voeu: Some(voeu("D", Some("1"))),
        };
        let a = evaluate(&r, today(), "2026", &person, &cand);
        assert_eq!(a.source, "lp");
        assert!(a.voeu_couvert);
        assert!(a.acces_autorise, "{:?}", a.blocages);
        let rgi = a.profil.cod_rgi.ok_or("codRgi")?;
        assert_eq!((rgi.value.as_str(), rgi.origin), ("2", "lp"));
        let exo = a.profil.cod_cat_exo_ext.ok_or("exo")?;
        assert_eq!((exo.value.as_str(), exo.origin), ("02", "voeu"));
        // Without the LP, the unfavourable vœu gives no access.
        let alone = Candidate { lp: None, ..cand };
        let a = evaluate(&r, today(), "2026", &person, &alone);
        assert_eq!(a.source, "voeu");
        assert_eq!(a.blocages, vec!["ACCES_DECISION_DEFAVORABLE"]);
        Ok(())
    }

    #[test]
    fn what_an_lp_never_lifts() -> Result<(), String> {
        let r = referential()?;
        let person = Person {
            has_ine: false,
            bans: vec!["BU".into()],
            bac_present: false,
            cod_pay_nat: Some("115".into()),
            ..primo()
        };
        let cand = Candidate {
            cod_etp: "ETP01".into(),
            cod_vrs_vet: 1,
            lp: Some(LpAttributes {
                cod_rgi: Some("3".into()),
                ..LpAttributes::default()
            }),
            voeu: None,
        };
        let a = evaluate(&r, today(), "2026", &person, &cand);
        assert_eq!(
            a.blocages,
            vec![
                "ACCES_INE_MANQUANT",
                "ACCES_REGIME_NON_AUTORISE",
                "ACCES_BLOCAGE",
                "ACCES_BAC_MANQUANT",
                "ACCES_NATIONALITE_HORS_SERVICE"
            ]
        );
        assert!(!a.acces_autorise);
        // A known student: cancelled year, never paid, already enrolled, closed VET.
        let student = Person {
            primo: false,
            has_ine: true,
            iaa_annulee: true,
            enrolled: vec![("ETP02".into(), 2)],
            ..Person::default()
        };
        let cand = Candidate {
            cod_etp: "ETP02".into(),
            cod_vrs_vet: 2,
            lp: Some(LpAttributes::default()),
            voeu: None,
        };
        let a = evaluate(&r, today(), "2026", &student, &cand);
        assert_eq!(
            a.blocages,
            vec![
                "ACCES_DEJA_INSCRIT",
                "ACCES_IAA_ANNULEE",
                "ACCES_JAMAIS_PAYE",
                "ACCES_VET_FERMEE"
            ]
        );
        let w: Vec<String> = insertion_warnings(&student, "ETP02", 2)
            .into_iter()
            .map(|w| w.code)
            .collect();
        assert_eq!(
            w,
            vec!["LP_DEJA_INSCRIT", "LP_IAA_ANNULEE", "LP_JAMAIS_PAYE"]
        );
        Ok(())
    }
}
