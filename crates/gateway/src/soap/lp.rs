//! `LaissezPasserMetier`: `mettreAJourLaissezPasserWS` (V1) and `mettreAJourLaissezPasserWS_V2`.
//! Success is the empty response wrapper whatever the LP-8 outcome (created, updated,
//! unchanged); errors are `WebBaseException` faults whose `lastErrorMsg` names the row.

use super::service::{Ctx, Handler, Operation, Reply, Service};
use apogee_app::lp;
use apogee_domain::Scope;
use apogee_soap::encode;
use apogee_soap::ops::{LP_NS, LpRequest};

/// The service.
pub static SERVICE: Service = Service {
    name: "LaissezPasserMetier",
    namespace: LP_NS,
    also_accepts: &[],
    scope: Scope::LpWrite,
    wsdl: include_str!("../../../../wsdl/LaissezPasserMetier.wsdl"),
    abstract_wsdl: include_str!("../../../../wsdl/abstract/LaissezPasserMetier.wsdl"),
    operations: &[
        Operation {
            name: "mettreAJourLaissezPasserWS",
            handler: Handler::Decoded(|ctx, req| Box::pin(put(ctx, req))),
        },
        Operation {
            name: "mettreAJourLaissezPasserWS_V2",
            handler: Handler::Decoded(|ctx, req| Box::pin(put(ctx, req))),
        },
    ],
    read: None,
};

/// One LP, validated and stored (LP-3 … LP-8, LP-11).
async fn put(ctx: Ctx, request: apogee_soap::Request) -> Reply {
    let Some(op) = LpRequest::from_request(&request) else {
        return Err(ctx.service.unknown_operation(&request.operation).into());
    };
    let op = op?;
    if let Some(key) = lp::journal_key(&op.params) {
        ctx.note(|n| n.key = Some(key));
    }
    let applied = lp::put(&ctx.app, &ctx.call, &op.params, op.version).await?;
    let mut codes = lp::warning_codes(&applied);
    codes.extend(op.ignored.iter().map(|p| format!("ELEMENT_IGNORE:{p}")));
    codes.push(lp::outcome_code(&applied));
    ctx.note(|n| n.warnings = codes);
    Ok(encode::empty_response(LP_NS, op.response_wrapper()))
}
