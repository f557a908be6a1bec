//! Integration tests: the real server on a random port, against SQLite and PostgreSQL.

mod helpers;

mod auth;
mod auth_matrix;
mod auth_ways;
mod bad_input;
mod browser;
mod compat_sql;
mod crash;
mod cvec;
mod enrolment;
mod health;
mod idempotency;
mod interop;
mod journal;
mod log_privacy;
mod lp;
mod lp_batch;
mod multiprocess;
mod openapi;
mod opi_batch;
mod opi_rest;
mod opi_soap;
mod pj;
mod process;
mod read_services;
mod referential;
mod reports;
mod student_reads;
