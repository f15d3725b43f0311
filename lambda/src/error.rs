//! Every way a resize can fail, each with a stable machine-readable code.
//!
//! Two families matter to callers: a *rejection* is about this request (bad input, missing object,
//! hostile image) and is answered with `{"ok": false}` so nobody retries it; a *transient* failure is
//! about the cloud (S3 5xx, throttling, timeouts) and becomes a Lambda error whose type the state
//! machine's Retry matches.

use serde::Serialize;

/// The Lambda `errorType` for failures worth retrying. The state machine's Retry names it.
pub const TRANSIENT_ERROR_TYPE: &str = "TransientError";
/// The Lambda `errorType` for failures no retry can fix (configuration, bugs).
pub const INTERNAL_ERROR_TYPE: &str = "InternalError";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("bucket {bucket:?} is not allowed: {reason}")]
    BucketNotAllowed { bucket: String, reason: String },
    #[error("no object s3://{bucket}/{key}")]
    NotFound { bucket: String, key: String },
    #[error("access denied to s3://{bucket}/{key}")]
    AccessDenied { bucket: String, key: String },
    #[error("input is {size} bytes, over the limit of {max} bytes")]
    InputTooLarge { size: u64, max: u64 },
    #[error("image is {width}x{height} ({pixels} pixels), over the limit of {max} pixels")]
    ImageTooLarge {
        width: u64,
        height: u64,
        pixels: u64,
        max: u64,
    },
    #[error("not a supported image (JPEG, PNG, WebP, GIF or BMP): {0}")]
    UnsupportedFormat(String),
    #[error("corrupt image: {0}")]
    CorruptImage(String),
    /// Worth retrying: the same request may well succeed in a moment.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Not the caller's fault and not worth retrying: configuration or a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable code callers and alarms match on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "INVALID_REQUEST",
            Error::BucketNotAllowed { .. } => "BUCKET_NOT_ALLOWED",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::AccessDenied { .. } => "ACCESS_DENIED",
            Error::InputTooLarge { .. } => "INPUT_TOO_LARGE",
            Error::ImageTooLarge { .. } => "IMAGE_TOO_LARGE",
            Error::UnsupportedFormat(_) => "UNSUPPORTED_FORMAT",
            Error::CorruptImage(_) => "CORRUPT_IMAGE",
            Error::Transient(_) => "TRANSIENT",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP-style status reported in the response's `statusCode`.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidRequest(_) => 400,
            Error::BucketNotAllowed { .. } | Error::AccessDenied { .. } => 403,
            Error::NotFound { .. } => 404,
            Error::InputTooLarge { .. } | Error::ImageTooLarge { .. } => 413,
            Error::UnsupportedFormat(_) => 415,
            Error::CorruptImage(_) => 422,
            Error::Transient(_) => 503,
            Error::Internal(_) => 500,
        }
    }

    /// Rejections are answered with `ok: false`; the rest are Lambda errors.
    pub fn is_rejection(&self) -> bool {
        !matches!(self, Error::Transient(_) | Error::Internal(_))
    }

    /// The Lambda `errorType` for errors that are not rejections.
    pub fn lambda_error_type(&self) -> &'static str {
        match self {
            Error::Transient(_) => TRANSIENT_ERROR_TYPE,
            _ => INTERNAL_ERROR_TYPE,
        }
    }

    /// The same error, its message naming the rendition it came from.
    pub fn in_rendition(self, name: &str) -> Error {
        let named = |message: String| format!("rendition {name:?}: {message}");
        match self {
            Error::InvalidRequest(m) => Error::InvalidRequest(named(m)),
            Error::UnsupportedFormat(m) => Error::UnsupportedFormat(named(m)),
            Error::CorruptImage(m) => Error::CorruptImage(named(m)),
            Error::Transient(m) => Error::Transient(named(m)),
            Error::Internal(m) => Error::Internal(named(m)),
            other => other,
        }
    }

    /// The `error` object of a rejection.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

/// How a failure (not a rejection) leaves the function: a Lambda error whose `errorType` the state
/// machine's Retry matches (`TransientError`) or does not (`InternalError`).
impl From<Error> for lambda_runtime::Diagnostic {
    fn from(error: Error) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.lambda_error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_and_lambda_errors_are_told_apart() {
        assert!(Error::CorruptImage("x".into()).is_rejection());
        assert!(!Error::Transient("x".into()).is_rejection());
        assert_eq!(
            Error::Transient("x".into()).lambda_error_type(),
            "TransientError"
        );
        assert_eq!(
            Error::Internal("x".into()).lambda_error_type(),
            "InternalError"
        );
    }

    /// One value of every variant. The match below has no wildcard: a new variant does not compile
    /// until it is listed here, and then the tests below hold it to CONTRACT.md.
    fn every_variant() -> Vec<Error> {
        let all = vec![
            Error::InvalidRequest(String::new()),
            Error::BucketNotAllowed {
                bucket: "b".into(),
                reason: String::new(),
            },
            Error::NotFound {
                bucket: "b".into(),
                key: "k".into(),
            },
            Error::AccessDenied {
                bucket: "b".into(),
                key: "k".into(),
            },
            Error::InputTooLarge { size: 2, max: 1 },
            Error::ImageTooLarge {
                width: 1,
                height: 1,
                pixels: 1,
                max: 0,
            },
            Error::UnsupportedFormat(String::new()),
            Error::CorruptImage(String::new()),
            Error::Transient(String::new()),
            Error::Internal(String::new()),
        ];
        for error in &all {
            match error {
                Error::InvalidRequest(_)
                | Error::BucketNotAllowed { .. }
                | Error::NotFound { .. }
                | Error::AccessDenied { .. }
                | Error::InputTooLarge { .. }
                | Error::ImageTooLarge { .. }
                | Error::UnsupportedFormat(_)
                | Error::CorruptImage(_)
                | Error::Transient(_)
                | Error::Internal(_) => {}
            }
        }
        all
    }

    /// The `| `CODE` | status | when |` rows of CONTRACT.md's rejection table.
    fn contract_table() -> Vec<(String, u16)> {
        include_str!("../CONTRACT.md")
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let status = cells.get(2)?.parse().ok()?;
                code.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_')
                    .then(|| (code.to_string(), status))
            })
            .collect()
    }

    #[test]
    fn codes_are_stable() {
        let expected = [
            ("INVALID_REQUEST", 400),
            ("BUCKET_NOT_ALLOWED", 403),
            ("NOT_FOUND", 404),
            ("ACCESS_DENIED", 403),
            ("INPUT_TOO_LARGE", 413),
            ("IMAGE_TOO_LARGE", 413),
            ("UNSUPPORTED_FORMAT", 415),
            ("CORRUPT_IMAGE", 422),
            ("TRANSIENT", 503),
            ("INTERNAL", 500),
        ];
        let actual: Vec<(&str, u16)> = every_variant()
            .iter()
            .map(|error| (error.code(), error.status()))
            .collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn the_rejections_are_contract_md_s_table() {
        let mut rejections: Vec<(String, u16)> = every_variant()
            .iter()
            .filter(|error| error.is_rejection())
            .map(|error| (error.code().to_string(), error.status()))
            .collect();
        let mut table = contract_table();
        rejections.sort();
        table.sort();
        assert_eq!(rejections, table, "CONTRACT.md's table and Error disagree");
        // The failures are Lambda errors, named in CONTRACT.md by their errorType.
        let contract = include_str!("../CONTRACT.md");
        for error in every_variant().iter().filter(|e| !e.is_rejection()) {
            let error_type = format!("`{}`", error.lambda_error_type());
            assert!(
                contract.contains(&error_type),
                "CONTRACT.md lacks {error_type}"
            );
        }
    }

    #[test]
    fn failures_become_diagnostics_with_their_error_type() {
        let diagnostic = lambda_runtime::Diagnostic::from(Error::Transient("S3 timed out".into()));
        assert_eq!(diagnostic.error_type, "TransientError");
        assert_eq!(diagnostic.error_message, "transient failure: S3 timed out");
        let diagnostic = lambda_runtime::Diagnostic::from(Error::Internal("bug".into()));
        assert_eq!(diagnostic.error_type, "InternalError");
    }
}
