//! Answers shared by the REST resources.

use actix_web::HttpResponse;

/// `201 Created` for a new resource, else `200 OK`, with `body` as JSON.
pub fn created_or_ok(created: bool, body: impl serde::Serialize) -> HttpResponse {
    if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}
