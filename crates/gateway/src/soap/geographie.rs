//! `GeographieMetier (§7): recupererCommune_v2, recupererCommune (v1), recupererPays, recupererDepartement`
//! (`soap-read-services.md`), answered from the referential snapshot by [`super::read`].

use super::service::Service;
use apogee_domain::Scope;
use apogee_domain::refread::GEOGRAPHIE;

/// The service.
pub static SERVICE: Service = Service {
    name: GEOGRAPHIE.name,
    namespace: GEOGRAPHIE.namespace,
    also_accepts: &[],
    scope: Scope::RefRead,
    wsdl: include_str!("../../../../wsdl/GeographieMetier.wsdl"),
    abstract_wsdl: include_str!("../../../../wsdl/abstract/GeographieMetier.wsdl"),
    operations: &[],
    read: Some(&GEOGRAPHIE),
};
