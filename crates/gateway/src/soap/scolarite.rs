//! `ScolariteMetier (§8): recupererBacOuEquWS, recupererOptBacWS, recupererSpeBacWS; the 5 other 6.70 operations are declared and answer a fault`
//! (`soap-read-services.md`), answered from the referential snapshot by [`super::read`].

use super::service::Service;
use apogee_domain::Scope;
use apogee_domain::refread::SCOLARITE;

/// The service.
pub static SERVICE: Service = Service {
    name: SCOLARITE.name,
    namespace: SCOLARITE.namespace,
    also_accepts: &[],
    scope: Scope::RefRead,
    wsdl: include_str!("../../../../wsdl/ScolariteMetier.wsdl"),
    abstract_wsdl: include_str!("../../../../wsdl/abstract/ScolariteMetier.wsdl"),
    operations: &[],
    read: Some(&SCOLARITE),
};
