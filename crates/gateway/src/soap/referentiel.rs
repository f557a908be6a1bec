//! `ReferentielMetier (§6): recupererCGE, recupererComposante_v2, recupererInformationEtabRef, recupererRegimeInscription, recupererSignataire; the 19 other 6.70 operations are declared and answer a fault`
//! (`soap-read-services.md`), answered from the referential snapshot by [`super::read`].

use super::service::Service;
use apogee_domain::Scope;
use apogee_domain::refread::REFERENTIEL;

/// The service.
pub static SERVICE: Service = Service {
    name: REFERENTIEL.name,
    namespace: REFERENTIEL.namespace,
    also_accepts: &[],
    scope: Scope::RefRead,
    wsdl: include_str!("../../../../wsdl/ReferentielMetier.wsdl"),
    abstract_wsdl: include_str!("../../../../wsdl/abstract/ReferentielMetier.wsdl"),
    operations: &[],
    read: Some(&REFERENTIEL),
};
