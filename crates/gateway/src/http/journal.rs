//! What a handler tells the journal about its call: operation name, business key, warnings,
//! outcome. The request middleware writes the row when the answer is sent.

use actix_web::HttpMessage;
use apogee_domain::journal::Outcome;

/// The annotations of one call (in the request extensions).
#[derive(Debug, Clone, Default)]
pub struct CallNote {
    /// Operation name, if not the route template (SOAP operations).
    pub operation: Option<String>,
    /// Business key kind and value.
    pub key: Option<(String, String)>,
    /// Warning codes.
    pub warnings: Vec<String>,
    /// Outcome override (e.g. a 200 that rejected some rows).
    pub outcome: Option<Outcome>,
    /// Fault key and message when the call failed without an error response (SOAP faults).
    pub fault: Option<(String, String)>,
}

/// Adds to the call note of the current request.
pub fn note(req: &actix_web::HttpRequest, f: impl FnOnce(&mut CallNote)) {
    let mut ext = req.extensions_mut();
    if ext.get::<CallNote>().is_none() {
        ext.insert(CallNote::default());
    }
    if let Some(n) = ext.get_mut::<CallNote>() {
        f(n);
    }
}

/// Notes the business key of the call.
pub fn key(req: &actix_web::HttpRequest, kind: &str, value: impl Into<String>) {
    let value = value.into();
    note(req, |n| n.key = Some((kind.to_owned(), value)));
}

/// Notes the rejected lines of a batch (the call is `rejected` when there are any).
pub fn rejected_lines(req: &actix_web::HttpRequest, rejected: u64) {
    if rejected > 0 {
        note(req, |n| {
            n.outcome = Some(Outcome::Rejected);
            n.warnings.push(format!("LIGNES_REJETEES:{rejected}"));
        });
    }
}
