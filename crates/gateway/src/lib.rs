//! The Apogée gateway server: REST and SOAP handlers, authentication, journal, health and metrics
//! on actix-web. `main.rs` only parses the command line and calls into this crate.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod cvec;
pub mod error;
pub mod journal;
pub mod lp;
pub mod lp_batch;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod opi;
pub mod opi_batch;
pub mod pj;
pub mod referential;
pub mod routes;
pub mod soap;
pub mod state;

pub use app::Application;
pub use config::Settings;
