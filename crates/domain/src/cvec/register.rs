//! The local attestation register (CVEC-6): the rows loaded by `PUT /api/v1/cvec/attestations`
//! and by the demo seed, read from CSV (header line, `,` or `;`), NDJSON (one object per line) or
//! a JSON array, each row checked and reported with its physical line number.
//!
//! Column names are matched without case, `_` or `-` (as referential files are): `NUM_ATTESTATION`
//! and `numAttestation` are the same column. JSON objects may also carry the CNOUS shape
//! (`etat: {code, libelle}`, `exoneration: {active, motif}`).

use crate::error::{Error, FaultKey, FieldError};
use crate::formats::parse_date;
use crate::referential::defs::{ColumnDef, ColumnKind, TableDef};
use crate::referential::record::{self, ParsedRow, Record};
use chrono::NaiveDate;
use serde::Serialize;

const fn col(name: &'static str, kind: ColumnKind, required: bool) -> ColumnDef {
    ColumnDef {
        name,
        kind,
        key: false,
        required,
        default: None,
    }
}

/// The columns of a register file (`numAttestation` and `codAnu` form the key).
pub static FILE: TableDef = TableDef {
    name: "cvec-attestations",
    db_table: "cvec_attestation",
    apogee_table: "— (registre CVEC de la passerelle, CVEC-6)",
    label: "Attestations CVEC",
    columns: &[
        col("codAnu", ColumnKind::Year, false),
        ColumnDef {
            key: true,
            ..col("numAttestation", ColumnKind::Text { max: 40 }, true)
        },
        col("nom", ColumnKind::Text { max: 100 }, true),
        col("nomUsage", ColumnKind::Text { max: 100 }, false),
        col("prenom", ColumnKind::Text { max: 100 }, true),
        col("sexe", ColumnKind::Code { max: 1 }, false),
        col("dateNaissance", ColumnKind::Text { max: 40 }, true),
        col("ine", ColumnKind::Text { max: 20 }, false),
        col("crous", ColumnKind::Text { max: 100 }, false),
        col("etatCode", ColumnKind::Code { max: 10 }, true),
        col("etatLibelle", ColumnKind::Text { max: 200 }, false),
        col("exonerationActive", ColumnKind::Text { max: 10 }, false),
        col("exonerationMotif", ColumnKind::Text { max: 100 }, false),
    ],
};

/// One checked register row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// Campaign (`COD_ANU`).
    pub cod_anu: String,
    /// Attestation number (CVEC-4 shape, upper case).
    pub num_attestation: String,
    /// Birth surname.
    pub nom: String,
    /// Usage surname.
    pub nom_usage: Option<String>,
    /// First name.
    pub prenom: String,
    /// `F` or `M`.
    pub sexe: Option<String>,
    /// Birth date.
    pub date_naissance: NaiveDate,
    /// INE, normalised.
    pub ine: Option<String>,
    /// CROUS.
    pub crous: Option<String>,
    /// `etat.code`.
    pub etat_code: String,
    /// `etat.libelle`.
    pub etat_libelle: Option<String>,
    /// `exoneration.active`.
    pub exoneration_active: bool,
    /// `exoneration.motif`.
    pub exoneration_motif: Option<String>,
}

impl Attestation {
    /// The CNOUS body of this attestation (CVEC-1, dates `yyyy-MM-dd`, CVEC-8).
    pub fn to_certificate(&self) -> super::dto::CertificateDto {
        super::dto::CertificateDto {
            nom: Some(self.nom.clone()),
            prenom: Some(self.prenom.clone()),
            sexe: self.sexe.clone(),
            date_naissance: Some(self.date_naissance.format("%Y-%m-%d").to_string()),
            ine: self.ine.clone(),
            crous: self.crous.clone(),
            etat: Some(super::dto::Etat {
                code: Some(self.etat_code.clone()),
                libelle: self.etat_libelle.clone(),
            }),
            exoneration: Some(super::dto::Exoneration {
                active: self.exoneration_active,
                motif: self.exoneration_motif.clone(),
            }),
        }
    }

    /// CVEC-6: the surname letters of a code match the stored birth surname or usage surname.
    pub fn letters_match(&self, letters: &str) -> bool {
        std::iter::once(Some(self.nom.as_str()))
            .chain(std::iter::once(self.nom_usage.as_deref()))
            .flatten()
            .any(|n| {
                let expected = super::surname_letters(n);
                !expected.is_empty() && expected == letters
            })
    }
}

/// One line of a register file: its physical line number and the row or its problems.
#[derive(Debug)]
pub struct ParsedLine {
    /// Physical line (CSV: header = 1; NDJSON: 1-based; JSON array: element position).
    pub line: u64,
    /// The checked row, or every problem of the line (each carrying the line number).
    pub result: Result<Attestation, Vec<FieldError>>,
}

fn line_error(line: u64, field: &str, code: &str, message: String) -> FieldError {
    FieldError::new(
        FaultKey::noncoherent(field),
        code,
        Some(field.to_owned()),
        message,
    )
    .at_line(line)
}

fn text(r: &Record, name: &str) -> Option<String> {
    r.get(name)
        .and_then(|v| v.as_text())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The rules beyond the column formats: number shape (CVEC-4), birth date (CVEC-8), INE, sexe,
/// exemption flag; the campaign defaults to `default_campaign`.
fn check_row(row: ParsedRow, default_campaign: Option<&str>) -> ParsedLine {
    let line = row.line;
    let r = match row.result {
        Ok(r) => r,
        Err(errors) => {
            return ParsedLine {
                line,
                result: Err(errors),
            };
        }
    };
    let mut errors = Vec::new();
    let cod_anu = text(&r, "codAnu").or_else(|| default_campaign.map(str::to_owned));
    if cod_anu.is_none() {
        errors.push(
            FieldError::new(
                FaultKey::mandatory("codAnu"),
                "REF_OBLIGATOIRE",
                Some("codAnu".into()),
                "La colonne codAnu est obligatoire (aucune campagne CVEC en cours)",
            )
            .at_line(line),
        );
    }
    let number = super::normalize(&text(&r, "numAttestation").unwrap_or_default());
    if !super::is_valid_number(&number) {
        errors.push(line_error(
            line,
            "numAttestation",
            "CVEC_CODE_NUMBER",
            format!(
                "numAttestation : « {number} » n'a pas la forme d'un numéro d'attestation CVEC \
                 (3 lettres, 1 chiffre, 5 à 8 lettres ou chiffres, 1 chiffre)"
            ),
        ));
    }
    let nom = text(&r, "nom").unwrap_or_default();
    if crate::text::normalized_name(&nom).is_empty() {
        errors.push(line_error(
            line,
            "nom",
            "REF_FORMAT",
            "nom : aucune lettre".into(),
        ));
    }
    let raw_date = text(&r, "dateNaissance").unwrap_or_default();
    let date = parse_date(&raw_date);
    if date.is_none() {
        errors.push(line_error(
            line,
            "dateNaissance",
            "REF_FORMAT",
            "dateNaissance : date attendue au format AAAA-MM-JJ, JJ/MM/AAAA ou JJMMAAAA".into(),
        ));
    }
    let ine = text(&r, "ine").map(|i| crate::ine::normalize(&i));
    if ine.as_ref().is_some_and(|i| i.chars().count() != 11) {
        errors.push(line_error(
            line,
            "ine",
            "REF_FORMAT",
            "ine : 11 caractères attendus".into(),
        ));
    }
    let sexe = text(&r, "sexe").map(|s| s.to_ascii_uppercase());
    if sexe.as_deref().is_some_and(|s| s != "F" && s != "M") {
        errors.push(line_error(
            line,
            "sexe",
            "REF_FORMAT",
            "sexe : F ou M attendu".into(),
        ));
    }
    let active = match text(&r, "exonerationActive")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("n" | "non" | "false" | "0") => Some(false),
        Some("o" | "oui" | "true" | "1") => Some(true),
        Some(_) => None,
    };
    if active.is_none() {
        errors.push(line_error(
            line,
            "exonerationActive",
            "REF_FORMAT",
            "exonerationActive : O/N (ou true/false) attendu".into(),
        ));
    }
    let result = match (cod_anu, date, active) {
        (Some(cod_anu), Some(date_naissance), Some(exoneration_active)) if errors.is_empty() => {
            Ok(Attestation {
                cod_anu,
                num_attestation: number,
                nom,
                nom_usage: text(&r, "nomUsage"),
                prenom: text(&r, "prenom").unwrap_or_default(),
                sexe,
                date_naissance,
                ine,
                crous: text(&r, "crous"),
                etat_code: text(&r, "etatCode").unwrap_or_default(),
                etat_libelle: text(&r, "etatLibelle"),
                exoneration_active,
                exoneration_motif: text(&r, "exonerationMotif"),
            })
        }
        _ => Err(errors),
    };
    ParsedLine { line, result }
}

/// Marks the second and later rows with the same campaign and number as errors.
fn reject_duplicates(lines: &mut [ParsedLine]) {
    let mut seen: std::collections::HashMap<(String, String), u64> =
        std::collections::HashMap::new();
    for l in lines.iter_mut() {
        let Ok(a) = &l.result else { continue };
        let key = (a.cod_anu.clone(), a.num_attestation.clone());
        if let Some(first) = seen.get(&key) {
            l.result = Err(vec![line_error(
                l.line,
                "numAttestation",
                "CVEC_DOUBLON",
                format!(
                    "numAttestation : {} (campagne {}) figure déjà ligne {first}",
                    key.1, key.0
                ),
            )]);
        } else {
            seen.insert(key, l.line);
        }
    }
}

/// Reads a CSV register file.
pub fn read_csv(body: &[u8], default_campaign: Option<&str>) -> Result<Vec<ParsedLine>, Error> {
    let mut lines: Vec<ParsedLine> = record::read_csv(&FILE, body)?
        .map(|row| check_row(row, default_campaign))
        .collect();
    reject_duplicates(&mut lines);
    Ok(lines)
}

/// Flattens the CNOUS shape (`etat`, `exoneration` objects) into the file's columns.
fn flatten(obj: serde_json::Map<String, serde_json::Value>) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for (k, v) in obj {
        match (crate::text::fold_name(&k).as_str(), v) {
            ("etat", serde_json::Value::Object(inner)) => {
                for (ik, iv) in inner {
                    out.push((format!("etat_{ik}"), iv));
                }
            }
            ("exoneration", serde_json::Value::Object(inner)) => {
                for (ik, iv) in inner {
                    out.push((format!("exoneration_{ik}"), iv));
                }
            }
            (_, v) => out.push((k, v)),
        }
    }
    out
}

fn json_row(line: u64, value: serde_json::Value) -> ParsedRow {
    let serde_json::Value::Object(obj) = value else {
        return ParsedRow {
            line,
            result: Err(vec![
                FieldError::new(
                    FaultKey::noncoherent("ligne"),
                    "LIGNE_FORMAT",
                    None,
                    "Un objet JSON est attendu",
                )
                .at_line(line),
            ]),
        };
    };
    let mut raw: Vec<Option<String>> = vec![None; FILE.columns.len()];
    let mut errors = Vec::new();
    for (k, v) in flatten(obj) {
        match FILE.column(&k) {
            Some((i, _)) => {
                raw[i] = match v {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s),
                    serde_json::Value::Bool(b) => Some(if b { "O" } else { "N" }.into()),
                    other => Some(other.to_string()),
                }
            }
            None => errors.push(
                FieldError::new(
                    FaultKey::noncoherent(&k),
                    "REF_CHAMP_INCONNU",
                    Some(k.clone()),
                    format!("Champ inconnu pour le registre CVEC : {k}"),
                )
                .at_line(line),
            ),
        }
    }
    let cells: Vec<Option<&str>> = raw.iter().map(Option::as_deref).collect();
    let result = match record::parse_record(&FILE, &cells) {
        Ok(r) if errors.is_empty() => Ok(r),
        Ok(_) => Err(errors),
        Err(errs) => {
            errors.extend(errs.into_iter().map(|e| e.at_line(line)));
            Err(errors)
        }
    };
    ParsedRow { line, result }
}

/// Reads NDJSON (one JSON object per line; blank lines skipped) or, when the body starts with
/// `[`, a JSON array of objects.
pub fn read_json(body: &[u8], default_campaign: Option<&str>) -> Result<Vec<ParsedLine>, Error> {
    let text = std::str::from_utf8(body).map_err(|_| {
        Error::validation(vec![FieldError::new(
            FaultKey::noncoherent("fichier"),
            "FICHIER_FORMAT",
            None,
            "Le fichier n'est pas en UTF-8",
        )])
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let rows: Vec<ParsedRow> = if text.trim_start().starts_with('[') {
        let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
            Error::validation(vec![FieldError::new(
                FaultKey::noncoherent("fichier"),
                "FICHIER_FORMAT",
                None,
                format!("JSON invalide (tableau d'objets attendu) : {e}"),
            )])
        })?;
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| json_row(i as u64 + 1, v))
            .collect()
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let line = i as u64 + 1;
                match serde_json::from_str::<serde_json::Value>(l) {
                    Ok(v) => json_row(line, v),
                    Err(e) => ParsedRow {
                        line,
                        result: Err(vec![
                            FieldError::new(
                                FaultKey::noncoherent("ligne"),
                                "LIGNE_FORMAT",
                                None,
                                format!("Ligne JSON illisible : {e}"),
                            )
                            .at_line(line),
                        ]),
                    },
                }
            })
            .collect()
    };
    let mut lines: Vec<ParsedLine> = rows
        .into_iter()
        .map(|row| check_row(row, default_campaign))
        .collect();
    reject_duplicates(&mut lines);
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(line: &ParsedLine) -> Vec<String> {
        line.result
            .as_ref()
            .err()
            .map(|e| e.iter().map(|e| e.code.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn csv_rows_are_checked_with_their_line_numbers() -> Result<(), Error> {
        let csv = "NUM_ATTESTATION;nom;prenom;dateNaissance;etatCode;exonerationActive;ine\n\
                   ver1abcdef12;Dupont;Marie;14/03/2005;70;;0123456789m\n\
                   \n\
                   VE1ABCDEF12;Durand;Paul;2005-02-30;71;peut-être;12\n\
                   VER1ABCDEF12;Dupont;Marie;2005-03-14;70;O;\n";
        let lines = read_csv(csv.as_bytes(), Some("2026"))?;
        assert_eq!(lines.len(), 3);
        let first = lines[0]
            .result
            .as_ref()
            .map_err(|e| Error::validation(e.clone()))?;
        assert_eq!(first.num_attestation, "VER1ABCDEF12");
        assert_eq!(first.cod_anu, "2026");
        assert_eq!(first.ine.as_deref(), Some("0123456789M"));
        assert!(!first.exoneration_active);
        assert!(first.letters_match("DUPON"));
        assert!(!first.letters_match("DUPO"));
        assert_eq!(lines[1].line, 4);
        assert_eq!(
            errors_of(&lines[1]),
            vec!["CVEC_CODE_NUMBER", "REF_FORMAT", "REF_FORMAT", "REF_FORMAT"]
        );
        assert_eq!(errors_of(&lines[2]), vec!["CVEC_DOUBLON"]);
        let no_campaign = read_csv(csv.as_bytes(), None)?;
        assert_eq!(errors_of(&no_campaign[0]), vec!["REF_OBLIGATOIRE"]);
        let bad_header = read_csv(b"numAttestation,nom,inconnu\n", None);
        assert!(bad_header.is_err());
        Ok(())
    }

    #[test]
    fn ndjson_and_arrays_accept_the_cnous_shape() -> Result<(), Error> {
        let ndjson = r#"{"codAnu":"2026","numAttestation":"VER1ABCDEF12","nom":"Dupont","prenom":"Marie","dateNaissance":"2005-03-14","etat":{"code":71,"libelle":"Valide boursier"},"exoneration":{"active":true,"motif":"boursier"}}

{"numAttestation":"VER1ABCDEF13","nom":"Durand"}
not json
"#;
        let lines = read_json(ndjson.as_bytes(), None)?;
        assert_eq!(lines.len(), 3);
        let first = lines[0]
            .result
            .as_ref()
            .map_err(|e| Error::validation(e.clone()))?;
        assert_eq!(first.etat_code, "71");
        assert!(first.exoneration_active);
        assert_eq!(first.to_certificate().etat_code(), Some("71"));
        assert_eq!(lines[1].line, 3);
        assert!(errors_of(&lines[1]).contains(&"REF_OBLIGATOIRE".to_owned()));
        assert_eq!(
            (lines[2].line, errors_of(&lines[2])),
            (4, vec!["LIGNE_FORMAT".into()])
        );
        let array = br#"[{"codAnu":"2025","numAttestation":"VER1ABCDEF12","nom":"A","prenom":"B","dateNaissance":"14032005","etatCode":"75","autre":1}]"#;
        let lines = read_json(array, None)?;
        assert_eq!(errors_of(&lines[0]), vec!["REF_CHAMP_INCONNU"]);
        Ok(())
    }
}
