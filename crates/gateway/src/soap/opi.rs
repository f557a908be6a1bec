//! `OpiMetier`: `mettreajourDonneesOpi_v10` and `_v9` (the same rules as
//! `PUT /api/v1/opi/{code}`). Success is the empty response wrapper; errors are
//! `WebBaseException` faults.

use super::service::{Ctx, Failure, Handler, Operation, Reply, Service};
use apogee_app::opi;
use apogee_domain::Scope;
use apogee_domain::opi::upsert::missing_payload;
use apogee_soap::encode;
use apogee_soap::ops::{OPI_DATED_NS, OPI_NS, OpiRequest};

/// The service.
pub static SERVICE: Service = Service {
    name: "OpiMetier",
    namespace: OPI_NS,
    also_accepts: OPI_DATED_NS,
    scope: Scope::OpiWrite,
    wsdl: include_str!("../../../../wsdl/OpiMetier.wsdl"),
    abstract_wsdl: include_str!("../../../../wsdl/abstract/OpiMetier.wsdl"),
    operations: &[
        Operation {
            name: "mettreajourDonneesOpi_v10",
            handler: Handler::Decoded(|ctx, req| Box::pin(push(ctx, req))),
        },
        Operation {
            name: "mettreajourDonneesOpi_v9",
            handler: Handler::Decoded(|ctx, req| Box::pin(push(ctx, req))),
        },
    ],
    read: None,
};

/// One OPI push: validated and stored in one transaction (OPI-1 … OPI-17).
async fn push(ctx: Ctx, request: apogee_soap::Request) -> Reply {
    let Some(op) = OpiRequest::from_request(&request) else {
        return Err(ctx.service.unknown_operation(&request.operation).into());
    };
    let op = op?;
    let donnees = op.donnees.clone().ok_or_else(missing_payload)?;
    if let Some(code) = donnees
        .individu
        .as_ref()
        .and_then(|i| i.cod_opi_int_epo.clone())
    {
        ctx.note(|n| n.key = Some(("codOpiIntEpo".into(), code.trim().to_owned())));
    }
    let partial = ctx.app.settings.opi.soap_partial_voeux;
    let applied = opi::push(&ctx.app, &ctx.call, donnees, partial)
        .await
        .map_err(Failure::Business)?;
    let mut codes = applied.warning_codes();
    codes.extend(op.ignored.iter().map(|p| format!("ELEMENT_IGNORE:{p}")));
    ctx.note(|n| {
        n.key = Some(("codOpiIntEpo".into(), applied.effective_code.clone()));
        n.warnings = codes;
    });
    Ok(encode::empty_response(OPI_NS, op.response_wrapper()))
}
