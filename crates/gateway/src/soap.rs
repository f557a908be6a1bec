//! The SOAP endpoints: `<base>/<Service>` for calls (POST) and WSDL (`GET …?wsdl`), and
//! `<base>/abstract/<Service>.wsdl` for the abstract documents the concrete WSDLs import. Calls
//! are routed on the request wrapper's QName, never on `SOAPAction`.

use crate::auth::authenticate;
use crate::error::{ApiError, FaultNote};
use crate::journal::note;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_domain::journal::Outcome;
use apogee_domain::{Error, ErrorKind, FaultKey, Scope};
use apogee_soap::ops::{OpiRequest, Service};
use apogee_soap::{FaultCode, SoapError, encode};

const XML: &str = "text/xml; charset=UTF-8";
/// The address written in our WSDL files, replaced at serve time.
const ADDRESS_PLACEHOLDER: &str = "http://localhost:8080/apo-commun-servicesMetiers/services/";

fn concrete_wsdl(service: Service) -> &'static str {
    match service {
        Service::Opi => include_str!("../../../wsdl/OpiMetier.wsdl"),
        Service::Pj => include_str!("../../../wsdl/PjOpiMetier.wsdl"),
        Service::LaissezPasser => include_str!("../../../wsdl/LaissezPasserMetier.wsdl"),
    }
}

fn abstract_wsdl(service: Service) -> &'static str {
    match service {
        Service::Opi => include_str!("../../../wsdl/abstract/OpiMetier.wsdl"),
        Service::Pj => include_str!("../../../wsdl/abstract/PjOpiMetier.wsdl"),
        Service::LaissezPasser => include_str!("../../../wsdl/abstract/LaissezPasserMetier.wsdl"),
    }
}

/// Registers the SOAP routes under every configured base path.
pub fn configure(cfg: &mut web::ServiceConfig, base_paths: &[String], soap_bytes: usize) {
    for base in base_paths {
        let base = base.trim_end_matches('/');
        cfg.service(
            web::resource(format!("{base}/abstract/{{file}}"))
                .route(web::get().to(abstract_document)),
        )
        .service(
            web::resource(format!("{base}/{{service}}"))
                .app_data(web::PayloadConfig::default().limit(soap_bytes))
                .route(web::get().to(wsdl))
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

/// The externally visible base URL of the service (`soap:address`).
fn endpoint_base(req: &HttpRequest, state: &AppState) -> String {
    let path = req.path();
    let base_path = path.rsplit_once('/').map_or("", |(b, _)| b);
    let base_path = base_path.strip_suffix("/abstract").unwrap_or(base_path);
    match &state.settings.public_url {
        Some(url) => format!("{}{base_path}/", url.trim_end_matches('/')),
        None => {
            let info = req.connection_info();
            format!("{}://{}{base_path}/", info.scheme(), info.host())
        }
    }
}

pub(crate) fn xml_response(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type(XML).body(body)
}

/// `GET <base>/<Service>?wsdl` (no authentication: clients fetch WSDLs without credentials).
async fn wsdl(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let Some(service) = Service::from_name(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain")
            .body("unknown service");
    };
    if !req.query_string().eq_ignore_ascii_case("wsdl") {
        return HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "{} : service SOAP 1.1 ; WSDL : {}?wsdl\n",
                service.name(),
                req.path()
            ));
    }
    let base = endpoint_base(&req, &state);
    xml_response(
        StatusCode::OK,
        concrete_wsdl(service).replace(ADDRESS_PLACEHOLDER, &base),
    )
}

/// `GET <base>/abstract/<Service>.wsdl`.
async fn abstract_document(path: web::Path<String>) -> HttpResponse {
    let service = path.strip_suffix(".wsdl").and_then(Service::from_name);
    match service {
        Some(s) => xml_response(StatusCode::OK, abstract_wsdl(s).to_owned()),
        None => HttpResponse::NotFound()
            .content_type("text/plain")
            .body("unknown document"),
    }
}

/// A fault answer, noted for the journal.
fn fault(
    req: &HttpRequest,
    service: Service,
    status: StatusCode,
    code: FaultCode,
    err: &Error,
) -> HttpResponse {
    let body = encode::fault(
        service.namespace(),
        code,
        err.fault_key.as_str(),
        &err.fault_messages(),
        &err.message,
    );
    note(req, |n| {
        n.fault = Some((err.fault_key.to_string(), err.message.clone()));
        n.outcome = Some(
            if err.kind == ErrorKind::Internal || err.kind == ErrorKind::Unavailable {
                Outcome::Error
            } else {
                Outcome::Rejected
            },
        );
    });
    let mut res = xml_response(status, body);
    res.extensions_mut().insert(FaultNote {
        fault_key: err.fault_key.to_string(),
        message: err.message.clone(),
    });
    if err.kind == ErrorKind::Unauthenticated {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"apogee-gateway\", charset=\"UTF-8\""),
        );
    }
    res
}

pub(crate) fn codec_fault(req: &HttpRequest, service: Service, e: &SoapError) -> HttpResponse {
    let err = Error::new(ErrorKind::Validation, e.fault_key(), e.message.clone());
    fault(
        req,
        service,
        StatusCode::INTERNAL_SERVER_ERROR,
        e.code,
        &err,
    )
}

/// SOAP faults are HTTP 500 (SOAP 1.1 binding), except authentication failures (401/403).
pub(crate) fn business_fault(req: &HttpRequest, service: Service, err: &Error) -> HttpResponse {
    let status = match err.kind {
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    fault(req, service, status, FaultCode::Server, err)
}

fn required_scope(service: Service) -> Scope {
    match service {
        Service::Opi => Scope::OpiWrite,
        Service::Pj => Scope::PjWrite,
        Service::LaissezPasser => Scope::LpWrite,
    }
}

/// `POST <base>/<Service>`: one SOAP call.
async fn call(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(service) = Service::from_name(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain")
            .body("unknown service");
    };
    note(&req, |n| {
        n.operation = Some(format!("{} (appel invalide)", service.name()))
    });
    let caller = match authenticate(&req, &state).await {
        Ok(c) => c,
        Err(ApiError(e)) => return business_fault(&req, service, &e),
    };
    if let Err(ApiError(e)) = caller.require(required_scope(service)) {
        return business_fault(&req, service, &e);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mime = content_type
        .as_deref()
        .unwrap_or("text/xml")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/soap+xml" {
        return codec_fault(
            &req,
            service,
            &SoapError::new(
                FaultCode::VersionMismatch,
                "SOAP 1.2 (application/soap+xml) non pris en charge : ce service parle SOAP 1.1 (text/xml)",
            ),
        );
    }
    if service == Service::Pj {
        // Streamed decoding, inline base64 or MTOM (multipart/related).
        return crate::pj::soap_call(&req, &state, &caller.name, content_type.as_deref(), body)
            .await;
    }
    if !matches!(mime.as_str(), "text/xml" | "application/xml") {
        return codec_fault(
            &req,
            service,
            &SoapError::client(format!(
                "Type de contenu non pris en charge : {mime} (text/xml attendu)"
            )),
        );
    }
    let limits = apogee_soap::Limits {
        max_bytes: state.settings.limits.soap_bytes,
        ..apogee_soap::Limits::default()
    };
    let request = match apogee_soap::decode(&body, content_type.as_deref(), &limits) {
        Ok(r) => r,
        Err(e) => return codec_fault(&req, service, &e),
    };
    note(&req, |n| n.operation = Some(request.operation.clone()));
    if !service.accepts_namespace(&request.namespace) {
        return codec_fault(
            &req,
            service,
            &SoapError::client(format!(
                "Élément {{{}}}{} inconnu du service {} (espace de noms attendu : {})",
                request.namespace,
                request.operation,
                service.name(),
                service.namespace()
            )),
        );
    }
    match service {
        Service::Opi => match OpiRequest::from_request(&request) {
            Some(Ok(op)) => opi_call(&req, &state, &caller.name, op).await,
            Some(Err(e)) => codec_fault(&req, service, &e),
            None => unknown_operation(&req, service, &request.operation),
        },
        Service::LaissezPasser => crate::lp::soap_call(&req, &state, &caller.name, &request).await,
        // PjOpiMetier calls are dispatched before decoding (streamed `_pj`, MTOM).
        Service::Pj => unknown_operation(&req, service, &request.operation),
    }
}

pub(crate) fn unknown_operation(req: &HttpRequest, service: Service, op: &str) -> HttpResponse {
    codec_fault(
        req,
        service,
        &SoapError::client(format!(
            "Opération {op} non disponible sur le service {}",
            service.name()
        )),
    )
}

async fn opi_call(
    req: &HttpRequest,
    state: &AppState,
    client: &str,
    op: OpiRequest,
) -> HttpResponse {
    let Some(donnees) = op.donnees.clone() else {
        return business_fault(req, Service::Opi, &crate::opi::missing_payload());
    };
    if let Some(code) = donnees
        .individu
        .as_ref()
        .and_then(|i| i.cod_opi_int_epo.clone())
    {
        note(req, |n| {
            n.key = Some(("codOpiIntEpo".into(), code.trim().to_owned()))
        });
    }
    let partial = state.settings.opi.soap_partial_voeux;
    match crate::opi::push(state, donnees, partial, client).await {
        Ok((applied, _)) => {
            let mut codes = crate::opi::warning_codes(&applied);
            codes.extend(op.ignored.iter().map(|p| format!("ELEMENT_IGNORE:{p}")));
            note(req, |n| {
                n.key = Some(("codOpiIntEpo".into(), applied.effective_code.clone()));
                n.warnings = codes;
            });
            xml_response(
                StatusCode::OK,
                encode::empty_response(Service::Opi.namespace(), op.response_wrapper()),
            )
        }
        Err(e) => business_fault(req, Service::Opi, &e),
    }
}

/// Framework errors on SOAP routes (payload too large …) as a `Client` fault.
pub fn framework_fault(status: StatusCode, path: &str) -> Option<HttpResponse> {
    let name = path.rsplit('/').next()?;
    let service = Service::from_name(name)?;
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "Message trop volumineux"
    } else {
        "Requête invalide"
    };
    let body = encode::fault(
        service.namespace(),
        FaultCode::Client,
        FaultKey::noncoherent("message").as_str(),
        &[],
        message,
    );
    Some(xml_response(status, body))
}
