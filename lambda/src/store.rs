//! Where objects come from and go to. The handler sees only this trait: S3 in production
//! ([`crate::s3::S3Store`]), anything else in unit tests.

use std::future::Future;

use crate::error::Error;

/// One object to write. Written whole or not at all (PutObject is atomic and checksummed).
#[derive(Debug, Clone, Copy)]
pub struct NewObject<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub body: &'a [u8],
    pub content_type: &'a str,
    pub cache_control: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("no such object")]
    NotFound,
    #[error("access denied")]
    AccessDenied,
    #[error("object is {size} bytes")]
    TooLarge { size: u64 },
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
    ) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    fn put(&self, object: NewObject<'_>) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Writes the resized image.
pub async fn store(store: &impl ObjectStore, object: NewObject<'_>) -> Result<(), Error> {
    store.put(object).await.map_err(|error| match error {
        StoreError::Transient(message) => Error::Transient(format!(
            "writing s3://{}/{}: {message}",
            object.bucket, object.key
        )),
        StoreError::AccessDenied => Error::Internal(format!(
            "the function may not write s3://{}/{} (check its role)",
            object.bucket, object.key
        )),
        other => Error::Internal(format!(
            "writing s3://{}/{}: {other}",
            object.bucket, object.key
        )),
    })
}
