//! SOAP 1.1 codec of the three Apogée services (`OpiMetier`, `PjOpiMetier`,
//! `LaissezPasserMetier`), written from `soap-contract.md`: a hardened decoder that turns the
//! request wrapper into a tree the domain DTOs deserialize from (the JSON shape REST reads), and encoders for responses and
//! `WebBaseException` faults. No actix, no Diesel.

pub mod decode;
pub mod encode;
#[doc(hidden)]
pub mod fuzzing;
pub mod mtom;
pub mod ops;
pub mod request;
pub mod tree;
pub mod wsdl;

pub use decode::{Limits, Request, decode};
pub use encode::{empty_response, fault, fault_from_error};

/// SOAP 1.1 fault codes we emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// Malformed or unroutable request.
    Client,
    /// Business or processing error (every Apogée fault key).
    Server,
    /// Not a SOAP 1.1 envelope.
    VersionMismatch,
    /// A header addressed to us with `mustUnderstand="1"`.
    MustUnderstand,
}

impl FaultCode {
    /// Local name of the fault code.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultCode::Client => "Client",
            FaultCode::Server => "Server",
            FaultCode::VersionMismatch => "VersionMismatch",
            FaultCode::MustUnderstand => "MustUnderstand",
        }
    }
}

/// A request the codec refuses (before any business rule ran).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct SoapError {
    /// SOAP fault code.
    pub code: FaultCode,
    /// French explanation.
    pub message: String,
    /// The element (or parameter) at fault, when there is one: it names the fault key
    /// (`technical.parameter.noncoherentinput.<element>`).
    pub element: Option<String>,
}

impl SoapError {
    /// An error with `code`.
    pub fn new(code: FaultCode, message: impl Into<String>) -> Self {
        SoapError {
            code,
            message: message.into(),
            element: None,
        }
    }

    /// The same error, naming the element at fault.
    pub fn at(mut self, element: impl Into<String>) -> Self {
        self.element = Some(element.into());
        self
    }

    /// A `Client` error (malformed request).
    pub fn client(message: impl Into<String>) -> Self {
        Self::new(FaultCode::Client, message)
    }

    /// The Apogée fault key of a codec refusal.
    pub fn fault_key(&self) -> apogee_domain::FaultKey {
        match self.code {
            FaultCode::VersionMismatch => apogee_domain::FaultKey::noncoherent("versionSoap"),
            FaultCode::MustUnderstand => apogee_domain::FaultKey::noncoherent("header"),
            // The wire's `_codEtu` is the key's `codEtu`.
            _ => apogee_domain::FaultKey::noncoherent(
                self.element
                    .as_deref()
                    .map_or("message", |e| e.trim_start_matches('_')),
            ),
        }
    }
}
