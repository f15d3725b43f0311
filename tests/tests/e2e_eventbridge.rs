//! The EventBridge hop examined on its own, on LocalStack (host mode, 127.0.0.1). The chain suite
//! (`tests/tests/chain.rs`) runs upload → rule → state machine → function as one; this suite keeps what the
//! chain cannot show:
//!
//! 1. the exact text the module's input transformer delivers (`input_paths.json` + `input_template.json`),
//!    read from an SQS probe target, byte for byte; and that other buckets and keys outside the
//!    prefix/suffix filters deliver nothing (a negative the chain would only see as "no execution yet");
//! 2. that text, unchanged, and the AWS (form-encoded) spelling of odd keys, which LocalStack never
//!    produces itself, → the real function binary (cargo-lambda's runtime emulator) → the resized object.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use imgresize_tests::emulator::Emulator;
use imgresize_tests::lambda::{self, LambdaFunction, Outcome};
use imgresize_tests::module::{self, ProbedRule};
use imgresize_tests::templates;
use imgresize_tests::{buckets, images, unique_name};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

/// The key of the issue: a directory, spaces, non-ASCII, `+` and an apostrophe.
const ODD_KEY: &str = "dir/my photo é+x's.jpg";

/// LocalStack's encoding of keys in S3 events: %XX for everything but RFC 3986 unreserved characters and
/// `/`. (AWS documents form encoding, where a space is `+`; the function decodes both, see below.)
const S3_EVENT_KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn event_key(key: &str) -> String {
    utf8_percent_encode(key, S3_EVENT_KEY).to_string()
}

/// How AWS writes the key in S3 event notifications (form encoding: a space is `+`, `+` is `%2B`).
fn aws_form_encoded_key(key: &str) -> String {
    key.split(' ').map(event_key).collect::<Vec<_>>().join("+")
}

fn default_size() -> Value {
    templates::variable_default("default_size").expect("default_size in variables.tf")
}

async fn create_buckets(emulator: &Emulator, names: &[&str]) {
    buckets::create(&emulator.s3(), names)
        .await
        .expect("create buckets");
}

async fn upload(emulator: &Emulator, bucket: &str, key: &str, body: Vec<u8>) {
    emulator
        .s3()
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .expect("upload");
}

/// The destination key the function must write for `key`, from the module's defaults for
/// `dest_prefix` and `dest_key_pattern` (main.tf passes them as DEST_PREFIX and DEST_KEY_PATTERN).
fn expected_dest_key(key: &str, ext: &str, size: &str) -> String {
    let string = |name: &str| match templates::variable_default(name) {
        Ok(Value::String(s)) => s,
        other => panic!("variable {name}: {other:?}"),
    };
    let (dir, file) = key.rsplit_once('/').map_or(("", key), |(d, f)| (d, f));
    let dir = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    format!(
        "{}{}",
        string("dest_prefix"),
        string("dest_key_pattern")
            .replace("{dir}", &dir)
            .replace("{stem}", stem)
            .replace("{ext}", ext)
            .replace("{size}", size)
            .replace("{name}", "resized")
    )
}

#[tokio::test]
async fn an_upload_becomes_exactly_the_state_machine_input_and_the_real_function_resizes_it() {
    let emulator = Emulator::shared();
    let (originals, resized) = (unique_name("originals"), unique_name("resized"));
    create_buckets(emulator, &[&originals, &resized]).await;
    module::enable_eventbridge(emulator, &originals)
        .await
        .expect("notifications");
    let key_filter = templates::default_key_filter().expect("key filter");
    let probe = module::object_created_rule_with_probe(emulator, &originals, &key_filter)
        .await
        .expect("rule and probe");

    // Proof 1: the message the rule delivers.
    let photo = images::jpeg(1600, 1200);
    let photo_bytes = photo.len();
    upload(emulator, &originals, ODD_KEY, photo).await;
    let bodies = module::drain_queue(
        emulator,
        &probe.queue_url,
        1,
        Duration::from_secs(10),
        Duration::ZERO,
    )
    .await
    .expect("receive");
    assert_eq!(bodies.len(), 1, "one upload, one message: {bodies:?}");
    let message = &bodies[0];
    eprintln!("delivered: {message}");
    let delivered: Value = serde_json::from_str(message).expect("the message is JSON");
    // The event's sequencer passes through (LocalStack sends a constant one: any hex will do here).
    let sequencer = delivered["sequencer"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !sequencer.is_empty() && sequencer.bytes().all(|b| b.is_ascii_hexdigit()),
        "{message}"
    );
    assert_eq!(
        delivered,
        json!({
            "bucket": originals,
            "key": event_key(ODD_KEY),
            "size": default_size(),
            "objectSize": photo_bytes,
            "sequencer": sequencer,
            "keyEncoding": "url",
        }),
        "the state machine's input"
    );

    // Proof 2: that very text → the real binary → the resized bucket.
    let Some(binary) = lambda::binary_or_skip() else {
        return;
    };
    let function = LambdaFunction::start(
        &binary,
        &emulator.env(),
        &templates::lambda_environment(&resized, &originals).expect("function environment"),
    )
    .expect("the function under the runtime emulator");
    let size = templates::number_default("default_size").expect("default_size");
    let dest_key = expected_dest_key(ODD_KEY, "jpg", &size);
    let answer = match function.invoke(message).await.expect("invoke") {
        Outcome::Answer(answer) => answer,
        other => panic!("function error: {other:?}"),
    };
    eprintln!("function answered: {answer}");
    assert_eq!(answer["ok"], json!(true), "{answer}");
    assert_eq!(answer["destBucket"], json!(resized), "{answer}");
    assert_eq!(answer["destKey"], json!(dest_key), "{answer}");
    assert_eq!(
        (answer["width"].clone(), answer["height"].clone()),
        (json!(1000), json!(750))
    );
    assert_eq!(answer["format"], json!("jpeg"));
    check_object(emulator, &resized, &dest_key, &answer).await;

    // AWS writes the same key form-encoded (space → `+`): the same message in that spelling works too.
    let s3 = emulator.s3();
    s3.delete_object()
        .bucket(&resized)
        .key(&dest_key)
        .send()
        .await
        .expect("delete");
    let mut aws_spelling = delivered.clone();
    aws_spelling["key"] = json!(aws_form_encoded_key(ODD_KEY));
    assert_eq!(
        aws_spelling["key"],
        json!("dir/my+photo+%C3%A9%2Bx%27s.jpg")
    );
    match function
        .invoke(&aws_spelling.to_string())
        .await
        .expect("invoke")
    {
        Outcome::Answer(answer) => {
            assert_eq!(answer["ok"], json!(true), "{answer}");
            assert_eq!(answer["destKey"], json!(dest_key), "{answer}");
            check_object(emulator, &resized, &dest_key, &answer).await;
        }
        other => panic!("function error: {other:?}"),
    }
}

async fn check_object(emulator: &Emulator, bucket: &str, key: &str, answer: &Value) {
    let object = emulator
        .s3()
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("s3://{bucket}/{key} missing: {e}"));
    assert_eq!(object.content_type(), Some("image/jpeg"));
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert_eq!(json!(bytes.len()), answer["bytes"], "{answer}");
    assert_eq!(images::dimensions(&bytes), (1000, 750));
}

#[tokio::test]
async fn other_buckets_and_keys_outside_the_filters_deliver_nothing() {
    let emulator = Emulator::shared();
    let (watched, other, filtered) = (
        unique_name("originals"),
        unique_name("elsewhere"),
        unique_name("filtered"),
    );
    create_buckets(emulator, &[&watched, &other, &filtered]).await;
    for bucket in [&watched, &other, &filtered] {
        module::enable_eventbridge(emulator, bucket)
            .await
            .expect("notifications");
    }
    // The module's key filter for each way of setting source_prefix / source_suffixes (values its
    // validations accept).
    let suffixes = [".jpg".to_string(), ".jpeg".to_string()];
    let any_key = templates::default_key_filter().expect("key filter");
    let rules: Vec<(&str, ProbedRule)> = vec![
        (
            "any key of the watched bucket",
            module::object_created_rule_with_probe(emulator, &watched, &any_key)
                .await
                .expect("rule"),
        ),
        (
            "source_prefix = uploads/",
            module::object_created_rule_with_probe(
                emulator,
                &filtered,
                &templates::key_filter("uploads/", &[]),
            )
            .await
            .expect("rule"),
        ),
        (
            "source_suffixes = .jpg .jpeg",
            module::object_created_rule_with_probe(
                emulator,
                &filtered,
                &templates::key_filter("", &suffixes),
            )
            .await
            .expect("rule"),
        ),
        (
            "source_prefix = uploads/ and source_suffixes = .jpg .jpeg",
            module::object_created_rule_with_probe(
                emulator,
                &filtered,
                &templates::key_filter("uploads/", &suffixes),
            )
            .await
            .expect("rule"),
        ),
    ];

    // Uploads to a bucket no rule watches, and keys in and out of each filter.
    upload(emulator, &other, "dir/a.jpg", b"x".to_vec()).await;
    upload(emulator, &other, ODD_KEY, b"x".to_vec()).await;
    for key in [
        "uploads/a.jpg",
        "uploads/a.png",
        "other/b.jpg",
        "other/c.gif",
        "uploads/x/y z.jpeg",
    ] {
        upload(emulator, &filtered, key, b"x".to_vec()).await;
    }
    upload(emulator, &watched, "control.jpg", b"x".to_vec()).await;

    let expected: [(&str, Vec<&str>); 4] = [
        (watched.as_str(), vec!["control.jpg"]),
        (
            filtered.as_str(),
            vec!["uploads/a.jpg", "uploads/a.png", "uploads/x/y z.jpeg"],
        ),
        (
            filtered.as_str(),
            vec!["other/b.jpg", "uploads/a.jpg", "uploads/x/y z.jpeg"],
        ),
        (
            filtered.as_str(),
            vec!["uploads/a.jpg", "uploads/x/y z.jpeg"],
        ),
    ];
    // All queues at once: each until its expected messages are in (≤ 8 s), then 2 s more for strays.
    let mut waits = Vec::new();
    for ((_, rule), (_, keys)) in rules.iter().zip(&expected) {
        let queue_url = rule.queue_url.clone();
        let want = keys.len();
        waits.push(tokio::spawn(async move {
            module::drain_queue(
                Emulator::shared(),
                &queue_url,
                want,
                Duration::from_secs(8),
                Duration::from_secs(2),
            )
            .await
        }));
    }
    for (((what, rule), (bucket, keys)), wait) in rules.iter().zip(&expected).zip(waits) {
        let bodies = wait.await.expect("join").expect("receive");
        let mut got: Vec<(String, String)> = bodies
            .iter()
            .map(|body| {
                let v: Value = serde_json::from_str(body).expect("JSON message");
                (
                    v["bucket"].as_str().unwrap_or_default().to_string(),
                    v["key"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = keys
            .iter()
            .map(|k| (bucket.to_string(), event_key(k)))
            .collect();
        want.sort();
        assert_eq!(
            got, want,
            "{what}: pattern {} delivered {bodies:?}",
            rule.pattern
        );
    }
}
