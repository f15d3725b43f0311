//! Where objects come from and go to. The handler sees only this trait: S3 in production
//! ([`crate::s3::S3Store`]), anything else in unit tests.

use std::collections::HashMap;
use std::future::Future;

use crate::error::Error;
use crate::provenance::Condition;

/// One object to write. Written whole or not at all (PutObject is atomic and checksummed), and only if
/// `condition` still holds (S3's conditional writes).
#[derive(Debug, Clone, Copy)]
pub struct NewObject<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub body: &'a [u8],
    pub content_type: &'a str,
    pub cache_control: Option<&'a str>,
    /// User metadata (`x-amz-meta-<name>`).
    pub metadata: &'a [(String, String)],
    /// `None`: unconditional.
    pub condition: Option<&'a Condition>,
}

/// An object read whole, with what identifies its version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    pub data: Vec<u8>,
    pub info: ObjectInfo,
}

/// What HeadObject (and GetObject) say about an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectInfo {
    /// As S3 sends it, quotes included.
    pub etag: Option<String>,
    /// Only in versioned buckets.
    pub version_id: Option<String>,
    /// RFC 3339.
    pub last_modified: Option<String>,
    /// User metadata, names lower case without `x-amz-meta-`.
    pub metadata: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("no such object")]
    NotFound,
    #[error("access denied")]
    AccessDenied,
    #[error("object is {size} bytes")]
    TooLarge { size: u64 },
    /// A conditional write whose condition no longer held (HTTP 412): another writer got there first.
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Other(String),
}

pub trait ObjectStore: Send + Sync {
    /// Reads a whole object, refusing (before downloading) one over `max_bytes`.
    fn get(
        &self,
        bucket: &str,
        key: &str,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Fetched, StoreError>> + Send;

    /// HeadObject: the object's ETag, version and metadata; [`StoreError::NotFound`] if there is none.
    fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<ObjectInfo, StoreError>> + Send;

    fn put(&self, object: NewObject<'_>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// ListObjectsV2 under `prefix`: every key, across pages (delete sync, [`crate::delete`]).
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// DeleteObject (a delete marker on a versioned bucket). A missing object is not an error.
    fn delete(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How a write ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written,
    /// The condition no longer held: someone else wrote the object meanwhile.
    ConditionFailed,
}

/// Writes the resized image.
pub async fn store(store: &impl ObjectStore, object: NewObject<'_>) -> Result<Stored, Error> {
    match store.put(object).await {
        Ok(()) => Ok(Stored::Written),
        Err(StoreError::PreconditionFailed) => Ok(Stored::ConditionFailed),
        Err(error) => Err(write_error(object.bucket, object.key, error)),
    }
}

fn write_error(bucket: &str, key: &str, error: StoreError) -> Error {
    match error {
        StoreError::Transient(message) => {
            Error::Transient(format!("writing s3://{bucket}/{key}: {message}"))
        }
        StoreError::AccessDenied => Error::Internal(format!(
            "the function may not write s3://{bucket}/{key} (check its role)"
        )),
        other => Error::Internal(format!("writing s3://{bucket}/{key}: {other}")),
    }
}

/// Deletes an object this invocation wrote.
pub async fn remove(store: &impl ObjectStore, bucket: &str, key: &str) -> Result<(), Error> {
    store
        .delete(bucket, key)
        .await
        .map_err(|error| match error {
            StoreError::Transient(message) => {
                Error::Transient(format!("deleting s3://{bucket}/{key}: {message}"))
            }
            other => Error::Internal(format!("deleting s3://{bucket}/{key}: {other}")),
        })
}

/// Reads an object's head; `None` if there is no such object. Access denied is the role's fault (an
/// internal error), as are other refusals; S3 trouble is transient.
pub async fn head(
    store: &impl ObjectStore,
    bucket: &str,
    key: &str,
) -> Result<Option<ObjectInfo>, Error> {
    match store.head(bucket, key).await {
        Ok(info) => Ok(Some(info)),
        Err(StoreError::NotFound) => Ok(None),
        Err(StoreError::Transient(message)) => Err(Error::Transient(format!(
            "reading the head of s3://{bucket}/{key}: {message}"
        ))),
        Err(StoreError::AccessDenied) => Err(Error::Internal(format!(
            "the function may not read the head of s3://{bucket}/{key} (check its role: s3:GetObject and s3:ListBucket)"
        ))),
        Err(other) => Err(Error::Internal(format!(
            "reading the head of s3://{bucket}/{key}: {other}"
        ))),
    }
}
