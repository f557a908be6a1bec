//! Repositories: query functions taking a connection, so callers compose them in transactions.

pub mod clients;
pub mod journal;
pub mod meta;
pub mod opi;
pub mod referential;
