//! One error-code table for every service.
//!
//! Each crate keeps its own `thiserror` enum and says, once, which [`ErrorCode`] each of
//! its variants is ([`HasErrorCode`]). The code alone decides the gRPC status and the
//! HTTP status (the gateway's problem+json reuses [`ErrorCode::http_status`]), so a
//! domain refusal is never reported as a transient failure, and a client knows from the
//! code alone whether retrying can help ([`ErrorCode::is_retryable`]).

use hcp_eventstore::StoreError;

/// What kind of failure an error is, independent of the crate that raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request itself is malformed or names an invalid value.
    InvalidArgument,
    /// The request is well formed but the current state refuses it.
    FailedPrecondition,
    /// The thing asked for does not exist.
    NotFound,
    /// The thing to create exists already.
    AlreadyExists,
    /// A concurrent writer got there first; reload and retry.
    Aborted,
    /// Store or network trouble; retrying later can succeed.
    Unavailable,
    /// A deadline passed.
    DeadlineExceeded,
    /// The caller may not do this.
    PermissionDenied,
    /// The caller did not prove who it is (a wrong or missing token).
    Unauthenticated,
    /// A bug or corrupt data.
    Internal,
}

impl ErrorCode {
    /// Every code, for tables and tests.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::InvalidArgument,
        ErrorCode::FailedPrecondition,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::Aborted,
        ErrorCode::Unavailable,
        ErrorCode::DeadlineExceeded,
        ErrorCode::PermissionDenied,
        ErrorCode::Unauthenticated,
        ErrorCode::Internal,
    ];

    /// The gRPC status code.
    pub fn grpc(self) -> tonic::Code {
        match self {
            ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::FailedPrecondition => tonic::Code::FailedPrecondition,
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::AlreadyExists => tonic::Code::AlreadyExists,
            ErrorCode::Aborted => tonic::Code::Aborted,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::DeadlineExceeded => tonic::Code::DeadlineExceeded,
            ErrorCode::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::Internal => tonic::Code::Internal,
        }
    }

    /// The HTTP status.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument => 400,
            ErrorCode::FailedPrecondition => 422,
            ErrorCode::NotFound => 404,
            ErrorCode::AlreadyExists | ErrorCode::Aborted => 409,
            ErrorCode::Unavailable => 503,
            ErrorCode::DeadlineExceeded => 504,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Internal => 500,
        }
    }

    /// The code a gRPC status stands for (codes outside the table are `Internal`).
    pub fn from_grpc(code: tonic::Code) -> ErrorCode {
        ErrorCode::ALL.into_iter().find(|c| c.grpc() == code).unwrap_or(ErrorCode::Internal)
    }

    /// Whether the same request may succeed later without changing it.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::Aborted | ErrorCode::Unavailable | ErrorCode::DeadlineExceeded)
    }

    /// A short snake-case name, for metrics labels and problem types.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::FailedPrecondition => "failed_precondition",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::Aborted => "aborted",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::DeadlineExceeded => "deadline_exceeded",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Internal => "internal",
        }
    }
}

/// An error that knows its code.
pub trait HasErrorCode: std::fmt::Display {
    /// Which kind of failure this is.
    fn code(&self) -> ErrorCode;
}

/// The gRPC status for any coded error; the message is the error's own text.
pub fn status<E: HasErrorCode + ?Sized>(error: &E) -> tonic::Status {
    tonic::Status::new(error.code().grpc(), error.to_string())
}

impl HasErrorCode for StoreError {
    fn code(&self) -> ErrorCode {
        match self {
            StoreError::Conflict(_) => ErrorCode::Aborted,
            StoreError::InvalidStream { .. }
            | StoreError::InvalidConsumer(_)
            | StoreError::InvalidAppend { .. }
            | StoreError::InvalidUrl { .. } => ErrorCode::InvalidArgument,
            StoreError::IdempotencyMismatch { .. } => ErrorCode::AlreadyExists,
            StoreError::Upcast { .. } | StoreError::Corrupt(_) => ErrorCode::Internal,
            StoreError::Sqlite(_) | StoreError::Nats(_) | StoreError::Closed => ErrorCode::Unavailable,
        }
    }
}

impl HasErrorCode for hcp_domain::resource::ResourceError {
    fn code(&self) -> ErrorCode {
        use hcp_domain::resource::ResourceError as E;
        match self {
            E::NotRegistered => ErrorCode::NotFound,
            E::AlreadyRegistered(_) => ErrorCode::AlreadyExists,
            E::InvalidSpec { .. } | E::ReasonRequired(_) | E::HealthNotReportable(_) => ErrorCode::InvalidArgument,
            _ => ErrorCode::FailedPrecondition,
        }
    }
}

impl HasErrorCode for hcp_domain::workload::WorkloadError {
    fn code(&self) -> ErrorCode {
        use hcp_domain::workload::WorkloadError as E;
        match self {
            E::NotFound => ErrorCode::NotFound,
            E::AlreadyExists(_) => ErrorCode::AlreadyExists,
            E::InvalidSpec { .. }
            | E::WrongResourceCount { .. }
            | E::DuplicateResource(_)
            | E::MigrationToSameResources
            | E::ReasonRequired(_) => ErrorCode::InvalidArgument,
            _ => ErrorCode::FailedPrecondition,
        }
    }
}

impl HasErrorCode for hcp_domain::site::SiteError {
    fn code(&self) -> ErrorCode {
        match self {
            hcp_domain::site::SiteError::NotConfigured => ErrorCode::NotFound,
            _ => ErrorCode::InvalidArgument,
        }
    }
}

impl HasErrorCode for hcp_domain::tenant::TenantError {
    fn code(&self) -> ErrorCode {
        use hcp_domain::tenant::TenantError as E;
        match self {
            E::AlreadyExists(_) => ErrorCode::AlreadyExists,
            E::NotFound => ErrorCode::NotFound,
            E::ZeroWeight | E::InvalidName => ErrorCode::InvalidArgument,
        }
    }
}

impl HasErrorCode for hcp_domain::apikey::ApiKeyError {
    fn code(&self) -> ErrorCode {
        use hcp_domain::apikey::ApiKeyError as E;
        match self {
            E::AlreadyExists(_) => ErrorCode::AlreadyExists,
            E::NotFound => ErrorCode::NotFound,
            E::AlreadyRevoked => ErrorCode::FailedPrecondition,
            E::TenantRequired(_)
            | E::PlatformRoleWithTenant(_)
            | E::InvalidId
            | E::InvalidHash
            | E::ExpiresInThePast
            | E::RevokedInThePast => ErrorCode::InvalidArgument,
        }
    }
}

impl HasErrorCode for hcp_domain::user::UserError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidArgument
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_a_distinct_grpc_code_and_back() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_grpc(code.grpc()), code, "{code:?}");
        }
        assert_eq!(ErrorCode::from_grpc(tonic::Code::Unknown), ErrorCode::Internal);
    }

    #[test]
    fn domain_refusals_are_not_retryable_and_store_trouble_is() {
        assert!(!ErrorCode::InvalidArgument.is_retryable());
        assert!(!ErrorCode::FailedPrecondition.is_retryable());
        assert!(StoreError::Closed.code().is_retryable());
        let conflict = hcp_eventstore::ConcurrencyConflict {
            stream: "s".into(),
            expected: hcp_eventstore::ExpectedVersion::NoStream,
            actual: 1,
        };
        assert_eq!(StoreError::Conflict(conflict).code(), ErrorCode::Aborted);
        assert_eq!(ErrorCode::NotFound.http_status(), 404);
    }
}
