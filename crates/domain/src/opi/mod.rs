//! OPI (pré-inscription): the payload and its rules (`domain.md` §3).

pub mod bac;
pub mod batch;
pub mod check;
pub mod dto;
pub mod rules;
pub mod upsert;

pub use check::Warning;
pub use rules::{AcceptedVoeu, Context, Intake, RejectedVoeu, VoeuKey, VoeuxPlan, validate};
