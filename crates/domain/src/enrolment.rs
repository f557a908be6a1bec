//! Administrative enrolment (IA, issue 12): the request (`POST /api/v1/inscriptions` and its
//! batch), its validation, the decision (the admissions view's blocking reasons, LP-15, plus the
//! CVEC attestation, CVEC-10/12) and the French message of every refusal.

use crate::cvec::check::CheckResult;
use crate::error::{Error, ErrorKind, FaultKey, FieldError};
use crate::lp::access::Admission;
use crate::opi::check::Checker;
use crate::opi::dto::leaf;
use crate::text::present;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/inscriptions`: a primo enrolment (`codOpiIntEpo`) or a re-enrolment (`codEtu`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct InscriptionDto {
    /// OPI number: primo enrolment.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_opi_int_epo: Option<String>,
    /// Student number: re-enrolment.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<String>,
    /// Academic year.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_anu: Option<String>,
    /// Étape.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_etp: Option<String>,
    /// Version d'étape.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_vrs_vet: Option<String>,
    /// Régime (over the profile's).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_rgi: Option<String>,
    /// Statut (over the profile's).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_stu: Option<String>,
    /// Payment state of the étape enrolment: `P` paid (default: the platform that enrols took
    /// the fees) or `A` awaiting payment.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub eta_pmt_iae: Option<String>,
}

/// Who enrols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Primo: the OPI with this number.
    Opi(String),
    /// Re-enrolment: the student with this number.
    Etudiant(i64),
}

/// A checked enrolment request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InscriptionIntake {
    /// The person.
    pub who: Who,
    /// Year.
    pub cod_anu: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// Régime sent.
    pub cod_rgi: Option<String>,
    /// Statut sent.
    pub cod_stu: Option<String>,
    /// `P` or `A`.
    pub eta_pmt_iae: String,
}

impl InscriptionIntake {
    /// The person as the report names it (`OPI EC-1`, `étudiant 10000001`).
    pub fn person_label(&self) -> String {
        match &self.who {
            Who::Opi(c) => format!("OPI {c}"),
            Who::Etudiant(n) => format!("étudiant {n}"),
        }
    }
}

/// Checks the request: exactly one of `codOpiIntEpo` and `codEtu`, the year, the VET.
pub fn validate(dto: &InscriptionDto) -> Result<InscriptionIntake, Error> {
    let mut c = Checker::default();
    let code = present(dto.cod_opi_int_epo.as_deref());
    let etu = present(dto.cod_etu.as_deref());
    let who = match (code, etu) {
        (Some(_), Some(_)) => {
            c.invalid(
                "PERSONNE_AMBIGUE",
                "codEtu",
                "codOpiIntEpo (primo-inscription) et codEtu (réinscription) sont exclusifs : n'en envoyer qu'un",
            );
            None
        }
        (None, None) => {
            c.fail(
                FaultKey::mandatory("codEtu"),
                "CHAMP_OBLIGATOIRE",
                "codEtu",
                "codOpiIntEpo (primo-inscription) ou codEtu (réinscription) est obligatoire",
            );
            None
        }
        (Some(_), None) => c
            .text(&dto.cod_opi_int_epo, "codOpiIntEpo", 50)
            .map(Who::Opi),
        (None, Some(v)) => match crate::formats::cod_etu(v) {
            Some(n) => Some(Who::Etudiant(n)),
            None => {
                c.invalid(
                    "FORMAT",
                    "codEtu",
                    format!("codEtu « {v} » : numéro d'étudiant de 1 à 8 chiffres attendu"),
                );
                None
            }
        },
    };
    let anu = c
        .required(&dto.cod_anu, "codAnu", 4)
        .and_then(|_| c.year(&dto.cod_anu, "codAnu", false));
    let etp = c
        .required(&dto.cod_etp, "codEtp", 6)
        .map(|e| e.to_ascii_uppercase());
    let vet = c
        .required(&dto.cod_vrs_vet, "codVrsVet", 3)
        .and_then(|_| c.int(&dto.cod_vrs_vet, "codVrsVet", 1, 999))
        .and_then(|n| i32::try_from(n).ok());
    let rgi = c.text(&dto.cod_rgi, "codRgi", 5);
    let stu = c.text(&dto.cod_stu, "codStu", 5);
    let pmt = c.one_of(&dto.eta_pmt_iae, "etaPmtIae", &["P", "A"]);
    if !c.errors.is_empty() {
        return Err(Error::validation(c.errors));
    }
    match (who, anu, etp, vet) {
        (Some(who), Some(cod_anu), Some(cod_etp), Some(cod_vrs_vet)) => Ok(InscriptionIntake {
            who,
            cod_anu,
            cod_etp,
            cod_vrs_vet,
            cod_rgi: rgi,
            cod_stu: stu,
            eta_pmt_iae: pmt.unwrap_or_else(|| "P".to_owned()),
        }),
        _ => Err(Error::internal("inscription incomplète après validation")),
    }
}

/// The CVEC state of the person for the year, as the enrolment reads it (CVEC-10, CVEC-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CvecState {
    /// A `VALIDE` check is stored for the person and the year.
    Valide,
    /// The régime or statut needs no attestation (or the establishment does not require it).
    NonRequise,
    /// The last check could not be verified.
    NonVerifiee,
    /// The last check was invalid.
    Invalide,
    /// No check stored.
    Absente,
}

impl CvecState {
    /// The state from the last stored check's result (`None`: no check).
    pub fn from_last(last: Option<CheckResult>, has_valid: bool) -> Self {
        if has_valid {
            return CvecState::Valide;
        }
        match last {
            None => CvecState::Absente,
            Some(CheckResult::Valide) => CvecState::Valide,
            Some(CheckResult::NonRequise) => CvecState::NonRequise,
            Some(CheckResult::NonVerifiee) => CvecState::NonVerifiee,
            Some(CheckResult::Invalide) => CvecState::Invalide,
        }
    }

    /// The blocking reason this state gives, if any (`allow_unverified`: CVEC-12's setting).
    pub fn blocage(self, allow_unverified: bool) -> Option<&'static str> {
        match self {
            CvecState::Valide | CvecState::NonRequise => None,
            CvecState::NonVerifiee if allow_unverified => None,
            CvecState::NonVerifiee => Some("ACCES_CVEC_NON_VERIFIEE"),
            CvecState::Invalide => Some("ACCES_CVEC_INVALIDE"),
            CvecState::Absente => Some("ACCES_CVEC_ABSENTE"),
        }
    }
}

/// Reasons only the enrolment gives (after the admissions view's, LP-15).
pub const BLOCAGES: &[&str] = &[
    "ACCES_AUCUN_DROIT",
    "ACCES_CVEC_ABSENTE",
    "ACCES_CVEC_INVALIDE",
    "ACCES_CVEC_NON_VERIFIEE",
];

/// The French explanation of a blocking reason, for the VET `etp`/`vet` and year `anu`.
pub fn message(code: &str, anu: &str, etp: &str, vet: i32) -> String {
    match code {
        "ACCES_DEJA_INSCRIT" => format!("déjà inscrit dans la VET {etp}/{vet} en {anu}"),
        "ACCES_IAA_ANNULEE" => format!("l'inscription annuelle {anu} est annulée"),
        "ACCES_JAMAIS_PAYE" => {
            "aucune inscription antérieure payée : la réinscription est bloquée".to_owned()
        }
        "ACCES_INE_MANQUANT" => "code INE/BEA manquant".to_owned(),
        "ACCES_VET_FERMEE" => {
            format!("la VET {etp}/{vet} n'est pas ouverte aux inscriptions en {anu}")
        }
        "ACCES_HORS_DATES" => format!("la VET {etp}/{vet} est hors de sa période d'inscription"),
        "ACCES_REGIME_NON_AUTORISE" => format!("régime non autorisé sur la VET {etp}/{vet}"),
        "ACCES_BLOCAGE" => "un blocage est posé sur la personne".to_owned(),
        "ACCES_PLAFOND_ANNUEL" => "plafond annuel d'inscriptions atteint".to_owned(),
        "ACCES_BAC_MANQUANT" => "série ou année du bac manquante".to_owned(),
        "ACCES_NATIONALITE_HORS_SERVICE" => "nationalité absente ou hors service".to_owned(),
        "ACCES_DECISION_DEFAVORABLE" => {
            format!("le vœu sur la VET {etp}/{vet} n'a pas de décision favorable")
        }
        "ACCES_AUCUN_DROIT" => format!("ni laissez-passer ni vœu sur la VET {etp}/{vet} en {anu}"),
        "ACCES_CVEC_ABSENTE" => format!("aucune attestation CVEC vérifiée pour {anu}"),
        "ACCES_CVEC_INVALIDE" => {
            format!("la dernière attestation CVEC vérifiée pour {anu} est invalide")
        }
        "ACCES_CVEC_NON_VERIFIEE" => {
            format!("l'attestation CVEC de {anu} n'a pas pu être vérifiée")
        }
        other => other.to_owned(),
    }
}

/// Every blocking reason: the admission's (LP-15), or without an LP nor a vœu on the VET
/// `ACCES_AUCUN_DROIT` and the person's own reasons (`person`), then the CVEC's.
pub fn blocages(
    admission: Option<&Admission>,
    person: Vec<&'static str>,
    cvec: Option<&'static str>,
) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = match admission {
        Some(a) => a.blocages.clone(),
        None => std::iter::once("ACCES_AUCUN_DROIT").chain(person).collect(),
    };
    out.extend(cvec);
    out
}

/// The refusal: `409` with one error per reason, each with its rule key
/// (`functionnal.borules.inscription.ACCES_…`).
pub fn refusal(intake: &InscriptionIntake, reasons: &[&str]) -> Error {
    let (anu, etp, vet) = (&intake.cod_anu, &intake.cod_etp, intake.cod_vrs_vet);
    let errors: Vec<FieldError> = reasons
        .iter()
        .map(|code| {
            FieldError::new(
                FaultKey::business_rule(&format!("inscription.{code}")),
                *code,
                None,
                message(code, anu, etp, vet),
            )
        })
        .collect();
    let mut err = Error::from_field_errors(ErrorKind::Conflict, errors);
    err.message = format!(
        "Inscription de {} en {etp}/{vet} pour {anu} refusée : {}",
        intake.person_label(),
        err.errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ; ")
    );
    err
}

/// CSV columns of an enrolment batch (`POST /api/v1/inscriptions/batch`).
pub const CSV_COLUMNS: &[&str] = &[
    "codOpiIntEpo",
    "codEtu",
    "codAnu",
    "codEtp",
    "codVrsVet",
    "codRgi",
    "codStu",
    "etaPmtIae",
];

/// Columns an enrolment file must have (the person: `codOpiIntEpo` or `codEtu`, per line).
pub const CSV_REQUIRED: &[&str] = &["codAnu", "codEtp", "codVrsVet"];

/// One line of an enrolment batch.
#[derive(Debug)]
pub struct BatchLine {
    /// Physical line number.
    pub line: u64,
    /// The person as read (`codOpiIntEpo` or `codEtu`), for the report.
    pub person: Option<String>,
    /// The checked request, or every problem of the line.
    pub result: Result<InscriptionIntake, Error>,
}

fn line_of(line: u64, dto: Result<InscriptionDto, Error>) -> BatchLine {
    match dto {
        Ok(dto) => BatchLine {
            line,
            person: dto.cod_opi_int_epo.clone().or_else(|| dto.cod_etu.clone()),
            result: validate(&dto).map_err(|e| crate::table::at_line(e, line)),
        },
        Err(e) => BatchLine {
            line,
            person: None,
            result: Err(e),
        },
    }
}

/// Streams a CSV enrolment file ([`CSV_COLUMNS`]); a bad header is the `Err`.
pub fn read_csv<R: std::io::Read>(input: R) -> Result<impl Iterator<Item = BatchLine>, Error> {
    Ok(
        crate::table::read_csv(input, CSV_COLUMNS, CSV_REQUIRED)?.map(|row| {
            let dto = match row.error {
                Some(e) => Err(e),
                None => {
                    let cell = |i: usize| row.cells.get(i).cloned().flatten();
                    Ok(InscriptionDto {
                        cod_opi_int_epo: cell(0),
                        cod_etu: cell(1),
                        cod_anu: cell(2),
                        cod_etp: cell(3),
                        cod_vrs_vet: cell(4),
                        cod_rgi: cell(5),
                        cod_stu: cell(6),
                        eta_pmt_iae: cell(7),
                    })
                }
            };
            line_of(row.line, dto)
        }),
    )
}

/// Streams an NDJSON enrolment file: one [`InscriptionDto`] per line.
pub fn read_ndjson<R: std::io::BufRead>(input: R) -> impl Iterator<Item = BatchLine> {
    crate::table::read_ndjson::<R, InscriptionDto>(input).map(|(line, dto)| line_of(line, dto))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dto(v: serde_json::Value) -> Result<InscriptionDto, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn primo_and_reins_requests() -> Result<(), Box<dyn std::error::Error>> {
        let p = validate(&dto(serde_json::json!({
            "codOpiIntEpo": "EC-1", "codAnu": "2026", "codEtp": "etp01", "codVrsVet": 1
        }))?)?;
        assert_eq!(p.who, Who::Opi("EC-1".into()));
        assert_eq!(p.cod_etp, "ETP01");
        assert_eq!(p.eta_pmt_iae, "P");
        let r = validate(&dto(serde_json::json!({
            "codEtu": 10000001, "codAnu": "2027", "codEtp": "ETP01", "codVrsVet": "1", "etaPmtIae": "a"
        }))?)?;
        assert_eq!(r.who, Who::Etudiant(10000001));
        assert_eq!(r.eta_pmt_iae, "A");
        Ok(())
    }

    #[test]
    fn bad_requests_name_every_field() -> Result<(), serde_json::Error> {
        let both = validate(&dto(serde_json::json!({
            "codOpiIntEpo": "EC-1", "codEtu": "1", "codAnu": "26", "codVrsVet": 0
        }))?);
        let fields: Vec<_> = both
            .err()
            .map(|e| e.errors.into_iter().filter_map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["codEtu", "codAnu", "codEtp", "codVrsVet"]);
        assert!(
            serde_json::from_value::<InscriptionDto>(serde_json::json!({"codEtp2": "x"})).is_err()
        );
        Ok(())
    }

    #[test]
    fn refusal_lists_each_reason() {
        let intake = InscriptionIntake {
            who: Who::Etudiant(1),
            cod_anu: "2026".into(),
            cod_etp: "ETP01".into(),
            cod_vrs_vet: 1,
            cod_rgi: None,
            cod_stu: None,
            eta_pmt_iae: "P".into(),
        };
        let e = refusal(&intake, &["ACCES_BLOCAGE", "ACCES_CVEC_ABSENTE"]);
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(
            e.fault_key.as_str(),
            "functionnal.borules.inscription.ACCES_BLOCAGE"
        );
        assert_eq!(e.errors.len(), 2);
        assert!(e.message.contains("blocage"), "{}", e.message);
        assert!(e.message.contains("CVEC"), "{}", e.message);
    }

    #[test]
    fn csv_lines_carry_their_line_numbers() -> Result<(), Error> {
        let csv = "codOpiIntEpo;codEtu;codAnu;codEtp;codVrsVet\nEC-1;;2026;ETP01;1\n\n;10000001;2026;ETP01;x\n";
        let lines: Vec<_> = read_csv(csv.as_bytes())?.collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].line, 2);
        assert!(lines[0].result.is_ok());
        assert_eq!(lines[1].line, 4);
        assert_eq!(lines[1].person.as_deref(), Some("10000001"));
        let err = lines[1].result.as_ref().err().map(|e| e.errors[0].line);
        assert_eq!(err, Some(Some(4)));
        assert!(read_csv("codEtu,bogus\n".as_bytes()).is_err());
        Ok(())
    }

    #[test]
    fn cvec_states() {
        assert_eq!(
            CvecState::from_last(None, false).blocage(false),
            Some("ACCES_CVEC_ABSENTE")
        );
        assert_eq!(
            CvecState::from_last(Some(CheckResult::Invalide), true),
            CvecState::Valide
        );
        assert_eq!(CvecState::NonVerifiee.blocage(true), None);
        assert_eq!(
            CvecState::NonVerifiee.blocage(false),
            Some("ACCES_CVEC_NON_VERIFIEE")
        );
    }
}
