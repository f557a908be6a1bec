//! The services and operations of the contract, and the typed requests read from a decoded body.

use crate::SoapError;
use crate::decode::Request;
use crate::tree::Item;
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
    typed_from(value)
}

/// Reads `T` from any self-describing input (the decoder's [`Item`], a JSON value), collecting
/// ignored (unknown) element paths.
pub fn typed_from<'de, T, D>(input: D) -> Result<Typed<T>, SoapError>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
    D::Error: std::fmt::Display,
{
    let mut ignored = Vec::new();
    let value = serde_ignored::deserialize(input, |path| {
        ignored.push(
            path.to_string()
                .replace("?.", "")
                .trim_end_matches(".?")
                .to_owned(),
        )
    })
    .map_err(unreadable)?;
    Ok(Typed { value, ignored })
}

/// [`typed_from`] for an item of the decoder's tree: the same DTO and ignored paths (the fuzz
/// targets compare both), tracked by the tree itself.
pub fn typed_from_item<'de, T>(item: Item<'de>) -> Result<Typed<T>, SoapError>
where
    T: serde::Deserialize<'de>,
{
    let (value, ignored) = item.read_tracking(T::deserialize);
    let value = value.map_err(unreadable)?;
    Ok(Typed { value, ignored })
}

/// A request body that does not fit its DTO.
fn unreadable(e: impl std::fmt::Display) -> SoapError {
    SoapError::client(format!("Contenu de la requête illisible : {e}"))
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
        let donnees = req.tree.root().get("_donneesOpi");
        Some(typed_from_item::<Option<DonneesOpi>>(donnees).map(|t| {
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

/// `mettreAJourLaissezPasserWS` (V1) or `mettreAJourLaissezPasserWS_V2`.
#[derive(Debug, Clone)]
pub struct LpRequest {
    /// Which operation.
    pub version: apogee_domain::lp::LpVersion,
    /// The parameters (V1 names without their leading underscore).
    pub params: apogee_domain::lp::LpParams,
    /// Unknown elements, and parameters of the other version (`soap-contract.md` §4.4: a V1
    /// name in a V2 call, or the reverse, is a different element).
    pub ignored: Vec<String>,
}

/// The three parameters V2 adds.
const LP_V2_ONLY: &[&str] = &["codCatOuiSi", "mtfCat", "codCatExoExt"];

impl LpRequest {
    /// Reads an LP request; `None` if the operation is not an LP operation.
    pub fn from_request(req: &Request) -> Option<Result<Self, SoapError>> {
        use apogee_domain::lp::LpVersion;
        let version = match req.operation.as_str() {
            "mettreAJourLaissezPasserWS" => LpVersion::V1,
            "mettreAJourLaissezPasserWS_V2" => LpVersion::V2,
            _ => return None,
        };
        let mut ignored = Vec::new();
        let mut params = serde_json::Map::new();
        if let Some(body) = req.body().as_object() {
            for (name, value) in body {
                let own = match (version, name.strip_prefix('_')) {
                    (LpVersion::V1, Some(bare)) if !LP_V2_ONLY.contains(&bare) => Some(bare),
                    (LpVersion::V2, None) => Some(name.as_str()),
                    _ => None,
                };
                match own {
                    Some(bare) => {
                        params.insert(bare.to_owned(), value.clone());
                    }
                    None => ignored.push(name.clone()),
                }
            }
        }
        Some(
            typed::<apogee_domain::lp::LpParams>(&serde_json::Value::Object(params)).map(|t| {
                ignored.extend(t.ignored.into_iter().map(|p| match version {
                    LpVersion::V1 => format!("_{p}"),
                    LpVersion::V2 => p,
                }));
                LpRequest {
                    version,
                    params: t.value,
                    ignored,
                }
            }),
        )
    }

    /// The response wrapper element (note the V2 spelling, `…Response_V2`).
    pub fn response_wrapper(&self) -> &'static str {
        match self.version {
            apogee_domain::lp::LpVersion::V1 => "mettreAJourLaissezPasserWSResponse",
            apogee_domain::lp::LpVersion::V2 => "mettreAJourLaissezPasserWSResponse_V2",
        }
    }
}

/// `_pj` as a `recupererPiecesJustificativesOPIWS` request carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PjContent {
    /// Omitted or `xsi:nil`.
    Absent,
    /// Inline base64 text held in the tree (decoded without a sink).
    Base64(String),
    /// Inline base64 text already handed to the decoder's sink (possibly empty: `<_pj/>`).
    Streamed,
    /// MTOM: `xop:Include href` (a `cid:` URL) naming a MIME part.
    Xop(String),
}

/// `recupererPiecesJustificativesOPIWS` (an upload, despite its name): the six parameters, each
/// `None` when absent, nil or empty.
#[derive(Debug, Clone)]
pub struct PjRequest {
    /// `_codOpiIntEpo`.
    pub cod_opi_int_epo: Option<String>,
    /// `_libNomPatIndOpi`.
    pub lib_nom_pat_ind_opi: Option<String>,
    /// `_libPr1IndOpi`.
    pub lib_pr1_ind_opi: Option<String>,
    /// `_codTpj`.
    pub cod_tpj: Option<String>,
    /// `_nomFic`.
    pub nom_fic: Option<String>,
    /// `_pj`.
    pub pj: PjContent,
    /// Unknown elements (ignored, reported as warnings).
    pub ignored: Vec<String>,
}

/// The PJ operation.
pub const PJ_OPERATION: &str = "recupererPiecesJustificativesOPIWS";
/// Its response wrapper.
pub const PJ_RESPONSE_WRAPPER: &str = "recupererPiecesJustificativesOPIWSResponse";
/// The streamed parameter of the PJ operation.
pub const PJ_CONTENT_ELEMENT: &str = "_pj";

impl PjRequest {
    /// Reads a PJ request; `None` if the operation is not the PJ operation.
    pub fn from_request(req: &Request) -> Option<Result<Self, SoapError>> {
        if req.operation != PJ_OPERATION {
            return None;
        }
        Some(Self::read(&req.body()))
    }

    fn read(body: &serde_json::Value) -> Result<Self, SoapError> {
        use serde_json::Value;
        const TEXT: [&str; 5] = [
            "_codOpiIntEpo",
            "_libNomPatIndOpi",
            "_libPr1IndOpi",
            "_codTpj",
            "_nomFic",
        ];
        let empty = serde_json::Map::new();
        let fields = body.as_object().unwrap_or(&empty);
        let text = |name: &str| -> Result<Option<String>, SoapError> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(SoapError::client(format!(
                    "{name} doit être un texte, pas un élément composé"
                ))),
            }
        };
        let pj = match fields.get(PJ_CONTENT_ELEMENT) {
            None | Some(Value::Null) => PjContent::Absent,
            Some(Value::String(s)) => PjContent::Base64(s.clone()),
            Some(Value::Object(m)) => match (m.get("xop:Include"), m.get("streamed")) {
                (Some(Value::String(href)), _) => PjContent::Xop(href.clone()),
                (None, Some(Value::Bool(true))) => PjContent::Streamed,
                _ => {
                    return Err(SoapError::client(
                        "_pj doit contenir le fichier en base64 ou un xop:Include",
                    ));
                }
            },
            Some(_) => {
                return Err(SoapError::client(
                    "_pj doit contenir le fichier en base64 ou un xop:Include",
                ));
            }
        };
        let mut ignored: Vec<String> = fields
            .keys()
            .filter(|k| !TEXT.contains(&k.as_str()) && k.as_str() != PJ_CONTENT_ELEMENT)
            .cloned()
            .collect();
        ignored.sort();
        Ok(PjRequest {
            cod_opi_int_epo: text(TEXT[0])?,
            lib_nom_pat_ind_opi: text(TEXT[1])?,
            lib_pr1_ind_opi: text(TEXT[2])?,
            cod_tpj: text(TEXT[3])?,
            nom_fic: text(TEXT[4])?,
            pj,
            ignored,
        })
    }
}

/// The success response of the PJ operation: `PjOpiRetourDTO` (unqualified) with `msg` = `OK` and
/// `erreurDescription` nil (PJ-8).
pub fn pj_response() -> String {
    crate::encode::response(
        PJ_NS,
        PJ_RESPONSE_WRAPPER,
        "<PjOpiRetourDTO><msg>OK</msg><erreurDescription xsi:nil=\"true\"/></PjOpiRetourDTO>",
    )
}
