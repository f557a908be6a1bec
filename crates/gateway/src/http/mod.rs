//! What every HTTP adapter shares: problem bodies, extractors (`Caller`, `PageQuery`), journal
//! notes, the request middleware, the framework-error fallback, the OpenAPI building blocks.
//! Nothing here imports the adapters (`rest`, `soap`, `facades`) above it.

pub mod body;
pub mod extract;
pub mod fallback;
pub mod guard;
pub mod idempotency;
pub mod journal;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod reply;
pub mod request_id;
