//! `PedagogiqueMetier` (§5): recupererContratPedagogiqueResultatVdiVet_v2; the 4 other 6.70
//! operations are declared and answer a fault (`soap-read-services.md`), answered from the
//! student register by [`super::read`], scope `etudiant:read`.

use super::read::read_service;
use super::service::Service;

/// The service.
pub static SERVICE: Service =
    read_service!(apogee_domain::refread::PEDAGOGIQUE, "PedagogiqueMetier");
