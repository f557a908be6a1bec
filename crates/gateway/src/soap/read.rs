//! The operations of the read services (ReferentielMetier, GeographieMetier, ScolariteMetier,
//! OffreFormationMetier, EtudiantMetier, AdministratifMetier, PedagogiqueMetier), written once:
//! the parameters read from the request wrapper (the children of `_seCritere` for
//! `recupererSE_v4`, of `_parametres` for `recupererListeEtudiants`), one use case, the items encoded in the
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

/// (name, value) of the wrapper's children; a DTO parameter's children instead of itself, its
/// repeated leaves one pair per element and its lists one pair per item and repeated value
/// (`listEtapes/item/{code, listVersion}` → `CODE:VERSION`, or `CODE` without version).
/// Elements the operation does not take are ignored and noted as warnings.
fn parameters(
    op: &refread_op::Operation,
    body: &Value,
) -> (Vec<(String, Option<String>)>, Vec<String>) {
    let root = match (op.criteria, op.soap_params.first()) {
        (Some(_), Some(p)) => body.get(*p).unwrap_or(&Value::Null),
        _ => body,
    };
    let mut pairs = Vec::new();
    let mut ignored = Vec::new();
    for (name, value) in root.as_object().into_iter().flatten() {
        let bare = name.strip_prefix('_').unwrap_or(name);
        if !op.params().any(|p| p == bare) {
            ignored.push(format!("ELEMENT_IGNORE:{name}"));
            continue;
        }
        match value {
            Value::String(_) | Value::Null => {
                pairs.push((name.clone(), value.as_str().map(str::to_owned)))
            }
            Value::Array(values) if op.repeats(bare) => {
                pairs.extend(
                    values
                        .iter()
                        .map(|v| (name.clone(), v.as_str().map(str::to_owned))),
                );
            }
            Value::Object(list) if op.repeats(bare) => {
                let items = list
                    .get("item")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten();
                pairs.extend(items.flat_map(list_item).map(|v| (name.clone(), Some(v))));
            }
            _ => ignored.push(format!("ELEMENT_IGNORE:{name}")),
        }
    }
    (pairs, ignored)
}

/// The values of one item of a list criterion (`EtudiantCritereListeDTO`): `CODE:VERSION` per
/// version, `CODE` without one. An item without code gives `:VERSION`, which the use case refuses.
fn list_item(item: &Value) -> Vec<String> {
    let code = item
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim();
    let versions: Vec<&str> = item
        .get("listVersion")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    match (code.is_empty(), versions.is_empty()) {
        (true, true) => Vec::new(),
        (_, true) => vec![code.to_owned()],
        _ => versions
            .into_iter()
            .map(|v| format!("{code}:{v}"))
            .collect(),
    }
}

async fn answer(ctx: Ctx, request: apogee_soap::Request) -> Reply {
    let Some(op) = ctx
        .service
        .read
        .and_then(|r| r.operation(&request.operation))
    else {
        return Err(ctx.service.unknown_operation(&request.operation).into());
    };
    let (params, ignored) = parameters(op, &request.body());
    if let Some((name, value)) = params.iter().find_map(|(n, v)| v.as_ref().map(|v| (n, v))) {
        let (name, value) = (name.trim_start_matches('_').to_owned(), value.clone());
        ctx.note(|n| n.key = Some((name, value)));
    }
    ctx.note(|n| n.warnings = ignored);
    let pairs = params.iter().map(|(n, v)| (n.as_str(), v.as_deref()));
    let items = refread::answer(&ctx.app, op, pairs).await?;
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
