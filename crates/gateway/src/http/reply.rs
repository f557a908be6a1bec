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

/// The representations a report offers, chosen by `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json` (also for no `Accept`, `*/*`, `application/*`).
    Json,
    /// `text/csv` (also `text/*`).
    Csv,
}

impl Format {
    /// The first acceptable media type of `Accept`, in the order sent (406 when none is).
    pub fn of(req: &actix_web::HttpRequest) -> Result<Format, crate::http::problem::ApiError> {
        let accept = req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .map(|v| v.to_str().unwrap_or("\u{0}"))
            .unwrap_or("")
            .to_ascii_lowercase();
        if accept.trim().is_empty() {
            return Ok(Format::Json);
        }
        for item in accept.split(',') {
            let media = item.split(';').next().unwrap_or("").trim();
            let refused = item
                .split(';')
                .skip(1)
                .any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            if refused {
                continue;
            }
            match media {
                "text/csv" | "text/*" => return Ok(Format::Csv),
                "application/json" | "application/*" | "*/*" => return Ok(Format::Json),
                _ => {}
            }
        }
        Err(crate::http::problem::ApiError(
            apogee_domain::Error::not_acceptable(
                "Accept : ce rapport existe en application/json et en text/csv",
            ),
        ))
    }
}

/// A report as JSON or, after `format`, as a CSV attachment named `<name>.csv`.
pub fn table<T>(format: Format, name: &str, value: &T) -> HttpResponse
where
    T: serde::Serialize + apogee_domain::report::CsvTable,
{
    match format {
        Format::Json => HttpResponse::Ok().json(value),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ))
            .body(value.to_csv()),
    }
}
