//! The SOAP endpoints: `<base>/<Service>` for calls (POST) and WSDL (GET), under every
//! configured base path. A call is authenticated, checked (SOAP 1.1, content type), decoded and
//! routed on the request element's QName, never on `SOAPAction`; the answer or the fault is
//! rendered and journaled here, for every service alike.

use super::fault::{business_fault, codec_fault, xml_response};
use super::service::{Ctx, Failure, Handler, RawBody, Registry, Reply, Service};
use super::wsdl;
use crate::http::extract::authenticate;
use crate::http::journal;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_soap::{FaultCode, SoapError};

/// Registers the SOAP routes of `registry` under every base path.
pub fn configure(
    cfg: &mut web::ServiceConfig,
    registry: Registry,
    base_paths: &[String],
    soap_bytes: usize,
) {
    for base in base_paths {
        let base = base.trim_end_matches('/');
        cfg.service(
            web::resource(format!("{base}/abstract/{{file}}"))
                .app_data(web::Data::new(registry))
                .route(web::get().to(wsdl::abstract_document)),
        )
        .service(
            web::resource(format!("{base}/{{service}}"))
                .app_data(web::Data::new(registry))
                .app_data(web::PayloadConfig::default().limit(soap_bytes))
                .route(web::get().to(wsdl::concrete))
                .route(web::post().to(call))
                .default_service(web::to(method_not_allowed)),
        );
    }
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .finish()
}

/// `POST <base>/<Service>`: one SOAP call.
async fn call(
    req: HttpRequest,
    app: web::Data<App>,
    registry: web::Data<Registry>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(service) = registry.find(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain")
            .body("unknown service");
    };
    let ctx = match begin(&req, app, service).await {
        Ok(ctx) => ctx,
        Err(refused) => return refused,
    };
    let reply = run(ctx.clone(), body).await;
    answer(&ctx, reply)
}

/// The operation's answer: a streamed service gets the raw body, the others the decoded one.
async fn run(ctx: Ctx, body: web::Bytes) -> Reply {
    let content_type = content_type(&ctx.req);
    match ctx.service.streamed() {
        Some(streamed) => {
            let content_type = content_type.unwrap_or_else(|| "text/xml".to_owned());
            let raw = RawBody {
                bytes: body,
                content_type,
            };
            streamed(ctx, raw).await
        }
        None => decoded(ctx, &body, content_type.as_deref()).await,
    }
}

fn content_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Authentication, the service's scope, SOAP 1.1: the faults every call may get first.
async fn begin(
    req: &HttpRequest,
    app: web::Data<App>,
    service: &'static Service,
) -> Result<Ctx, HttpResponse> {
    journal::note(req, |n| {
        n.operation = Some(format!("{} (appel invalide)", service.name))
    });
    let caller = authenticate(req, &app)
        .await
        .map_err(|e| business_fault(req, service, &e))?;
    caller
        .require(service.scope)
        .map_err(|e| business_fault(req, service, &e.0))?;
    if mime(req) == "application/soap+xml" {
        let e = SoapError::new(
            FaultCode::VersionMismatch,
            "SOAP 1.2 (application/soap+xml) non pris en charge : ce service parle SOAP 1.1 (text/xml)",
        );
        return Err(codec_fault(req, service, &e));
    }
    Ok(Ctx {
        req: req.clone(),
        app,
        call: caller.call,
        service,
    })
}

fn mime(req: &HttpRequest) -> String {
    content_type(req)
        .as_deref()
        .unwrap_or("text/xml")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A `text/xml` envelope decoded, then handed to the operation its element names.
async fn decoded(ctx: Ctx, body: &[u8], content_type: Option<&str>) -> Reply {
    let mime = mime(&ctx.req);
    if !matches!(mime.as_str(), "text/xml" | "application/xml") {
        return Err(Failure::Codec(SoapError::client(format!(
            "Type de contenu non pris en charge : {mime} (text/xml attendu)"
        ))));
    }
    let request = apogee_soap::decode(body, content_type, &ctx.limits())?;
    ctx.note(|n| n.operation = Some(request.operation.clone()));
    ctx.service.check_namespace(&request)?;
    match ctx.service.operation(&request.operation).map(|o| o.handler) {
        Some(Handler::Decoded(run)) => run(ctx, request).await,
        _ => Err(Failure::Codec(
            ctx.service.unknown_operation(&request.operation),
        )),
    }
}

fn answer(ctx: &Ctx, reply: Reply) -> HttpResponse {
    match reply {
        Ok(envelope) => xml_response(StatusCode::OK, envelope),
        Err(Failure::Codec(e)) => codec_fault(&ctx.req, ctx.service, &e),
        Err(Failure::Business(e)) => business_fault(&ctx.req, ctx.service, &e),
    }
}
