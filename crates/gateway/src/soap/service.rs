//! What a SOAP service module declares: its name and namespaces, the scope its calls need, its
//! WSDL documents, and its operations (request element → handler). The dispatcher, WSDL serving,
//! authentication, journal and fault rendering are written once, in the other modules of `soap/`.

use crate::http::journal::{self, CallNote};
use actix_web::{HttpRequest, web};
use apogee_app::{App, Call};
use apogee_domain::{Error, Scope};
use apogee_soap::SoapError;
use futures_util::future::LocalBoxFuture;

/// How an operation failed.
#[derive(Debug)]
pub enum Failure {
    /// The codec refused the message (`Client` fault).
    Codec(SoapError),
    /// A rule or storage refused the call (`Server` fault with its Apogée key).
    Business(Error),
}

impl From<SoapError> for Failure {
    fn from(e: SoapError) -> Self {
        Failure::Codec(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Business(e)
    }
}

/// The answer of an operation: the response envelope, or why it failed.
pub type Reply = Result<String, Failure>;

/// What an operation gets besides its request.
#[derive(Clone)]
pub struct Ctx {
    /// The HTTP request (journal notes).
    pub req: HttpRequest,
    /// The application.
    pub app: web::Data<App>,
    /// The call: authenticated client, request id, time.
    pub call: Call,
    /// The service called.
    pub service: &'static Service,
}

impl Ctx {
    /// Adds to the journal's note of the call.
    pub fn note(&self, f: impl FnOnce(&mut CallNote)) {
        journal::note(&self.req, f);
    }

    /// The decoder's limits (`limits.soap_bytes`).
    pub fn limits(&self) -> apogee_soap::Limits {
        apogee_soap::Limits {
            max_bytes: self.app.settings.limits.soap_bytes,
            ..apogee_soap::Limits::default()
        }
    }
}

/// A raw request, for operations that decode the envelope themselves (streamed attachments,
/// MTOM).
pub struct RawBody {
    /// The body.
    pub bytes: web::Bytes,
    /// `Content-Type`, as sent (default `text/xml`).
    pub content_type: String,
}

/// An operation's handler.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Called with the envelope decoded by the common decoder (`text/xml`).
    Decoded(fn(Ctx, apogee_soap::Request) -> LocalBoxFuture<'static, Reply>),
    /// Called with the raw body: the operation decodes it (the only operation of its service).
    Streamed(fn(Ctx, RawBody) -> LocalBoxFuture<'static, Reply>),
}

/// One operation: the local name of its request element, and its handler.
pub struct Operation {
    /// Request element (`mettreajourDonneesOpi_v10` …).
    pub name: &'static str,
    /// Handler.
    pub handler: Handler,
}

/// A SOAP service.
pub struct Service {
    /// Service (and port) name, as in the endpoint path (`OpiMetier`).
    pub name: &'static str,
    /// Its namespace.
    pub namespace: &'static str,
    /// Older namespaces its requests may use.
    pub also_accepts: &'static [&'static str],
    /// The scope its calls need.
    pub scope: Scope,
    /// The concrete WSDL (its `soap:address` is rewritten at serve time).
    pub wsdl: &'static str,
    /// The abstract WSDL the concrete one imports.
    pub abstract_wsdl: &'static str,
    /// Its operations.
    pub operations: &'static [Operation],
    /// A read service: every operation of its definition is answered by [`super::read`].
    pub read: Option<&'static apogee_domain::refread::ReadService>,
}

impl Service {
    /// Whether `ns` addresses this service.
    pub fn accepts_namespace(&self, ns: &str) -> bool {
        ns == self.namespace || self.also_accepts.contains(&ns)
    }

    /// The operation of a request element.
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|o| o.name == name).or_else(|| {
            self.read
                .and_then(|r| r.operation(name))
                .map(|_| &super::read::OPERATION)
        })
    }

    /// The names of its operations (the request elements), in WSDL order.
    pub fn operation_names(&self) -> Vec<&'static str> {
        let read = self.read.into_iter().flat_map(|r| r.operations.iter());
        self.operations
            .iter()
            .map(|o| o.name)
            .chain(read.map(|o| o.name))
            .collect()
    }

    /// The streamed operation, when the service has one.
    pub fn streamed(&self) -> Option<fn(Ctx, RawBody) -> LocalBoxFuture<'static, Reply>> {
        self.operations.iter().find_map(|o| match o.handler {
            Handler::Streamed(h) => Some(h),
            Handler::Decoded(_) => None,
        })
    }

    /// Refuses a request whose element is not in this service's namespace.
    pub fn check_namespace(&self, request: &apogee_soap::Request) -> Result<(), SoapError> {
        if self.accepts_namespace(&request.namespace) {
            return Ok(());
        }
        Err(SoapError::client(format!(
            "Élément {{{}}}{} inconnu du service {} (espace de noms attendu : {})",
            request.namespace, request.operation, self.name, self.namespace
        )))
    }

    /// The fault of an operation this service does not have.
    pub fn unknown_operation(&self, op: &str) -> SoapError {
        SoapError::client(format!(
            "Opération {op} non disponible sur le service {}",
            self.name
        ))
    }
}

/// The registered services.
#[derive(Clone, Copy)]
pub struct Registry(pub &'static [&'static Service]);

impl Registry {
    /// The service of an endpoint name.
    pub fn find(&self, name: &str) -> Option<&'static Service> {
        self.0.iter().copied().find(|s| s.name == name)
    }
}
