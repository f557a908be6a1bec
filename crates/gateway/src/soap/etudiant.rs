//! `EtudiantMetier` (§3): recupererIdentifiantsEtudiant_v2, recupererInfosAdmEtu_v4 and _v3,
//! recupererAdressesEtudiant_v2, recupererListeEtudiants, recupererTypeHebergement (from the
//! referential); the 5 other 6.70 operations are declared and answer a fault
//! (`soap-read-services.md`), answered from the student register by [`super::read`], scope
//! `etudiant:read`.

use super::read::read_service;
use super::service::Service;

/// The service.
pub static SERVICE: Service = read_service!(apogee_domain::refread::ETUDIANT, "EtudiantMetier");
