//! Repositories: query functions taking a connection, so callers compose them in transactions.

pub mod clients;
pub mod cvec;
pub mod dossier;
pub mod enrolment;
pub mod idempotency;
pub mod journal;
pub mod lp;
pub mod lp_import;
pub mod meta;
pub mod opi;
pub mod pj;
pub mod referential;
pub mod report;
pub mod student_file;
pub mod students;
