//! The use cases of the Apogée gateway: every operation of the product (OPI, attachments,
//! laissez-passer, students, admissions, CVEC, referential, clients, journal), the application
//! state they share and the [`Call`] context they take. No web framework and no SOAP: the
//! REST and SOAP adapters of `apogee-gateway`, the command line, tests and benches call the same
//! functions. Rules live in `apogee-domain`, storage in `apogee-db`.
//!
//! A use case is a plain `async fn(&App, &Call, input) -> Result<output, apogee_domain::Error>`.

pub mod admissions;
pub mod call;
pub mod clients;
pub mod compat_sql;
pub mod cvec;
pub mod enrolment;
pub mod health;
pub mod idempotency;
pub mod ines;
pub mod journal;
pub mod lp;
pub mod metrics;
pub mod opi;
pub mod page;
pub mod permits;
pub mod pj;
pub mod referential;
pub mod refread;
pub mod reports;
pub mod retention;
pub mod sessions;
pub mod settings;
pub mod state;
pub mod students;
pub mod upload;

pub use call::Call;
pub use page::{ListMeta, Page};
pub use settings::Settings;
pub use state::{App, StartError};
