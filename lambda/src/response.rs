//! The function's answer: what the state machine's Choice (`$.ok`) and API callers read.

use serde::Serialize;
use serde_json::Value;

use crate::engine::{InputFormat, OutputFormat};
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
    /// Every output, in the order of the renditions and their formats; `destKey` and the fields above
    /// describe the first one written.
    pub outputs: Vec<OutputSummary>,
    /// The output's ThumbHash, base64 (`engine::placeholder`): what a page shows while the image loads.
    pub placeholder: String,
}

/// One output of the answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OutputSummary {
    /// The rendition's name.
    pub name: String,
    pub format: &'static str,
    pub key: String,
    /// Absent for an output that was not made again (`skipped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    /// Why this output was left as it is (`UP_TO_DATE`, `NEWER_OUTPUT_EXISTS`); absent when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'static str>,
}

impl OutputSummary {
    pub fn written(
        name: &str,
        format: OutputFormat,
        key: &str,
        width: u32,
        height: u32,
        bytes: usize,
    ) -> Self {
        OutputSummary {
            name: name.to_string(),
            format: format.name(),
            key: key.to_string(),
            width: Some(width),
            height: Some(height),
            bytes: Some(bytes),
            skipped: None,
        }
    }

    pub fn skipped(name: &str, format: OutputFormat, key: &str, reason: SkipReason) -> Self {
        OutputSummary {
            name: name.to_string(),
            format: format.name(),
            key: key.to_string(),
            width: None,
            height: None,
            bytes: None,
            skipped: Some(reason.code()),
        }
    }
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
    pub outputs: Vec<OutputSummary>,
    /// The placeholder recorded in the metadata of the output at `destKey` (nothing is decoded on this
    /// path); `null` when there is no output there or it records none.
    pub placeholder: Option<String>,
}

impl Skipped {
    /// `dest_key` is the first output's.
    pub fn new(
        dest_bucket: String,
        reason: SkipReason,
        source: SourceSummary,
        outputs: Vec<OutputSummary>,
        placeholder: Option<String>,
    ) -> Self {
        let dest_key = outputs.first().map(|o| o.key.clone()).unwrap_or_default();
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
            outputs,
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
    /// `outputs` holds at least one written output: the first one written is `destKey`. `placeholder`
    /// is the upload's ThumbHash ([`crate::engine::placeholder`]).
    pub fn new(
        dest_bucket: String,
        source: SourceSummary,
        outputs: Vec<OutputSummary>,
        placeholder: String,
    ) -> Self {
        let first = outputs
            .iter()
            .find(|o| o.skipped.is_none())
            .or(outputs.first())
            .cloned();
        let written = outputs.iter().filter(|o| o.skipped.is_none()).count();
        let dest_key = first.as_ref().map(|o| o.key.clone()).unwrap_or_default();
        let body = match written {
            0 | 1 => format!("Resized image uploaded to s3://{dest_bucket}/{dest_key}"),
            n => {
                format!("{n} resized images uploaded to s3://{dest_bucket}/, the first {dest_key}")
            }
        };
        Success {
            ok: true,
            status_code: 200,
            skipped: false,
            body,
            dest_bucket,
            dest_key,
            width: first.as_ref().and_then(|o| o.width).unwrap_or_default(),
            height: first.as_ref().and_then(|o| o.height).unwrap_or_default(),
            bytes: first.as_ref().and_then(|o| o.bytes).unwrap_or_default(),
            format: first.as_ref().map_or("", |o| o.format),
            source,
            outputs,
            placeholder,
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
    use serde_json::json;

    #[test]
    fn success_has_the_contract_fields() {
        let source = SourceSummary {
            bucket: "in".into(),
            key: "b.png".into(),
            width: 20,
            height: 10,
            format: InputFormat::Png,
            bytes: 1234,
            etag: Some("abc".into()),
        };
        let output = OutputSummary::written(
            "resized",
            OutputFormat::Jpeg,
            "output/b_resized.jpg",
            10,
            5,
            99,
        );
        let success = Success::new(
            "out".into(),
            source,
            vec![output],
            "1QcSHQRnh493V4dIh4eXh1h4kJUI".into(),
        );
        assert_eq!(
            to_json(&success),
            json!({"ok": true, "statusCode": 200, "skipped": false, "destBucket": "out",
                   "destKey": "output/b_resized.jpg",
                   "body": "Resized image uploaded to s3://out/output/b_resized.jpg",
                   "width": 10, "height": 5, "bytes": 99, "format": "jpeg",
                   "source": {"bucket": "in", "key": "b.png", "width": 20, "height": 10,
                              "format": "png", "bytes": 1234, "etag": "abc"},
                   "outputs": [{"name": "resized", "format": "jpeg", "key": "output/b_resized.jpg",
                                "width": 10, "height": 5, "bytes": 99}],
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
        let output = OutputSummary::skipped(
            "resized",
            OutputFormat::Png,
            "output/b_resized.png",
            SkipReason::UpToDate,
        );
        let skipped = Skipped::new(
            "out".into(),
            SkipReason::UpToDate,
            source,
            vec![output],
            Some("1QcSHQRnh493V4dIh4eXh1h4kJUI".into()),
        );
        let value = Done::Skipped(skipped).to_json();
        assert_eq!(value["ok"], json!(true));
        assert_eq!(value["skipped"], json!(true));
        assert_eq!(value["reason"], json!("UP_TO_DATE"));
        assert_eq!(value["destKey"], json!("output/b_resized.png"));
        assert_eq!(value["source"]["key"], json!("b.png"));
        assert_eq!(value["outputs"][0]["skipped"], json!("UP_TO_DATE"));
        assert_eq!(value["outputs"][0].get("width"), None);
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
