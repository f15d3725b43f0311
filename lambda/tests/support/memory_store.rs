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
use imgresize::provenance::{fnv1a, Condition};
use imgresize::store::{Fetched, NewObject, ObjectInfo, ObjectStore, StoreError};

/// A 24x16 JPEG: small enough that a property test can resize it thousands of times.
pub fn tiny_jpeg() -> Vec<u8> {
    let picture = RgbImage::from_fn(24, 16, |x, y| Rgb([(x * 10) as u8, (y * 15) as u8, 99]));
    encode::encode(
        &DynamicImage::ImageRgb8(picture),
        OutputFormat::Jpeg,
        80,
        None,
        std::time::Duration::MAX,
    )
    .expect("a test JPEG")
}

/// (bucket, key) and the object's bytes.
pub type Objects = BTreeMap<(String, String), Vec<u8>>;
/// (bucket, key, body) of each PutObject.
pub type Puts = Vec<(String, String, Vec<u8>)>;

/// A stored object's metadata: (ETag, user metadata).
type Heads = BTreeMap<(String, String), (String, Vec<(String, String)>)>;

/// When a [`Hook`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// After a GetObject answered.
    AfterGet,
    /// Before a PutObject is looked at (its condition included).
    BeforePut,
    /// Before a DeleteObject.
    BeforeDelete,
    /// After a ListObjectsV2 answered.
    AfterList,
}

/// Something another writer does at a chosen moment: once, on the store.
pub type Hook = Box<dyn FnOnce(&MemoryStore) + Send>;

/// Objects by (bucket, key), and every call made, shared between clones. Writes honour S3's conditions
/// (`If-None-Match: *`, `If-Match`) with ETags that, as S3's, depend on the content only.
#[derive(Clone, Default)]
pub struct MemoryStore {
    objects: Arc<Mutex<Objects>>,
    heads: Arc<Mutex<Heads>>,
    hooks: Arc<Mutex<Vec<(When, Hook)>>>,
    head_calls: Arc<Mutex<Vec<String>>>,
    /// What every key not in `objects` holds, for stores where any key exists (the fuzz targets).
    any_key: Option<Arc<Vec<u8>>>,
    gets: Arc<Mutex<Vec<String>>>,
    puts: Arc<Mutex<Puts>>,
    deletes: Arc<Mutex<Vec<String>>>,
    /// PutObjects of keys containing this fail, as S3 trouble would.
    failing_puts: Arc<Mutex<Option<String>>>,
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
        self.insert_with_metadata(bucket, key, body, Vec::new());
    }

    pub fn insert_with_metadata(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        metadata: Vec<(String, String)>,
    ) {
        let id = (bucket.to_string(), key.to_string());
        lock(&self.heads).insert(id.clone(), (etag_of(&body), metadata));
        lock(&self.objects).insert(id, body);
    }

    /// The object's bytes, if there is one.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        lock(&self.objects)
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
    }

    /// The object's user metadata, if there is one.
    pub fn metadata(&self, bucket: &str, key: &str) -> Option<Vec<(String, String)>> {
        lock(&self.heads)
            .get(&(bucket.to_string(), key.to_string()))
            .map(|(_, metadata)| metadata.clone())
    }

    /// Runs `hook` once, at the next `when`.
    pub fn on(&self, when: When, hook: impl FnOnce(&MemoryStore) + Send + 'static) {
        lock(&self.hooks).push((when, Box::new(hook)));
    }

    fn run_hooks(&self, when: When) {
        let due: Vec<Hook> = {
            let mut hooks = lock(&self.hooks);
            let (due, rest): (Vec<_>, Vec<_>) = hooks.drain(..).partition(|(w, _)| *w == when);
            *hooks = rest;
            due.into_iter().map(|(_, hook)| hook).collect()
        };
        for hook in due {
            hook(self);
        }
    }

    /// Makes every PutObject of a key containing `part` fail with a transient error.
    pub fn fail_puts_of(&self, part: &str) {
        *lock(&self.failing_puts) = Some(part.to_string());
    }

    /// The key of every DeleteObject so far.
    pub fn deletes(&self) -> Vec<String> {
        lock(&self.deletes).clone()
    }

    /// The key of every HeadObject so far.
    pub fn head_calls(&self) -> Vec<String> {
        lock(&self.head_calls).clone()
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
        lock(&self.head_calls).clear();
    }

    fn info(&self, bucket: &str, key: &str) -> Option<ObjectInfo> {
        lock(&self.heads)
            .get(&(bucket.to_string(), key.to_string()))
            .map(|(etag, metadata)| ObjectInfo {
                etag: Some(etag.clone()),
                version_id: None,
                last_modified: None,
                metadata: metadata.iter().cloned().collect(),
            })
    }
}

/// A content hash in quotes, as S3 sends ETags.
fn etag_of(body: &[u8]) -> String {
    format!("\"{:016x}\"", fnv1a(body))
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
    async fn get(&self, bucket: &str, key: &str, max_bytes: u64) -> Result<Fetched, StoreError> {
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
        let info = self.info(bucket, key).unwrap_or_else(|| ObjectInfo {
            etag: Some(etag_of(&body)),
            ..ObjectInfo::default()
        });
        self.run_hooks(When::AfterGet);
        Ok(Fetched { data: body, info })
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, StoreError> {
        lock(&self.head_calls).push(key.to_string());
        if let Some(error) = invalid_key(key) {
            return Err(error);
        }
        if let Some(info) = self.info(bucket, key) {
            return Ok(info);
        }
        match &self.any_key {
            Some(body) => Ok(ObjectInfo {
                etag: Some(etag_of(body)),
                ..ObjectInfo::default()
            }),
            None => Err(StoreError::NotFound),
        }
    }

    async fn put(&self, object: NewObject<'_>) -> Result<(), StoreError> {
        if let Some(error) = invalid_key(object.key) {
            return Err(error);
        }
        self.run_hooks(When::BeforePut);
        if lock(&self.failing_puts)
            .as_deref()
            .is_some_and(|part| object.key.contains(part))
        {
            return Err(StoreError::Transient("injected: connection reset".into()));
        }
        // A store that serves any key holds an object under every key, written or not.
        let current = self
            .info(object.bucket, object.key)
            .and_then(|i| i.etag)
            .or_else(|| self.any_key.as_deref().map(|body| etag_of(body)));
        let holds = match (object.condition, &current) {
            (None, _) | (Some(Condition::Absent), None) => true,
            (Some(Condition::Absent), Some(_)) => false,
            (Some(Condition::Matches(wanted)), Some(etag)) => {
                etag.trim_matches('"') == wanted.trim_matches('"')
            }
            (Some(Condition::Matches(_)), None) => false,
        };
        if !holds {
            return Err(StoreError::PreconditionFailed);
        }
        lock(&self.puts).push((
            object.bucket.to_string(),
            object.key.to_string(),
            object.body.to_vec(),
        ));
        // A store that serves any key keeps no written objects: the fuzz targets write millions of
        // distinct keys and would run out of memory (their callers drain `take_puts` instead).
        if self.any_key.is_none() {
            self.insert_with_metadata(
                object.bucket,
                object.key,
                object.body.to_vec(),
                object.metadata.to_vec(),
            );
        }
        Ok(())
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let keys = lock(&self.objects)
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect();
        self.run_hooks(When::AfterList);
        Ok(keys)
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        if let Some(error) = invalid_key(key) {
            return Err(error);
        }
        self.run_hooks(When::BeforeDelete);
        lock(&self.deletes).push(key.to_string());
        let id = (bucket.to_string(), key.to_string());
        lock(&self.objects).remove(&id);
        lock(&self.heads).remove(&id);
        Ok(())
    }
}
