//! Laissez-passer files (`POST /api/v1/laissez-passer/batch`, LP-16 … LP-20): the legacy
//! 8-column CSV of the *opilaissezpasser* tool (LP-17, read as V1 calls), the extended CSV made
//! of any of the 14 V2 names (LP-18), NDJSON and a JSON array. Every reader is lazy: rows are
//! produced one by one from the underlying reader (constant memory), each with its physical
//! line number (CSV header = 1). The per-row report and its summary (LP-20) are here too.

use super::{LpParams, LpVersion, TypLpa};
use crate::batch::{Counts, LineOutcome};
use crate::error::{Error, FaultKey, FieldError};
use crate::lines::{LineCounter, LineLocator};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read};

/// The 8 columns of the legacy format (LP-17), in their order.
pub const LEGACY_COLUMNS: [&str; 8] = [
    "typLpa",
    "codAnu",
    "numOPI",
    "codEtp",
    "codVrsVet",
    "codDip",
    "codVrsVdi",
    "libCmtLpa",
];

/// The 14 V2 parameter names (LP-18).
pub const V2_COLUMNS: [&str; 14] = [
    "typLpa",
    "codAnu",
    "numOPI",
    "codEtu",
    "codEtp",
    "codVrsVet",
    "codDip",
    "codVrsVdi",
    "codRgi",
    "codStu",
    "libCmtLpa",
    "codCatOuiSi",
    "mtfCat",
    "codCatExoExt",
];

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated, header line.
    Csv,
    /// One JSON object per line.
    Ndjson,
    /// One JSON array of objects.
    Json,
}

impl Format {
    /// `csv`, `ndjson` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Json => "json",
        }
    }

    /// The format named `value`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// One row read from a file: its physical line and its parameters, or why it cannot be read
/// (`LIGNE_FORMAT`).
#[derive(Debug)]
pub struct Row {
    /// Physical line (CSV header = 1; JSON array: the line where the element starts).
    pub line: u64,
    /// The parameters, or the row's format error.
    pub params: Result<LpParams, Error>,
}

/// A file-level failure: `FICHIER_FORMAT` (`technical.parameter.noncoherentinput.fichier`).
pub fn file_error(message: impl Into<String>) -> Error {
    Error::validation(vec![FieldError::new(
        FaultKey::noncoherent("fichier"),
        "FICHIER_FORMAT",
        None,
        message,
    )])
}

/// A row-level format failure: `LIGNE_FORMAT` (`technical.parameter.noncoherentinput.ligne`).
pub fn line_error(line: u64, message: impl Into<String>) -> Error {
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

/// An opened file: the operation its rows stand for (legacy CSV = V1, LP-17; otherwise V2) and
/// its rows, lazily.
pub struct Opened {
    /// V1 (legacy CSV: the V2-only attributes of a stored LP are kept, LP-2) or V2.
    pub version: LpVersion,
    /// The input columns (CSV: the header's names, canonical spelling; JSON: the 14 names).
    pub columns: Vec<&'static str>,
    /// The rows.
    pub rows: Box<dyn Iterator<Item = Row> + Send>,
}

/// Opens a file of `format`. A CSV header that is neither the legacy 8 columns nor a valid
/// extended header rejects the file (`FICHIER_FORMAT`, missing and unknown names listed).
pub fn open<R: Read + Send + 'static>(format: Format, reader: R) -> Result<Opened, Error> {
    match format {
        Format::Csv => open_csv(reader),
        Format::Ndjson => Ok(Opened {
            version: LpVersion::V2,
            columns: V2_COLUMNS.to_vec(),
            rows: Box::new(ndjson(reader)),
        }),
        Format::Json => Ok(Opened {
            version: LpVersion::V2,
            columns: V2_COLUMNS.to_vec(),
            rows: Box::new(JsonArray::new(reader)?),
        }),
    }
}

/// Checks a CSV header (LP-17, LP-18); returns the version and each column's parameter.
pub fn header(names: &[String]) -> Result<(LpVersion, Vec<&'static str>), Error> {
    let canon = |n: &str| {
        let n = n.trim().trim_start_matches('\u{feff}').trim();
        V2_COLUMNS
            .iter()
            .copied()
            .find(|c| c.eq_ignore_ascii_case(n))
    };
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| canon(n).is_none())
        .map(|n| n.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    let cols: Vec<&'static str> = names.iter().filter_map(|n| canon(n)).collect();
    let mut seen = Vec::new();
    let mut doubled = Vec::new();
    for c in &cols {
        if seen.contains(c) {
            doubled.push(*c);
        }
        seen.push(*c);
    }
    let legacy = names.len() == 8
        && unknown.is_empty()
        && doubled.is_empty()
        && LEGACY_COLUMNS.iter().all(|c| cols.contains(c));
    if legacy {
        return Ok((LpVersion::V1, cols));
    }
    let mut missing: Vec<&str> = ["typLpa", "codAnu", "codEtp", "codVrsVet"]
        .into_iter()
        .filter(|c| !cols.contains(c))
        .collect();
    if !cols.contains(&"numOPI") && !cols.contains(&"codEtu") {
        missing.push("numOPI ou codEtu");
    }
    if missing.is_empty() && unknown.is_empty() && doubled.is_empty() {
        return Ok((LpVersion::V2, cols));
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("colonnes manquantes : {}", missing.join(", ")));
    }
    if !unknown.is_empty() {
        parts.push(format!("colonnes inconnues : {}", unknown.join(", ")));
    }
    if !doubled.is_empty() {
        parts.push(format!("colonnes en double : {}", doubled.join(", ")));
    }
    Err(file_error(format!(
        "Le format de fichier est incorrect ({}) : en-tête attendu {} (format historique) ou des noms parmi {} avec typLpa, codAnu, codEtp, codVrsVet et numOPI ou codEtu",
        parts.join(" ; "),
        LEGACY_COLUMNS.join(","),
        V2_COLUMNS.join(",")
    )))
}

fn set(p: &mut LpParams, name: &str, value: Option<String>) {
    let slot = match name {
        "typLpa" => &mut p.typ_lpa,
        "codAnu" => &mut p.cod_anu,
        "numOPI" => &mut p.num_opi,
        "codEtu" => &mut p.cod_etu,
        "codEtp" => &mut p.cod_etp,
        "codVrsVet" => &mut p.cod_vrs_vet,
        "codDip" => &mut p.cod_dip,
        "codVrsVdi" => &mut p.cod_vrs_vdi,
        "codRgi" => &mut p.cod_rgi,
        "codStu" => &mut p.cod_stu,
        "libCmtLpa" => &mut p.lib_cmt_lpa,
        "codCatOuiSi" => &mut p.cod_cat_oui_si,
        "mtfCat" => &mut p.mtf_cat,
        _ => &mut p.cod_cat_exo_ext,
    };
    *slot = value;
}

/// The value of parameter `name` in `p` (report and CSV output).
pub fn get(p: &LpParams, name: &str) -> Option<String> {
    match name {
        "typLpa" => p.typ_lpa.clone(),
        "codAnu" => p.cod_anu.clone(),
        "numOPI" => p.num_opi.clone(),
        "codEtu" => p.cod_etu.clone(),
        "codEtp" => p.cod_etp.clone(),
        "codVrsVet" => p.cod_vrs_vet.clone(),
        "codDip" => p.cod_dip.clone(),
        "codVrsVdi" => p.cod_vrs_vdi.clone(),
        "codRgi" => p.cod_rgi.clone(),
        "codStu" => p.cod_stu.clone(),
        "libCmtLpa" => p.lib_cmt_lpa.clone(),
        "codCatOuiSi" => p.cod_cat_oui_si.clone(),
        "mtfCat" => p.mtf_cat.clone(),
        _ => p.cod_cat_exo_ext.clone(),
    }
}

fn open_csv<R: Read + Send + 'static>(reader: R) -> Result<Opened, Error> {
    // The BOM is dropped before the line counter: the csv crate's offsets would not count it.
    let mut reader = BufReader::new(reader);
    if reader
        .fill_buf()
        .map_err(|e| file_error(format!("Fichier illisible : {e}")))?
        .starts_with(b"\xEF\xBB\xBF")
    {
        reader.consume(3);
    }
    let (counted, locator) = LineCounter::new(Lf {
        inner: BufReader::new(reader),
    });
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(b',')
        .flexible(true)
        .has_headers(true)
        .from_reader(BufReader::new(counted));
    let names: Vec<String> = csv
        .headers()
        .map_err(|e| file_error(format!("En-tête illisible : {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    if names.iter().all(|n| n.trim().is_empty()) {
        return Err(file_error(
            "Le format de fichier est incorrect : fichier vide ou sans en-tête",
        ));
    }
    let (version, columns) = header(&names)?;
    let cols = columns.clone();
    let rows = csv
        .into_records()
        .filter_map(move |rec| csv_row(rec, &cols, &locator));
    Ok(Opened {
        version,
        columns,
        rows: Box::new(rows),
    })
}

/// CRLF → LF (the csv crate reports a record after CRLF at the `\n`, which the line counter
/// would count as the previous line); a lone `\r` is kept.
struct Lf<R> {
    inner: BufReader<R>,
}

impl<R: Read> Read for Lf<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut k = 0;
        while k < out.len() {
            let (b, next) = {
                let buf = self.inner.fill_buf()?;
                match buf.first() {
                    None => break,
                    Some(&b) => (b, buf.get(1).copied()),
                }
            };
            self.inner.consume(1);
            if b == b'\r' {
                let next = match next {
                    Some(n) => Some(n),
                    None => self.inner.fill_buf()?.first().copied(),
                };
                if next == Some(b'\n') {
                    continue;
                }
            }
            out[k] = b;
            k += 1;
        }
        Ok(k)
    }
}

fn csv_row(
    rec: Result<csv::StringRecord, csv::Error>,
    cols: &[&'static str],
    locator: &LineLocator,
) -> Option<Row> {
    match rec {
        Ok(r) => {
            let line = r.position().map_or(0, |p| locator.line_at(p.byte()));
            if r.iter().all(|c| c.trim().is_empty()) && r.len() <= 1 {
                return None;
            }
            if r.len() != cols.len() {
                return Some(Row {
                    line,
                    params: Err(line_error(
                        line,
                        format!(
                            "Ligne {line} : {} cellule(s) pour {} colonnes dans l'en-tête",
                            r.len(),
                            cols.len()
                        ),
                    )),
                });
            }
            let mut p = LpParams::default();
            for (name, value) in cols.iter().zip(r.iter()) {
                let v = value.trim();
                set(&mut p, name, (!v.is_empty()).then(|| v.to_owned()));
            }
            Some(Row {
                line,
                params: Ok(p),
            })
        }
        Err(e) => {
            let line = e.position().map_or(0, |p| locator.line_at(p.byte()));
            Some(Row {
                line,
                params: Err(line_error(line, format!("Ligne {line} illisible : {e}"))),
            })
        }
    }
}

fn ndjson<R: Read + Send + 'static>(reader: R) -> impl Iterator<Item = Row> + Send {
    BufReader::new(reader)
        .lines()
        .enumerate()
        .filter_map(|(i, text)| {
            let line = i as u64 + 1;
            match text {
                Err(e) => Some(Row {
                    line,
                    params: Err(line_error(line, format!("Ligne {line} illisible : {e}"))),
                }),
                Ok(t) if t.trim().trim_start_matches('\u{feff}').trim().is_empty() => None,
                Ok(t) => Some(Row {
                    line,
                    params: serde_json::from_str::<LpParams>(t.trim_start_matches('\u{feff}'))
                        .map_err(|e| {
                            line_error(line, format!("Ligne {line} : JSON invalide : {e}"))
                        }),
                }),
            }
        })
}

/// A reader that counts the newlines it hands out (JSON array line numbers).
struct Newlines<R> {
    inner: BufReader<R>,
    lines: u64,
}

impl<R: Read> Read for Newlines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.lines += out[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }
}

/// The elements of a JSON array, read one at a time.
struct JsonArray<R> {
    src: Newlines<R>,
    done: bool,
}

impl<R: Read> JsonArray<R> {
    fn new(reader: R) -> Result<Self, Error> {
        let mut a = JsonArray {
            src: Newlines {
                inner: BufReader::new(reader),
                lines: 0,
            },
            done: false,
        };
        match a
            .skip_ws()
            .map_err(|e| file_error(format!("Fichier illisible : {e}")))?
        {
            Some(b'[') => {
                a.bump();
                Ok(a)
            }
            _ => Err(file_error(
                "Le format de fichier est incorrect : un tableau JSON d'objets est attendu",
            )),
        }
    }

    /// Skips white space and a BOM; returns the next byte without consuming it.
    fn skip_ws(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            let buf = self.src.inner.fill_buf()?;
            let Some(&b) = buf.first() else {
                return Ok(None);
            };
            if b == b' '
                || b == b'\t'
                || b == b'\r'
                || b == b'\n'
                || b == 0xEF
                || b == 0xBB
                || b == 0xBF
            {
                if b == b'\n' {
                    self.src.lines += 1;
                }
                self.src.inner.consume(1);
            } else {
                return Ok(Some(b));
            }
        }
    }

    fn bump(&mut self) {
        self.src.inner.consume(1);
    }

    fn fail(&mut self, message: String) -> Option<Row> {
        self.done = true;
        let line = self.src.lines + 1;
        Some(Row {
            line,
            params: Err(file_error(format!("Ligne {line} : {message}"))),
        })
    }
}

impl<R: Read + Send> Iterator for JsonArray<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.done {
            return None;
        }
        let next = match self.skip_ws() {
            Ok(b) => b,
            Err(e) => return self.fail(format!("fichier illisible : {e}")),
        };
        match next {
            Some(b']') => {
                self.done = true;
                return None;
            }
            Some(b',') => {
                self.bump();
                match self.skip_ws() {
                    Ok(Some(b'{')) => {}
                    Ok(_) => return self.fail("objet JSON attendu après « , »".into()),
                    Err(e) => return self.fail(format!("fichier illisible : {e}")),
                }
            }
            Some(b'{') => {}
            None => return self.fail("tableau JSON non terminé".into()),
            Some(b) => return self.fail(format!("caractère inattendu « {} »", b as char)),
        }
        let line = self.src.lines + 1;
        let mut de = serde_json::Deserializer::from_reader(&mut self.src);
        match serde_json::Value::deserialize(&mut de) {
            Err(e) => self.fail(format!("JSON invalide : {e}")),
            Ok(v) => Some(Row {
                line,
                params: serde_json::from_value::<LpParams>(v)
                    .map_err(|e| line_error(line, format!("Ligne {line} : objet invalide : {e}"))),
            }),
        }
    }
}

/// One line of the report (LP-20).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportLine {
    /// Physical line (CSV header = 1).
    pub line: u64,
    /// Type as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ_lpa: Option<String>,
    /// Year as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_anu: Option<String>,
    /// OPI number as read.
    #[serde(rename = "numOPI", default, skip_serializing_if = "Option::is_none")]
    pub num_opi: Option<String>,
    /// Student number as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<String>,
    /// Étape as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_etp: Option<String>,
    /// VET version as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_vrs_vet: Option<String>,
    /// Status, rejection and warnings (`LP_DOUBLON_FICHIER:<line>` names the earlier line).
    #[serde(flatten)]
    pub outcome: LineOutcome,
    /// `COD_IND_OPI` of the resolved OPI (IAPRIMO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_ind_opi: Option<i64>,
    /// `COD_IND` of the resolved student (REINS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_ind: Option<i64>,
}

impl ReportLine {
    /// A line carrying the key columns of `p`.
    pub fn of(line: u64, p: Option<&LpParams>) -> Self {
        let mut r = ReportLine {
            line,
            ..ReportLine::default()
        };
        if let Some(p) = p {
            r.typ_lpa.clone_from(&p.typ_lpa);
            r.cod_anu.clone_from(&p.cod_anu);
            r.num_opi.clone_from(&p.num_opi);
            r.cod_etu.clone_from(&p.cod_etu);
            r.cod_etp.clone_from(&p.cod_etp);
            r.cod_vrs_vet.clone_from(&p.cod_vrs_vet);
        }
        r
    }

    /// Marks the line rejected by `err`.
    pub fn reject(mut self, err: &Error) -> Self {
        self.outcome = LineOutcome::rejected(err);
        self
    }

    /// The LP key of a written line (type, person, year, VET), for `LP_DOUBLON_FICHIER`.
    pub fn key(&self) -> Option<(TypLpa, i64, String, String, String)> {
        let typ = TypLpa::parse(self.typ_lpa.as_deref()?)?;
        let person = match typ {
            TypLpa::Iaprimo => self.cod_ind_opi?,
            TypLpa::Reins => self.cod_ind?,
        };
        Some((
            typ,
            person,
            self.cod_anu.clone()?.trim().to_owned(),
            self.cod_etp.clone()?.trim().to_owned(),
            self.cod_vrs_vet
                .as_deref()?
                .trim()
                .parse::<i32>()
                .ok()?
                .to_string(),
        ))
    }
}

/// Counts of a batch (LP-20).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Rows read, LPs created, updated, already identical, rows rejected.
    #[serde(flatten)]
    pub counts: Counts,
    /// File-level errors (e.g. a JSON array broken half-way: the rows after it are not read).
    pub file_errors: Vec<String>,
}

/// The CSV answer's columns: the key input columns, then the outcome.
pub const CSV_COLUMNS: [&str; 13] = [
    "line",
    "typLpa",
    "codAnu",
    "numOPI",
    "codEtu",
    "codEtp",
    "codVrsVet",
    "status",
    "faultKey",
    "message",
    "warnings",
    "codIndOpi",
    "codInd",
];

/// One report line as a CSV record.
pub fn csv_line(l: &ReportLine) -> String {
    let q = |v: &str| {
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_owned()
        }
    };
    let o = |v: &Option<String>| q(v.as_deref().unwrap_or(""));
    let n = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    [
        l.line.to_string(),
        o(&l.typ_lpa),
        o(&l.cod_anu),
        o(&l.num_opi),
        o(&l.cod_etu),
        o(&l.cod_etp),
        o(&l.cod_vrs_vet),
        l.outcome.status.as_str().to_owned(),
        o(&l.outcome.fault_key),
        o(&l.outcome.message),
        q(&l.outcome.warnings.join(" ")),
        n(l.cod_ind_opi),
        n(l.cod_ind),
    ]
    .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(format: Format, text: &str) -> Result<(LpVersion, Vec<Row>), Error> {
        let o = open(format, std::io::Cursor::new(text.as_bytes().to_vec()))?;
        Ok((o.version, o.rows.collect()))
    }

    #[test]
    fn legacy_csv_with_bom_quotes_crlf_and_blank_lines() -> Result<(), Box<dyn std::error::Error>> {
        let text = "\u{feff}typLpa,codAnu,numOPI,codEtp,codVrsVet,codDip,codVrsVdi,libCmtLpa\r\n\
                    IAPRIMO,2017,OP00014520,ETPY,113,MA2DIPL,113,example\r\n\r\n\
                    IAPRIMO,2017,OP1,ETPY,113,,,\"a, \"\"quoted\"\"\r\ncomment\"\r\n\
                    IAPRIMO,2017\n";
        let (version, rows) = rows(Format::Csv, text)?;
        assert_eq!(version, LpVersion::V1);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].line, 2);
        let p = rows[0].params.as_ref().map_err(|e| e.message.clone())?;
        assert_eq!(p.num_opi.as_deref(), Some("OP00014520"));
        assert_eq!(p.cod_vrs_vdi.as_deref(), Some("113"));
        assert_eq!(rows[1].line, 4);
        let p = rows[1].params.as_ref().map_err(|e| e.message.clone())?;
        assert_eq!(p.lib_cmt_lpa.as_deref(), Some("a, \"quoted\"\ncomment"));
        assert_eq!(p.cod_dip, None);
        assert_eq!(rows[2].line, 6);
        let e = rows[2].params.as_ref().err().ok_or("accepted")?;
        assert_eq!(e.errors[0].code, "LIGNE_FORMAT");
        Ok(())
    }

    #[test]
    fn headers_are_checked() -> Result<(), Box<dyn std::error::Error>> {
        let (v, _) = rows(Format::Csv, " TYPLPA ,codanu,codEtu,codEtp,codVrsVet\n")?;
        assert_eq!(v, LpVersion::V2);
        for bad in [
            "typLpa,codAnu,numOPI,codEtp,codVrsVet,colonne\n",
            "typLpa,codAnu,codEtp,codVrsVet\n",
            "",
        ] {
            let e = rows(Format::Csv, bad).err().ok_or(bad)?;
            assert_eq!(e.errors[0].code, "FICHIER_FORMAT", "{bad}");
        }
        let e = rows(Format::Csv, "typLpa,codAnu,numOPI,codEtp,codVrsVet,x\n")
            .err()
            .ok_or("accepted")?;
        assert!(
            e.message.contains("colonnes inconnues : x"),
            "{}",
            e.message
        );
        Ok(())
    }

    #[test]
    fn json_array_and_ndjson() -> Result<(), Box<dyn std::error::Error>> {
        let (_, r) = rows(
            Format::Json,
            "[\n {\"typLpa\":\"REINS\",\"codEtu\":22512345},\n\n {\"typLpa\":\"IAPRIMO\"}\n]",
        )?;
        assert_eq!(r.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 4]);
        let p = r[0].params.as_ref().map_err(|e| e.message.clone())?;
        assert_eq!(p.cod_etu.as_deref(), Some("22512345"));
        let (_, r) = rows(Format::Json, "[{\"typLpa\":\"REINS\"}, {\"typLpa\":")?;
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[1].params.as_ref().err().map(|e| e.errors[0].code.clone()),
            Some("FICHIER_FORMAT".into())
        );
        let (_, r) = rows(Format::Ndjson, "{\"typLpa\":\"REINS\"}\n\n{oops\n")?;
        assert_eq!(r.iter().map(|r| r.line).collect::<Vec<_>>(), vec![1, 3]);
        assert!(r[1].params.is_err());
        Ok(())
    }
}
