//! Parsing referential rows from CSV or JSON into checked records.

use super::defs::{ColumnDef, ColumnKind, TableDef};
use crate::error::{Error, FaultKey, FieldError};
use crate::text::{char_len, present};
use chrono::NaiveDate;
use serde::Serialize;
use std::io::Read;

/// A checked cell value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// Absent.
    Null,
    /// Code, label or flag.
    Text(String),
    /// Integer or year stored as a number.
    Int(i64),
    /// Calendar date.
    Date(NaiveDate),
}

impl Value {
    /// The value as text (`None` when null): what lookups compare.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Text(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
        }
    }

    /// The value as a date: a date, or a text in `yyyy-MM-dd` (`None` otherwise).
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Text(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
            Value::Null | Value::Int(_) => None,
        }
    }
}

/// One row of a referential table, its values in the order of the table's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The table the record belongs to.
    pub table: &'static TableDef,
    /// One value per column.
    pub values: Vec<Value>,
}

impl Record {
    /// The key values, as text, in key-column order.
    pub fn key(&self) -> Vec<String> {
        self.table
            .key_columns()
            .map(|(i, _)| self.values[i].as_text().unwrap_or_default())
            .collect()
    }

    /// The value of the column named `name` (exact DTO name).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.table
            .columns
            .iter()
            .position(|c| c.name == name)
            .map(|i| &self.values[i])
    }

    /// A JSON object with the DTO names.
    pub fn to_json(&self) -> serde_json::Value {
        let map = self
            .table
            .columns
            .iter()
            .zip(&self.values)
            .map(|(c, v)| {
                (
                    c.name.to_owned(),
                    serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

/// The outcome of one input row: its line (CSV) or position (JSON, 1-based) and the record or
/// its errors.
#[derive(Debug)]
pub struct ParsedRow {
    /// Physical line number (header = 1) for CSV, element position for JSON.
    pub line: u64,
    /// The checked record, or every problem found in the row.
    pub result: Result<Record, Vec<FieldError>>,
}

fn cell_error(col: &ColumnDef, code: &str, message: String) -> FieldError {
    let key = if code == "REF_OBLIGATOIRE" {
        FaultKey::mandatory(col.name)
    } else {
        FaultKey::noncoherent(col.name)
    };
    FieldError::new(key, code, Some(col.name.to_owned()), message)
}

/// Checks one raw cell against its column.
pub fn parse_value(col: &ColumnDef, raw: Option<&str>) -> Result<Value, FieldError> {
    let raw = match present(raw).or(col.default) {
        Some(v) => v,
        None if col.required => {
            return Err(cell_error(
                col,
                "REF_OBLIGATOIRE",
                format!("La colonne {} est obligatoire", col.name),
            ));
        }
        None => return Ok(Value::Null),
    };
    let too_long = |max: usize| {
        cell_error(
            col,
            "REF_LONGUEUR",
            format!(
                "{} : « {raw} » dépasse {max} caractères ({})",
                col.name,
                char_len(raw)
            ),
        )
    };
    match col.kind {
        ColumnKind::Code { max } => {
            if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(cell_error(
                    col,
                    "REF_FORMAT",
                    format!("{} : le code « {raw} » contient des espaces", col.name),
                ));
            }
            if char_len(raw) > max {
                return Err(too_long(max));
            }
            Ok(Value::Text(raw.to_owned()))
        }
        ColumnKind::Text { max } => {
            if raw.chars().any(char::is_control) {
                return Err(cell_error(
                    col,
                    "REF_FORMAT",
                    format!("{} : caractères de contrôle interdits", col.name),
                ));
            }
            if char_len(raw) > max {
                return Err(too_long(max));
            }
            Ok(Value::Text(raw.to_owned()))
        }
        ColumnKind::Year => {
            if raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()) {
                Ok(Value::Text(raw.to_owned()))
            } else {
                Err(cell_error(
                    col,
                    "REF_FORMAT",
                    format!(
                        "{} : « {raw} » n'est pas une année sur 4 chiffres",
                        col.name
                    ),
                ))
            }
        }
        ColumnKind::Int { min, max } => match raw.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(Value::Int(v)),
            _ => Err(cell_error(
                col,
                "REF_FORMAT",
                format!(
                    "{} : « {raw} » n'est pas un entier entre {min} et {max}",
                    col.name
                ),
            )),
        },
        ColumnKind::Flag => match raw {
            "O" | "o" => Ok(Value::Text("O".into())),
            "N" | "n" => Ok(Value::Text("N".into())),
            _ => Err(cell_error(
                col,
                "REF_FORMAT",
                format!("{} : « {raw} » n'est pas O ou N", col.name),
            )),
        },
        ColumnKind::Date => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(Value::Date)
            .map_err(|_| {
                cell_error(
                    col,
                    "REF_FORMAT",
                    format!("{} : « {raw} » n'est pas une date AAAA-MM-JJ", col.name),
                )
            }),
    }
}

/// Builds a record from raw cells (`None` = column absent), one per column of `table`.
pub fn parse_record(
    table: &'static TableDef,
    cells: &[Option<&str>],
) -> Result<Record, Vec<FieldError>> {
    let mut values = Vec::with_capacity(table.columns.len());
    let mut errors = Vec::new();
    for (col, raw) in table.columns.iter().zip(cells) {
        match parse_value(col, *raw) {
            Ok(v) => values.push(v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(Record { table, values })
    } else {
        Err(errors)
    }
}

use crate::table::file_error;

/// Maps a CSV header to the table's columns: for each column, the index of its header cell.
/// Unknown headers and missing mandatory columns (those without default) reject the file.
pub fn map_header(table: &TableDef, header: &[&str]) -> Result<Vec<Option<usize>>, Error> {
    let mut mapping = vec![None; table.columns.len()];
    let mut unknown = Vec::new();
    for (pos, name) in header.iter().enumerate() {
        match table.column(name) {
            Some((i, _)) if mapping[i].is_none() => mapping[i] = Some(pos),
            Some(_) => unknown.push(format!("{} (en double)", name.trim())),
            None => unknown.push(name.trim().to_owned()),
        }
    }
    let missing: Vec<&str> = table
        .columns
        .iter()
        .zip(&mapping)
        .filter(|(c, m)| m.is_none() && c.required && c.default.is_none())
        .map(|(c, _)| c.name)
        .collect();
    if unknown.is_empty() && missing.is_empty() {
        return Ok(mapping);
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("colonnes manquantes : {}", missing.join(", ")));
    }
    if !unknown.is_empty() {
        parts.push(format!("colonnes inconnues : {}", unknown.join(", ")));
    }
    let expected: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    Err(file_error(format!(
        "En-tête du fichier {} incorrect ({}) ; colonnes attendues : {}",
        table.name,
        parts.join(" ; "),
        expected.join(", ")
    )))
}

/// Streams the rows of a CSV file (header line required, `,` or `;` separator detected from the
/// header, UTF-8 with or without BOM). Blank lines are skipped. The iterator yields one
/// [`ParsedRow`] per data line; a file-level problem (header, encoding) is an `Err` first item.
pub fn read_csv<R: Read>(
    table: &'static TableDef,
    input: R,
) -> Result<impl Iterator<Item = ParsedRow>, Error> {
    let (counted, locator) = crate::lines::LineCounter::new(input);
    let mut buffered = std::io::BufReader::new(counted);
    let delimiter = crate::table::sniff_delimiter(&mut buffered)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(buffered);
    let header = reader
        .headers()
        .map_err(|e| file_error(format!("En-tête illisible : {e}")))?
        .clone();
    let header_cells: Vec<&str> = header.iter().collect();
    let mapping = map_header(table, &header_cells)?;
    let width = header.len();
    Ok(reader.into_records().filter_map(move |rec| {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| locator.line_at(p.byte()));
                return Some(ParsedRow {
                    line,
                    result: Err(vec![
                        FieldError::new(
                            FaultKey::noncoherent("ligne"),
                            "LIGNE_FORMAT",
                            None,
                            format!("Ligne illisible : {e}"),
                        )
                        .at_line(line),
                    ]),
                });
            }
        };
        let line = rec.position().map_or(0, |p| locator.line_at(p.byte()));
        if rec.iter().all(|c| c.trim().is_empty()) {
            return None;
        }
        if rec.len() != width {
            return Some(ParsedRow {
                line,
                result: Err(vec![
                    FieldError::new(
                        FaultKey::noncoherent("ligne"),
                        "LIGNE_FORMAT",
                        None,
                        format!(
                            "La ligne compte {} colonnes, l'en-tête {}",
                            rec.len(),
                            width
                        ),
                    )
                    .at_line(line),
                ]),
            });
        }
        let cells: Vec<Option<&str>> = mapping.iter().map(|m| m.and_then(|i| rec.get(i))).collect();
        let result = parse_record(table, &cells)
            .map_err(|errs| errs.into_iter().map(|e| e.at_line(line)).collect());
        Some(ParsedRow { line, result })
    }))
}

/// Parses a JSON array of objects (DTO names, tolerant matching). Unknown keys reject the row.
pub fn read_json(table: &'static TableDef, body: &[u8]) -> Result<Vec<ParsedRow>, Error> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_slice(body)
        .map_err(|e| file_error(format!("JSON invalide (tableau d'objets attendu) : {e}")))?;
    Ok(items
        .iter()
        .enumerate()
        .map(|(pos, obj)| {
            let line = pos as u64 + 1;
            let mut raw: Vec<Option<String>> = vec![None; table.columns.len()];
            let mut errors = Vec::new();
            for (k, v) in obj {
                match table.column(k) {
                    Some((i, _)) => {
                        raw[i] = match v {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(s) => Some(s.clone()),
                            serde_json::Value::Number(n) => Some(n.to_string()),
                            serde_json::Value::Bool(b) => Some(if *b { "O" } else { "N" }.into()),
                            other => Some(other.to_string()),
                        }
                    }
                    None => errors.push(
                        FieldError::new(
                            FaultKey::noncoherent(k),
                            "REF_CHAMP_INCONNU",
                            Some(k.clone()),
                            format!("Champ inconnu pour la table {} : {k}", table.name),
                        )
                        .at_line(line),
                    ),
                }
            }
            let cells: Vec<Option<&str>> = raw.iter().map(Option::as_deref).collect();
            let result = match parse_record(table, &cells) {
                Ok(r) if errors.is_empty() => Ok(r),
                Ok(_) => Err(errors),
                Err(errs) => {
                    errors.extend(errs.into_iter().map(|e| e.at_line(line)));
                    Err(errors)
                }
            };
            ParsedRow { line, result }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::defs::table;
    use super::*;

    fn etapes() -> &'static TableDef {
        table("etapes").unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn csv_rows_with_line_numbers() -> Result<(), Error> {
        let csv = "\u{feff}COD_ETP;libEtp;nbrMaxIaeAut\nETP01;L1;\n\nETP 2;L2;x\nETP03;L3\n";
        let rows: Vec<ParsedRow> = read_csv(etapes(), csv.as_bytes())?.collect();
        assert_eq!(rows.len(), 3);
        let first = rows[0]
            .result
            .as_ref()
            .map_err(|e| Error::validation(e.clone()))?;
        assert_eq!(first.key(), vec!["ETP01"]);
        assert_eq!(first.get("temEnSveEtp"), Some(&Value::Text("O".into())));
        let errs = rows[1].result.as_ref().err().cloned().unwrap_or_default();
        assert_eq!(rows[1].line, 4);
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, Some(4));
        assert_eq!(
            errs[0].fault_key.as_str(),
            "technical.parameter.noncoherentinput.codEtp"
        );
        let errs = rows[2].result.as_ref().err().cloned().unwrap_or_default();
        assert_eq!(errs[0].code, "LIGNE_FORMAT");
        Ok(())
    }

    #[test]
    fn bad_header_rejects_file() {
        let err = read_csv(etapes(), "codEtp,libelle\n".as_bytes())
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("libEtp"), "{err}");
        assert!(err.contains("libelle"), "{err}");
    }

    #[test]
    fn json_rows() -> Result<(), Error> {
        let rows = read_json(
            etapes(),
            br#"[{"codEtp":"E1","libEtp":"x","nbrMaxIaeAut":30},{"codEtp":"E2","foo":1}]"#,
        )?;
        assert!(rows[0].result.is_ok());
        let errs = rows[1].result.as_ref().err().cloned().unwrap_or_default();
        assert_eq!(errs.len(), 2);
        assert!(errs.iter().all(|e| e.line == Some(2)));
        Ok(())
    }
}
