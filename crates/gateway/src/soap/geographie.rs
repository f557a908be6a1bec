//! `GeographieMetier` (§7): recupererCommune_v2, recupererCommune (v1), recupererPays, recupererDepartement
//! (`soap-read-services.md`), answered from the referential snapshot by [`super::read`].

use super::read::read_service;
use super::service::Service;

/// The service.
pub static SERVICE: Service = read_service!(apogee_domain::refread::GEOGRAPHIE, "GeographieMetier");
