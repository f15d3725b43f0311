//! What the cloud does to the function: S3 failing between the real `aws-sdk-s3` client and the
//! emulator, through a fault-injecting proxy (`imgresize_tests::fault_proxy`).
//!
//! - one fault is absorbed by the SDK's retries: the answer is `ok: true`;
//! - a persistent fault is a `TransientError` Lambda error (Step Functions retries it), never `ok: false`;
//! - a body cut short never becomes an output, a failed write leaves no object;
//! - the same request after recovery writes exactly one object, with the bytes of an undisturbed run.
//!
//! Timeouts are short (S3_ATTEMPT_TIMEOUT_MS, S3_BODY_TIMEOUT_MS) so the suite stays well under a minute.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
#[path = "../../lambda/tests/support/config.rs"]
mod support_config;
use imgresize::handler::Handler;
use imgresize::s3::S3Store;
use imgresize_tests::emulator::Emulator;
use imgresize_tests::fault_proxy::{Fault, FaultProxy};
use imgresize_tests::{buckets, images, unique_name};
use serde_json::{json, Value};
use support_config::config;

const KEY: &str = "photos/cat.jpg";
const DEST_KEY: &str = "output/photos/cat_resized.jpg";
const ATTEMPT_TIMEOUT_MS: &str = "1500";
const BODY_TIMEOUT_MS: &str = "2000";

/// Buckets on the emulator, a source photo, and a proxy in front of the emulator.
struct Rig {
    s3: Client,
    proxy: FaultProxy,
    source: String,
    dest: String,
}

async fn rig() -> Rig {
    let emulator = Emulator::shared();
    let s3 = emulator.s3();
    let (source, dest) = (unique_name("faults-in"), unique_name("faults-out"));
    buckets::create(&s3, &[&source, &dest])
        .await
        .expect("create buckets");
    s3.put_object()
        .bucket(&source)
        .key(KEY)
        .body(ByteStream::from(images::jpeg(900, 600)))
        .send()
        .await
        .expect("upload");
    let proxy = FaultProxy::start(&emulator.endpoint).await.expect("proxy");
    Rig {
        s3,
        proxy,
        source,
        dest,
    }
}

impl Rig {
    /// The handler with the real S3 client, pointed at the proxy, with short time bounds.
    fn handler(&self) -> Handler<S3Store> {
        self.handler_with(&[])
    }

    /// [`Rig::handler`] with more configuration.
    fn handler_with(&self, extra: &[(&str, &str)]) -> Handler<S3Store> {
        let mut vars = vec![
            ("DEST_BUCKET", self.dest.as_str()),
            ("ALLOWED_SOURCE_BUCKETS", self.source.as_str()),
            ("S3_ATTEMPT_TIMEOUT_MS", ATTEMPT_TIMEOUT_MS),
            ("S3_BODY_TIMEOUT_MS", BODY_TIMEOUT_MS),
            ("S3_MAX_ATTEMPTS", "3"),
        ];
        vars.extend_from_slice(extra);
        let config = config(&vars);
        let sdk_config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.proxy.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "test",
                "test",
                None,
                None,
                "s3-faults",
            )))
            .build();
        let store = S3Store::from_sdk_config(&sdk_config, config.s3);
        Handler::new(config, store)
    }

    fn event(&self) -> Value {
        json!({"bucket": self.source, "key": KEY, "size": 300})
    }

    /// Fails GetObject of the source (`GET /source/...`).
    fn fail_get(&self, fault: Fault, times: Option<u32>) {
        self.proxy
            .inject("GET", &format!("/{}/", self.source), fault, times);
    }

    /// Fails PutObject into the destination (`PUT /dest/...`).
    fn fail_put(&self, fault: Fault, times: Option<u32>) {
        self.proxy
            .inject("PUT", &format!("/{}/", self.dest), fault, times);
    }

    /// The destination bucket's keys, read directly (not through the proxy).
    async fn dest_keys(&self) -> Vec<String> {
        buckets::keys(&self.s3, &self.dest).await.expect("list")
    }

    async fn dest_bytes(&self, key: &str) -> Vec<u8> {
        let object = self
            .s3
            .get_object()
            .bucket(&self.dest)
            .key(key)
            .send()
            .await
            .expect("the output exists");
        object.body.collect().await.expect("body").to_vec()
    }

    async fn delete_dest(&self, key: &str) {
        self.s3
            .delete_object()
            .bucket(&self.dest)
            .key(key)
            .send()
            .await
            .expect("delete");
    }

    /// Runs the seed's request and expects a resized object at [`DEST_KEY`].
    async fn expect_resized(&self, handler: &Handler<S3Store>, what: &str) -> Vec<u8> {
        self.expect_output(handler, what).await.0
    }

    /// Runs the seed's request and expects a resized object at [`DEST_KEY`], written by this run or found
    /// current (`skipped`); returns its bytes and the answer.
    async fn expect_output(&self, handler: &Handler<S3Store>, what: &str) -> (Vec<u8>, Value) {
        let answer = handler
            .handle(&self.event())
            .await
            .unwrap_or_else(|e| panic!("{what}: a Lambda error ({}): {e}", e.code()));
        assert_eq!(answer["ok"], json!(true), "{what}: {answer}");
        assert_eq!(answer["destKey"], json!(DEST_KEY), "{what}");
        assert_eq!(self.dest_keys().await, vec![DEST_KEY], "{what}");
        let bytes = self.dest_bytes(DEST_KEY).await;
        assert_eq!(images::dimensions(&bytes), (300, 200), "{what}");
        if answer["skipped"] == json!(true) {
            assert_eq!(answer["reason"], json!("UP_TO_DATE"), "{what}: {answer}");
        } else {
            assert_eq!(answer["bytes"].as_u64(), Some(bytes.len() as u64));
        }
        (bytes, answer)
    }

    /// Runs the seed's request and expects a `TransientError` Lambda error that wrote nothing.
    async fn expect_transient(&self, handler: &Handler<S3Store>, what: &str) {
        match handler.handle(&self.event()).await {
            Ok(answer) => panic!("{what}: expected a TransientError, got an answer: {answer}"),
            Err(error) => {
                assert_eq!(
                    error.lambda_error_type(),
                    "TransientError",
                    "{what}: {error}"
                );
                assert!(!error.is_rejection(), "{what}");
            }
        }
        assert!(
            self.dest_keys().await.is_empty(),
            "{what}: a failed request left an object"
        );
    }
}

/// One fault on `method`, then S3 behaves: the SDK retries and the answer is a correct object.
async fn absorbed(method: &str, fault: Fault) {
    let rig = rig().await;
    let what = format!("one {} on {method}", fault.name());
    match method {
        "GET" => rig.fail_get(fault, Some(1)),
        _ => rig.fail_put(fault, Some(1)),
    }
    rig.expect_resized(&rig.handler(), &what).await;
    let path = match method {
        "GET" => format!("/{}/", rig.source),
        _ => format!("/{}/", rig.dest),
    };
    assert_eq!(
        rig.proxy.count(method, &path),
        2,
        "{what}: expected the faulted attempt and one retry: {:?}",
        rig.proxy.seen()
    );
}

/// The fault on every attempt: a TransientError, nothing written; once S3 recovers, the same request
/// writes one object.
async fn persistent(method: &str, fault: Fault) {
    let rig = rig().await;
    let what = format!("{} on every {method}", fault.name());
    match method {
        "GET" => rig.fail_get(fault, None),
        _ => rig.fail_put(fault, None),
    }
    let handler = rig.handler();
    rig.expect_transient(&handler, &what).await;
    rig.proxy.clear();
    rig.expect_resized(&handler, &format!("{what}, then recovered"))
        .await;
}

#[tokio::test]
async fn one_internal_error_on_get_is_retried() {
    absorbed("GET", Fault::internal_error()).await;
}

#[tokio::test]
async fn one_slow_down_on_get_is_retried() {
    absorbed("GET", Fault::slow_down()).await;
}

#[tokio::test]
async fn one_connection_reset_on_get_is_retried() {
    absorbed("GET", Fault::Reset).await;
}

#[tokio::test]
async fn one_stalled_get_times_out_and_is_retried() {
    absorbed("GET", Fault::Stall).await;
}

#[tokio::test]
async fn one_failed_put_is_retried() {
    absorbed("PUT", Fault::internal_error()).await;
}

#[tokio::test]
async fn one_slow_down_on_put_is_retried() {
    absorbed("PUT", Fault::slow_down()).await;
}

#[tokio::test]
async fn one_upload_cut_on_the_wire_is_retried() {
    absorbed("PUT", Fault::CutRequest).await;
}

#[tokio::test]
async fn persistent_internal_errors_are_transient() {
    persistent("GET", Fault::internal_error()).await;
}

#[tokio::test]
async fn persistent_throttling_is_transient() {
    persistent("GET", Fault::slow_down()).await;
}

#[tokio::test]
async fn persistent_connection_resets_are_transient() {
    persistent("GET", Fault::Reset).await;
}

#[tokio::test]
async fn a_persistently_stalled_get_is_transient() {
    persistent("GET", Fault::Stall).await;
}

#[tokio::test]
async fn a_body_that_stalls_midway_is_transient() {
    persistent("GET", Fault::StallBody).await;
}

#[tokio::test]
async fn a_persistently_failing_put_leaves_no_object() {
    persistent("PUT", Fault::internal_error()).await;
}

#[tokio::test]
async fn uploads_cut_on_the_wire_leave_no_object() {
    persistent("PUT", Fault::CutRequest).await;
}

/// S3 stored the object but the answer was lost: the SDK retries the same PutObject, whose
/// `If-None-Match: *` now fails (412); the function looks again, finds the output it made, and answers
/// `skipped` (`UP_TO_DATE`): one object. Lost every time, the function reports a TransientError; the
/// object S3 did store is complete and the retry after recovery finds it current.
#[tokio::test]
async fn lost_put_responses_are_idempotent() {
    let rig = rig().await;
    let handler = rig.handler();
    rig.fail_put(Fault::DropResponse, Some(1));
    let (first, answer) = rig
        .expect_output(&handler, "one lost PutObject answer")
        .await;
    assert_eq!(answer["skipped"], json!(true), "{answer}");
    assert_eq!(rig.proxy.count("PUT", &format!("/{}/", rig.dest)), 2);
    rig.delete_dest(DEST_KEY).await;

    rig.fail_put(Fault::DropResponse, None);
    match handler.handle(&rig.event()).await {
        Err(error) => assert_eq!(error.lambda_error_type(), "TransientError", "{error}"),
        Ok(answer) => panic!("every PutObject answer lost, yet an answer: {answer}"),
    }
    assert_eq!(rig.dest_keys().await, vec![DEST_KEY]);
    assert!(
        rig.dest_bytes(DEST_KEY).await == first,
        "S3 holds a different object"
    );
    rig.proxy.clear();
    let retried = rig.expect_resized(&handler, "the retry").await;
    assert!(retried == first, "the retry wrote different bytes");
}

/// The SDK cannot retry a body once the response has started: one cut is already a TransientError.
/// Nothing may be written from the half picture, and the retry Step Functions makes succeeds.
#[tokio::test]
async fn a_body_cut_short_never_produces_an_output() {
    let rig = rig().await;
    let handler = rig.handler();
    rig.fail_get(Fault::CutBody, Some(1));
    rig.expect_transient(&handler, "one body cut short").await;
    rig.expect_resized(&handler, "the retry after a cut body")
        .await;
    rig.delete_dest(DEST_KEY).await;
    rig.fail_get(Fault::CutBody, None);
    rig.expect_transient(&handler, "every body cut short").await;
}

/// Step Functions retries a TransientError with the same input: that retry must write exactly one
/// object, under the same key, with the same bytes as a run that never saw a fault.
#[tokio::test]
async fn a_retry_after_recovery_writes_one_identical_object() {
    let rig = rig().await;
    let handler = rig.handler();
    let undisturbed = rig.expect_resized(&handler, "undisturbed").await;
    rig.delete_dest(DEST_KEY).await;

    rig.fail_put(Fault::slow_down(), None);
    rig.expect_transient(&handler, "throttled writes").await;
    rig.proxy.clear();
    rig.fail_get(Fault::CutBody, Some(1));
    rig.expect_transient(&handler, "a cut body on the retry")
        .await;

    let retried = rig.expect_resized(&handler, "after recovery").await;
    assert!(retried == undisturbed, "the retried output differs");
    // And once more: a duplicate delivery finds the output current and writes nothing.
    let puts = rig.proxy.count("PUT", &format!("/{}/", rig.dest));
    let (again, answer) = rig.expect_output(&handler, "a duplicate delivery").await;
    assert_eq!(answer["skipped"], json!(true), "{answer}");
    assert_eq!(rig.proxy.count("PUT", &format!("/{}/", rig.dest)), puts);
    assert!(again == undisturbed, "the output changed");
}

/// Two uploads of one key in quick succession, the first one's execution held at its PutObject (the
/// proxy takes it and never answers; the SDK times the attempt out and retries): the second one's output
/// is written meanwhile, and the first one's retried write, conditional, fails and is not repeated
/// blindly. The output stays the second upload's, with sequencers (the event path) and without (the API
/// and backfill paths: the source's ETag is read again before writing).
#[tokio::test]
async fn an_older_write_held_back_never_replaces_a_newer_output() {
    for (first_sequencer, second_sequencer, reason) in [
        (Some("0A"), Some("0B"), "NEWER_OUTPUT_EXISTS"),
        (None, None, "SOURCE_CHANGED"),
    ] {
        let rig = rig().await;
        let request = |sequencer: Option<&str>| {
            let mut event = rig.event();
            if let Some(sequencer) = sequencer {
                event["sequencer"] = json!(sequencer);
            }
            event
        };
        rig.fail_put(Fault::Stall, Some(1));
        let first = {
            let handler = rig.handler();
            let event = request(first_sequencer);
            tokio::spawn(async move { handler.handle(&event).await })
        };
        // Wait (bounded) until the first execution's write is held.
        let dest_path = format!("/{}/", rig.dest);
        let started = std::time::Instant::now();
        while rig.proxy.count("PUT", &dest_path) == 0 {
            assert!(
                started.elapsed().as_secs() < 20,
                "the first write never came"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // The second upload: another picture under the same key, resized while the first write hangs.
        rig.s3
            .put_object()
            .bucket(&rig.source)
            .key(KEY)
            .body(ByteStream::from(images::jpeg(600, 900)))
            .send()
            .await
            .expect("second upload");
        let second = rig
            .handler()
            .handle(&request(second_sequencer))
            .await
            .expect("the second upload's answer");
        assert_eq!(second["skipped"], json!(false), "{second}");
        let newer = rig.dest_bytes(DEST_KEY).await;
        assert_eq!(images::dimensions(&newer), (200, 300));

        let first = first
            .await
            .expect("join")
            .expect("the first upload's answer");
        assert_eq!(first["ok"], json!(true), "{first}");
        assert_eq!(first["skipped"], json!(true), "{first}");
        assert_eq!(first["reason"], json!(reason), "{first}");
        assert!(
            rig.dest_bytes(DEST_KEY).await == newer,
            "the first upload's output replaced the second's"
        );
        // The held attempt, its timed-out retry (412), and the second upload's write.
        assert_eq!(
            rig.proxy.count("PUT", &dest_path),
            3,
            "{:?}",
            rig.proxy.seen()
        );
    }
}

/// Renditions are written all or nothing against the real S3: when every PutObject of the last rendition
/// fails, the outputs the invocation already wrote are deleted again, and the failure (retryable) names the
/// rendition. Once S3 recovers, the same request writes all of them.
#[tokio::test]
async fn a_rendition_that_cannot_be_written_takes_the_others_back() {
    let rig = rig().await;
    let handler = rig.handler_with(&[(
        "RENDITIONS",
        r#"[{"name": "thumb", "size": 100, "fit": "cover", "formats": ["jpeg", "webp"]},
            {"name": "card", "width": 400},
            {"name": "tile", "width": 300, "height": 300, "fit": "contain", "formats": ["png"]}]"#,
    )]);
    rig.proxy.inject(
        "PUT",
        &format!("/{}/output/photos/cat_tile", rig.dest),
        Fault::internal_error(),
        None,
    );
    let event = json!({"bucket": rig.source, "key": KEY});
    match handler.handle(&event).await {
        Ok(answer) => panic!("a rendition could not be written, yet an answer: {answer}"),
        Err(error) => {
            assert_eq!(error.lambda_error_type(), "TransientError", "{error}");
            assert!(error.to_string().contains("\"tile\""), "{error}");
        }
    }
    assert!(
        rig.dest_keys().await.is_empty(),
        "outputs left behind: {:?}",
        rig.dest_keys().await
    );
    // The three written before the failure were deleted, and nothing else.
    let deleted: Vec<String> = rig
        .proxy
        .seen()
        .iter()
        .filter(|seen| seen.method == "DELETE")
        .map(|seen| seen.path.clone())
        .collect();
    assert_eq!(deleted.len(), 3, "{deleted:?}");
    rig.proxy.clear();
    let answer = handler.handle(&event).await.expect("an answer");
    assert_eq!(answer["ok"], json!(true), "{answer}");
    assert_eq!(
        rig.dest_keys().await,
        vec![
            "output/photos/cat_card.jpg",
            "output/photos/cat_thumb.jpg",
            "output/photos/cat_thumb.webp",
            "output/photos/cat_tile.png",
        ]
    );
}
