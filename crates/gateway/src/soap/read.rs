//! The operations of the read services (ReferentielMetier, GeographieMetier, ScolariteMetier,
//! OffreFormationMetier), written once: the parameters read from the request wrapper (the
//! children of `_seCritere` for `recupererSE_v4`), one use case, the items encoded in the
//! DTO's order under the operation's response wrapper and return element.

use super::service::{Ctx, Handler, Operation, Reply};
use apogee_app::refread;
use apogee_domain::refread as refread_op;
use apogee_soap::encode;
use serde_json::Value;

/// The handler of every read operation.
pub static OPERATION: Operation = Operation {
    name: "",
    handler: Handler::Decoded(|ctx, req| Box::pin(answer(ctx, req))),
};

/// (name, value) of the wrapper's children; a DTO parameter's children instead of itself.
/// Elements the operation does not take are ignored and noted as warnings.
fn parameters<'a>(
    op: &refread_op::Operation,
    body: &'a Value,
) -> (Vec<(&'a str, Option<&'a str>)>, Vec<String>) {
    let root = match (op.criteria, op.soap_params.first()) {
        (Some(_), Some(p)) => body.get(*p).unwrap_or(&Value::Null),
        _ => body,
    };
    let mut pairs = Vec::new();
    let mut ignored = Vec::new();
    for (name, value) in root.as_object().into_iter().flatten() {
        let bare = name.strip_prefix('_').unwrap_or(name);
        match value {
            Value::String(_) | Value::Null if op.params().any(|p| p == bare) => {
                pairs.push((name.as_str(), value.as_str()));
            }
            _ => ignored.push(format!("ELEMENT_IGNORE:{name}")),
        }
    }
    (pairs, ignored)
}

async fn answer(ctx: Ctx, request: apogee_soap::Request) -> Reply {
    let Some(op) = ctx
        .service
        .read
        .and_then(|r| r.operation(&request.operation))
    else {
        return Err(ctx.service.unknown_operation(&request.operation).into());
    };
    let (params, ignored) = parameters(op, &request.body);
    if let Some((name, value)) = params.iter().find_map(|(n, v)| v.map(|v| (*n, v))) {
        let (name, value) = (name.trim_start_matches('_').to_owned(), value.to_owned());
        ctx.note(|n| n.key = Some((name, value)));
    }
    ctx.note(|n| n.warnings = ignored);
    let items = refread::answer(&ctx.app, op, params).await?;
    if op.shape == refread_op::Shape::Strings {
        return Ok(encode::strings(
            ctx.service.namespace,
            op.response_wrapper,
            op.return_element,
            &items,
        ));
    }
    Ok(encode::items(
        ctx.service.namespace,
        op.response_wrapper,
        op.return_element,
        &items,
    ))
}

/// The registration of a read service: its definition (`apogee_domain::refread`), its scope,
/// the WSDL documents generated from its shapes (`wsdl/<Service>.wsdl`).
macro_rules! read_service {
    ($def:path, $file:literal) => {
        $crate::soap::service::Service {
            name: $def.name,
            namespace: $def.namespace,
            also_accepts: &[],
            scope: $def.scope,
            wsdl: include_str!(concat!("../../../../wsdl/", $file, ".wsdl")),
            abstract_wsdl: include_str!(concat!("../../../../wsdl/abstract/", $file, ".wsdl")),
            operations: &[],
            read: Some(&$def),
        }
    };
}
pub(crate) use read_service;
