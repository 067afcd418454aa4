//! A request's JSON body, refused as a problem (not axum's plain text) when it is not
//! JSON (400), not declared as JSON (415) or too large (413).

use crate::problem::Problem;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;

/// The largest body read, bytes.
pub const MAX_BODY: usize = 1024 * 1024;

/// A JSON body.
pub struct Body(pub Value);

/// A JSON body that may be left out (an empty object then): for actions whose fields
/// are all optional (`POST /v1/hosts/{id}/cordon` with or without a reason).
pub struct OptionalBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for OptionalBody {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        // No body: a length of 0 (whatever its declared type), or neither a length nor a type.
        let empty = match req.headers().get(axum::http::header::CONTENT_LENGTH) {
            Some(length) => length.as_bytes() == b"0",
            None => req.headers().get(axum::http::header::CONTENT_TYPE).is_none(),
        };
        if empty {
            return Ok(OptionalBody(Value::Object(serde_json::Map::new())));
        }
        Body::from_request(req, state).await.map(|Body(v)| OptionalBody(v))
    }
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON (Content-Type: application/json)",
            )),
            Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Problem::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than {MAX_BODY} bytes")))
            }
            Err(e) => Err(Problem::new(StatusCode::BAD_REQUEST, format!("body: {}", e.body_text()))),
        }
    }
}
