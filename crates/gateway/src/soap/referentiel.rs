//! `ReferentielMetier` (§6): recupererCGE, recupererComposante_v2, recupererInformationEtabRef, recupererRegimeInscription, recupererSignataire; the 19 other 6.70 operations are declared and answer a fault
//! (`soap-read-services.md`), answered from the referential snapshot by [`super::read`].

use super::read::read_service;
use super::service::Service;

/// The service.
pub static SERVICE: Service =
    read_service!(apogee_domain::refread::REFERENTIEL, "ReferentielMetier");
