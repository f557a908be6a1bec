//! The operator dashboard (`/ui/`, `/` redirects there): server-rendered French HTML pages over
//! the report use cases, with their CSS and a few lines of script embedded in the binary (no
//! request leaves the machine). Pages need a session (`/ui/login`: a client secret holding
//! `journal:read`), never API credentials; see `session` for the cookie and CSRF rules.

pub mod html;
pub mod pages;
pub mod session;
pub mod views;

use actix_web::web;

/// The route table.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::to_dashboard)).service(
        web::scope("/ui")
            .route("", web::get().to(pages::to_dashboard))
            .route("/", web::get().to(pages::dashboard))
            .route("/login", web::get().to(pages::login_form))
            .route("/login", web::post().to(pages::login))
            .route("/logout", web::post().to(pages::logout))
            .route("/rejets/{cause}", web::get().to(pages::cause))
            .route("/rejets/{cause}/export", web::get().to(pages::cause_csv))
            .route("/journal/{id}", web::get().to(pages::entry))
            .route("/doublons", web::get().to(pages::duplicates))
            .route("/cvec", web::get().to(pages::cvec))
            .route("/lots", web::get().to(pages::lp_batches))
            .route("/lots/{id}", web::get().to(pages::lp_batch))
            .route("/lots/{id}/rapport.csv", web::get().to(pages::lp_batch_csv))
            .route("/export/{table}", web::get().to(pages::export))
            .route("/static/app.css", web::get().to(pages::css))
            .route("/static/app.js", web::get().to(pages::js)),
    );
}
