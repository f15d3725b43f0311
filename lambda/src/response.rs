//! The function's answer: what the state machine's Choice (`$.ok`) and API callers read.

use serde::Serialize;
use serde_json::Value;

use crate::engine::{InputFormat, Resized};
use crate::error::{Error, ErrorBody};
use crate::provenance::SkipReason;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Success {
    pub ok: bool,
    pub status_code: u16,
    /// Always `false` here: the output was written by this invocation.
    pub skipped: bool,
    pub dest_bucket: String,
    pub dest_key: String,
    pub body: String,
    pub width: u32,
    pub height: u32,
    pub bytes: usize,
    pub format: &'static str,
    /// What was read: for logs, the demo's table and callers who want to know.
    pub source: SourceSummary,
    /// The output's ThumbHash, base64 (`engine::placeholder`): what a page shows while the image loads.
    pub placeholder: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SourceSummary {
    pub bucket: String,
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub format: InputFormat,
    pub bytes: usize,
    /// The source object's ETag, without quotes (`null` when S3 gave none).
    pub etag: Option<String>,
}

/// Success without a write: the output is already what this request would make, or a newer one is
/// there (see [`crate::provenance`]). `ok: true`, so the state machine succeeds and nobody retries.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub ok: bool,
    pub status_code: u16,
    pub skipped: bool,
    /// `UP_TO_DATE`, `NEWER_OUTPUT_EXISTS` or `SOURCE_CHANGED`.
    pub reason: &'static str,
    pub dest_bucket: String,
    pub dest_key: String,
    pub body: String,
    pub source: SourceSummary,
    /// The placeholder recorded in the metadata of the output at `destKey` (nothing is decoded on this
    /// path); `null` when there is no output there or it records none.
    pub placeholder: Option<String>,
}

impl Skipped {
    pub fn new(
        dest_bucket: String,
        dest_key: String,
        reason: SkipReason,
        source: SourceSummary,
        placeholder: Option<String>,
    ) -> Self {
        Skipped {
            ok: true,
            status_code: 200,
            skipped: true,
            reason: reason.code(),
            body: format!(
                "Skipped s3://{dest_bucket}/{dest_key}: {}",
                reason.message()
            ),
            dest_bucket,
            dest_key,
            source,
            placeholder,
        }
    }
}

/// What a successful invocation answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Written(Success),
    Skipped(Skipped),
}

impl Done {
    pub fn to_json(&self) -> Value {
        match self {
            Done::Written(success) => to_json(success),
            Done::Skipped(skipped) => to_json(skipped),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    pub ok: bool,
    pub status_code: u16,
    pub error: ErrorBody,
    pub body: String,
}

impl Success {
    pub fn new(
        dest_bucket: String,
        dest_key: String,
        resized: &Resized,
        source: SourceSummary,
    ) -> Self {
        Success {
            ok: true,
            status_code: 200,
            skipped: false,
            body: format!("Resized image uploaded to s3://{dest_bucket}/{dest_key}"),
            dest_bucket,
            dest_key,
            width: resized.width,
            height: resized.height,
            bytes: resized.bytes.len(),
            format: resized.format.name(),
            source,
            placeholder: resized.placeholder.clone(),
        }
    }
}

impl From<&Error> for Rejected {
    fn from(error: &Error) -> Self {
        Rejected {
            ok: false,
            status_code: error.status(),
            error: error.to_body(),
            body: format!("{}: {error}", error.code()),
        }
    }
}

/// Serialises an answer. These types hold only strings and numbers, so this cannot fail; the
/// fallback keeps the promise of never panicking anyway.
pub fn to_json(answer: &impl Serialize) -> Value {
    serde_json::to_value(answer).unwrap_or_else(|e| {
        serde_json::json!({"ok": false, "statusCode": 500,
            "error": {"code": "INTERNAL", "message": e.to_string()}, "body": "INTERNAL"})
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{OutputFormat, SourceInfo};
    use serde_json::json;

    #[test]
    fn success_has_the_contract_fields() {
        let resized = Resized {
            bytes: vec![0; 99],
            width: 10,
            height: 5,
            format: OutputFormat::Jpeg,
            source: SourceInfo {
                format: InputFormat::Png,
                width: 20,
                height: 10,
            },
            placeholder: "1QcSHQRnh493V4dIh4eXh1h4kJUI".into(),
        };
        let source = SourceSummary {
            bucket: "in".into(),
            key: "b.png".into(),
            width: 20,
            height: 10,
            format: InputFormat::Png,
            bytes: 1234,
            etag: Some("abc".into()),
        };
        let success = Success::new(
            "out".into(),
            "output/b_resized.jpg".into(),
            &resized,
            source,
        );
        assert_eq!(
            to_json(&success),
            json!({"ok": true, "statusCode": 200, "skipped": false, "destBucket": "out",
                   "destKey": "output/b_resized.jpg",
                   "body": "Resized image uploaded to s3://out/output/b_resized.jpg",
                   "width": 10, "height": 5, "bytes": 99, "format": "jpeg",
                   "source": {"bucket": "in", "key": "b.png", "width": 20, "height": 10,
                              "format": "png", "bytes": 1234, "etag": "abc"},
                   "placeholder": "1QcSHQRnh493V4dIh4eXh1h4kJUI"})
        );
    }

    #[test]
    fn a_skip_is_a_success_with_its_reason() {
        let source = SourceSummary {
            bucket: "in".into(),
            key: "b.png".into(),
            width: 20,
            height: 10,
            format: InputFormat::Png,
            bytes: 1234,
            etag: Some("abc".into()),
        };
        let skipped = Skipped::new(
            "out".into(),
            "output/b_resized.png".into(),
            SkipReason::UpToDate,
            source,
            Some("1QcSHQRnh493V4dIh4eXh1h4kJUI".into()),
        );
        let value = Done::Skipped(skipped).to_json();
        assert_eq!(value["ok"], json!(true));
        assert_eq!(value["skipped"], json!(true));
        assert_eq!(value["reason"], json!("UP_TO_DATE"));
        assert_eq!(value["destKey"], json!("output/b_resized.png"));
        assert_eq!(value["source"]["key"], json!("b.png"));
        assert_eq!(value["placeholder"], json!("1QcSHQRnh493V4dIh4eXh1h4kJUI"));
    }

    #[test]
    fn rejection_has_code_and_status() {
        let error = Error::NotFound {
            bucket: "in".into(),
            key: "k".into(),
        };
        let value = to_json(&Rejected::from(&error));
        assert_eq!(value["ok"], json!(false));
        assert_eq!(value["statusCode"], json!(404));
        assert_eq!(value["error"]["code"], json!("NOT_FOUND"));
        assert!(value["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("NOT_FOUND: ")));
    }
}
