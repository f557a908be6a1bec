//! An immutable in-memory copy of the whole referential, rebuilt when it changes. Validation reads
//! it without touching the database.

use super::defs::{TABLES, TableDef};
use super::record::{Record, Value};
use std::collections::HashMap;

/// The referential at one version.
#[derive(Debug, Default, Clone)]
pub struct Referential {
    /// Version counter of the stored referential this snapshot reflects.
    pub version: i64,
    /// Per table, its records by key (the key columns joined by [`KEY_SEPARATOR`]: one string
    /// to build per lookup).
    tables: HashMap<&'static str, HashMap<String, Record>>,
}

/// Joins the columns of a key (a control character: no code contains it).
const KEY_SEPARATOR: char = '\u{1F}';

fn joined<S: AsRef<str>>(key: &[S]) -> String {
    let mut out = String::with_capacity(key.iter().map(|k| k.as_ref().len() + 1).sum());
    for (i, k) in key.iter().enumerate() {
        if i > 0 {
            out.push(KEY_SEPARATOR);
        }
        out.push_str(k.as_ref());
    }
    out
}

/// The state of a code looked up in its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeState {
    /// Not in the table.
    Unknown,
    /// Present and in service (or the table has no in-service flag).
    InService,
    /// Present but flagged out of service (`TEM_EN_SVE_* = 'N'`).
    OutOfService,
}

impl Referential {
    /// A snapshot made of `records` (any order, any tables).
    pub fn from_records(version: i64, records: impl IntoIterator<Item = Record>) -> Self {
        let mut tables: HashMap<&'static str, HashMap<String, Record>> =
            TABLES.iter().map(|t| (t.name, HashMap::new())).collect();
        for r in records {
            tables
                .entry(r.table.name)
                .or_default()
                .insert(joined(&r.key()), r);
        }
        Referential { version, tables }
    }

    /// The record of `table` with key `key` (key columns in definition order).
    pub fn get(&self, table: &str, key: &[&str]) -> Option<&Record> {
        self.tables.get(table).and_then(|t| t.get(&joined(key)))
    }

    /// Whether `table` holds `key`.
    pub fn contains(&self, table: &str, key: &[&str]) -> bool {
        self.get(table, key).is_some()
    }

    /// Whether the code exists and is in service.
    pub fn state(&self, table: &str, key: &[&str]) -> CodeState {
        match self.get(table, key) {
            None => CodeState::Unknown,
            Some(r) => {
                let out = r.table.columns.iter().zip(&r.values).any(|(c, v)| {
                    c.name.starts_with("temEnSve") && matches!(v, Value::Text(t) if t == "N")
                });
                if out {
                    CodeState::OutOfService
                } else {
                    CodeState::InService
                }
            }
        }
    }

    /// Every record of `table`.
    pub fn rows(&self, table: &str) -> impl Iterator<Item = &Record> {
        self.tables.get(table).into_iter().flat_map(|t| t.values())
    }

    /// Number of rows per table.
    pub fn counts(&self) -> Vec<(&'static TableDef, usize)> {
        TABLES
            .iter()
            .map(|t| (t, self.tables.get(t.name).map_or(0, HashMap::len)))
            .collect()
    }

    /// Whether the referential holds no row at all.
    pub fn is_empty(&self) -> bool {
        self.tables.values().all(HashMap::is_empty)
    }

    /// The current academic year: the latest year open for enrolment (`etaAnuIae = 'O'`).
    pub fn current_year(&self) -> Option<String> {
        self.rows("annees")
            .filter(|r| r.get("etaAnuIae") == Some(&Value::Text("O".into())))
            .filter_map(|r| r.get("codAnu").and_then(Value::as_text))
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::super::defs::table;
    use super::super::record::parse_record;
    use super::*;

    #[test]
    fn lookups() -> Result<(), String> {
        let annees = table("annees").ok_or("annees")?;
        let cge = table("centres-gestion").ok_or("cge")?;
        let records = vec![
            parse_record(annees, &[Some("2025"), Some("2025/2026"), Some("N")])
                .map_err(|e| format!("{e:?}"))?,
            parse_record(annees, &[Some("2026"), Some("2026/2027"), Some("O")])
                .map_err(|e| format!("{e:?}"))?,
            parse_record(cge, &[Some("CG1"), Some("x"), None, Some("O"), Some("O")])
                .map_err(|e| format!("{e:?}"))?,
            parse_record(cge, &[Some("CG9"), Some("x"), None, Some("N"), None])
                .map_err(|e| format!("{e:?}"))?,
        ];
        let r = Referential::from_records(1, records);
        assert_eq!(r.current_year().as_deref(), Some("2026"));
        assert_eq!(r.state("centres-gestion", &["CG1"]), CodeState::InService);
        assert_eq!(
            r.state("centres-gestion", &["CG9"]),
            CodeState::OutOfService
        );
        assert_eq!(r.state("centres-gestion", &["CG2"]), CodeState::Unknown);
        assert!(!r.is_empty());
        Ok(())
    }
}
