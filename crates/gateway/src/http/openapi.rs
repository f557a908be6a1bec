//! The OpenAPI building blocks every REST resource uses: the problem responses common to every
//! authenticated operation, the security scheme, the 413/415 of every operation with a body.

use super::problem::ProblemBody;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoResponses, Modify};

/// The problems any authenticated operation may answer.
#[derive(IntoResponses)]
pub enum Problems {
    /// Invalid request
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(ProblemBody),
    /// Missing or invalid credentials
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(ProblemBody),
    /// Missing scope
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(ProblemBody),
}

/// The bearer scheme, and 413/415 on every operation with a request body.
pub struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        let problem = |description: &str| {
            utoipa::openapi::ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ProblemBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.put, &mut item.post].into_iter().flatten() {
                if op.request_body.is_some() {
                    for (code, text) in
                        [("413", "Body too large"), ("415", "Unsupported media type")]
                    {
                        op.responses
                            .responses
                            .entry(code.to_owned())
                            .or_insert_with(|| problem(text).into());
                    }
                }
            }
        }
    }
}
