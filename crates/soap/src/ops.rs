//! The services and operations of the contract, and the typed requests read from a decoded body.

use crate::SoapError;
use crate::decode::Request;
use apogee_domain::opi::dto::DonneesOpi;
use serde::de::DeserializeOwned;

/// `OpiMetier` service namespace.
pub const OPI_NS: &str = "gouv.education.apogee.commun.servicesmetiers.OpiMetier";
/// `PjOpiMetier` service namespace.
pub const PJ_NS: &str = "gouv.education.apogee.commun.servicesmetiers.PjOpiMetier";
/// `LaissezPasserMetier` service namespace.
pub const LP_NS: &str = "gouv.education.apogee.commun.servicesmetiers.LaissezPasserMetier";

/// Dated `OpiMetier` namespaces of older releases (accepted for old v9 clients, §2.2).
pub const OPI_DATED_NS: &[&str] = &[
    "gouv.education.apogee.commun.servicesmetiers.OpiMetier_30042019",
    "gouv.education.apogee.commun.servicesmetiers.OpiMetier_27022018",
];

/// One of the three services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `OpiMetier`.
    Opi,
    /// `PjOpiMetier`.
    Pj,
    /// `LaissezPasserMetier`.
    LaissezPasser,
}

impl Service {
    /// The service (and port) name, as in the endpoint path.
    pub fn name(self) -> &'static str {
        match self {
            Service::Opi => "OpiMetier",
            Service::Pj => "PjOpiMetier",
            Service::LaissezPasser => "LaissezPasserMetier",
        }
    }

    /// The service namespace.
    pub fn namespace(self) -> &'static str {
        match self {
            Service::Opi => OPI_NS,
            Service::Pj => PJ_NS,
            Service::LaissezPasser => LP_NS,
        }
    }

    /// The service of an endpoint name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Service::Opi, Service::Pj, Service::LaissezPasser]
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// Whether `ns` addresses this service.
    pub fn accepts_namespace(self, ns: &str) -> bool {
        ns == self.namespace() || (self == Service::Opi && OPI_DATED_NS.contains(&ns))
    }
}

/// A request body read into a DTO, with the paths of the elements the DTO does not know.
#[derive(Debug, Clone)]
pub struct Typed<T> {
    /// The DTO.
    pub value: T,
    /// Unknown elements, ignored (schema drift, §6 rule 7), reported as warnings.
    pub ignored: Vec<String>,
}

/// Reads the request body into `T`, collecting ignored (unknown) element paths.
pub fn typed<T: DeserializeOwned>(value: &serde_json::Value) -> Result<Typed<T>, SoapError> {
    let mut ignored = Vec::new();
    let value = serde_ignored::deserialize(value, |path| {
        ignored.push(
            path.to_string()
                .replace("?.", "")
                .trim_end_matches(".?")
                .to_owned(),
        )
    })
    .map_err(|e| SoapError::client(format!("Contenu de la requête illisible : {e}")))?;
    Ok(Typed { value, ignored })
}

/// OPI operation version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpiVersion {
    /// `mettreajourDonneesOpi_v9`
    V9,
    /// `mettreajourDonneesOpi_v10`
    V10,
}

/// `mettreajourDonneesOpi_v10` / `_v9`.
#[derive(Debug, Clone)]
pub struct OpiRequest {
    /// Which operation.
    pub version: OpiVersion,
    /// `_donneesOpi` (`None` when absent or nil).
    pub donnees: Option<DonneesOpi>,
    /// Unknown elements.
    pub ignored: Vec<String>,
}

impl OpiRequest {
    /// Reads an OPI request; `None` if the operation is not an OPI operation.
    pub fn from_request(req: &Request) -> Option<Result<Self, SoapError>> {
        let version = match req.operation.as_str() {
            "mettreajourDonneesOpi_v10" => OpiVersion::V10,
            "mettreajourDonneesOpi_v9" => OpiVersion::V9,
            _ => return None,
        };
        let donnees = req
            .body
            .get("_donneesOpi")
            .unwrap_or(&serde_json::Value::Null);
        Some(typed::<Option<DonneesOpi>>(donnees).map(|t| {
            OpiRequest {
                version,
                donnees: t.value,
                ignored: t
                    .ignored
                    .into_iter()
                    .map(|p| format!("_donneesOpi.{p}"))
                    .collect(),
            }
        }))
    }

    /// The response wrapper element.
    pub fn response_wrapper(&self) -> &'static str {
        match self.version {
            OpiVersion::V10 => "mettreajourDonneesOpi_v10Response",
            OpiVersion::V9 => "mettreajourDonneesOpi_v9Response",
        }
    }
}
