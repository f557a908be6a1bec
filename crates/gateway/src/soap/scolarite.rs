//! `ScolariteMetier` (§8): recupererBacOuEquWS, recupererOptBacWS, recupererSpeBacWS; the 5 other 6.70 operations are declared and answer a fault
//! (`soap-read-services.md`), answered from the referential snapshot by [`super::read`].

use super::read::read_service;
use super::service::Service;

/// The service.
pub static SERVICE: Service = read_service!(apogee_domain::refread::SCOLARITE, "ScolariteMetier");
