//! The dashboard's session: the cookie, the extractor that requires a live session (else a
//! redirection to the login page), the CSRF checks and the HTML error pages.
//!
//! Cookies: `apogee_session` (the session token, HttpOnly, SameSite=Strict, Path=/ui, Secure
//! when the request came over TLS or with `X-Forwarded-Proto: https`), and before login
//! `apogee_login_csrf` (a double-submit token for the login form).

use super::html;
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use apogee_app::App;
use apogee_app::sessions::Session;
use std::future::Future;
use std::pin::Pin;

/// The session cookie.
pub const SESSION_COOKIE: &str = "apogee_session";
/// The login form's CSRF cookie.
pub const LOGIN_CSRF_COOKIE: &str = "apogee_login_csrf";

/// Why a dashboard request fails.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// No live session: go to the login page.
    #[error("session required")]
    Login,
    /// A form without the right CSRF token.
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// A use case refused.
    #[error("{0}")]
    App(#[from] apogee_domain::Error),
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::Login => StatusCode::SEE_OTHER,
            UiError::Csrf => StatusCode::FORBIDDEN,
            UiError::App(e) => {
                StatusCode::from_u16(e.kind.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            UiError::Login => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/ui/login"))
                    .finish();
            }
            UiError::Csrf => {
                "Le formulaire a expiré ou ne vient pas de cette page : rechargez-la et recommencez."
                    .to_owned()
            }
            UiError::App(e) => e.message.clone(),
        };
        let main = format!(
            r#"<p class="error" role="alert">{}</p><p><a href="/ui/">Retour au tableau de bord</a></p>"#,
            html::esc(&message)
        );
        secure_headers(&mut HttpResponse::build(self.status_code()))
            .content_type("text/html; charset=utf-8")
            .body(html::page("Erreur", None, &main))
    }
}

/// A result of a dashboard handler.
pub type UiResult<T> = Result<T, UiError>;

/// The value of cookie `name` of the request.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/ui, Secure behind TLS; `max_age`
/// `Some(0)` deletes it.
pub fn set_cookie(req: &HttpRequest, name: &str, value: &str, max_age: Option<u64>) -> String {
    let secure = if req.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    format!("{name}={value}; Path=/ui; HttpOnly; SameSite=Strict{secure}{age}")
}

/// Headers every dashboard answer carries: no caching, no framing, no script or style from
/// elsewhere.
pub fn secure_headers(
    b: &mut actix_web::HttpResponseBuilder,
) -> &mut actix_web::HttpResponseBuilder {
    b.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
}

/// An HTML page answer.
pub fn html_page(body: String) -> HttpResponse {
    secure_headers(&mut HttpResponse::Ok())
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A CSV download.
pub fn csv(name: &str, body: String) -> HttpResponse {
    secure_headers(&mut HttpResponse::Ok())
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(body)
}

/// A redirection (after a form).
pub fn see_other(location: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::SeeOther();
    b.insert_header((header::LOCATION, location.to_owned()));
    b
}

/// Compares two tokens in constant time (for equal lengths).
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A live session (the extractor redirects to `/ui/login` without one).
pub struct UiSession {
    /// The session token (the cookie's value).
    pub token: String,
    /// The session.
    pub session: Session,
}

impl UiSession {
    /// The page header for this session.
    pub fn header(&self) -> html::Header<'_> {
        html::Header {
            client: &self.session.client.name,
            csrf: &self.session.csrf,
        }
    }

    /// Fails unless `sent` is this session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> UiResult<()> {
        if same_token(sent, &self.session.csrf) {
            Ok(())
        } else {
            Err(UiError::Csrf)
        }
    }
}

impl FromRequest for UiSession {
    type Error = UiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = cookie(req, SESSION_COOKIE);
        let app = req.app_data::<web::Data<App>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(app)) = (token, app) else {
                return Err(UiError::Login);
            };
            let session = app.sessions.get(&token).ok_or(UiError::Login)?;
            Ok(UiSession { token, session })
        })
    }
}
