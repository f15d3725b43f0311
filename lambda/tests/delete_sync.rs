//! Delete sync through the real handler on the in-memory store: exactly the outputs made from the deleted
//! original go, whatever shares their name prefix stays, and an original that comes back keeps its outputs.

use image::{DynamicImage, Rgb, RgbImage};
use imgresize::config::Config;
use imgresize::engine::{encode, OutputFormat};
use imgresize::handler::Handler;
use imgresize::store::ObjectStore;
use serde_json::{json, Value};

#[path = "support/memory_store.rs"]
mod memory_store;
use memory_store::{tiny_jpeg, MemoryStore, When};

const SOURCE: &str = "originals";
const DEST: &str = "resized";

fn handler(store: &MemoryStore) -> Handler<MemoryStore> {
    let vars = [("DEST_BUCKET", DEST), ("ALLOWED_SOURCE_BUCKETS", SOURCE)];
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .expect("config");
    Handler::new(config, store.clone())
}

fn tiny_png() -> Vec<u8> {
    let picture = RgbImage::from_fn(12, 8, |x, _| Rgb([(x * 20) as u8, 40, 200]));
    encode::encode(
        &DynamicImage::ImageRgb8(picture),
        OutputFormat::Png,
        80,
        None,
        std::time::Duration::MAX,
    )
    .expect("PNG")
}

async fn answer(handler: &Handler<MemoryStore>, event: Value) -> Value {
    handler
        .handle(&event)
        .await
        .unwrap_or_else(|e| panic!("{event} failed: {e}"))
}

/// Uploads and resizes each of `keys` (sizes 10 and 20, so two outputs each where `{size}` is in the
/// pattern; here one key per source and size).
async fn upload_and_resize(store: &MemoryStore, handler: &Handler<MemoryStore>, keys: &[&str]) {
    for key in keys {
        let body = if key.ends_with(".png") || !key.contains('.') {
            tiny_png()
        } else {
            tiny_jpeg()
        };
        store.insert(SOURCE, key, body);
        let done = answer(handler, json!({"bucket": SOURCE, "key": key, "size": 10})).await;
        assert_eq!(done["ok"], json!(true), "{done}");
    }
}

fn outputs(store: &MemoryStore) -> Vec<String> {
    now(store.list(DEST, ""))
}

/// The store answers at once: a tiny executor is enough.
fn now<T>(future: impl std::future::Future<Output = Result<T, imgresize::store::StoreError>>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(future)
        .expect("store")
}

fn delete_request(key: &str) -> Value {
    json!({"action": "delete", "bucket": SOURCE, "key": key, "keyEncoding": "url"})
}

#[test]
fn only_the_outputs_of_the_deleted_original_go() {
    let store = MemoryStore::default();
    let handler = handler(&store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(upload_and_resize(
        &store,
        &handler,
        &["cat.jpg", "cat2.jpg", "a/cat.jpg", "cat.png", "cat"],
    ));
    // Someone else's object under the same prefix, without metadata.
    store.insert(DEST, "output/cat_resized.notes", b"x".to_vec());
    let before = outputs(&store);
    assert!(
        before.contains(&"output/cat_resized.jpg".to_string()),
        "{before:?}"
    );

    runtime
        .block_on(store.delete(SOURCE, "cat.jpg"))
        .expect("delete");
    let deleted = runtime.block_on(answer(&handler, delete_request("cat.jpg")));
    assert_eq!(deleted["ok"], json!(true), "{deleted}");
    assert_eq!(
        deleted["deleted"],
        json!(["output/cat_resized.jpg"]),
        "{deleted}"
    );
    let after = outputs(&store);
    let mut expected = before.clone();
    expected.retain(|k| k != "output/cat_resized.jpg");
    assert_eq!(
        after, expected,
        "cat.png, cat (sharing the prefix), cat2.jpg and a/cat.jpg stay"
    );

    // Again: nothing left to delete.
    let again = runtime.block_on(answer(&handler, delete_request("cat.jpg")));
    assert_eq!(again["deleted"], json!([]), "{again}");
}

#[test]
fn an_original_that_still_exists_keeps_its_outputs() {
    let store = MemoryStore::default();
    let handler = handler(&store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(upload_and_resize(&store, &handler, &["dog.jpg"]));
    let answer = runtime.block_on(answer(&handler, delete_request("dog.jpg")));
    assert_eq!(
        (&answer["skipped"], &answer["reason"], &answer["deleted"]),
        (&json!(true), &json!("SOURCE_EXISTS"), &json!([])),
        "{answer}"
    );
    assert_eq!(outputs(&store), vec!["output/dog_resized.jpg".to_string()]);
}

/// The race: the original is uploaded again after the function found it absent and listed the
/// candidates, before it deleted anything. The new upload keeps its output.
#[test]
fn an_upload_right_after_the_delete_keeps_its_outputs() {
    let store = MemoryStore::default();
    let handler = handler(&store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(upload_and_resize(&store, &handler, &["bird.jpg"]));
    runtime
        .block_on(store.delete(SOURCE, "bird.jpg"))
        .expect("delete");
    store.on(When::AfterList, |store| {
        store.insert(SOURCE, "bird.jpg", tiny_jpeg());
    });
    let answer = runtime.block_on(answer(&handler, delete_request("bird.jpg")));
    assert_eq!(answer["deleted"], json!([]), "{answer}");
    assert_eq!(outputs(&store), vec!["output/bird_resized.jpg".to_string()]);
}

/// The key arrives URL-encoded, as S3 events carry it ("my photo+x.jpg" → "my+photo%2Bx.jpg").
#[test]
fn the_event_key_is_url_decoded_as_for_uploads() {
    let store = MemoryStore::default();
    let handler = handler(&store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(upload_and_resize(&store, &handler, &["my photo+x.jpg"]));
    runtime
        .block_on(store.delete(SOURCE, "my photo+x.jpg"))
        .expect("delete");
    let answer = runtime.block_on(answer(&handler, delete_request("my+photo%2Bx.jpg")));
    assert_eq!(
        answer["deleted"],
        json!(["output/my photo+x_resized.jpg"]),
        "{answer}"
    );
    assert!(outputs(&store).is_empty());
}

#[test]
fn bad_delete_requests_are_rejections() {
    let store = MemoryStore::default();
    let handler = handler(&store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for (event, code) in [
        (
            json!({"action": "delete", "bucket": "elsewhere", "key": "k.jpg"}),
            "BUCKET_NOT_ALLOWED",
        ),
        (
            json!({"action": "delete", "bucket": SOURCE}),
            "INVALID_REQUEST",
        ),
        (
            json!({"action": "delete", "bucket": SOURCE, "key": "k", "keyEncoding": "b64"}),
            "INVALID_REQUEST",
        ),
    ] {
        let answer = runtime.block_on(answer(&handler, event.clone()));
        assert_eq!(answer["ok"], json!(false), "{event}: {answer}");
        assert_eq!(answer["error"]["code"], json!(code), "{event}: {answer}");
    }
}
