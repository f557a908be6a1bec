//! The student register (`domain.md` §2.3: INDIVIDU, INS_ADM_ANU, INS_ADM_ETP,
//! IND_SANCTIONNE_BLO): the DTO (`PUT /api/v1/etudiants/{codEtu}`), its validation, and the
//! batch formats (CSV with physical line numbers, NDJSON) read as streams.

use super::leaf;
use crate::error::{Error, FaultKey, FieldError};
use crate::ine::{self, IneFamily, IneValidity};
use crate::opi::Warning;
use crate::opi::check::Checker;
use crate::opi::rules::match_key;
use crate::student::{self, Dossier};
use crate::text::present;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read};

/// An annual enrolment (`INS_ADM_ANU`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct IaaDto {
    /// Year.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_anu: Option<String>,
    /// `E` (en cours) or `A` (annulée).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub eta_iaa: Option<String>,
}

/// An enrolment in a VET (`INS_ADM_ETP`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct IaeDto {
    /// Year.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_anu: Option<String>,
    /// Étape.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_etp: Option<String>,
    /// Version d'étape.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_vrs_vet: Option<String>,
    /// `E` en cours, `A` annulée, `R` résiliée, `C` en création.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub eta_iae: Option<String>,
    /// `A` awaiting payment, `P` paid.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub eta_pmt_iae: Option<String>,
}

/// An explicit ban (`IND_SANCTIONNE_BLO` + `BLOCAGE`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct BlocageDto {
    /// Ban code.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_blo: Option<String>,
    /// `A` or `T`.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub typ_blo: Option<String>,
    /// Label.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_blo: Option<String>,
}

/// A student (`INDIVIDU`), with optionally its enrolments and bans. An absent list leaves the
/// stored list unchanged; a present one (even empty) replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct EtudiantDto {
    /// Student number, 1 to 8 digits.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<String>,
    /// INE (11 characters).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub ine: Option<String>,
    /// Birth surname.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_nom_pat_ind: Option<String>,
    /// Usage surname.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_nom_usu_ind: Option<String>,
    /// First name.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_pr1_ind: Option<String>,
    /// Birth date, `yyyy-MM-dd` or `ddMMyyyy`.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub date_nai_ind: Option<String>,
    /// Annual enrolments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inscriptions_annuelles: Option<Vec<IaaDto>>,
    /// Enrolments in VETs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inscriptions_etapes: Option<Vec<IaeDto>>,
    /// Bans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocages: Option<Vec<BlocageDto>>,
    /// The rest of the file (civil status, birth, contacts, bacs, addresses): replaced when sent,
    /// kept when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dossier: Option<Dossier>,
}

crate::opi::dto::object_only!(EtudiantDto);

/// A checked annual enrolment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Iaa {
    /// Year.
    pub cod_anu: String,
    /// State.
    pub eta_iaa: String,
}

/// A checked VET enrolment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Iae {
    /// Year.
    pub cod_anu: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// State.
    pub eta_iae: String,
    /// Payment state.
    pub eta_pmt_iae: Option<String>,
}

/// A checked ban.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Blocage {
    /// Code.
    pub cod_blo: String,
    /// Type.
    pub typ_blo: String,
    /// Label.
    pub lib_blo: Option<String>,
}

/// A student that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtudiantIntake {
    /// Student number.
    pub cod_etu: i64,
    /// Normalised INE.
    pub ine: Option<String>,
    /// Birth surname.
    pub nom_pat: String,
    /// Usage surname.
    pub nom_usu: Option<String>,
    /// First name.
    pub prenom: String,
    /// Birth date.
    pub date_naissance: NaiveDate,
    /// Normalised surname + first name + birth date.
    pub match_key: String,
    /// Annual enrolments (sorted), when sent.
    pub inscriptions_annuelles: Option<Vec<Iaa>>,
    /// VET enrolments (sorted), when sent.
    pub inscriptions_etapes: Option<Vec<Iae>>,
    /// Bans (sorted), when sent.
    pub blocages: Option<Vec<Blocage>>,
    /// The checked file, when sent.
    pub dossier: Option<Dossier>,
    /// Warnings.
    pub warnings: Vec<Warning>,
}

/// A birth date `yyyy-MM-dd` or `ddMMyyyy`, between 1900-01-01 and today.
fn birth_date(c: &mut Checker, raw: &Option<String>, today: NaiveDate) -> Option<NaiveDate> {
    let p = "dateNaiInd";
    if present(raw.as_deref()).is_none() {
        c.fail(
            FaultKey::mandatory(p),
            "CHAMP_OBLIGATOIRE",
            p,
            "dateNaiInd (date de naissance) est obligatoire",
        );
        return None;
    }
    let v = present(raw.as_deref()).unwrap_or_default();
    let parsed = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().or_else(|| {
        (v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| NaiveDate::parse_from_str(v, "%d%m%Y").ok())
            .flatten()
    });
    let min = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    match parsed {
        Some(d) if d >= min && d <= today => Some(d),
        Some(_) => {
            c.invalid(
                "DATE_HORS_BORNES",
                p,
                format!("dateNaiInd {v} : hors des bornes (01/01/1900 – aujourd'hui)"),
            );
            None
        }
        None => {
            c.invalid(
                "DATE_INVALIDE",
                p,
                format!("dateNaiInd « {v} » n'est pas une date réelle (AAAA-MM-JJ ou JJMMAAAA)"),
            );
            None
        }
    }
}

fn year(c: &mut Checker, raw: &Option<String>, p: &str) -> Option<String> {
    if present(raw.as_deref()).is_none() {
        c.fail(
            FaultKey::mandatory("codAnu"),
            "CHAMP_OBLIGATOIRE",
            p,
            format!("{p} est obligatoire"),
        );
        return None;
    }
    c.digits(raw, p, 4)
}

/// `codEtu`: mandatory, 1 to 8 digits.
fn check_cod_etu(c: &mut Checker, raw: &Option<String>) -> Option<i64> {
    match present(raw.as_deref()) {
        None => {
            c.fail(
                FaultKey::mandatory("codEtu"),
                "CHAMP_OBLIGATOIRE",
                "codEtu",
                "codEtu (numéro d'étudiant) est obligatoire",
            );
            None
        }
        Some(v) => {
            let n = crate::formats::cod_etu(v);
            if n.is_none() {
                c.invalid(
                    "FORMAT",
                    "codEtu",
                    format!("codEtu « {v} » : numéro d'étudiant de 1 à 8 chiffres attendu"),
                );
            }
            n
        }
    }
}

/// `ine` (`ine::check`): the normalised INE, or nothing (absent, or rejected when invalid
/// offline); a shape only checkable remotely is accepted with `INE_NON_VERIFIE`.
fn check_ine(c: &mut Checker, raw: &Option<String>) -> Option<String> {
    let raw = present(raw.as_deref())?;
    let checked = ine::check(raw);
    match checked.valid {
        IneValidity::False if checked.family == IneFamily::None => None,
        IneValidity::False => {
            c.fail(
                FaultKey::noncoherent("ine"),
                checked.reason.as_str(),
                "ine",
                format!("INE : {}", checked.message),
            );
            None
        }
        IneValidity::Remote => {
            c.warn(
                "INE_NON_VERIFIE",
                Some("ine"),
                format!(
                    "INE {} de forme correcte mais non vérifiable hors ligne",
                    checked.family.as_str()
                ),
            );
            Some(checked.normalized)
        }
        IneValidity::True => Some(checked.normalized),
    }
}

/// Annual enrolments: year and state, one per year (sorted).
fn check_iaa(c: &mut Checker, items: &[IaaDto]) -> Vec<Iaa> {
    let mut out: Vec<Iaa> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let p = format!("inscriptionsAnnuelles[{i}]");
        let anu = year(c, &it.cod_anu, &format!("{p}.codAnu"));
        let eta = c.one_of(&it.eta_iaa, &format!("{p}.etaIaa"), &["E", "A"]);
        if let (Some(cod_anu), Some(eta_iaa)) = (anu, eta) {
            if out.iter().any(|o| o.cod_anu == cod_anu) {
                c.invalid(
                    "DOUBLON",
                    &format!("{p}.codAnu"),
                    format!("inscription annuelle {cod_anu} en double"),
                );
            } else {
                out.push(Iaa { cod_anu, eta_iaa });
            }
        }
    }
    out.sort();
    out
}

/// VET enrolments: year, VET, states, one per year and VET (sorted).
fn check_iae(c: &mut Checker, items: &[IaeDto]) -> Vec<Iae> {
    let mut out: Vec<Iae> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let p = format!("inscriptionsEtapes[{i}]");
        let Some(iae) = check_iae_item(c, &p, it) else {
            continue;
        };
        if out.iter().any(|o| {
            o.cod_anu == iae.cod_anu && o.cod_etp == iae.cod_etp && o.cod_vrs_vet == iae.cod_vrs_vet
        }) {
            c.invalid(
                "DOUBLON",
                &format!("{p}.codEtp"),
                format!(
                    "inscription {} {}/{} en double",
                    iae.cod_anu, iae.cod_etp, iae.cod_vrs_vet
                ),
            );
        } else {
            out.push(iae);
        }
    }
    out.sort();
    out
}

/// One VET enrolment, when every mandatory value is valid.
fn check_iae_item(c: &mut Checker, p: &str, it: &IaeDto) -> Option<Iae> {
    let anu = year(c, &it.cod_anu, &format!("{p}.codAnu"));
    let etp = c.required(&it.cod_etp, &format!("{p}.codEtp"), 6);
    let vet = c
        .int(&it.cod_vrs_vet, &format!("{p}.codVrsVet"), 0, 999)
        .and_then(|n| i32::try_from(n).ok());
    if present(it.cod_vrs_vet.as_deref()).is_none() {
        c.fail(
            FaultKey::mandatory("codVrsVet"),
            "CHAMP_OBLIGATOIRE",
            &format!("{p}.codVrsVet"),
            format!("{p}.codVrsVet est obligatoire"),
        );
    }
    let eta = c.one_of(&it.eta_iae, &format!("{p}.etaIae"), &["E", "A", "R", "C"]);
    if present(it.eta_iae.as_deref()).is_none() {
        c.fail(
            FaultKey::mandatory("etaIae"),
            "CHAMP_OBLIGATOIRE",
            &format!("{p}.etaIae"),
            format!("{p}.etaIae est obligatoire"),
        );
    }
    let pmt = c.one_of(&it.eta_pmt_iae, &format!("{p}.etaPmtIae"), &["A", "P"]);
    let (Some(cod_anu), Some(cod_etp), Some(cod_vrs_vet), Some(eta_iae)) = (anu, etp, vet, eta)
    else {
        return None;
    };
    Some(Iae {
        cod_anu,
        cod_etp,
        cod_vrs_vet,
        eta_iae,
        eta_pmt_iae: pmt,
    })
}

/// Bans: code, type (`A` or `T`), label, one per code (sorted).
fn check_blocages(c: &mut Checker, items: &[BlocageDto]) -> Vec<Blocage> {
    let mut out: Vec<Blocage> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let p = format!("blocages[{i}]");
        let code = c.required(&it.cod_blo, &format!("{p}.codBlo"), 10);
        let typ = c.one_of(&it.typ_blo, &format!("{p}.typBlo"), &["A", "T"]);
        if present(it.typ_blo.as_deref()).is_none() {
            c.fail(
                FaultKey::mandatory("typBlo"),
                "CHAMP_OBLIGATOIRE",
                &format!("{p}.typBlo"),
                format!("{p}.typBlo est obligatoire (A ou T)"),
            );
        }
        let lib = c.text(&it.lib_blo, &format!("{p}.libBlo"), 100);
        if let (Some(cod_blo), Some(typ_blo)) = (code, typ) {
            if out.iter().any(|o| o.cod_blo == cod_blo) {
                c.invalid(
                    "DOUBLON",
                    &format!("{p}.codBlo"),
                    format!("blocage {cod_blo} en double"),
                );
            } else {
                out.push(Blocage {
                    cod_blo,
                    typ_blo,
                    lib_blo: lib,
                });
            }
        }
    }
    out.sort();
    out
}

/// The validation error of `errors`, every message prefixed with the student (`Étudiant 123 : `).
fn student_error(cod_etu: &Option<String>, errors: Vec<FieldError>) -> Error {
    let who = present(cod_etu.as_deref()).unwrap_or("?").to_owned();
    let mut err = Error::validation(errors);
    let prefix = |m: &str| format!("Étudiant {who} : {m}");
    err.message = prefix(&err.message);
    for e in &mut err.errors {
        e.message = prefix(&e.message);
    }
    err
}

/// Validates a student: codEtu, INE (`ine::check`), names, birth date, enrolments and bans.
pub fn validate(dto: &EtudiantDto, today: NaiveDate) -> Result<EtudiantIntake, Error> {
    let mut c = Checker::default();
    let etu = check_cod_etu(&mut c, &dto.cod_etu);
    let ine_value = check_ine(&mut c, &dto.ine);
    let nom_pat = c.name(&dto.lib_nom_pat_ind, "libNomPatInd", 30, true);
    let nom_usu = c.name(&dto.lib_nom_usu_ind, "libNomUsuInd", 30, false);
    let prenom = c.name(&dto.lib_pr1_ind, "libPr1Ind", 20, true);
    let date = birth_date(&mut c, &dto.date_nai_ind, today);
    let iaa = dto
        .inscriptions_annuelles
        .as_ref()
        .map(|items| check_iaa(&mut c, items));
    let iae = dto
        .inscriptions_etapes
        .as_ref()
        .map(|items| check_iae(&mut c, items));
    let blocages = dto
        .blocages
        .as_ref()
        .map(|items| check_blocages(&mut c, items));
    let dossier = dto
        .dossier
        .as_ref()
        .map(|d| student::check(&mut c, d, "dossier"));

    if !c.errors.is_empty() {
        return Err(student_error(&dto.cod_etu, c.errors));
    }
    let (Some(cod_etu), Some(nom_pat), Some(prenom), Some(date_naissance)) =
        (etu, nom_pat, prenom, date)
    else {
        return Err(Error::internal("étudiant incomplet après validation"));
    };
    Ok(EtudiantIntake {
        cod_etu,
        ine: ine_value,
        match_key: match_key(&nom_pat, &prenom, date_naissance),
        nom_pat,
        nom_usu,
        prenom,
        date_naissance,
        inscriptions_annuelles: iaa,
        inscriptions_etapes: iae,
        blocages,
        dossier,
        warnings: c.warnings,
    })
}

/// One line of a batch file.
#[derive(Debug)]
pub struct BatchLine {
    /// Physical line number (CSV header = 1; NDJSON first line = 1).
    pub line: u64,
    /// `codEtu` as read, for the report.
    pub cod_etu: Option<String>,
    /// The validated student, or every problem of the line.
    pub result: Result<EtudiantIntake, Error>,
}

/// The identity columns, then the compact enrolment and ban columns.
const IDENTITY: [&str; 9] = [
    "codEtu",
    "ine",
    "libNomPatInd",
    "libNomUsuInd",
    "libPr1Ind",
    "dateNaiInd",
    "inscriptionsAnnuelles",
    "inscriptionsEtapes",
    "blocages",
];

/// How many CSV columns precede the file's ([`student::CSV_COLUMNS`]).
const IDENTITY_COLUMNS: usize = IDENTITY.len();

const fn columns() -> [&'static str; IDENTITY_COLUMNS + student::CSV_COLUMNS.len()] {
    let mut out = [""; IDENTITY_COLUMNS + student::CSV_COLUMNS.len()];
    let mut i = 0;
    while i < IDENTITY_COLUMNS {
        out[i] = IDENTITY[i];
        i += 1;
    }
    let mut j = 0;
    while j < student::CSV_COLUMNS.len() {
        out[IDENTITY_COLUMNS + j] = student::CSV_COLUMNS[j];
        j += 1;
    }
    out
}

/// CSV columns: the six identity columns, the compact enrolment and ban columns, then the
/// optional columns of the file ([`student::CSV_COLUMNS`], same order).
pub const CSV_COLUMNS: &[&str] = &columns();

/// CSV columns a file must have.
pub const CSV_REQUIRED: &[&str] = &["codEtu", "libNomPatInd", "libPr1Ind", "dateNaiInd"];

use crate::table::at_line;

/// The items of a compact cell (`|`-separated), each split on its first `max - 1` colons.
fn parts(cell: Option<&str>, max: usize) -> Option<Vec<Vec<String>>> {
    let cell = present(cell)?;
    Some(
        cell.split('|')
            .filter(|s| !s.trim().is_empty())
            .map(|item| item.splitn(max, ':').map(|p| p.trim().to_owned()).collect())
            .collect(),
    )
}

fn nth(p: &[String], i: usize) -> Option<String> {
    p.get(i).filter(|s| !s.is_empty()).cloned()
}

/// A CSV row into the DTO. The compact columns are lists separated by `|`:
/// `inscriptionsAnnuelles` = `codAnu:etaIaa`, `inscriptionsEtapes` =
/// `codAnu:codEtp:codVrsVet:etaIae[:etaPmtIae]`, `blocages` = `codBlo:typBlo[:libBlo]`; the
/// file from the optional columns ([`student::from_cells`]).
pub fn dto_from_cells(cells: &[Option<&str>]) -> EtudiantDto {
    let cell = |i: usize| cells.get(i).copied().flatten().map(str::to_owned);
    EtudiantDto {
        cod_etu: cell(0),
        ine: cell(1),
        lib_nom_pat_ind: cell(2),
        lib_nom_usu_ind: cell(3),
        lib_pr1_ind: cell(4),
        date_nai_ind: cell(5),
        inscriptions_annuelles: parts(cells.get(6).copied().flatten(), 2).map(|items| {
            items
                .iter()
                .map(|p| IaaDto {
                    cod_anu: nth(p, 0),
                    eta_iaa: nth(p, 1),
                })
                .collect()
        }),
        inscriptions_etapes: parts(cells.get(7).copied().flatten(), 5).map(|items| {
            items
                .iter()
                .map(|p| IaeDto {
                    cod_anu: nth(p, 0),
                    cod_etp: nth(p, 1),
                    cod_vrs_vet: nth(p, 2),
                    eta_iae: nth(p, 3),
                    eta_pmt_iae: nth(p, 4),
                })
                .collect()
        }),
        blocages: parts(cells.get(8).copied().flatten(), 3).map(|items| {
            items
                .iter()
                .map(|p| BlocageDto {
                    cod_blo: nth(p, 0),
                    typ_blo: nth(p, 1),
                    lib_blo: nth(p, 2),
                })
                .collect()
        }),
        dossier: student::from_cells(cells.get(IDENTITY_COLUMNS..).unwrap_or_default()),
    }
}

/// Streams a CSV file of students ([`crate::table::read_csv`]: header line required, `,` or `;`,
/// physical line numbers). A file-level problem (header) is the `Err`; each data line gives one
/// [`BatchLine`].
pub fn read_csv<R: Read>(
    input: R,
    today: NaiveDate,
) -> Result<impl Iterator<Item = BatchLine>, Error> {
    Ok(
        crate::table::read_csv(input, CSV_COLUMNS, CSV_REQUIRED)?.map(move |row| {
            let cod_etu = row
                .cells
                .first()
                .cloned()
                .flatten()
                .map(|s| s.trim().to_owned());
            let result = match row.error {
                Some(e) => Err(e),
                None => {
                    let cells: Vec<Option<&str>> = row.cells.iter().map(Option::as_deref).collect();
                    validate(&dto_from_cells(&cells), today).map_err(|e| at_line(e, row.line))
                }
            };
            BatchLine {
                line: row.line,
                cod_etu,
                result,
            }
        }),
    )
}

/// Streams an NDJSON file of students: one [`EtudiantDto`] object per line, blank lines skipped.
pub fn read_ndjson<R: BufRead>(input: R, today: NaiveDate) -> impl Iterator<Item = BatchLine> {
    crate::table::read_ndjson::<R, EtudiantDto>(input).map(move |(line, dto)| match dto {
        Ok(dto) => BatchLine {
            line,
            cod_etu: dto.cod_etu.clone(),
            result: validate(&dto, today).map_err(|e| at_line(e, line)),
        },
        Err(e) => BatchLine {
            line,
            cod_etu: None,
            result: Err(e),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default()
    }

    #[test]
    fn a_student_is_checked_and_normalised() -> Result<(), Error> {
        let dto: EtudiantDto = serde_json::from_str(
            r#"{"codEtu": 10000001, "ine": " 0123456789m ", "libNomPatInd": "Le  Gall", "libPr1Ind": "Éloïse",
                "dateNaiInd": "14032005", "blocages": [{"codBlo": "BU", "typBlo": "a"}],
                "inscriptionsEtapes": [{"codAnu": "2025", "codEtp": "ETP01", "codVrsVet": 1, "etaIae": "E", "etaPmtIae": "P"}]}"#,
        )
        .map_err(|e| Error::internal(e.to_string()))?;
        let s = validate(&dto, today())?;
        assert_eq!(s.cod_etu, 10_000_001);
        assert_eq!(s.ine.as_deref(), Some("0123456789M"));
        assert_eq!(s.nom_pat, "Le Gall");
        assert_eq!(
            s.date_naissance,
            NaiveDate::from_ymd_opt(2005, 3, 14).unwrap_or_default()
        );
        assert_eq!(
            s.blocages.as_ref().map(|b| b[0].typ_blo.as_str()),
            Some("A")
        );
        assert_eq!(s.inscriptions_annuelles, None, "absent list: unchanged");
        Ok(())
    }

    #[test]
    fn bad_students_name_their_fields() -> Result<(), Box<dyn std::error::Error>> {
        for (json, key) in [
            (
                r#"{"codEtu":"0","libNomPatInd":"A","libPr1Ind":"B","dateNaiInd":"2005-01-01"}"#,
                "technical.parameter.noncoherentinput.codEtu",
            ),
            (
                r#"{"codEtu":"123456789","libNomPatInd":"A","libPr1Ind":"B","dateNaiInd":"2005-01-01"}"#,
                "technical.parameter.noncoherentinput.codEtu",
            ),
            (
                r#"{"libNomPatInd":"A","libPr1Ind":"B","dateNaiInd":"2005-01-01"}"#,
                "technical.parameter.noncoherentinput.codEtuobligatoire",
            ),
            (
                r#"{"codEtu":"1","ine":"0123456789A","libNomPatInd":"A","libPr1Ind":"B","dateNaiInd":"2005-01-01"}"#,
                "technical.parameter.noncoherentinput.ine",
            ),
            (
                r#"{"codEtu":"1","libNomPatInd":"A1","libPr1Ind":"B","dateNaiInd":"2005-01-01"}"#,
                "technical.parameter.noncoherentinput.libNomPatInd",
            ),
            (
                r#"{"codEtu":"1","libNomPatInd":"A","libPr1Ind":"B","dateNaiInd":"2005-02-30"}"#,
                "technical.parameter.noncoherentinput.dateNaiInd",
            ),
            (
                r#"{"codEtu":"1","libNomPatInd":"A","libPr1Ind":"B"}"#,
                "technical.parameter.noncoherentinput.dateNaiIndobligatoire",
            ),
            (
                r#"{"codEtu":"1","libNomPatInd":"A","libPr1Ind":"B","dateNaiInd":"2005-01-01","blocages":[{"codBlo":"X","typBlo":"Z"}]}"#,
                "technical.parameter.noncoherentinput.typBlo",
            ),
        ] {
            let dto: EtudiantDto = serde_json::from_str(json)?;
            let err = validate(&dto, today()).err().ok_or(json)?;
            assert_eq!(err.fault_key.as_str(), key, "{json}");
            assert!(err.message.starts_with("Étudiant "), "{}", err.message);
        }
        Ok(())
    }

    #[test]
    fn a_csv_line_may_carry_the_file() -> Result<(), Error> {
        let csv = "codEtu,libNomPatInd,libPr1Ind,dateNaiInd,codSexEtu,adrMail,bac.codBac,bac.daaObtBac,adresseFixe.libAd1\n\
                   10000001,MARTIN,LEA,2004-05-12,F,lea@example.org,S,2022,1 rue A\n\
                   10000002,DURAND,PAUL,2004-05-12,,,,,\n\
                   10000003,PETIT,ZOE,2004-05-12,X,nope,,,\n";
        let lines: Vec<BatchLine> = read_csv(csv.as_bytes(), today())?.collect();
        let first = lines[0].result.as_ref().map_err(Clone::clone)?;
        let d = first.dossier.clone().unwrap_or_default();
        assert_eq!(
            (d.cod_sex_etu.as_deref(), d.adr_mail.as_deref()),
            (Some("F"), Some("lea@example.org"))
        );
        assert_eq!(d.bacs[0].daa_obt_bac.as_deref(), Some("2022"));
        assert_eq!(
            d.adresse_fixe.and_then(|a| a.lib_ad1).as_deref(),
            Some("1 rue A")
        );
        let second = lines[1].result.as_ref().map_err(Clone::clone)?;
        assert_eq!(
            second.dossier, None,
            "empty file cells keep the stored file"
        );
        let err = lines[2]
            .result
            .as_ref()
            .err()
            .cloned()
            .unwrap_or_else(|| Error::internal("accepted"));
        let fields: Vec<_> = err.errors.iter().filter_map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["dossier.codSexEtu", "dossier.adrMail"], "{err:?}");
        assert_eq!(err.errors[0].line, Some(4));
        Ok(())
    }

    #[test]
    fn csv_lines_keep_their_physical_numbers() -> Result<(), Error> {
        let csv = "codEtu;ine;libNomPatInd;libNomUsuInd;libPr1Ind;dateNaiInd;blocages\n\
                   10000001;0123456789M;MARTIN;;LEA;2004-05-12;\n\
                   \n\
                   10000002;;DURAND;;PAUL;2004-05-12;BU:A:Dette: bibliothèque|SCO:T\n\
                   10000003;0123456789A;PETIT;;ZOE;2004-05-12;\n\
                   10000004;;X\n";
        let lines: Vec<BatchLine> = read_csv(csv.as_bytes(), today())?.collect();
        assert_eq!(
            lines.iter().map(|l| l.line).collect::<Vec<_>>(),
            vec![2, 4, 5, 6]
        );
        assert!(lines[0].result.is_ok() && lines[1].result.is_ok());
        let bans = lines[1]
            .result
            .as_ref()
            .ok()
            .and_then(|s| s.blocages.clone())
            .unwrap_or_default();
        assert_eq!(bans.len(), 2);
        assert_eq!(bans[0].lib_blo.as_deref(), Some("Dette: bibliothèque"));
        let err = lines[2]
            .result
            .as_ref()
            .err()
            .ok_or_else(|| Error::internal("ok"))?;
        assert_eq!(err.errors[0].line, Some(5));
        assert_eq!(
            err.fault_key.as_str(),
            "technical.parameter.noncoherentinput.ine"
        );
        assert_eq!(
            lines[3]
                .result
                .as_ref()
                .err()
                .map(|e| e.errors[0].code.as_str()),
            Some("LIGNE_FORMAT")
        );
        let bad = read_csv("codEtu,nom\n1,x\n".as_bytes(), today())
            .err()
            .ok_or_else(|| Error::internal("ok"))?;
        assert_eq!(bad.errors[0].code, "FICHIER_FORMAT");
        Ok(())
    }

    #[test]
    fn ndjson_lines() {
        let data = "{\"codEtu\":\"1\",\"libNomPatInd\":\"A\",\"libPr1Ind\":\"B\",\"dateNaiInd\":\"2005-01-01\"}\n\n{oops\n";
        let lines: Vec<BatchLine> = read_ndjson(data.as_bytes(), today()).collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].result.is_ok());
        assert_eq!(lines[1].line, 3);
        assert!(lines[1].result.is_err());
    }
}
