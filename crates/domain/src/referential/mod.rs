//! The referential (nomenclatures): table definitions, row parsing and the in-memory snapshot the
//! business rules validate against.

pub mod defs;
pub mod record;
pub mod snapshot;

pub use defs::{ColumnDef, ColumnKind, TABLES, TableDef, table};
pub use record::{ParsedRow, Record, Value};
pub use snapshot::Referential;

/// A snapshot from CSV texts, `(table, csv)` (unit tests of the rules).
#[cfg(test)]
pub(crate) fn from_csv(files: &[(&str, &str)]) -> Result<Referential, String> {
    let mut records = Vec::new();
    for (name, csv) in files {
        let t = table(name).ok_or_else(|| (*name).to_owned())?;
        for row in record::read_csv(t, csv.as_bytes()).map_err(|e| e.message)? {
            records.push(row.result.map_err(|e| format!("{name}: {e:?}"))?);
        }
    }
    Ok(Referential::from_records(1, records))
}
