//! Domain of the Apogée gateway: types, validation rules, business rules and error kinds.
//! No IO lives here: the database, HTTP and SOAP layers call into this crate.

pub mod batch;
pub mod cvec;
pub mod enrolment;
pub mod error;
pub mod formats;
#[doc(hidden)]
pub mod fuzzing;
pub mod ine;
pub mod journal;
pub mod lines;
pub mod lp;
pub mod opi;
pub mod pj;
pub mod referential;
pub mod refread;
pub mod report;
pub mod scope;
pub mod student;
pub mod table;
pub mod text;

pub use error::{Error, ErrorKind, FaultKey, FieldError, Result};
pub use referential::Referential;
pub use scope::{Scope, Scopes};
