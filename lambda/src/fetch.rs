//! Reads the source object, trying the other reading of its key once if the first is not there.

use crate::error::Error;
use crate::keys::{self, KeyEncoding};
use crate::store::{ObjectInfo, ObjectStore, StoreError};

/// The source object, under the key it was found at.
#[derive(Debug)]
pub struct Source {
    pub key: String,
    pub data: Vec<u8>,
    /// Its ETag, version and last-modified: what the output records it was made from.
    pub info: ObjectInfo,
}

pub async fn fetch(
    store: &impl ObjectStore,
    bucket: &str,
    key: &str,
    encoding: KeyEncoding,
    max_bytes: u64,
) -> Result<Source, Error> {
    let readings = keys::readings(key, encoding);
    if readings.is_empty() {
        return Err(Error::InvalidRequest(format!(
            "key {key:?} is longer than S3's {} bytes under every reading",
            keys::MAX_KEY_BYTES
        )));
    }
    for reading in &readings {
        match store.get(bucket, reading, max_bytes).await {
            Ok(fetched) => {
                return Ok(Source {
                    key: reading.clone(),
                    data: fetched.data,
                    info: fetched.info,
                })
            }
            Err(StoreError::NotFound) => continue,
            Err(StoreError::TooLarge { size }) => {
                return Err(Error::InputTooLarge {
                    size,
                    max: max_bytes,
                })
            }
            Err(StoreError::AccessDenied) => {
                return Err(Error::AccessDenied {
                    bucket: bucket.to_string(),
                    key: reading.clone(),
                })
            }
            Err(StoreError::Transient(message)) => {
                return Err(Error::Transient(format!(
                    "reading s3://{bucket}/{reading}: {message}"
                )))
            }
            Err(other @ (StoreError::Other(_) | StoreError::PreconditionFailed)) => {
                return Err(Error::Internal(format!(
                    "reading s3://{bucket}/{reading}: {other}"
                )))
            }
        }
    }
    Err(Error::NotFound {
        bucket: bucket.to_string(),
        key: readings.first().cloned().unwrap_or_else(|| key.to_string()),
    })
}
