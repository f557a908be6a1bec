//! `OffreFormationMetier` (§9): recupererSE_v4; recupererEpreuves, recupererGroupe_v3 and recupererSE_v3 are declared and answer a fault
//! (`soap-read-services.md`), answered from the referential snapshot by [`super::read`].

use super::read::read_service;
use super::service::Service;

/// The service.
pub static SERVICE: Service = read_service!(
    apogee_domain::refread::OFFRE_FORMATION,
    "OffreFormationMetier"
);
