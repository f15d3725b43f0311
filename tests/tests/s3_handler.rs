//! The handler with the real `aws-sdk-s3` client against a real S3-compatible server (LocalStack on
//! 127.0.0.1): what the function does to buckets, including what it must not write.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use imgresize::config::Config;
use imgresize::handler::Handler;
use imgresize::s3::S3Store;
use imgresize_tests::emulator::Emulator;
use imgresize_tests::{buckets, images, unique_name};
use serde_json::{json, Value};

struct Buckets {
    s3: Client,
    source: String,
    dest: String,
}

async fn buckets() -> Buckets {
    let s3 = Emulator::shared().s3();
    let (source, dest) = (unique_name("originals"), unique_name("resized"));
    buckets::create(&s3, &[&source, &dest])
        .await
        .expect("create buckets");
    Buckets { s3, source, dest }
}

impl Buckets {
    async fn upload(&self, key: &str, body: Vec<u8>) {
        self.s3
            .put_object()
            .bucket(&self.source)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("upload");
    }

    fn handler(&self, extra: &[(&str, &str)]) -> Handler<S3Store> {
        let mut vars = vec![
            ("DEST_BUCKET".to_string(), self.dest.clone()),
            ("ALLOWED_SOURCE_BUCKETS".to_string(), self.source.clone()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_lookup(|name| {
            vars.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .expect("config");
        let store = S3Store::from_sdk_config(&Emulator::shared().sdk_config(), config.s3);
        Handler::new(config, store)
    }

    async fn dest_keys(&self) -> Vec<String> {
        buckets::keys(&self.s3, &self.dest).await.expect("list")
    }

    async fn rejected(&self, handler: &Handler<S3Store>, event: Value) -> String {
        let answer = handler
            .handle(&event)
            .await
            .expect("a rejection is an answer, not an error");
        assert_eq!(answer["ok"], json!(false), "{answer}");
        assert!(
            answer["statusCode"]
                .as_u64()
                .is_some_and(|s| (400..500).contains(&s)),
            "{answer}"
        );
        assert!(
            self.dest_keys().await.is_empty(),
            "a rejected input wrote something"
        );
        answer["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

#[tokio::test]
async fn the_seed_input_resizes_into_the_resized_bucket() {
    let b = buckets().await;
    // The seed's example: b.jpg at the bucket's root becomes output/b_resized.jpg.
    b.upload("b.jpg", images::jpeg(1600, 1200)).await;
    let answer = b
        .handler(&[("CACHE_CONTROL", "max-age=60")])
        .handle(&json!({"bucket": b.source, "key": "b.jpg", "size": 1000}))
        .await
        .expect("resized");
    assert_eq!(answer["ok"], json!(true), "{answer}");
    assert_eq!(answer["statusCode"], json!(200));
    assert_eq!(answer["destBucket"], json!(b.dest));
    assert_eq!(answer["destKey"], json!("output/b_resized.jpg"));
    assert_eq!(
        (answer["width"].clone(), answer["height"].clone()),
        (json!(1000), json!(750))
    );

    let object =
        b.s3.get_object()
            .bucket(&b.dest)
            .key("output/b_resized.jpg")
            .send()
            .await
            .expect("written");
    assert_eq!(object.content_type(), Some("image/jpeg"));
    assert_eq!(object.cache_control(), Some("max-age=60"));
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert_eq!(bytes.len() as u64, answer["bytes"].as_u64().unwrap_or(0));
    assert_eq!(images::dimensions(&bytes), (1000, 750));
}

#[tokio::test]
async fn odd_keys_work_raw_and_url_encoded() {
    let b = buckets().await;
    let handler = b.handler(&[]);
    let key = "dir/my photo é+x's.jpg";
    b.upload(key, images::jpeg(300, 200)).await;
    // The API sends the key as it is; S3 events send it form-encoded.
    for (sent, encoding) in [(key, "raw"), ("dir/my+photo+%C3%A9%2Bx%27s.jpg", "url")] {
        let answer = handler
            .handle(&json!({"bucket": b.source, "key": sent, "size": 100, "keyEncoding": encoding}))
            .await
            .expect("answered");
        assert_eq!(answer["ok"], json!(true), "{encoding}: {answer}");
        assert_eq!(
            answer["destKey"],
            json!("output/dir/my photo é+x's_resized.jpg")
        );
    }
    // A marker that is wrong is forgiven: the other reading is tried once.
    let answer = handler
        .handle(&json!({"bucket": b.source, "key": key, "keyEncoding": "url"}))
        .await
        .expect("answered");
    assert_eq!(answer["ok"], json!(true), "{answer}");
}

#[tokio::test]
async fn png_stays_png() {
    let b = buckets().await;
    b.upload("a.png", images::png(500, 1000)).await;
    let answer = b
        .handler(&[])
        .handle(&json!({"bucket": b.source, "key": "a.png", "size": 100}))
        .await
        .expect("resized");
    assert_eq!(answer["destKey"], json!("output/a_resized.png"));
    let object =
        b.s3.head_object()
            .bucket(&b.dest)
            .key("output/a_resized.png")
            .send()
            .await
            .expect("written");
    assert_eq!(object.content_type(), Some("image/png"));
}

#[tokio::test]
async fn a_missing_key_is_not_found() {
    let b = buckets().await;
    let code = b
        .rejected(
            &b.handler(&[]),
            json!({"bucket": b.source, "key": "nope.jpg"}),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn a_bucket_not_allowed_is_refused_before_reading() {
    let b = buckets().await;
    let code = b
        .rejected(
            &b.handler(&[]),
            json!({"bucket": "someone-elses", "key": "a.jpg"}),
        )
        .await;
    assert_eq!(code, "BUCKET_NOT_ALLOWED");
}

#[tokio::test]
async fn images_over_the_limits_write_nothing() {
    let b = buckets().await;
    b.upload("big.jpg", images::jpeg(1200, 1000)).await;
    let pixels = b
        .rejected(
            &b.handler(&[("MAX_PIXELS", "1000000")]),
            json!({"bucket": b.source, "key": "big.jpg"}),
        )
        .await;
    assert_eq!(pixels, "IMAGE_TOO_LARGE");
    let bytes = b
        .rejected(
            &b.handler(&[("MAX_INPUT_BYTES", "1000")]),
            json!({"bucket": b.source, "key": "big.jpg"}),
        )
        .await;
    assert_eq!(bytes, "INPUT_TOO_LARGE");
}

#[tokio::test]
async fn broken_images_write_nothing() {
    let b = buckets().await;
    let mut truncated = images::jpeg(800, 600);
    truncated.truncate(truncated.len() / 2);
    b.upload("cut.jpg", truncated).await;
    b.upload("notes.jpg", b"this is not an image".to_vec())
        .await;
    let handler = b.handler(&[]);
    assert_eq!(
        b.rejected(&handler, json!({"bucket": b.source, "key": "cut.jpg"}))
            .await,
        "CORRUPT_IMAGE"
    );
    assert_eq!(
        b.rejected(&handler, json!({"bucket": b.source, "key": "notes.jpg"}))
            .await,
        "UNSUPPORTED_FORMAT"
    );
}

#[tokio::test]
async fn bad_requests_write_nothing() {
    let b = buckets().await;
    let handler = b.handler(&[]);
    for event in [
        json!({"bucket": b.source}),
        json!({"bucket": b.source, "key": "a.jpg", "size": 0}),
    ] {
        assert_eq!(b.rejected(&handler, event).await, "INVALID_REQUEST");
    }
}

#[tokio::test]
async fn its_own_output_does_not_trigger_it_again() {
    let b = buckets().await;
    b.upload("output/x.jpg", images::jpeg(100, 100)).await;
    // Source and destination are one bucket here: the output prefix is off limits as a source.
    let mut vars = vec![("DEST_BUCKET", b.source.as_str())];
    vars.push(("ALLOWED_SOURCE_BUCKETS", b.source.as_str()));
    let handler = b.handler(&vars);
    let answer = handler
        .handle(&json!({"bucket": b.source, "key": "output/x.jpg"}))
        .await
        .expect("answer");
    assert_eq!(
        answer["error"]["code"],
        json!("BUCKET_NOT_ALLOWED"),
        "{answer}"
    );
}

/// The S3 user metadata of an output (names without `x-amz-meta-`).
async fn output_metadata(b: &Buckets, key: &str) -> std::collections::HashMap<String, String> {
    b.s3.head_object()
        .bucket(&b.dest)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key} not written: {e:?}"))
        .metadata
        .unwrap_or_default()
}

#[tokio::test]
async fn the_same_request_twice_writes_once_on_real_s3() {
    let b = buckets().await;
    b.upload("twice.jpg", images::jpeg(800, 600)).await;
    let handler = b.handler(&[]);
    let event = json!({"bucket": b.source, "key": "twice.jpg", "size": 200, "keyEncoding": "url",
                       "sequencer": "0062E99A88DC407460"});
    let first = handler.handle(&event).await.expect("resized");
    assert_eq!(first["skipped"], json!(false), "{first}");
    let dest_key = "output/twice_resized.jpg";
    let before =
        b.s3.head_object()
            .bucket(&b.dest)
            .key(dest_key)
            .send()
            .await
            .expect("written");
    let metadata = output_metadata(&b, dest_key).await;
    let source_etag =
        b.s3.head_object()
            .bucket(&b.source)
            .key("twice.jpg")
            .send()
            .await
            .expect("source")
            .e_tag
            .unwrap_or_default();
    assert_eq!(
        metadata.get("imgresize-source-etag").map(String::as_str),
        Some(source_etag.trim_matches('"')),
        "{metadata:?}"
    );
    assert_eq!(
        metadata.get("imgresize-sequencer").map(String::as_str),
        Some("0062E99A88DC407460")
    );
    assert!(metadata.contains_key("imgresize-settings"), "{metadata:?}");
    assert!(
        metadata.contains_key("imgresize-source-last-modified"),
        "{metadata:?}"
    );

    let second = handler.handle(&event).await.expect("answered");
    assert_eq!(second["ok"], json!(true), "{second}");
    assert_eq!(second["skipped"], json!(true), "{second}");
    assert_eq!(second["reason"], json!("UP_TO_DATE"), "{second}");
    let after =
        b.s3.head_object()
            .bucket(&b.dest)
            .key(dest_key)
            .send()
            .await
            .expect("still there");
    assert_eq!(after.e_tag, before.e_tag);
    assert_eq!(after.last_modified, before.last_modified, "rewritten");

    // Another size is another rendition of the same key: remade, in place.
    let mut other = event.clone();
    other["size"] = json!(100);
    let remade = handler.handle(&other).await.expect("answered");
    assert_eq!(remade["skipped"], json!(false), "{remade}");
    assert_ne!(
        output_metadata(&b, dest_key)
            .await
            .get("imgresize-settings"),
        metadata.get("imgresize-settings")
    );
}

#[tokio::test]
async fn a_replaced_source_is_remade_and_an_api_request_checks_the_source() {
    let b = buckets().await;
    let handler = b.handler(&[]);
    b.upload("swap.jpg", images::jpeg(800, 600)).await;
    let request = json!({"bucket": b.source, "key": "swap.jpg", "size": 100});
    let first = handler.handle(&request).await.expect("resized");
    assert_eq!(
        (first["width"].clone(), first["skipped"].clone()),
        (json!(100), json!(false))
    );
    // A new upload of the same key: the output is from an older source, so it is remade.
    b.upload("swap.jpg", images::jpeg(600, 800)).await;
    let second = handler.handle(&request).await.expect("resized");
    assert_eq!(second["skipped"], json!(false), "{second}");
    assert_eq!(second["width"], json!(75), "{second}");
    let object =
        b.s3.get_object()
            .bucket(&b.dest)
            .key("output/swap_resized.jpg")
            .send()
            .await
            .expect("written");
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert_eq!(images::dimensions(&bytes), (75, 100));
}

/// Delete sync against real S3 (the store's ListObjectsV2 and DeleteObject): the deleted original's
/// outputs go; another source's outputs sharing the name prefix, and a stranger's object, stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_sync_deletes_exactly_the_deleted_originals_outputs() {
    let b = buckets().await;
    let handler = b.handler(&[]);
    for key in ["photos/cat.jpg", "photos/cat2.jpg", "cat.jpg"] {
        b.upload(key, images::jpeg(64, 48)).await;
        for size in [20, 40] {
            let event = json!({"bucket": b.source, "key": key, "size": size});
            let answer = handler.handle(&event).await.expect("resize");
            assert_eq!(answer["ok"], json!(true), "{answer}");
        }
    }
    b.s3.put_object()
        .bucket(&b.dest)
        .key("output/photos/cat_resized.txt")
        .body(ByteStream::from_static(b"not ours"))
        .send()
        .await
        .expect("stranger");
    let before = b.dest_keys().await;
    b.s3.delete_object()
        .bucket(&b.source)
        .key("photos/cat.jpg")
        .send()
        .await
        .expect("delete the original");
    let event = json!({"action": "delete", "bucket": b.source, "key": "photos/cat.jpg", "keyEncoding": "url"});
    let answer = handler.handle(&event).await.expect("delete sync");
    assert_eq!(
        answer["deleted"],
        json!(["output/photos/cat_resized.jpg"]),
        "{answer}"
    );
    let mut expected = before;
    expected.retain(|k| k != "output/photos/cat_resized.jpg");
    assert_eq!(b.dest_keys().await, expected);
}
