//! The INES check facade (INES-1 … INES-3): `POST <ines base>/v1/check-ine` with
//! `{"type", "ine", "cle"}` answering a bare JSON boolean, `GET <ines base>/version`. Any
//! authenticated client, or the configured header.

use super::error::{FacadeError, authorize};
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_app::ines::{self, Verdict};
use apogee_domain::ine::{self as rules, IneFamily, IneValidity};

fn shape(value: &str, len: usize, ok: impl Fn(u8) -> bool) -> bool {
    value.len() == len && value.bytes().all(ok)
}

fn text(json: &serde_json::Value, name: &str) -> Result<String, FacadeError> {
    match json.get(name) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(FacadeError::parameter(
            name,
            format!("Le champ {name} est obligatoire (texte)"),
        )),
    }
}

/// The family a `type` names, and whether `ine` and `cle` have its shape.
fn family_of(kind: &str, ine: &str, cle: &str) -> Result<IneFamily, FacadeError> {
    let (family, ine_ok, cle_ok) = match kind {
        "INES" => (
            IneFamily::Ines,
            shape(ine, 9, |b| b.is_ascii_digit()),
            shape(cle, 2, |b| b.is_ascii_alphabetic()),
        ),
        "BEA" => (
            IneFamily::Bea,
            shape(ine, 10, |b| b.is_ascii_digit()),
            shape(cle, 1, |b| b.is_ascii_alphabetic()),
        ),
        "NNE" | "NNE36" => (
            IneFamily::Nne36,
            shape(ine, 10, |b| b.is_ascii_alphanumeric()),
            shape(cle, 1, |b| b.is_ascii_digit()),
        ),
        _ => {
            return Err(FacadeError::parameter(
                "type",
                "type : INES (ou BEA, NNE, vérifiés hors ligne)",
            ));
        }
    };
    if !ine_ok {
        return Err(FacadeError::parameter(
            "ine",
            format!("ine : format invalide pour le type {kind}"),
        ));
    }
    if !cle_ok {
        return Err(FacadeError::parameter(
            "cle",
            format!("cle : format invalide pour le type {kind}"),
        ));
    }
    Ok(family)
}

/// The verdict of a check request body.
fn verdict(app: &App, body: &[u8]) -> Result<bool, FacadeError> {
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| FacadeError::parameter("body", format!("Corps JSON illisible : {e}")))?;
    let kind = text(&json, "type")?.to_ascii_uppercase();
    let (ine, cle) = (text(&json, "ine")?, text(&json, "cle")?);
    let family = family_of(&kind, &ine, &cle)?;
    let checked = rules::check(&format!("{ine}{cle}"));
    if checked.family != family {
        return Ok(false);
    }
    match checked.valid {
        IneValidity::True => Ok(true),
        IneValidity::False => Ok(false),
        IneValidity::Remote => match ines::verify(app, &checked.normalized) {
            Verdict::Valid => Ok(true),
            Verdict::Invalid => Ok(false),
            Verdict::Unavailable => Err(FacadeError::unavailable(
                "Vérification INES indisponible",
                "Aucun service de vérification INES n'est configuré ou joignable : la clé d'un INES ne se vérifie pas hors ligne".into(),
            )),
        },
    }
}

/// `POST <ines base>/v1/check-ine`.
pub async fn check(
    req: HttpRequest,
    app: web::Data<App>,
    body: web::Bytes,
) -> Result<HttpResponse, FacadeError> {
    authorize(&req, &app, None).await?;
    Ok(HttpResponse::Ok().json(verdict(&app, &body)?))
}

/// `GET <ines base>/version`.
pub async fn version(req: HttpRequest, app: web::Data<App>) -> Result<HttpResponse, FacadeError> {
    authorize(&req, &app, None).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("apogee-gateway {}", env!("CARGO_PKG_VERSION"))))
}
