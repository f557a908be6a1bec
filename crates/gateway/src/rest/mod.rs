//! The REST API (`/api/v1`, and `/health`, `/metrics`): one file per resource, each handler
//! extracts, calls one use case of `apogee-app` and maps the answer to its view.

pub mod admissions;
pub mod cvec;
pub mod health;
pub mod ine;
pub mod inscriptions;
pub mod journal;
pub mod lp;
pub mod lp_batch;
pub mod me;
pub mod opi;
pub mod opi_batch;
pub mod pj;
pub mod read_services;
pub mod referential;
pub mod reports;
pub mod students;

use actix_web::web;

/// The route table.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let lp = "/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}";
    cfg.route("/health/live", web::get().to(health::live))
        .route("/health/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(health::metrics))
        .service(
            web::scope("/api/v1")
                // Credentials are checked before any extractor reads the body, query or path:
                // a wrong secret answers 401 whatever else is wrong with the request.
                // Then control characters in the path or query are refused (400).
                .wrap(actix_web::middleware::from_fn(
                    crate::http::guard::refuse_controls,
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::http::extract::authenticate_first,
                ))
                .route("/me", web::get().to(me::get))
                .route("/referential", web::get().to(referential::tables))
                .route("/referential/{table}", web::get().to(referential::list))
                .route("/referential/{table}", web::put().to(referential::put))
                .route(
                    "/services/{service}/{operation}",
                    web::get().to(read_services::get),
                )
                .route("/journal", web::get().to(journal::search))
                .route("/reports/counters", web::get().to(reports::counters))
                .route("/reports/rejects", web::get().to(reports::rejects))
                .route(
                    "/reports/rejects/{cause}",
                    web::get().to(reports::cause_rows),
                )
                .route("/reports/activity", web::get().to(reports::activity))
                .route("/reports/duplicates", web::get().to(reports::duplicates))
                .route("/reports/cvec", web::get().to(reports::cvec))
                .route("/reports/lp-batches", web::get().to(reports::lp_batches))
                .route("/opi", web::get().to(opi::search))
                .route("/opi/duplicates", web::get().to(opi::duplicates))
                .route("/opi/batch", web::post().to(opi_batch::post))
                .route("/opi/{code}", web::put().to(opi::put))
                .route("/opi/{code}", web::get().to(opi::get))
                .route("/opi/{code}", web::delete().to(opi::delete))
                .route("/opi/{code}/voeux", web::delete().to(opi::delete_voeux))
                .route("/opi/{code}/pj", web::get().to(pj::list))
                .route("/opi/{code}/pj/{cod_tpj}", web::put().to(pj::put))
                .route("/opi/{code}/pj/{cod_tpj}", web::get().to(pj::download))
                .route("/opi/{code}/pj/{cod_tpj}", web::delete().to(pj::delete))
                .route("/ine/{ine}", web::get().to(ine::get))
                .route("/laissez-passer", web::get().to(lp::list))
                .route("/laissez-passer/batch", web::post().to(lp_batch::post))
                .route("/laissez-passer/batches/{id}", web::get().to(lp_batch::get))
                .route(lp, web::put().to(lp::put))
                .route(lp, web::get().to(lp::get))
                .route(lp, web::delete().to(lp::delete))
                .route("/etudiants", web::get().to(students::list))
                .route("/etudiants/batch", web::post().to(students::batch))
                .route("/etudiants/{codEtu}", web::put().to(students::put))
                .route("/etudiants/{codEtu}", web::get().to(students::get))
                .route(
                    "/etudiants/{cod_etu}/pj/{cod_anu}/{cod_tpj}",
                    web::put().to(pj::put_student_piece),
                )
                .route("/inscriptions", web::post().to(inscriptions::post))
                .route("/inscriptions/batch", web::post().to(inscriptions::batch))
                .route(
                    "/inscriptions/{codEtu}/{codAnu}",
                    web::delete().to(inscriptions::cancel_year),
                )
                .route(
                    "/inscriptions/{codEtu}/{codAnu}/{codEtp}/{codVrsVet}",
                    web::delete().to(inscriptions::cancel_vet),
                )
                .route("/admissions", web::get().to(admissions::list))
                .route("/admissions/{key}", web::get().to(admissions::of_key))
                .route("/cvec/check", web::post().to(cvec::check))
                .route("/cvec/checks", web::get().to(cvec::checks))
                .route("/cvec/attestations", web::get().to(cvec::attestations))
                .route("/cvec/attestations", web::put().to(cvec::load)),
        );
}
