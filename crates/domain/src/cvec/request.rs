//! The enrolment check request (`POST /api/v1/cvec/check`, CVEC-10, CVEC-11 step 1): its body
//! and its validation, before any lookup.

use super::CvecCode;
use super::check::Identity;
use crate::error::{Error, FaultKey, FieldError};
use crate::text::{char_len, present};
use serde::Deserialize;

/// `POST /api/v1/cvec/check` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(remote = "Self", rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckRequest {
    /// Attestation code: number + first letters of the surname (CVEC-3 normalisation).
    pub code: Option<String>,
    /// Attestation number alone; the letters are taken from `nom` (CVEC-1).
    pub num_attestation: Option<String>,
    /// The person's INE.
    pub ine: Option<String>,
    /// Birth surname.
    pub nom: Option<String>,
    /// Usage surname (recorded nowhere; accepted for symmetry with OPI data).
    pub nom_usage: Option<String>,
    /// First name (accepted, not compared: CVEC-11 compares INE, surname and birth date).
    pub prenom: Option<String>,
    /// Birth date (`yyyy-MM-dd`, `dd/MM/yyyy`, `ddMMyyyy`, ISO date-time).
    pub date_naissance: Option<String>,
    /// Enrolment year (`COD_ANU`); default: the current campaign.
    pub cod_anu: Option<String>,
    /// Enrolment régime (CVEC-10).
    pub cod_rgi: Option<String>,
    /// Student status (CVEC-10).
    pub cod_stu: Option<String>,
    /// Fee category (CVEC-14).
    pub cod_cat_exo_ext: Option<String>,
    /// Declared scholarship holder (CVEC-14).
    pub boursier: Option<bool>,
    /// `COD_IND` of a known student (CVEC-13).
    pub cod_ind: Option<i64>,
    /// `COD_IND_OPI` of an OPI person (CVEC-13); must exist.
    pub cod_ind_opi: Option<i64>,
}

crate::opi::dto::object_only!(@de CheckRequest);

fn field_error(field: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(
        FaultKey::noncoherent(field),
        code,
        Some(field.to_owned()),
        message,
    )
}

fn listed(list: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| list.iter().any(|e| e.trim().eq_ignore_ascii_case(v.trim())))
}

/// The checked request: what the rules and the store need.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Enrolment year (sent, or the current campaign).
    pub year: String,
    /// The person, as the rules compare it.
    pub person: Identity,
    /// The attestation code; `None` only for an exempt enrolment sent without one.
    pub code: Option<CvecCode>,
    /// CVEC-10: the régime or statut needs no attestation.
    pub exempt: bool,
}

/// The establishment's CVEC-10 exemptions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exemptions<'a> {
    /// Régimes (`codRgi`) whose enrolments need no attestation.
    pub regimes: &'a [String],
    /// Statuts (`codStu`) whose enrolments need no attestation.
    pub statuts: &'a [String],
}

/// Checks a request (every problem listed): the year, the person (INE, or birth surname and
/// birth date), the code or number, the fee category.
pub fn validate(
    req: &CheckRequest,
    exemptions: Exemptions<'_>,
    campaign: Option<&str>,
) -> Result<Checked, Error> {
    let mut errors = Vec::new();
    let year = match present(req.cod_anu.as_deref()) {
        Some(y) if crate::formats::is_year(y) => Some(y.to_owned()),
        Some(_) => {
            errors.push(field_error(
                "codAnu",
                "REQUETE_INVALIDE",
                "codAnu : année sur 4 chiffres attendue",
            ));
            None
        }
        None => match campaign {
            Some(c) => Some(c.to_owned()),
            None => {
                errors.push(FieldError::new(
                    FaultKey::mandatory("codAnu"),
                    "CHAMP_OBLIGATOIRE",
                    Some("codAnu".into()),
                    "codAnu est obligatoire : aucune campagne CVEC en cours",
                ));
                None
            }
        },
    };
    let birth = present(req.date_naissance.as_deref()).and_then(|raw| {
        let date = crate::formats::parse_date(raw);
        if date.is_none() {
            errors.push(field_error(
                "dateNaissance",
                "REQUETE_INVALIDE",
                "dateNaissance : AAAA-MM-JJ, JJ/MM/AAAA, JJMMAAAA ou date-heure ISO attendue",
            ));
        }
        date
    });
    let nom = present(req.nom.as_deref());
    if nom.is_some_and(|n| char_len(n) > 80) {
        errors.push(field_error(
            "nom",
            "REQUETE_INVALIDE",
            "nom : 80 caractères au plus",
        ));
    }
    for (field, value) in [
        ("nom", &req.nom),
        ("nomUsage", &req.nom_usage),
        ("prenom", &req.prenom),
        ("ine", &req.ine),
        ("codRgi", &req.cod_rgi),
        ("codStu", &req.cod_stu),
        ("codCatExoExt", &req.cod_cat_exo_ext),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| v.chars().any(char::is_control))
        {
            errors.push(field_error(
                field,
                "REQUETE_INVALIDE",
                format!("{field} : caractères de contrôle interdits"),
            ));
        }
    }
    let ine = present(req.ine.as_deref()).map(crate::ine::normalize);
    if ine.as_ref().is_some_and(|i| i.chars().count() != 11) {
        errors.push(field_error(
            "ine",
            "REQUETE_INVALIDE",
            "ine : 11 caractères attendus",
        ));
    }
    if ine.is_none() && (nom.is_none() || present(req.date_naissance.as_deref()).is_none()) {
        errors.push(FieldError::new(
            FaultKey::mandatory("ine"),
            "CHAMP_OBLIGATOIRE",
            Some("ine".into()),
            "La personne doit être désignée par son INE, ou par son nom de naissance et sa date de naissance",
        ));
    }
    if present(req.cod_cat_exo_ext.as_deref()).is_some_and(|c| char_len(c) > 5) {
        errors.push(field_error(
            "codCatExoExt",
            "REQUETE_INVALIDE",
            "codCatExoExt : 5 caractères au plus",
        ));
    }
    let exempt = listed(exemptions.regimes, present(req.cod_rgi.as_deref()))
        || listed(exemptions.statuts, present(req.cod_stu.as_deref()));
    let code = match (
        present(req.code.as_deref()),
        present(req.num_attestation.as_deref()),
    ) {
        (Some(raw), number) => {
            let code = super::parse(raw);
            if let Some(n) = number
                && code.valid
                && super::normalize(n) != code.number
            {
                errors.push(field_error(
                    "numAttestation",
                    "REQUETE_INVALIDE",
                    "numAttestation diffère du numéro contenu dans code",
                ));
            }
            Some(code)
        }
        (None, Some(number)) => Some(super::parse_parts(
            number,
            &super::surname_letters(nom.unwrap_or_default()),
        )),
        (None, None) if exempt => None,
        (None, None) => {
            errors.push(FieldError::new(
                FaultKey::mandatory("code"),
                "CHAMP_OBLIGATOIRE",
                Some("code".into()),
                "code (numéro d'attestation suivi des lettres du nom) ou numAttestation est obligatoire",
            ));
            None
        }
    };
    match year {
        Some(year) if errors.is_empty() => Ok(Checked {
            year,
            person: Identity {
                cod_ind: req.cod_ind,
                cod_ind_opi: req.cod_ind_opi,
                ..Identity::new(ine.as_deref(), nom, birth)
            },
            code,
            exempt,
        }),
        _ => Err(Error::validation(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<Result<Checked, Error>, serde_json::Error> {
        let req: CheckRequest = serde_json::from_str(body)?;
        Ok(validate(&req, Exemptions::default(), Some("2026")))
    }

    fn keys(e: &Error) -> Vec<String> {
        e.errors.iter().map(|f| f.fault_key.to_string()).collect()
    }

    #[test]
    fn a_request_names_its_person_and_code() -> Result<(), serde_json::Error> {
        let ok = check(
            r#"{"code": "VER1ABCDEF12MARTI", "nom": "MARTIN", "dateNaissance": "2005-03-14"}"#,
        )?;
        let ok = ok.map_err(|e| serde_json::Error::io(std::io::Error::other(e.message)))?;
        assert_eq!(ok.year, "2026");
        Ok(())
    }

    #[test]
    fn control_characters_are_refused() -> Result<(), serde_json::Error> {
        for (field, body) in [
            (
                "nom",
                r#"{"code": "VER1ABCDEF12MARTI", "nom": "MAR\u0000TIN", "dateNaissance": "2005-03-14"}"#,
            ),
            (
                "prenom",
                r#"{"code": "VER1ABCDEF12MARTI", "nom": "MARTIN", "prenom": "L\u0007A", "dateNaissance": "2005-03-14"}"#,
            ),
            (
                "ine",
                r#"{"code": "VER1ABCDEF12MARTI", "ine": "0123456789\u0000"}"#,
            ),
        ] {
            match check(body)? {
                Ok(_) => panic!("{field}: accepted"),
                Err(e) => assert!(
                    keys(&e).contains(&format!("technical.parameter.noncoherentinput.{field}")),
                    "{field}: {:?}",
                    keys(&e)
                ),
            }
        }
        Ok(())
    }

    #[test]
    fn arrays_are_not_requests() {
        assert!(serde_json::from_str::<CheckRequest>("[]").is_err());
        assert!(serde_json::from_str::<CheckRequest>(r#"["VER1ABCDEF12MARTI"]"#).is_err());
    }
}
