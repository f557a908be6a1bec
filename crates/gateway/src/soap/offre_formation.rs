//! `OffreFormationMetier (§9): recupererSE_v4; recupererEpreuves, recupererGroupe_v3 and recupererSE_v3 are declared and answer a fault`
//! (`soap-read-services.md`), answered from the referential snapshot by [`super::read`].

use super::service::Service;
use apogee_domain::Scope;
use apogee_domain::refread::OFFRE_FORMATION;

/// The service.
pub static SERVICE: Service = Service {
    name: OFFRE_FORMATION.name,
    namespace: OFFRE_FORMATION.namespace,
    also_accepts: &[],
    scope: Scope::RefRead,
    wsdl: include_str!("../../../../wsdl/OffreFormationMetier.wsdl"),
    abstract_wsdl: include_str!("../../../../wsdl/abstract/OffreFormationMetier.wsdl"),
    operations: &[],
    read: Some(&OFFRE_FORMATION),
};
