//! Batch files as tables: a CSV file with a header line (`,` or `;`, UTF-8 with or without BOM,
//! RFC 4180 quotes, blank lines skipped, header names matched without case, `_` or `-`) or an
//! NDJSON file (one JSON object per line), read as a stream, each row with its physical line
//! number. The student and enrolment batches read their files through here.

use crate::error::{Error, FaultKey, FieldError};
use crate::text::fold_name;
use serde::de::DeserializeOwned;
use std::io::{BufRead, Read};

/// A file-level problem (header, encoding).
pub fn file_error(message: String) -> Error {
    Error::validation(vec![FieldError::new(
        FaultKey::noncoherent("fichier"),
        "FICHIER_FORMAT",
        None,
        message,
    )])
}

/// A line that cannot be read as a row.
pub fn line_error(line: u64, message: String) -> Error {
    Error::validation(vec![
        FieldError::new(
            FaultKey::noncoherent("ligne"),
            "LIGNE_FORMAT",
            None,
            message,
        )
        .at_line(line),
    ])
}

/// Locates every error of `err` at `line`.
pub fn at_line(mut err: Error, line: u64) -> Error {
    for e in &mut err.errors {
        e.line = Some(line);
    }
    err
}

/// The delimiter of a CSV file: `;` when its first line has more `;` than `,`, else `,`.
pub fn sniff_delimiter<R: BufRead>(input: &mut R) -> Result<u8, Error> {
    let buf = input
        .fill_buf()
        .map_err(|e| file_error(format!("Lecture impossible : {e}")))?;
    let first_line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    let commas = first_line.iter().filter(|b| **b == b',').count();
    let semis = first_line.iter().filter(|b| **b == b';').count();
    Ok(if semis > commas { b';' } else { b',' })
}

/// One data row of a CSV table.
#[derive(Debug)]
pub struct Row {
    /// Physical line number (header = 1).
    pub line: u64,
    /// The cells, in the order of the known columns (`None`: column absent or cell empty).
    pub cells: Vec<Option<String>>,
    /// The row is unreadable, or has another width than the header.
    pub error: Option<Error>,
}

/// Streams the rows of a CSV file whose header names some of `columns` (all of `required`);
/// an unknown, repeated or missing column rejects the file before any row is read.
pub fn read_csv<R: Read>(
    input: R,
    columns: &'static [&'static str],
    required: &'static [&'static str],
) -> Result<impl Iterator<Item = Row>, Error> {
    let (counted, locator) = crate::lines::LineCounter::new(input);
    let mut buffered = std::io::BufReader::new(counted);
    let delimiter = sniff_delimiter(&mut buffered)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(buffered);
    let header = reader
        .headers()
        .map_err(|e| file_error(format!("En-tête illisible : {e}")))?
        .clone();
    let mut mapping: Vec<Option<usize>> = vec![None; columns.len()];
    let mut unknown = Vec::new();
    for (i, h) in header.iter().enumerate() {
        match columns.iter().position(|c| fold_name(c) == fold_name(h)) {
            Some(k) if mapping[k].is_none() => mapping[k] = Some(i),
            Some(_) => unknown.push(format!("{} (en double)", h.trim())),
            None => unknown.push(h.trim().to_owned()),
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .filter(|name| {
            columns
                .iter()
                .position(|c| c == *name)
                .is_some_and(|k| mapping[k].is_none())
        })
        .copied()
        .collect();
    if !missing.is_empty() || !unknown.is_empty() {
        return Err(file_error(format!(
            "En-tête incorrect : colonnes manquantes [{}], colonnes inconnues [{}] ; colonnes admises : {}",
            missing.join(", "),
            unknown.join(", "),
            columns.join(",")
        )));
    }
    let width = header.len();
    Ok(reader.into_records().filter_map(move |rec| {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| locator.line_at(p.byte()));
                return Some(Row {
                    line,
                    cells: Vec::new(),
                    error: Some(line_error(line, format!("Ligne illisible : {e}"))),
                });
            }
        };
        let line = rec.position().map_or(0, |p| locator.line_at(p.byte()));
        if rec.iter().all(|c| c.trim().is_empty()) {
            return None;
        }
        let cells = mapping
            .iter()
            .map(|m| {
                m.and_then(|i| rec.get(i))
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_owned)
            })
            .collect();
        let error = (rec.len() != width).then(|| {
            line_error(
                line,
                format!("La ligne compte {} colonnes, l'en-tête {width}", rec.len()),
            )
        });
        Some(Row { line, cells, error })
    }))
}

/// Streams an NDJSON file: one `T` object per line (blank lines skipped), with its line number.
pub fn read_ndjson<R: BufRead, T: DeserializeOwned>(
    input: R,
) -> impl Iterator<Item = (u64, Result<T, Error>)> {
    input
        .split(b'\n')
        .enumerate()
        .filter_map(move |(i, bytes)| {
            let line = i as u64 + 1;
            let bytes = match bytes {
                Ok(b) => b,
                Err(e) => {
                    return Some((
                        line,
                        Err(line_error(line, format!("Lecture impossible : {e}"))),
                    ));
                }
            };
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim().trim_start_matches('\u{feff}');
            if text.is_empty() {
                return None;
            }
            Some((
                line,
                serde_json::from_str::<T>(text)
                    .map_err(|e| line_error(line, format!("JSON invalide : {e}"))),
            ))
        })
}
