//! Integration tests: the real server on a random port, against SQLite and PostgreSQL.

mod helpers;

mod auth;
mod crash;
mod cvec;
mod health;
mod interop;
mod journal;
mod lp;
mod lp_batch;
mod openapi;
mod opi_batch;
mod opi_rest;
mod opi_soap;
mod pj;
mod process;
mod referential;
