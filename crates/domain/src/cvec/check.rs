//! The enrolment check's rules that need no IO (CVEC-8, CVEC-11 steps 4–6, CVEC-12, CVEC-14):
//! birth dates in the accepted formats, identities compared on normalised values, and the verdict
//! on an attestation once it has been found. Looking the attestation up (register, CNOUS API,
//! cache) and storing the check belong to the callers.

use super::dto::CertificateDto;
use crate::text::normalized_name;
use chrono::NaiveDate;
use serde::Serialize;

/// CVEC-12: the result of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckResult {
    /// The attestation is valid for this person and year.
    Valide,
    /// The attestation cannot be accepted (see the reasons).
    Invalide,
    /// The attestation could not be verified (CNOUS API unavailable, another year): retry later.
    NonVerifiee,
    /// The enrolment needs no attestation (CVEC-10).
    NonRequise,
}

impl CheckResult {
    /// `VALIDE`, `INVALIDE`, `NON_VERIFIEE` or `NON_REQUISE`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Valide => "VALIDE",
            CheckResult::Invalide => "INVALIDE",
            CheckResult::NonVerifiee => "NON_VERIFIEE",
            CheckResult::NonRequise => "NON_REQUISE",
        }
    }

    /// The result named by [`CheckResult::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            CheckResult::Valide,
            CheckResult::Invalide,
            CheckResult::NonVerifiee,
            CheckResult::NonRequise,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A reason or a warning: a stable code and a French sentence. Messages never quote a name, a
/// birth date or an INE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// `CVEC_ETAT_INVALIDE`, `CVEC_INE_DIVERGENT` …
    pub code: String,
    /// French explanation.
    pub message: String,
}

impl Finding {
    /// A finding with `code` and `message`.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Finding {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// A person (or the holder of an attestation) as the rules compare them: normalised INE,
/// normalised birth surname, birth date, and the gateway's person keys when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// `COD_IND` (a known student).
    pub cod_ind: Option<i64>,
    /// `COD_IND_OPI` (an OPI person).
    pub cod_ind_opi: Option<i64>,
    /// INE, normalised (INE-2).
    pub ine: Option<String>,
    /// Birth surname, normalised (`domain.md` §0).
    pub nom: Option<String>,
    /// Birth date.
    pub date_naissance: Option<NaiveDate>,
}

fn normalized_ine(raw: Option<&str>) -> Option<String> {
    raw.map(crate::ine::normalize).filter(|s| !s.is_empty())
}

impl Identity {
    /// Builds an identity from raw values (normalised here; empty values are absent).
    pub fn new(ine: Option<&str>, nom: Option<&str>, date_naissance: Option<NaiveDate>) -> Self {
        Identity {
            cod_ind: None,
            cod_ind_opi: None,
            ine: normalized_ine(ine),
            nom: nom.map(normalized_name).filter(|s| !s.is_empty()),
            date_naissance,
        }
    }

    /// The identity of an attestation's holder.
    pub fn of_certificate(dto: &CertificateDto) -> Self {
        Identity::new(
            dto.ine.as_deref(),
            dto.nom.as_deref(),
            dto.date_naissance
                .as_deref()
                .and_then(crate::formats::parse_date),
        )
    }

    /// `NOM|yyyy-mm-dd` when both are known: the stored identity key of a check.
    pub fn key(&self) -> Option<String> {
        match (&self.nom, self.date_naissance) {
            (Some(nom), Some(date)) => Some(format!("{nom}|{}", date.format("%Y-%m-%d"))),
            _ => None,
        }
    }

    /// Rebuilds an identity from stored values (the key of [`Identity::key`]).
    pub fn from_stored(
        cod_ind: Option<i64>,
        cod_ind_opi: Option<i64>,
        ine: Option<&str>,
        key: Option<&str>,
    ) -> Self {
        let (nom, date) = key
            .and_then(|k| k.split_once('|'))
            .map_or((None, None), |(n, d)| {
                (
                    Some(n.to_owned()).filter(|n| !n.is_empty()),
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").ok(),
                )
            });
        Identity {
            cod_ind,
            cod_ind_opi,
            ine: normalized_ine(ine),
            nom,
            date_naissance: date,
        }
    }

    /// Whether two identities may be the same person (CVEC-11 step 6). The strongest key both
    /// carry decides: `COD_IND`, then `COD_IND_OPI`, then the INE, then birth surname + birth
    /// date. With no key in common, nothing proves two persons: they count as the same [chosen].
    pub fn same_person(&self, other: &Identity) -> bool {
        if let (Some(a), Some(b)) = (self.cod_ind, other.cod_ind) {
            return a == b;
        }
        if let (Some(a), Some(b)) = (self.cod_ind_opi, other.cod_ind_opi) {
            return a == b;
        }
        if let (Some(a), Some(b)) = (&self.ine, &other.ine) {
            return a == b;
        }
        match (self.key(), other.key()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

/// CVEC-11 step 5: does the attestation belong to the person? `Ok(warnings)` when it does,
/// `Err(reason)` when not.
pub fn identity_matches(holder: &Identity, person: &Identity) -> Result<Vec<Finding>, Finding> {
    let ine_equal = match (&holder.ine, &person.ine) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    };
    let nom_equal = match (&holder.nom, &person.nom) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    };
    let date_equal = match (holder.date_naissance, person.date_naissance) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    };
    if ine_equal == Some(true) {
        return Ok(Vec::new());
    }
    if nom_equal == Some(true) && date_equal == Some(true) {
        return Ok(if ine_equal == Some(false) {
            vec![Finding::new(
                "CVEC_INE_DIVERGENT",
                "L'INE de l'attestation CVEC diffère de celui de la personne (nom de naissance \
                 et date de naissance identiques) : vérifier l'INE",
            )]
        } else {
            Vec::new()
        });
    }
    let mut differences = Vec::new();
    let mut describe = |equal: Option<bool>, what: &str| match equal {
        Some(false) => differences.push(format!("{what} différent(e)")),
        None => differences.push(format!("{what} non comparable (absent)")),
        Some(true) => {}
    };
    describe(ine_equal, "INE");
    describe(nom_equal, "nom de naissance");
    describe(date_equal, "date de naissance");
    Err(Finding::new(
        "CVEC_IDENTITE",
        format!(
            "L'attestation CVEC ne correspond pas à la personne : {}",
            differences.join(", ")
        ),
    ))
}

/// What the rules say about an attestation that was found (CVEC-11 steps 4–6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Every failed rule, in the order of CVEC-11; empty means `VALIDE`.
    pub reasons: Vec<Finding>,
    /// Warnings (`CVEC_INE_DIVERGENT`, CVEC-14 disagreements).
    pub warnings: Vec<Finding>,
}

impl Verdict {
    /// `VALIDE` without reasons, `INVALIDE` otherwise.
    pub fn result(&self) -> CheckResult {
        if self.reasons.is_empty() {
            CheckResult::Valide
        } else {
            CheckResult::Invalide
        }
    }
}

/// What the person declares about fees (CVEC-14).
#[derive(Debug, Clone, Copy, Default)]
pub struct FeeSituation<'a> {
    /// Declared scholarship holder (`None`: not said).
    pub boursier: Option<bool>,
    /// Fee category of the enrolment (`codCatExoExt`).
    pub cod_cat_exo_ext: Option<&'a str>,
    /// The fee categories that mean an exemption (configuration).
    pub exoneration_categories: &'a [String],
}

/// CVEC-11 steps 4–6 and CVEC-14 on a found attestation. `previous` are the identities of earlier
/// `VALIDE` checks of the same number and year.
pub fn evaluate(
    found: &CertificateDto,
    person: &Identity,
    previous: &[Identity],
    fees: FeeSituation<'_>,
) -> Verdict {
    let mut verdict = Verdict::default();
    if !found.is_valid_state() {
        let libelle = found
            .etat
            .as_ref()
            .and_then(|e| e.libelle.as_deref())
            .map(str::trim)
            .filter(|l| !l.is_empty());
        let message = match (found.etat_code(), libelle) {
            (Some(code), Some(l)) => {
                format!("Attestation CVEC dans un état non valide : {code} ({l})")
            }
            (Some(code), None) => format!("Attestation CVEC dans un état non valide : {code}"),
            (None, _) => "Attestation CVEC sans état : elle n'est pas valide".to_owned(),
        };
        verdict
            .reasons
            .push(Finding::new("CVEC_ETAT_INVALIDE", message));
    }
    match identity_matches(&Identity::of_certificate(found), person) {
        Ok(mut warnings) => verdict.warnings.append(&mut warnings),
        Err(reason) => verdict.reasons.push(reason),
    }
    if previous.iter().any(|p| !p.same_person(person)) {
        verdict.reasons.push(Finding::new(
            "CVEC_DEJA_UTILISEE",
            "Cette attestation CVEC a déjà été validée pour une autre personne la même année",
        ));
    }
    if verdict.reasons.is_empty() {
        verdict.warnings.extend(fee_disagreements(found, fees));
    }
    verdict
}

/// CVEC-14: the attestation's exemption or payment against the declared fee situation.
pub fn fee_disagreements(found: &CertificateDto, fees: FeeSituation<'_>) -> Vec<Finding> {
    let code = found
        .etat_code()
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or_default();
    let exempt = code == 71 || found.exoneration.as_ref().is_some_and(|e| e.active);
    let paid = matches!(code, 75 | 76);
    let category_is_exemption = fees.cod_cat_exo_ext.map(|c| {
        fees.exoneration_categories
            .iter()
            .any(|e| e.trim().eq_ignore_ascii_case(c.trim()))
    });
    let categories_known = !fees.exoneration_categories.is_empty();
    let mut out = Vec::new();
    if exempt
        && (fees.boursier == Some(false)
            || (categories_known && category_is_exemption == Some(false)))
    {
        out.push(Finding::new(
            "CVEC_EXONERATION_NON_REPORTEE",
            "L'attestation CVEC vient d'une exonération (boursier ou motif d'exonération), \
             mais l'inscription ne déclare ni bourse ni catégorie d'exonération",
        ));
    }
    if paid
        && (fees.boursier == Some(true)
            || (categories_known && category_is_exemption == Some(true)))
    {
        out.push(Finding::new(
            "CVEC_PAYEE_MAIS_EXONERE",
            "La CVEC a été payée alors que l'inscription déclare une bourse ou une catégorie \
             d'exonération",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::dto::{Etat, Exoneration};
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn attestation(code: &str) -> CertificateDto {
        CertificateDto {
            nom: Some("Le Gall".into()),
            prenom: Some("Anne".into()),
            date_naissance: Some("2005-03-14".into()),
            ine: Some("0123456789M".into()),
            etat: Some(Etat {
                code: Some(code.into()),
                libelle: Some("libellé".into()),
            }),
            ..CertificateDto::default()
        }
    }

    #[test]
    fn birth_dates_in_every_accepted_format() {
        for raw in [
            "2005-03-14",
            "14/03/2005",
            "14032005",
            " 2005-03-14T00:00:00Z",
            "2005-03-14T12:00:00+02:00",
        ] {
            assert_eq!(crate::formats::parse_date(raw), date(2005, 3, 14), "{raw}");
        }
        for raw in [
            "",
            "2005-3-14",
            "14-03-2005",
            "20050314x",
            "31022005",
            "1432005",
        ] {
            assert_eq!(crate::formats::parse_date(raw), None, "{raw}");
        }
    }

    #[test]
    fn identity_by_ine_or_by_surname_and_birth_date() {
        let holder = Identity::of_certificate(&attestation("70"));
        let same_ine = Identity::new(Some("0123456789m"), Some("Autre"), date(2000, 1, 1));
        assert_eq!(identity_matches(&holder, &same_ine), Ok(vec![]));
        let by_name = Identity::new(None, Some("LE GALL"), date(2005, 3, 14));
        assert_eq!(identity_matches(&holder, &by_name), Ok(vec![]));
        let other_ine = Identity::new(Some("1234567890V"), Some("légall"), date(2005, 3, 14));
        let warnings = identity_matches(&holder, &other_ine).unwrap_or_default();
        assert_eq!(warnings[0].code, "CVEC_INE_DIVERGENT");
        let other = Identity::new(Some("1234567890V"), Some("Martin"), date(2005, 3, 14));
        let reason = identity_matches(&holder, &other).err();
        assert_eq!(
            reason.as_ref().map(|r| r.code.as_str()),
            Some("CVEC_IDENTITE")
        );
        let message = reason.map(|r| r.message).unwrap_or_default();
        assert!(message.contains("INE différent"), "{message}");
        assert!(message.contains("nom de naissance différent"), "{message}");
        assert!(!message.contains("date de naissance"), "{message}");
        assert!(
            !message.contains("MARTIN") && !message.contains("0123"),
            "no personal data"
        );
    }

    #[test]
    fn verdict_lists_every_failed_rule() {
        let person = Identity::new(Some("0123456789M"), Some("Le Gall"), date(2005, 3, 14));
        let ok = evaluate(&attestation("71"), &person, &[], FeeSituation::default());
        assert_eq!(ok.result(), CheckResult::Valide);
        let bad = evaluate(
            &attestation(" 72 "),
            &Identity::new(None, Some("Durand"), date(2005, 3, 14)),
            &[Identity::new(
                Some("1234567890V"),
                Some("Martin"),
                date(2005, 3, 14),
            )],
            FeeSituation::default(),
        );
        let codes: Vec<&str> = bad.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["CVEC_ETAT_INVALIDE", "CVEC_IDENTITE", "CVEC_DEJA_UTILISEE"]
        );
        assert!(bad.reasons[0].message.contains("72 (libellé)"));
        assert_eq!(bad.result(), CheckResult::Invalide);
        // The same person checked before (same INE): not a reuse.
        let again = evaluate(
            &attestation("70"),
            &person,
            &[Identity::new(Some("0123456789M"), Some("x"), None)],
            FeeSituation::default(),
        );
        assert!(again.reasons.is_empty());
    }

    #[test]
    fn same_person_uses_the_strongest_common_key() {
        let mut a = Identity::new(Some("0123456789M"), Some("A"), date(2000, 1, 1));
        let mut b = Identity::new(Some("0123456789M"), Some("B"), date(2001, 1, 1));
        assert!(a.same_person(&b));
        a.cod_ind_opi = Some(1);
        b.cod_ind_opi = Some(2);
        assert!(!a.same_person(&b));
        let c = Identity::new(None, Some("A"), date(2000, 1, 1));
        let d = Identity::new(None, Some("a"), date(2000, 1, 2));
        assert!(!c.same_person(&d));
        assert!(c.same_person(&Identity::new(Some("1234567890V"), None, None)));
        let stored = Identity::from_stored(None, None, Some("0123456789m"), c.key().as_deref());
        assert_eq!(stored.nom.as_deref(), Some("A"));
        assert_eq!(stored.date_naissance, date(2000, 1, 1));
    }

    #[test]
    fn fee_disagreements_cvec_14() {
        let categories = vec!["01".to_owned(), "03".to_owned()];
        let boursier = attestation("71");
        let fees = |boursier, cat| FeeSituation {
            boursier,
            cod_cat_exo_ext: cat,
            exoneration_categories: &categories,
        };
        assert!(fee_disagreements(&boursier, fees(Some(true), Some("01"))).is_empty());
        let found = fee_disagreements(&boursier, fees(None, Some("02")));
        assert_eq!(found[0].code, "CVEC_EXONERATION_NON_REPORTEE");
        let mut exempt = attestation("70");
        exempt.exoneration = Some(Exoneration {
            active: true,
            motif: Some("réfugié".into()),
        });
        assert_eq!(fee_disagreements(&exempt, fees(Some(false), None)).len(), 1);
        let paid = attestation("75");
        assert_eq!(
            fee_disagreements(&paid, fees(None, Some("03")))[0].code,
            "CVEC_PAYEE_MAIS_EXONERE"
        );
        assert!(fee_disagreements(&paid, fees(Some(false), Some("02"))).is_empty());
        // Without configured categories only the declared scholarship counts.
        let none = FeeSituation {
            cod_cat_exo_ext: Some("02"),
            ..FeeSituation::default()
        };
        assert!(fee_disagreements(&boursier, none).is_empty());
    }
}
