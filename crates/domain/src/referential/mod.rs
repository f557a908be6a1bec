//! The referential (nomenclatures): table definitions, row parsing and the in-memory snapshot the
//! business rules validate against.

pub mod defs;
pub mod record;
pub mod snapshot;

pub use defs::{ColumnDef, ColumnKind, TABLES, TableDef, table};
pub use record::{ParsedRow, Record, Value};
pub use snapshot::Referential;
