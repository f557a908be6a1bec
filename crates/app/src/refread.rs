//! The Apogée read services (ReferentielMetier, GeographieMetier, ScolariteMetier,
//! OffreFormationMetier): one use case for the SOAP operations and their REST twins, answered
//! from the in-memory referential snapshot (no query per call; an import is visible within the
//! 10 s refresh of the snapshot).

use crate::App;
use apogee_domain::Error;
use apogee_domain::refread::dto::Obj;
use apogee_domain::refread::{self, Operation, Params, ReadService};
use serde::Serialize;

/// The operation `op` of the read service `service` (404 otherwise).
pub fn find(service: &str, op: &str) -> Result<(&'static ReadService, &'static Operation), Error> {
    let s = refread::service(service).ok_or_else(|| refread::unknown_operation(service, op))?;
    let o = s
        .operation(op)
        .ok_or_else(|| refread::unknown_operation(service, op))?;
    Ok((s, o))
}

/// The answer of `op` to `params` (name, value; the SOAP names or without their `_`). A declared
/// operation the gateway does not serve is a fault before its parameters are read.
pub fn answer<'a>(
    app: &App,
    op: &'static Operation,
    params: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<Vec<Obj>, Error> {
    let snapshot = app.referential();
    if !op.served() {
        return op.call(&snapshot, &Params::default());
    }
    let params = Params::read(op, params)?;
    op.call(&snapshot, &params)
}

/// The REST twin's answer: the same items as the SOAP return elements, as JSON (children in the
/// DTO's names, nil as `null`, lists as arrays).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadAnswer {
    /// Service (`ReferentielMetier` …).
    pub service: &'static str,
    /// Operation (`recupererCGE` …).
    pub operation: &'static str,
    /// The DTO of each item (`CentreGestionDTO2` …).
    pub dto: &'static str,
    /// The items, in the order of the SOAP answer.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<Obj>,
}

/// `GET /api/v1/services/{service}/{operation}`.
pub fn twin<'a>(
    app: &App,
    service: &str,
    operation: &str,
    params: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<ReadAnswer, Error> {
    let (s, op) = find(service, operation)?;
    let items = answer(app, op, params)?;
    Ok(ReadAnswer {
        service: s.name,
        operation: op.name,
        dto: op.returns.map_or("", |d| d.name),
        items,
    })
}
