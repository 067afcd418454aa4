//! Errors as RFC 9457 `application/problem+json`: a type, a title, the HTTP status, a
//! detail, and `errors: [{detail, pointer}]` naming the field at fault where one is known
//! (the services' messages start with it: `spec.gpu_count: ...`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A problem to answer with.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for a person.
    pub detail: String,
    /// The field at fault, as a JSON pointer into the request (`/spec/gpu_count`).
    pub pointer: Option<String>,
}

impl Problem {
    /// A problem with `status` and `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let pointer = field_of(&detail).map(|f| format!("/{}", f.replace('.', "/")));
        Problem { status, detail, pointer }
    }

    /// 401: no key, or not a working one.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Problem { status: StatusCode::UNAUTHORIZED, detail: detail.into(), pointer: None }
    }

    /// 403: a working key that may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem { status: StatusCode::FORBIDDEN, detail: detail.into(), pointer: None }
    }

    /// 404 (also for another tenant's object: its existence is not told).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem { status: StatusCode::NOT_FOUND, detail: detail.into(), pointer: None }
    }

    /// The problem a service's gRPC refusal becomes.
    pub fn from_status(status: &tonic::Status) -> Self {
        use tonic::Code;
        let http = match status.code() {
            Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::FailedPrecondition => StatusCode::UNPROCESSABLE_ENTITY,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Problem::new(http, status.message())
    }
}

/// The dotted field a message starts with (`spec.gpu_count: ...`), if any.
fn field_of(detail: &str) -> Option<&str> {
    let (head, _) = detail.split_once(": ")?;
    let ok = !head.is_empty()
        && head.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    ok.then_some(head)
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let mut body = json!({
            "type": format!("https://hcp.dev/problems/{}", self.status.as_u16()),
            "title": title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Some(pointer) = &self.pointer {
            body["errors"] = json!([{"detail": self.detail, "pointer": pointer}]);
        }
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_at_fault_becomes_a_pointer() {
        let p = Problem::from_status(&tonic::Status::invalid_argument("spec.gpu_count: must be 1 or more"));
        assert_eq!((p.status, p.pointer.as_deref()), (StatusCode::BAD_REQUEST, Some("/spec/gpu_count")));
        let p = Problem::from_status(&tonic::Status::not_found("no workload 01a2"));
        assert_eq!((p.status, p.pointer), (StatusCode::NOT_FOUND, None));
        let p = Problem::from_status(&tonic::Status::already_exists("key: reused with another spec"));
        assert_eq!(p.status, StatusCode::CONFLICT);
    }
}
