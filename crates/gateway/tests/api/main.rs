//! Integration tests: the real server on a random port, against SQLite and PostgreSQL.

mod helpers;

mod auth;
mod health;
mod journal;
mod process;
mod referential;
