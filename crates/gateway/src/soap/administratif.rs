//! `AdministratifMetier` (§4): recupererAnneesIa, recupererIAAnnuelles_v2, recupererIAEtapes_v3;
//! recupererCursusExterne is declared and answers a fault (`soap-read-services.md`), answered
//! from the student register by [`super::read`], scope `etudiant:read`.

use super::read::read_service;
use super::service::Service;

/// The service.
pub static SERVICE: Service =
    read_service!(apogee_domain::refread::ADMINISTRATIF, "AdministratifMetier");
