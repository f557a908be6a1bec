//! WSDL serving: `GET <base>/<Service>?wsdl` (the concrete document, its `soap:address` set to
//! where the client reached us, or `public_url`) and `GET <base>/abstract/<Service>.wsdl`. No
//! authentication: clients fetch WSDLs without credentials.

use super::fault::xml_response;
use super::service::Registry;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;

/// The address written in our WSDL files, replaced at serve time.
const ADDRESS_PLACEHOLDER: &str = "http://localhost:8080/apo-commun-servicesMetiers/services/";

fn not_found(what: &str) -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain")
        .body(format!("unknown {what}"))
}

/// The externally visible base URL of the service (`soap:address`).
fn endpoint_base(req: &HttpRequest, app: &App) -> String {
    let path = req.path();
    let base_path = path.rsplit_once('/').map_or("", |(b, _)| b);
    let base_path = base_path.strip_suffix("/abstract").unwrap_or(base_path);
    match &app.settings.public_url {
        Some(url) => format!("{}{base_path}/", url.trim_end_matches('/')),
        None => {
            let info = req.connection_info();
            format!("{}://{}{base_path}/", info.scheme(), info.host())
        }
    }
}

/// `GET <base>/<Service>?wsdl` (without `?wsdl`: a line saying where the WSDL is).
pub async fn concrete(
    req: HttpRequest,
    app: web::Data<App>,
    registry: web::Data<Registry>,
    path: web::Path<String>,
) -> HttpResponse {
    let Some(service) = registry.find(&path) else {
        return not_found("service");
    };
    if !req.query_string().eq_ignore_ascii_case("wsdl") {
        return HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "{} : service SOAP 1.1 ; WSDL : {}?wsdl\n",
                service.name,
                req.path()
            ));
    }
    let base = endpoint_base(&req, &app);
    xml_response(
        StatusCode::OK,
        service.wsdl.replace(ADDRESS_PLACEHOLDER, &base),
    )
}

/// `GET <base>/abstract/<Service>.wsdl`.
pub async fn abstract_document(
    registry: web::Data<Registry>,
    path: web::Path<String>,
) -> HttpResponse {
    match path.strip_suffix(".wsdl").and_then(|n| registry.find(n)) {
        Some(s) => xml_response(StatusCode::OK, s.abstract_wsdl.to_owned()),
        None => not_found("document"),
    }
}
