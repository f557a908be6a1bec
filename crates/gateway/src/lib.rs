//! The Apogée gateway server: the adapters of `apogee-app` on actix-web. `rest/` (one file per
//! resource), `soap/` (a registry of services, one module each) and `facades/` (contracts of
//! other systems: CNOUS, Apogée PJ REST, INES) sit on `http/` (problem bodies, extractors,
//! journal notes, middleware, OpenAPI blocks), which sits on `apogee-app`. `startup` builds the
//! server; `main.rs` only parses the command line and calls into this crate.

pub mod cli;
pub mod config;
pub mod facades;
pub mod http;
pub mod openapi;
pub mod rest;
pub mod soap;
pub mod startup;
pub mod ui;

pub use apogee_app::Settings;
pub use startup::Application;
