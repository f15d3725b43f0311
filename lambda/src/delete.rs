//! Delete sync (issue 18, part 2): when an original is deleted, delete exactly the outputs made from it.
//!
//! Request: `{"action": "delete", "bucket", "key", "keyEncoding"}` (what an S3 "Object Deleted" rule's
//! input transformer would send; the key URL-encoded as in "Object Created" events). Steps:
//!
//! 1. the key's readings ([`keys::readings`]): a reading whose object still exists is not deleted (an
//!    upload that landed right after the delete keeps its new outputs); nothing absent → `skipped`;
//! 2. list the destination under [`keys::listing_prefix`] (narrowed by `{dir}`/`{stem}`; other sources'
//!    outputs may share it);
//! 3. HEAD each candidate: only an output whose metadata names an absent reading as its source
//!    ([`provenance::keys::SOURCE`]) is a match;
//! 4. before each DeleteObject, HEAD the original again: one that came back stops the deletion there.
//!
//! With `enable_delete_sync`, the module's "Object Deleted" rule invokes the function with this request
//! (terraform/eventbridge.tf, `templates/delete_input_template.json`).

use serde::Serialize;
use serde_json::Value;
use tracing::info;

use crate::config::Config;
use crate::error::Error;
use crate::keys::{self, KeyEncoding};
use crate::provenance::{self, source_id};
use crate::response::to_json;
use crate::store::{head, ObjectStore, StoreError};

/// True for a delete-sync request (`"action": "delete"`).
pub fn is_request(event: &Value) -> bool {
    event.get("action").and_then(Value::as_str) == Some("delete")
}

/// What a delete-sync invocation answers (`ok: true`; rejections and failures as for resizes).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub ok: bool,
    pub status_code: u16,
    pub action: &'static str,
    /// `true` when nothing was looked for: the original exists (under every reading of its key).
    pub skipped: bool,
    /// `SOURCE_EXISTS` when skipped.
    pub reason: Option<&'static str>,
    pub bucket: String,
    pub key: String,
    pub dest_bucket: String,
    /// The outputs deleted, in key order.
    pub deleted: Vec<String>,
}

impl Deleted {
    pub fn to_json(&self) -> Value {
        to_json(self)
    }
}

/// Parses and runs one delete-sync request.
pub async fn run(
    store: &impl ObjectStore,
    config: &Config,
    event: &Value,
) -> Result<Deleted, Error> {
    let text = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or_default();
    let (bucket, key) = (text("bucket"), text("key"));
    if bucket.is_empty() || key.is_empty() {
        return Err(Error::InvalidRequest(
            "a delete request needs a non-empty bucket and key".into(),
        ));
    }
    let encoding = match text("keyEncoding") {
        "" | "raw" => KeyEncoding::Raw,
        "url" => KeyEncoding::Url,
        other => {
            return Err(Error::InvalidRequest(format!(
                "keyEncoding {other:?} is not raw or url"
            )))
        }
    };
    if !config.allows_bucket(bucket) {
        return Err(Error::BucketNotAllowed {
            bucket: bucket.to_string(),
            reason: "not in ALLOWED_SOURCE_BUCKETS".into(),
        });
    }
    let mut gone = Vec::new();
    for reading in keys::readings(key, encoding) {
        if head(store, bucket, &reading).await?.is_none() {
            gone.push(reading);
        }
    }
    let mut answer = Deleted {
        ok: true,
        status_code: 200,
        action: "delete",
        skipped: gone.is_empty(),
        reason: gone.is_empty().then_some("SOURCE_EXISTS"),
        bucket: bucket.to_string(),
        key: gone.first().cloned().unwrap_or_else(|| key.to_string()),
        dest_bucket: config.dest_bucket.clone(),
        deleted: Vec::new(),
    };
    for reading in &gone {
        let id = source_id(bucket, reading);
        let prefix = keys::listing_prefix(&config.dest_prefix, &config.dest_key_pattern, reading)?;
        let candidates = store
            .list(&config.dest_bucket, &prefix)
            .await
            .map_err(|e| store_error("listing", &config.dest_bucket, &prefix, e))?;
        for candidate in candidates {
            let Some(output) = head(store, &config.dest_bucket, &candidate).await? else {
                continue;
            };
            if output.metadata.get(provenance::keys::SOURCE) != Some(&id) {
                continue;
            }
            // The original came back (a new upload): its outputs, old or new, stay.
            if head(store, bucket, reading).await?.is_some() {
                info!(bucket, key = %reading, "the original is back: deleting stops");
                break;
            }
            store
                .delete(&config.dest_bucket, &candidate)
                .await
                .map_err(|e| store_error("deleting", &config.dest_bucket, &candidate, e))?;
            info!(bucket, key = %reading, dest_key = %candidate, "output deleted");
            answer.deleted.push(candidate);
        }
    }
    answer.deleted.sort();
    Ok(answer)
}

fn store_error(doing: &str, bucket: &str, key: &str, error: StoreError) -> Error {
    match error {
        StoreError::Transient(message) => {
            Error::Transient(format!("{doing} s3://{bucket}/{key}: {message}"))
        }
        StoreError::AccessDenied => Error::Internal(format!(
            "the function may not do {doing} s3://{bucket}/{key} (check its role)"
        )),
        other => Error::Internal(format!("{doing} s3://{bucket}/{key}: {other}")),
    }
}
