//! The dashboard's handlers: extract (session, path, query, form), call the report use cases,
//! render a view. Each is a translation, as the REST handlers are.

use super::session::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, UiError, UiResult, UiSession, cookie, csv, html_page,
    same_token, see_other, set_cookie,
};
use super::views;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::reports::{self, ReportQuery};
use apogee_app::{App, Page, clients, opi, sessions};
use apogee_domain::report::CsvTable;
use serde::Deserialize;

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    csrf: String,
}

/// A form that only carries its CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn query_string(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => String::new(),
        q => format!("?{}", super::html::esc(q)),
    }
}

/// `GET /` and `GET /ui`: to the dashboard.
pub async fn to_dashboard() -> HttpResponse {
    see_other("/ui/").finish()
}

/// `GET /ui/login`: the form, with a fresh double-submit CSRF token.
pub async fn login_form(req: HttpRequest) -> HttpResponse {
    let csrf = clients::generate_secret();
    let mut res = html_page(views::login(&csrf, None));
    if let Ok(v) = set_cookie(&req, LOGIN_CSRF_COOKIE, &csrf, Some(600)).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The login page again, with why the secret was refused and its status (401, 403, 503).
fn login_refused(csrf: &str, e: &apogee_domain::Error) -> HttpResponse {
    let mut res = html_page(views::login(csrf, Some(&e.message)));
    *res.status_mut() = actix_web::http::StatusCode::from_u16(e.kind.http_status())
        .unwrap_or(actix_web::http::StatusCode::UNAUTHORIZED);
    res
}

/// `POST /ui/login`: secret → session cookie, then the dashboard.
pub async fn login(
    req: HttpRequest,
    app: web::Data<App>,
    form: web::Form<LoginForm>,
) -> UiResult<HttpResponse> {
    let expected = cookie(&req, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_token(&form.csrf, &expected) {
        return Err(UiError::Csrf);
    }
    let logged = match sessions::login(&app, &form.secret).await {
        Ok(l) => l,
        Err(e) => return Ok(login_refused(&form.csrf, &e)),
    };
    let max_age = sessions::LIFETIME.as_secs();
    Ok(see_other("/ui/")
        .append_header((
            header::SET_COOKIE,
            set_cookie(&req, SESSION_COOKIE, &logged.token, Some(max_age)),
        ))
        .append_header((
            header::SET_COOKIE,
            set_cookie(&req, LOGIN_CSRF_COOKIE, "", Some(0)),
        ))
        .finish())
}

/// `POST /ui/logout`.
pub async fn logout(
    req: HttpRequest,
    app: web::Data<App>,
    s: UiSession,
    form: web::Form<CsrfForm>,
) -> UiResult<HttpResponse> {
    s.check_csrf(&form.csrf)?;
    sessions::logout(&app, &s.token);
    Ok(see_other("/ui/login")
        .append_header((
            header::SET_COOKIE,
            set_cookie(&req, SESSION_COOKIE, "", Some(0)),
        ))
        .finish())
}

/// `GET /ui/`: counters, chart, rejects by cause, clients.
pub async fn dashboard(
    req: HttpRequest,
    app: web::Data<App>,
    s: UiSession,
    q: web::Query<ReportQuery>,
) -> UiResult<HttpResponse> {
    let counters = reports::counters(&app, &q).await?;
    let rejects = reports::rejects(&app, &q).await?;
    let activity = reports::activity(&app, &q).await?;
    let query = query_string(&req);
    let page = views::dashboard(&s.header(), &q, &query, &counters, &rejects, &activity);
    Ok(html_page(page))
}

/// `GET /ui/rejets/{cause}`: the journal rows of a cause.
pub async fn cause(
    req: HttpRequest,
    app: web::Data<App>,
    s: UiSession,
    path: web::Path<String>,
    q: web::Query<ReportQuery>,
) -> UiResult<HttpResponse> {
    let rows = reports::cause_rows(&app, &path, &q, Page::new(Some(200), None)).await?;
    Ok(html_page(views::cause_rows(
        &s.header(),
        &rows,
        &query_string(&req),
    )))
}

/// `GET /ui/rejets/{cause}/export`: the same rows as CSV (up to 1,000).
pub async fn cause_csv(
    app: web::Data<App>,
    _s: UiSession,
    path: web::Path<String>,
    q: web::Query<ReportQuery>,
) -> UiResult<HttpResponse> {
    let rows = reports::cause_rows(&app, &path, &q, Page::new(Some(1000), None)).await?;
    Ok(csv(&format!("rejets-{}", rows.cause), rows.to_csv()))
}

/// `GET /ui/journal/{id}`: one journal row.
pub async fn entry(
    app: web::Data<App>,
    s: UiSession,
    path: web::Path<String>,
) -> UiResult<HttpResponse> {
    let id = path
        .parse()
        .map_err(|_| apogee_domain::Error::bad_request("id", "id : entier attendu"))?;
    let detail = reports::entry(&app, id).await?;
    Ok(html_page(views::entry(&s.header(), &detail)))
}

/// `GET /ui/doublons`.
pub async fn duplicates(app: web::Data<App>, s: UiSession) -> UiResult<HttpResponse> {
    let d = opi::duplicates(&app, Page::new(Some(500), None)).await?;
    Ok(html_page(views::duplicates(&s.header(), &d)))
}

/// `GET /ui/cvec`.
pub async fn cvec(
    app: web::Data<App>,
    s: UiSession,
    q: web::Query<ReportQuery>,
) -> UiResult<HttpResponse> {
    let r = reports::cvec_checks(&app, &q, Page::new(Some(100), None)).await?;
    Ok(html_page(views::cvec(&s.header(), &r)))
}

/// `GET /ui/lots`.
pub async fn lp_batches(app: web::Data<App>, s: UiSession) -> UiResult<HttpResponse> {
    let b = reports::lp_batches(&app, Page::new(Some(200), None)).await?;
    Ok(html_page(views::lp_batches(&s.header(), &b)))
}

/// `GET /ui/lots/{id}`: a batch and its report.
pub async fn lp_batch(
    app: web::Data<App>,
    s: UiSession,
    path: web::Path<String>,
) -> UiResult<HttpResponse> {
    let head = apogee_app::lp::batch::find(&app, &path).await?;
    let lines = reports::lp_batch_lines(&app, &path).await?;
    Ok(html_page(views::lp_batch(&s.header(), &head, &lines)))
}

/// `GET /ui/lots/{id}/rapport.csv`.
pub async fn lp_batch_csv(
    app: web::Data<App>,
    _s: UiSession,
    path: web::Path<String>,
) -> UiResult<HttpResponse> {
    let body = reports::lp_batch_csv(&app, &path).await?;
    Ok(csv(&format!("lot-{}", path.as_str()), body))
}

/// `GET /ui/export/{table}`: a dashboard table as CSV.
pub async fn export(
    app: web::Data<App>,
    _s: UiSession,
    path: web::Path<String>,
    q: web::Query<ReportQuery>,
) -> UiResult<HttpResponse> {
    let page = Page::new(Some(1000), None);
    let body = match path.as_str() {
        "compteurs" => reports::counters(&app, &q).await?.to_csv(),
        "rejets" => reports::rejects(&app, &q).await?.to_csv(),
        "activite" => reports::activity(&app, &q).await?.to_csv(),
        "doublons" => opi::duplicates(&app, page).await?.to_csv(),
        "cvec" => reports::cvec_checks(&app, &q, page).await?.to_csv(),
        "lots" => reports::lp_batches(&app, page).await?.to_csv(),
        other => {
            return Err(apogee_domain::Error::not_found(
                apogee_domain::FaultKey::null_retrieve("table"),
                format!("Aucun tableau « {other} »"),
            )
            .into());
        }
    };
    Ok(csv(&path, body))
}

/// `GET /ui/static/app.css`.
pub async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "max-age=3600"))
        .body(include_str!("app.css"))
}

/// `GET /ui/static/app.js`.
pub async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "max-age=3600"))
        .body(include_str!("app.js"))
}
