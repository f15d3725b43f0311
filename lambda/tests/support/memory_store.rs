//! The one in-memory [`ObjectStore`] and the one tiny JPEG the tests and the fuzz targets share
//! (`hostile_requests.rs` and `fuzz/src/lib.rs` include this file). It behaves like S3 where it matters
//! to them: keys over 1024 bytes and empty keys are S3's 400 errors, not missing objects.
// Each includer uses part of it (the property tests named objects, the fuzz targets any key).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use image::{DynamicImage, Rgb, RgbImage};
use imgresize::engine::{encode, OutputFormat};
use imgresize::keys::MAX_KEY_BYTES;
use imgresize::store::{NewObject, ObjectStore, StoreError};

/// A 24x16 JPEG: small enough that a property test can resize it thousands of times.
pub fn tiny_jpeg() -> Vec<u8> {
    let picture = RgbImage::from_fn(24, 16, |x, y| Rgb([(x * 10) as u8, (y * 15) as u8, 99]));
    encode::encode(
        &DynamicImage::ImageRgb8(picture),
        OutputFormat::Jpeg,
        80,
        None,
    )
    .expect("a test JPEG")
}

/// (bucket, key) and the object's bytes.
pub type Objects = BTreeMap<(String, String), Vec<u8>>;
/// (bucket, key, body) of each PutObject.
pub type Puts = Vec<(String, String, Vec<u8>)>;

/// Objects by (bucket, key), and every call made, shared between clones.
#[derive(Clone, Default)]
pub struct MemoryStore {
    objects: Arc<Mutex<Objects>>,
    /// What every key not in `objects` holds, for stores where any key exists (the fuzz targets).
    any_key: Option<Arc<Vec<u8>>>,
    gets: Arc<Mutex<Vec<String>>>,
    puts: Arc<Mutex<Puts>>,
}

impl MemoryStore {
    /// A store with `body` under every key of every bucket.
    pub fn with_any_key(body: Vec<u8>) -> Self {
        MemoryStore {
            any_key: Some(Arc::new(body)),
            ..MemoryStore::default()
        }
    }

    pub fn insert(&self, bucket: &str, key: &str, body: Vec<u8>) {
        lock(&self.objects).insert((bucket.to_string(), key.to_string()), body);
    }

    /// Every PutObject so far.
    pub fn puts(&self) -> Puts {
        lock(&self.puts).clone()
    }

    /// Every PutObject since the last call, forgetting them.
    pub fn take_puts(&self) -> Puts {
        std::mem::take(&mut *lock(&self.puts))
    }

    /// The key of every GetObject so far.
    pub fn gets(&self) -> Vec<String> {
        lock(&self.gets).clone()
    }

    pub fn reset_calls(&self) {
        lock(&self.gets).clear();
        lock(&self.puts).clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What S3 answers to a key it cannot hold.
fn invalid_key(key: &str) -> Option<StoreError> {
    if key.is_empty() {
        return Some(StoreError::Other(
            "service error: 400 InvalidRequest: the key is empty".into(),
        ));
    }
    (key.len() > MAX_KEY_BYTES).then(|| {
        StoreError::Other(format!(
            "service error: 400 KeyTooLongError: Your key is too long ({} bytes)",
            key.len()
        ))
    })
}

impl ObjectStore for MemoryStore {
    async fn get(&self, bucket: &str, key: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        lock(&self.gets).push(key.to_string());
        if let Some(error) = invalid_key(key) {
            return Err(error);
        }
        let body = lock(&self.objects)
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
            .or_else(|| self.any_key.as_deref().cloned())
            .ok_or(StoreError::NotFound)?;
        if body.len() as u64 > max_bytes {
            return Err(StoreError::TooLarge {
                size: body.len() as u64,
            });
        }
        Ok(body)
    }

    async fn put(&self, object: NewObject<'_>) -> Result<(), StoreError> {
        if let Some(error) = invalid_key(object.key) {
            return Err(error);
        }
        lock(&self.puts).push((
            object.bucket.to_string(),
            object.key.to_string(),
            object.body.to_vec(),
        ));
        // A store that serves any key keeps no written objects: the fuzz targets write millions of
        // distinct keys and would run out of memory (their callers drain `take_puts` instead).
        if self.any_key.is_none() {
            self.insert(object.bucket, object.key, object.body.to_vec());
        }
        Ok(())
    }
}
