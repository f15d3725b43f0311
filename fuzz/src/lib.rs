//! What the fuzz targets share: an independent model of the key mapping, a form encoder (the inverse
//! of `keys::form_decode`) and an in-memory object store.

use std::sync::{Arc, Mutex};

use imgresize::keys::MAX_KEY_BYTES;
use imgresize::store::{NewObject, ObjectStore, StoreError};

#[path = "../../lambda/tests/support/key_model.rs"]
mod key_model;
pub use key_model::{form_encode, model_destination};

/// A store that holds `image` under every key and records what is written (clones share the record).
#[derive(Clone)]
pub struct AnyKeyStore {
    pub image: Arc<Vec<u8>>,
    written: Arc<Mutex<Vec<(String, String, usize)>>>,
}

impl AnyKeyStore {
    pub fn new(image: Vec<u8>) -> Self {
        AnyKeyStore {
            image: Arc::new(image),
            written: Arc::default(),
        }
    }

    pub fn take_written(&self) -> Vec<(String, String, usize)> {
        std::mem::take(&mut *self.written.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl ObjectStore for AnyKeyStore {
    async fn get(&self, _bucket: &str, key: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        assert!(!key.is_empty(), "the handler asked for an empty key");
        assert!(
            key.len() <= MAX_KEY_BYTES,
            "the handler asked S3 for a {}-byte key: S3 answers 400 KeyTooLongError",
            key.len()
        );
        if self.image.len() as u64 > max_bytes {
            return Err(StoreError::TooLarge {
                size: self.image.len() as u64,
            });
        }
        Ok(self.image.to_vec())
    }

    async fn put(&self, object: NewObject<'_>) -> Result<(), StoreError> {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((
                object.bucket.to_string(),
                object.key.to_string(),
                object.body.len(),
            ));
        Ok(())
    }
}
