//! Duplicate and out-of-order deliveries through the real handler, on the in-memory store of
//! `support/memory_store.rs` (whose writes honour S3's `If-None-Match` / `If-Match` and whose ETags, as
//! S3's, depend on the content only). Another execution's write is staged with the store's hooks at the
//! exact moment that matters: after our GetObject, or between our HeadObject and our PutObject.
//!
//! The decision itself is unit-tested in `src/provenance.rs`; these prove the handler applies it: what
//! is written, what is not, and what it answers.

#[path = "support/config.rs"]
mod support_config;
use imgresize::handler::Handler;
use imgresize::provenance::keys;
use serde_json::{json, Value};
use support_config::config;

#[path = "support/memory_store.rs"]
mod memory_store;
use image::{DynamicImage, Rgb, RgbImage};
use imgresize::engine::{encode, OutputFormat};
use memory_store::{tiny_jpeg, MemoryStore, When};

const SOURCE: &str = "originals";
const DEST: &str = "resized";
const KEY: &str = "photos/cat.jpg";
const DEST_KEY: &str = "output/photos/cat_resized.jpg";

/// A JPEG other than [`tiny_jpeg`]: a second upload of the same key.
fn second_jpeg() -> Vec<u8> {
    let picture = RgbImage::from_fn(16, 24, |x, y| Rgb([99, (x * 10) as u8, (y * 9) as u8]));
    encode::encode(
        &DynamicImage::ImageRgb8(picture),
        OutputFormat::Jpeg,
        80,
        None,
        std::time::Duration::MAX,
    )
    .expect("a test JPEG")
}

fn handler(store: &MemoryStore, extra: &[(&str, &str)]) -> Handler<MemoryStore> {
    let mut vars = vec![("DEST_BUCKET", DEST), ("ALLOWED_SOURCE_BUCKETS", SOURCE)];
    vars.extend_from_slice(extra);
    Handler::new(config(&vars), store.clone())
}

fn store_with(body: Vec<u8>) -> MemoryStore {
    let store = MemoryStore::default();
    store.insert(SOURCE, KEY, body);
    store
}

/// What the state machine's transformer delivers for an upload with this sequencer.
fn event(sequencer: &str) -> Value {
    json!({"bucket": SOURCE, "key": KEY, "size": 10, "keyEncoding": "url", "sequencer": sequencer})
}

/// What an API or backfill caller sends: no sequencer.
fn api_request() -> Value {
    json!({"bucket": SOURCE, "key": KEY, "size": 10})
}

async fn answer(handler: &Handler<MemoryStore>, event: &Value) -> Value {
    let answer = handler
        .handle(event)
        .await
        .unwrap_or_else(|e| panic!("{event} failed: {e}"));
    assert_eq!(answer["ok"], json!(true), "{answer}");
    answer
}

fn metadata(store: &MemoryStore, name: &str) -> Option<String> {
    store
        .metadata(DEST, DEST_KEY)?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The output and metadata `event` makes from `body` on a store of its own: what "another execution"
/// writes when a test stages it.
async fn made_elsewhere(body: Vec<u8>, event: &Value) -> (Vec<u8>, Vec<(String, String)>) {
    let elsewhere = store_with(body);
    answer(&handler(&elsewhere, &[]), event).await;
    (
        elsewhere.object(DEST, DEST_KEY).expect("made"),
        elsewhere.metadata(DEST, DEST_KEY).expect("metadata"),
    )
}

#[tokio::test]
async fn the_same_event_twice_writes_once() {
    let store = store_with(tiny_jpeg());
    let handler = handler(&store, &[]);
    let first = answer(&handler, &event("0A")).await;
    assert_eq!(first["skipped"], json!(false), "{first}");
    assert_eq!(store.puts().len(), 1);
    let written = store.object(DEST, DEST_KEY).expect("written");

    let second = answer(&handler, &event("0A")).await;
    assert_eq!(second["skipped"], json!(true), "{second}");
    assert_eq!(second["reason"], json!("UP_TO_DATE"), "{second}");
    assert_eq!(second["destKey"], json!(DEST_KEY), "{second}");
    assert_eq!(store.puts().len(), 1, "the duplicate wrote again");
    assert_eq!(store.object(DEST, DEST_KEY), Some(written));
    // The API path and a backfill see the same output as current too.
    let again = answer(&handler, &api_request()).await;
    assert_eq!(again["reason"], json!("UP_TO_DATE"), "{again}");
    assert_eq!(store.puts().len(), 1);
}

#[tokio::test]
async fn the_output_records_what_it_was_made_from() {
    let store = store_with(tiny_jpeg());
    answer(&handler(&store, &[]), &event("0062e99a88dc407460")).await;
    let source_etag = metadata(&store, keys::SOURCE_ETAG).expect("source etag");
    assert_eq!(source_etag.len(), 16, "{source_etag}: kept without quotes");
    assert_eq!(
        metadata(&store, keys::SEQUENCER).as_deref(),
        Some("0062E99A88DC407460")
    );
    let settings = metadata(&store, keys::SETTINGS).expect("settings");
    assert!(settings.starts_with("e1-"), "{settings}");
    assert!(metadata(&store, keys::SOURCE).is_some());
}

#[tokio::test]
async fn a_settings_change_remakes_the_output() {
    let store = store_with(tiny_jpeg());
    answer(&handler(&store, &[]), &event("0A")).await;
    let before = metadata(&store, keys::SETTINGS);
    // Another quality (a changed QUALITY variable), then another size: each is a new rendition.
    let remade = answer(&handler(&store, &[("QUALITY", "50")]), &event("0A")).await;
    assert_eq!(remade["skipped"], json!(false), "{remade}");
    assert_ne!(metadata(&store, keys::SETTINGS), before);
    let mut smaller = event("0A");
    smaller["size"] = json!(8);
    let resized = answer(&handler(&store, &[("QUALITY", "50")]), &smaller).await;
    assert_eq!(resized["skipped"], json!(false), "{resized}");
    assert_eq!(store.puts().len(), 3);
}

#[tokio::test]
async fn an_older_event_finishing_last_leaves_the_newer_output() {
    // Event A (sequencer 0A) read the first upload; while it resized, the second upload's execution (0B)
    // wrote its output. A's write must lose and A must not overwrite.
    let store = store_with(tiny_jpeg());
    let (newer_output, newer_metadata) = made_elsewhere(second_jpeg(), &event("0B")).await;
    let staged = (newer_output.clone(), newer_metadata);
    store.on(When::BeforePut, move |store| {
        store.insert(SOURCE, KEY, second_jpeg());
        store.insert_with_metadata(DEST, DEST_KEY, staged.0, staged.1);
    });
    let late = answer(&handler(&store, &[]), &event("0A")).await;
    assert_eq!(late["skipped"], json!(true), "{late}");
    assert_eq!(late["reason"], json!("NEWER_OUTPUT_EXISTS"), "{late}");
    assert!(store.puts().is_empty(), "the older event wrote");
    assert_eq!(store.object(DEST, DEST_KEY), Some(newer_output));
    assert_eq!(metadata(&store, keys::SEQUENCER).as_deref(), Some("0B"));
}

#[tokio::test]
async fn a_newer_event_replaces_an_older_output_written_meanwhile() {
    // Event B (0B) read the second upload; the first upload's execution (0A) wrote first. B's
    // `If-None-Match: *` fails, B looks again, sees the older output and replaces it with `If-Match`.
    let store = store_with(second_jpeg());
    let (older_output, older_metadata) = made_elsewhere(tiny_jpeg(), &event("0A")).await;
    store.on(When::BeforePut, move |store| {
        store.insert_with_metadata(DEST, DEST_KEY, older_output, older_metadata);
    });
    let newer = answer(&handler(&store, &[]), &event("0B")).await;
    assert_eq!(newer["skipped"], json!(false), "{newer}");
    assert_eq!(store.puts().len(), 1);
    assert_eq!(metadata(&store, keys::SEQUENCER).as_deref(), Some("0B"));
    let (expected, _) = made_elsewhere(second_jpeg(), &event("0B")).await;
    assert_eq!(store.object(DEST, DEST_KEY), Some(expected));
}

#[tokio::test]
async fn without_a_sequencer_a_source_changed_after_reading_is_left_to_its_own_event() {
    let store = store_with(tiny_jpeg());
    store.on(When::AfterGet, |store| {
        store.insert(SOURCE, KEY, second_jpeg())
    });
    let answer = answer(&handler(&store, &[]), &api_request()).await;
    assert_eq!(answer["skipped"], json!(true), "{answer}");
    assert_eq!(answer["reason"], json!("SOURCE_CHANGED"), "{answer}");
    assert!(store.puts().is_empty());
    assert_eq!(store.object(DEST, DEST_KEY), None);
}

#[tokio::test]
async fn equal_sequencers_fall_back_to_checking_the_source() {
    // LocalStack gives every S3 event the same sequencer: the order is then unknown, and the source's
    // ETag decides (the first upload's execution, finishing last, sees the source changed).
    let store = store_with(tiny_jpeg());
    let (newer_output, newer_metadata) = made_elsewhere(second_jpeg(), &event("0A")).await;
    store.on(When::BeforePut, move |store| {
        store.insert(SOURCE, KEY, second_jpeg());
        store.insert_with_metadata(DEST, DEST_KEY, newer_output, newer_metadata);
    });
    let late = answer(&handler(&store, &[]), &event("0A")).await;
    assert_eq!(late["reason"], json!("SOURCE_CHANGED"), "{late}");
    assert!(store.puts().is_empty());
}

#[tokio::test]
async fn a_duplicate_losing_the_race_is_a_clean_skip() {
    // Two deliveries of one event run at once: the other one writes between our look and our write.
    let store = store_with(tiny_jpeg());
    let (same_output, same_metadata) = made_elsewhere(tiny_jpeg(), &event("0A")).await;
    store.on(When::BeforePut, move |store| {
        store.insert_with_metadata(DEST, DEST_KEY, same_output, same_metadata);
    });
    let answer = answer(&handler(&store, &[]), &event("0A")).await;
    assert_eq!(answer["reason"], json!("UP_TO_DATE"), "{answer}");
    assert!(store.puts().is_empty());
}

#[tokio::test]
async fn an_output_without_metadata_is_replaced() {
    let store = store_with(tiny_jpeg());
    store.insert(DEST, DEST_KEY, b"made before this version".to_vec());
    let answer = answer(&handler(&store, &[]), &event("0A")).await;
    assert_eq!(answer["skipped"], json!(false), "{answer}");
    assert!(metadata(&store, keys::SETTINGS).is_some());
}

/// What the checks cost in S3 requests per image: one HeadObject of the output on every path, plus one
/// of the source on the paths without a sequencer; the write itself carries its condition (no request).
#[tokio::test]
async fn the_checks_cost_one_or_two_head_requests() {
    let store = store_with(tiny_jpeg());
    answer(&handler(&store, &[]), &event("0A")).await;
    assert_eq!(store.head_calls(), vec![DEST_KEY.to_string()]);
    assert_eq!(store.gets().len(), 1);

    let fresh = store_with(tiny_jpeg());
    answer(&handler(&fresh, &[]), &api_request()).await;
    assert_eq!(
        fresh.head_calls(),
        vec![DEST_KEY.to_string(), KEY.to_string()]
    );

    // A skip: the GetObject and one HeadObject, no decoding, no write.
    store.reset_calls();
    answer(&handler(&store, &[]), &event("0A")).await;
    assert_eq!(
        (
            store.gets().len(),
            store.head_calls().len(),
            store.puts().len()
        ),
        (1, 1, 0)
    );
}

/// The fuzz target's store (`MemoryStore::with_any_key`, fuzz/fuzz_targets/request.rs) holds an object
/// without metadata under every key: each request writes exactly once, as that target asserts.
#[tokio::test]
async fn a_store_of_any_key_writes_once_per_request() {
    let store = MemoryStore::with_any_key(tiny_jpeg());
    let handler = handler(&store, &[]);
    for event in [event("0A"), api_request(), event("0A")] {
        let answer = answer(&handler, &event).await;
        assert_eq!(answer["skipped"], json!(false), "{answer}");
        assert_eq!(store.take_puts().len(), 1, "{answer}");
    }
}
