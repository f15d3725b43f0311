//! The whole flow as one, on the emulator: upload → S3 → EventBridge (the module's pattern and input
//! transformer) → Step Functions (the module's state machine) → Lambda (the real `bootstrap` from the zip
//! `make build` made, run by the project's LocalStack executor, scripts/localstack/) → S3; and POST → API
//! Gateway (the module's mapping templates) → the same. Everything is deployed by the one deployer
//! (`imgresize_tests::module::deploy`) from the module's own files.
//!
//! 1. upload → resized object; SUCCEEDED with the function's answer as output; history Task → Choice → Succeed;
//! 2. corrupt upload → FAILED `ImageRejected` / `CORRUPT_IMAGE`, nothing written;
//! 3. S3 failing for the function only (fault proxy as its `AWS_ENDPOINT_URL_S3`): Retry visible in the
//!    history, success once S3 recovers; persistent failure → the Catch, after exactly the declared retries,
//!    each within the declared backoff;
//! 4. the API: POST with an apostrophe/unicode key → SUCCEEDED + object; the GET returns the result;
//! 5. a burst of 50 uploads → 50 objects, 50 SUCCEEDED executions, none lost or duplicated, with more than
//!    one execution environment alive at once (forced: the first GetObject is held by the proxy);
//! 6. the executor itself (a tiny shell runtime): timeout killed and reported, crash replaced, function
//!    errors passed through, no process left after the emulator stops;
//! 7. the arm64 zip (what the module ships by default) through the chain under qemu-user;
//! 8. at-least-once delivery: the same event twice writes once (`skipped`), a settings change remakes the
//!    output, and an older upload's execution held back at its write never replaces the newer output;
//! 9. completion events: a consumer's rule on the events' bus receives `Image Resized` / `Image Rejected`
//!    with exactly the function's answer (placeholder included) as the detail.
//!
//! This replaces the recorded-mock state-machine suite (the function's answers replayed through
//! `SFN_MOCK_CONFIG`): the same success, rejection and retry proofs now run on the function itself.
//! Every wait is bounded. The retry settings are the module's defaults (2 s, ×2, 4 retries, ≤ 30 s, full
//! jitter), so case 3 takes up to about 30 s.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use imgresize_tests::emulator::Emulator;
use imgresize_tests::fault_proxy::{Fault, FaultProxy};
use imgresize_tests::lambda_api::{self, FunctionSpec};
use imgresize_tests::module::{self, Chain, ChainOptions};
use imgresize_tests::templates::{self, WorkflowType};
use imgresize_tests::{buckets, chain, http, images, unique_name};
use serde_json::{json, Value};

async fn deploy(options: ChainOptions) -> Chain {
    match module::deploy(Emulator::shared(), &options).await {
        Ok(chain) => chain,
        Err(message) => panic!("deploy failed: {message}"),
    }
}

async fn upload(chain: &Chain, key: &str, bytes: Vec<u8>) {
    Emulator::shared()
        .s3()
        .put_object()
        .bucket(&chain.originals)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .unwrap_or_else(|e| panic!("upload {key}: {e:?}"));
}

fn types(history: &[HistoryEvent]) -> Vec<HistoryEventType> {
    history.iter().map(|e| e.r#type().clone()).collect()
}

/// True if `wanted` appears in `events` in this order, other events allowed in between.
fn is_subsequence(events: &[HistoryEventType], wanted: &[HistoryEventType]) -> bool {
    let mut wanted = wanted.iter().peekable();
    for event in events {
        if wanted.peek() == Some(&event) {
            wanted.next();
        }
    }
    wanted.peek().is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_resized_through_the_whole_chain() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let chain = deploy(ChainOptions {
        zip,
        api: false,
        ..ChainOptions::defaults("imgresize-chain").expect("options")
    })
    .await;
    let started = Instant::now();
    upload(&chain, "photos/cat.jpg", images::jpeg(1600, 1200)).await;
    let done = chain::wait_executions(Emulator::shared(), &chain, 1, Duration::from_secs(60))
        .await
        .expect("execution");
    let execution = &done[0];
    let latency = started.elapsed();
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{execution:?}"
    );
    let output: Value =
        serde_json::from_str(execution.output.as_deref().unwrap_or("null")).expect("output");
    assert_eq!(output["ok"], json!(true), "{output}");
    assert_eq!(output["width"], json!(1000), "{output}");
    let input: Value = serde_json::from_str(&execution.input).expect("input");
    assert_eq!(
        input["key"],
        json!("photos/cat.jpg"),
        "the transformer's input: {input}"
    );
    let dest_key = output["destKey"].as_str().expect("destKey");
    assert!(
        dest_key.starts_with(chain.env("DEST_PREFIX").unwrap_or_default()),
        "{dest_key}"
    );
    let keys = buckets::keys(&Emulator::shared().s3(), &chain.resized)
        .await
        .expect("keys");
    assert_eq!(keys, vec![dest_key.to_string()]);
    let history = chain::history(Emulator::shared(), &execution.arn)
        .await
        .expect("history");
    assert!(
        is_subsequence(
            &types(&history),
            &[
                HistoryEventType::TaskStateEntered,
                HistoryEventType::TaskSucceeded,
                HistoryEventType::ChoiceStateEntered,
                HistoryEventType::SucceedStateEntered,
                HistoryEventType::ExecutionSucceeded,
            ]
        ),
        "{:?}",
        types(&history)
    );
    eprintln!("upload to SUCCEEDED: {latency:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_upload_fails_as_rejected_and_writes_nothing() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let chain = deploy(ChainOptions {
        zip,
        api: false,
        ..ChainOptions::defaults("imgresize-corrupt").expect("options")
    })
    .await;
    let mut truncated = images::jpeg(800, 600);
    truncated.truncate(truncated.len() / 3);
    upload(&chain, "broken.jpg", truncated).await;
    let done = chain::wait_executions(Emulator::shared(), &chain, 1, Duration::from_secs(60))
        .await
        .expect("execution");
    let execution = &done[0];
    assert_eq!(execution.status, ExecutionStatus::Failed, "{execution:?}");
    assert_eq!(
        execution.error.as_deref(),
        Some("ImageRejected"),
        "{execution:?}"
    );
    assert_eq!(
        execution.cause.as_deref(),
        Some("CORRUPT_IMAGE"),
        "{execution:?}"
    );
    let history = chain::history(Emulator::shared(), &execution.arn)
        .await
        .expect("history");
    assert!(
        is_subsequence(
            &types(&history),
            &[
                HistoryEventType::TaskSucceeded,
                HistoryEventType::ChoiceStateEntered,
                HistoryEventType::FailStateEntered,
                HistoryEventType::ExecutionFailed,
            ]
        ),
        "{:?}",
        types(&history)
    );
    let keys = buckets::keys(&Emulator::shared().s3(), &chain.resized)
        .await
        .expect("keys");
    assert!(keys.is_empty(), "a rejection wrote {keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_faults_are_retried_by_the_state_machine_and_persistent_ones_caught() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    // Only the function talks to S3 through the proxy: uploads and checks go straight to the emulator.
    let proxy = FaultProxy::start(&emulator.endpoint).await.expect("proxy");
    let options = ChainOptions {
        zip,
        api: false,
        extra_environment: vec![("AWS_ENDPOINT_URL_S3".into(), proxy.endpoint.clone())],
        ..ChainOptions::defaults("imgresize-faults").expect("options")
    };
    let retry = options.retry.clone();
    let chain = deploy(options).await;
    let attempts_per_invocation: usize = chain
        .env("S3_MAX_ATTEMPTS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    // One invocation's worth of failures on the first photo (every SDK attempt of it), then S3 recovers;
    // every GET of the second photo fails.
    proxy.inject(
        "GET",
        "/once.jpg",
        Fault::internal_error(),
        Some(attempts_per_invocation as u32),
    );
    proxy.inject("GET", "/always.jpg", Fault::internal_error(), None);
    upload(&chain, "once.jpg", images::jpeg(640, 480)).await;
    upload(&chain, "always.jpg", images::jpeg(640, 480)).await;
    let bound = Duration::from_secs(30 + 4 * 30);
    let done = chain::wait_executions(emulator, &chain, 2, bound)
        .await
        .expect("executions");
    let by_key = |key: &str| {
        done.iter()
            .find(|e| e.input.contains(key))
            .unwrap_or_else(|| panic!("no execution for {key}: {done:?}"))
    };

    let once = by_key("once.jpg");
    assert_eq!(once.status, ExecutionStatus::Succeeded, "{once:?}");
    let history = types(&chain::history(emulator, &once.arn).await.expect("history"));
    assert!(
        is_subsequence(
            &history,
            &[
                HistoryEventType::TaskScheduled,
                HistoryEventType::TaskFailed,
                HistoryEventType::TaskScheduled,
                HistoryEventType::TaskSucceeded,
                HistoryEventType::SucceedStateEntered,
            ]
        ),
        "the retry is not in the history: {history:?}"
    );

    let always = by_key("always.jpg");
    assert_eq!(always.status, ExecutionStatus::Failed, "{always:?}");
    assert_eq!(
        always.error.as_deref(),
        Some("TransientError"),
        "{always:?}"
    );
    let events = chain::history(emulator, &always.arn)
        .await
        .expect("history");
    // Each retry waits at most the declared backoff (interval × rate^n, capped; full jitter only shortens
    // it), plus the emulator's scheduling slack.
    let failures: Vec<_> = events
        .iter()
        .filter(|e| *e.r#type() == HistoryEventType::TaskFailed)
        .collect();
    let schedules: Vec<_> = events
        .iter()
        .filter(|e| *e.r#type() == HistoryEventType::TaskScheduled)
        .collect();
    for (n, (failed, next)) in failures.iter().zip(schedules.iter().skip(1)).enumerate() {
        let waited = next.timestamp().as_secs_f64() - failed.timestamp().as_secs_f64();
        let allowed = retry.max_wait_before(n as u32) + 2.0;
        assert!(
            waited <= allowed,
            "retry {n} waited {waited:.1} s, more than {allowed:.1} s"
        );
    }
    let history = types(&events);
    let scheduled = history
        .iter()
        .filter(|t| **t == HistoryEventType::TaskScheduled)
        .count();
    assert_eq!(
        scheduled,
        retry.max_attempts as usize + 1,
        "one try and retry_max_attempts retries: {history:?}"
    );
    assert!(
        is_subsequence(
            &history,
            &[
                HistoryEventType::FailStateEntered,
                HistoryEventType::ExecutionFailed
            ]
        ),
        "{history:?}"
    );
    let keys = buckets::keys(&emulator.s3(), &chain.resized)
        .await
        .expect("keys");
    assert_eq!(
        keys.len(),
        1,
        "only the recovered photo is written: {keys:?}"
    );
    assert!(
        proxy.count("GET", "/always.jpg")
            >= (retry.max_attempts as usize + 1) * attempts_per_invocation
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_starts_the_chain_and_returns_its_result() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let chain = deploy(ChainOptions {
        zip,
        ..ChainOptions::defaults("imgresize-api").expect("options")
    })
    .await;
    let api = chain.api.clone().expect("api deployed");
    let key = "dir/bob's photo é.jpg";
    upload(&chain, key, images::jpeg(1200, 800)).await;
    let (execution_arn, status, result) = chain::call_api(
        emulator,
        &api,
        &chain.originals,
        key,
        500,
        Duration::from_secs(60),
    )
    .await
    .expect("API call");
    assert_eq!(status, "SUCCEEDED", "{result}");
    let output: Value =
        serde_json::from_str(result["output"].as_str().unwrap_or("null")).expect("output");
    assert_eq!(output["ok"], json!(true), "{result}");
    assert_eq!(output["width"], json!(500), "{result}");
    assert_eq!(output["source"]["key"], json!(key), "{result}");
    let dest_key = output["destKey"].as_str().expect("destKey");
    emulator
        .s3()
        .head_object()
        .bucket(&chain.resized)
        .key(dest_key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{dest_key} not written: {e:?}"));
    let input: Value = serde_json::from_str(
        &emulator
            .sfn()
            .describe_execution()
            .execution_arn(&execution_arn)
            .send()
            .await
            .expect("describe")
            .input
            .unwrap_or_default(),
    )
    .expect("input");
    assert_eq!(
        input["key"],
        json!(key),
        "the API passes the raw key: {input}"
    );
}

/// `var.renditions` through the whole chain: an upload becomes every configured rendition (EventBridge
/// sends `size` null, so the function's RENDITIONS apply), each at its key and size; a POST with its own
/// renditions makes those; a POST with the seed's `size` still makes the one classic output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renditions_through_the_chain_and_the_api() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let chain = deploy(ChainOptions {
        zip,
        renditions: Some(
            json!([
                {"name": "thumb", "size": 160, "fit": "cover", "gravity": "attention", "formats": ["webp", "jpeg"]},
                {"name": "card", "width": 640},
                {"name": "tile", "width": 300, "height": 200, "fit": "contain", "formats": ["png"]}
            ])
            .to_string(),
        ),
        ..ChainOptions::defaults("imgresize-renditions").expect("options")
    })
    .await;
    let key = "dir/bob's photo é.jpg";
    upload(&chain, key, images::jpeg(1600, 1200)).await;
    let done = chain::wait_executions(emulator, &chain, 1, Duration::from_secs(60))
        .await
        .expect("execution");
    assert_eq!(done[0].status, ExecutionStatus::Succeeded, "{:?}", done[0]);
    let input: Value = serde_json::from_str(&done[0].input).expect("input");
    assert_eq!(
        input["size"],
        json!(null),
        "the transformer's input: {input}"
    );
    let output: Value =
        serde_json::from_str(done[0].output.as_deref().unwrap_or("null")).expect("output");
    let expected = [
        ("output/dir/bob's photo é_thumb.webp", 160, 160),
        ("output/dir/bob's photo é_thumb.jpg", 160, 160),
        ("output/dir/bob's photo é_card.jpg", 640, 480),
        ("output/dir/bob's photo é_tile.png", 300, 200),
    ];
    let listed: Vec<(String, u64, u64)> = output["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|o| {
            (
                o["key"].as_str().unwrap_or_default().to_string(),
                o["width"].as_u64().unwrap_or_default(),
                o["height"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let wanted: Vec<(String, u64, u64)> = expected
        .iter()
        .map(|(k, w, h)| (k.to_string(), *w, *h))
        .collect();
    assert_eq!(listed, wanted, "{output}");
    for (dest_key, width, height) in expected {
        if dest_key.ends_with(".webp") {
            continue; // listed above; this crate's decoder reads JPEG and PNG
        }
        assert_output(&chain, dest_key, (width as u32, height as u32)).await;
    }

    // The API: a request's own renditions, and the seed's single output.
    let api = chain.api.clone().expect("api deployed");
    let body = json!({"key": key, "renditions": [{"name": "banner", "width": 800, "height": 200, "fit": "cover", "gravity": "north"}]});
    let (_, status, result) = chain::call_api_with(emulator, &api, &body, Duration::from_secs(60))
        .await
        .expect("API call");
    assert_eq!(status, "SUCCEEDED", "{result}");
    assert_output(&chain, "output/dir/bob's photo é_banner.jpg", (800, 200)).await;
    let (_, status, result) = chain::call_api(
        emulator,
        &api,
        &chain.originals,
        key,
        500,
        Duration::from_secs(60),
    )
    .await
    .expect("API call");
    assert_eq!(status, "SUCCEEDED", "{result}");
    assert_output(&chain, "output/dir/bob's photo é_resized.jpg", (500, 375)).await;
    // A set the request model refuses never starts an execution.
    let refused = http::post_json(
        &api.resize_url,
        &json!({"key": key, "renditions": [{"name": "Bad Name", "size": 10}]}).to_string(),
        Duration::from_secs(20),
    )
    .await
    .expect("POST");
    assert_eq!(refused.status, 400, "{}", refused.body);
}

/// The output at `dest_key` exists and has these dimensions.
async fn assert_output(chain: &Chain, dest_key: &str, dimensions: (u32, u32)) {
    let bytes = buckets::object(&Emulator::shared().s3(), &chain.resized, dest_key)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(images::dimensions(&bytes), dimensions, "{dest_key}");
}

/// `workflow_type = "EXPRESS"`: the same templates on an Express state machine. An upload is resized through
/// EventBridge as before; POST /resize answers with the function's result itself (StartSyncExecution through
/// `templates/sync_response.vtl`), a rejection with its code and CONTRACT.md's status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_resizes_uploads_and_answers_the_api_with_the_result() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let chain = deploy(ChainOptions {
        zip,
        workflow: WorkflowType::Express,
        ..ChainOptions::defaults("imgresize-express").expect("options")
    })
    .await;
    let prefix = chain.env("DEST_PREFIX").unwrap_or_default().to_string();

    // Upload → EventBridge → Express execution → the resized object (Express runs leave no history).
    upload(&chain, "up/cat.jpg", images::jpeg(1600, 1200)).await;
    let expected = format!("{prefix}up/cat_resized.jpg");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let keys = buckets::keys(&emulator.s3(), &chain.resized)
            .await
            .expect("keys");
        if keys.contains(&expected) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{expected} never written: {keys:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // POST → the answer, synchronously.
    let api = chain.api.clone().expect("api deployed");
    upload(&chain, "api/dog.jpg", images::jpeg(1200, 800)).await;
    let mut truncated = images::jpeg(800, 600);
    truncated.truncate(truncated.len() / 3);
    upload(&chain, "api/broken.jpg", truncated).await;
    let post = |body: Value| {
        let url = api.resize_url.clone();
        async move {
            http::post_json(&url, &body.to_string(), Duration::from_secs(30))
                .await
                .expect("POST /resize")
        }
    };
    let resized = post(json!({"key": "api/dog.jpg", "size": 500})).await;
    assert_eq!(resized.status, 200, "{}", resized.body);
    let answer: Value = serde_json::from_str(&resized.body).expect("the function's answer");
    assert_eq!(answer["ok"], json!(true), "{answer}");
    assert_eq!(answer["width"], json!(500), "{answer}");
    assert_eq!(
        answer["destKey"],
        json!(format!("{prefix}api/dog_resized.jpg")),
        "{answer}"
    );

    for (body, status, code) in [
        (json!({"key": "api/broken.jpg"}), 422, "CORRUPT_IMAGE"),
        (json!({"key": "api/missing.jpg"}), 404, "NOT_FOUND"),
    ] {
        let response = post(body.clone()).await;
        assert_eq!(response.status, status, "{body} → {}", response.body);
        let answer: Value = serde_json::from_str(&response.body).expect("JSON");
        assert_eq!(answer["ok"], json!(false), "{answer}");
        assert_eq!(answer["error"]["code"], json!(code), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_50_uploads_gives_50_objects_on_several_environments() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    const COUNT: usize = 50;
    let emulator = Emulator::shared();
    let proxy = FaultProxy::start(&emulator.endpoint).await.expect("proxy");
    let chain = deploy(ChainOptions {
        zip,
        api: false,
        extra_environment: vec![("AWS_ENDPOINT_URL_S3".into(), proxy.endpoint.clone())],
        ..ChainOptions::defaults("imgresize-burst").expect("options")
    })
    .await;
    // The first object's first GET is held (until the function's S3 attempt timeout): its environment stays
    // busy, so the other invocations need environments of their own. Not left to chance.
    proxy.inject("GET", "/burst/00.jpg", Fault::Stall, Some(1));
    let photo = images::jpeg(320, 240);
    let keys: Vec<String> = (0..COUNT).map(|i| format!("burst/{i:02}.jpg")).collect();
    let started = Instant::now();
    let uploads = keys.iter().map(|key| upload(&chain, key, photo.clone()));
    futures_join_all(uploads).await;

    let watcher = chain::EnvironmentWatcher::start(&chain.name);
    let done = chain::wait_executions(emulator, &chain, COUNT, Duration::from_secs(180))
        .await
        .expect("executions");
    let elapsed = started.elapsed();
    let most_environments = watcher.stop();
    let succeeded = done
        .iter()
        .filter(|e| e.status == ExecutionStatus::Succeeded)
        .count();
    assert_eq!(succeeded, COUNT, "{done:?}");
    let inputs: BTreeSet<String> = done
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.input).expect("input")["key"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let wanted: BTreeSet<String> = keys.iter().cloned().collect();
    assert_eq!(
        inputs, wanted,
        "one execution per upload, none lost or duplicated"
    );
    let written = buckets::keys(&emulator.s3(), &chain.resized)
        .await
        .expect("keys");
    assert_eq!(written.len(), COUNT, "{written:?}");
    assert!(
        most_environments > 1,
        "at most {most_environments} execution environment(s) were alive at once"
    );
    eprintln!(
        "burst: {COUNT} uploads → {COUNT} SUCCEEDED in {elapsed:?} ({:.1}/s, the held one included), up to {most_environments} environments at once",
        COUNT as f64 / elapsed.as_secs_f64()
    );
}

/// The output's S3 head, read directly from the emulator.
async fn output_head(
    chain: &Chain,
    key: &str,
) -> aws_sdk_s3::operation::head_object::HeadObjectOutput {
    Emulator::shared()
        .s3()
        .head_object()
        .bucket(&chain.resized)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key} not written: {e:?}"))
}

fn answer_of(execution: &chain::Finished) -> Value {
    serde_json::from_str(execution.output.as_deref().unwrap_or("null")).expect("output")
}

/// Starts an execution of the chain's state machine with `input`, as a second delivery would.
async fn start_execution(chain: &Chain, input: &str) {
    Emulator::shared()
        .sfn()
        .start_execution()
        .state_machine_arn(&chain.state_machine.arn)
        .input(input)
        .send()
        .await
        .expect("StartExecution");
}

/// At-least-once delivery on the real chain: the very input the transformer delivered, delivered again,
/// writes nothing (`skipped`, `UP_TO_DATE`) and leaves the output untouched; the same source under another
/// setting (`size`) is remade in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_writes_once_and_a_settings_change_remakes() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let chain = deploy(ChainOptions {
        zip,
        api: false,
        ..ChainOptions::defaults("imgresize-twice").expect("options")
    })
    .await;
    upload(&chain, "twice/cat.jpg", images::jpeg(1600, 1200)).await;
    let done = chain::wait_executions(emulator, &chain, 1, Duration::from_secs(60))
        .await
        .expect("execution");
    let first = answer_of(&done[0]);
    assert_eq!(first["skipped"], json!(false), "{first}");
    let dest_key = first["destKey"].as_str().expect("destKey").to_string();
    let written = output_head(&chain, &dest_key).await;
    let metadata = written.metadata.clone().unwrap_or_default();
    for key in [
        "imgresize-source-etag",
        "imgresize-source-last-modified",
        "imgresize-sequencer",
        "imgresize-settings",
    ] {
        assert!(metadata.contains_key(key), "{key} missing: {metadata:?}");
    }
    let input: Value = serde_json::from_str(&done[0].input).expect("input");
    assert!(
        input["sequencer"].as_str().is_some_and(|s| !s.is_empty()),
        "the transformer passes the sequencer: {input}"
    );

    // The same event again.
    start_execution(&chain, &done[0].input).await;
    let done = chain::wait_executions(emulator, &chain, 2, Duration::from_secs(60))
        .await
        .expect("executions");
    let answers: Vec<Value> = done.iter().map(answer_of).collect();
    let skipped: Vec<&Value> = answers
        .iter()
        .filter(|a| a["skipped"] == json!(true))
        .collect();
    assert_eq!(skipped.len(), 1, "{answers:?}");
    assert_eq!(skipped[0]["reason"], json!("UP_TO_DATE"), "{answers:?}");
    assert!(
        done.iter().all(|e| e.status == ExecutionStatus::Succeeded),
        "{done:?}"
    );
    let after = output_head(&chain, &dest_key).await;
    assert_eq!(after.e_tag, written.e_tag, "rewritten");
    assert_eq!(after.last_modified, written.last_modified, "rewritten");

    // Another size for the same source: a settings change, so the output is remade.
    let mut smaller = input.clone();
    smaller["size"] = json!(400);
    start_execution(&chain, &smaller.to_string()).await;
    let done = chain::wait_executions(emulator, &chain, 3, Duration::from_secs(60))
        .await
        .expect("executions");
    let remade: Vec<Value> = done
        .iter()
        .map(answer_of)
        .filter(|a| a["width"] == json!(400))
        .collect();
    assert_eq!(remade.len(), 1, "{done:?}");
    assert_eq!(remade[0]["skipped"], json!(false), "{remade:?}");
    let after = output_head(&chain, &dest_key).await;
    assert_ne!(
        after.metadata.unwrap_or_default().get("imgresize-settings"),
        metadata.get("imgresize-settings")
    );
    let keys = buckets::keys(&emulator.s3(), &chain.resized)
        .await
        .expect("keys");
    assert_eq!(keys, vec![dest_key]);
}

/// Two uploads of one key in quick succession, the first execution held back at its PutObject (the fault
/// proxy, the function's S3 endpoint, takes that request and never answers; the SDK times the attempt out
/// and retries): the second upload's execution writes first, and the first one's retried, conditional
/// write fails and is decided again. The final output is the second upload's. (LocalStack gives both
/// events the same sequencer, so the order comes from re-reading the source: `SOURCE_CHANGED`; on AWS the
/// sequencers differ and the answer is `NEWER_OUTPUT_EXISTS`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_back_older_upload_never_replaces_the_newer_output() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let proxy = FaultProxy::start(&emulator.endpoint).await.expect("proxy");
    let chain = deploy(ChainOptions {
        zip,
        api: false,
        extra_environment: vec![
            ("AWS_ENDPOINT_URL_S3".into(), proxy.endpoint.clone()),
            // A held attempt gives up after 3 s (instead of 10) and the SDK retries it.
            ("S3_ATTEMPT_TIMEOUT_MS".into(), "3000".into()),
        ],
        ..ChainOptions::defaults("imgresize-race").expect("options")
    })
    .await;
    let puts = format!("/{}/", chain.resized);
    proxy.inject("PUT", &puts, Fault::Stall, Some(1));
    let key = "race/cat.jpg";
    upload(&chain, key, images::jpeg(1600, 1200)).await;
    let started = Instant::now();
    while proxy.count("PUT", &puts) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first execution never wrote: {:?}",
            proxy.seen()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The first write is held: upload the second picture (portrait) under the same key.
    upload(&chain, key, images::jpeg(1200, 1600)).await;
    let second_etag = emulator
        .s3()
        .head_object()
        .bucket(&chain.originals)
        .key(key)
        .send()
        .await
        .expect("source")
        .e_tag
        .unwrap_or_default();
    let done = chain::wait_executions(emulator, &chain, 2, Duration::from_secs(90))
        .await
        .expect("executions");
    assert!(
        done.iter().all(|e| e.status == ExecutionStatus::Succeeded),
        "{done:?}"
    );
    let answers: Vec<Value> = done.iter().map(answer_of).collect();
    let written: Vec<&Value> = answers
        .iter()
        .filter(|a| a["skipped"] == json!(false))
        .collect();
    let skipped: Vec<&Value> = answers
        .iter()
        .filter(|a| a["skipped"] == json!(true))
        .collect();
    assert_eq!((written.len(), skipped.len()), (1, 1), "{answers:?}");
    assert!(
        matches!(
            skipped[0]["reason"].as_str(),
            Some("SOURCE_CHANGED" | "NEWER_OUTPUT_EXISTS")
        ),
        "{answers:?}"
    );
    assert_eq!(
        (written[0]["width"].clone(), written[0]["height"].clone()),
        (json!(750), json!(1000)),
        "the second upload's output: {answers:?}"
    );
    let dest_key = written[0]["destKey"].as_str().expect("destKey");
    let object = emulator
        .s3()
        .get_object()
        .bucket(&chain.resized)
        .key(dest_key)
        .send()
        .await
        .expect("output");
    assert_eq!(
        object
            .metadata()
            .and_then(|m| m.get("imgresize-source-etag"))
            .map(String::as_str),
        Some(second_etag.trim_matches('"')),
        "the output is not the second upload's"
    );
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert_eq!(images::dimensions(&bytes), (750, 1000));
    // The held attempt, its retry (412) and the second upload's write.
    assert_eq!(proxy.count("PUT", &puts), 3, "{:?}", proxy.seen());
}

/// Runs all `futures` concurrently (no `futures` crate in the workspace: tokio's JoinSet needs 'static).
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let all: Vec<_> = futures.map(Box::pin).collect();
    let mut all = all;
    std::future::poll_fn(|cx| {
        all.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if all.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// A custom runtime in a few lines of shell, to make the executor time out, crash and fail on request.
const SHELL_RUNTIME: &str = r#"#!/bin/bash
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  headers=$(mktemp)
  body=$(curl -sS -D "$headers" "$api/invocation/next") || exit 1
  id=$(tr -d '\r' <"$headers" | awk -F': ' 'tolower($1) == "lambda-runtime-aws-request-id" {print $2}')
  rm -f "$headers"
  case $body in
    *'"sleep"'*) sleep 60 ;;
    *'"crash"'*) exit 3 ;;
    *'"fail"'*) curl -sS -o /dev/null -X POST -d '{"errorType":"Boom","errorMessage":"asked to"}' "$api/invocation/$id/error"; continue ;;
  esac
  curl -sS -o /dev/null -X POST -d "{\"echo\": $body, \"pid\": $$}" "$api/invocation/$id/response"
done
"#;

fn shell_runtime_zip(folder: &Path) -> PathBuf {
    use std::io::Write;
    let path = folder.join("shell-runtime.zip");
    let file = std::fs::File::create(&path).expect("zip file");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).expect("zip entry");
    zip.write_all(SHELL_RUNTIME.as_bytes()).expect("zip write");
    zip.finish().expect("zip finish");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executor_kills_timeouts_replaces_crashes_and_leaves_no_process() {
    // An emulator of its own: the last check stops it and looks for leftovers.
    let emulator = Emulator::dedicated(&[]).expect("emulator");
    let folder = tempfile::tempdir().expect("temp dir");
    let name = unique_name("imgresize-shell");
    let spec = FunctionSpec {
        name: name.clone(),
        zip: shell_runtime_zip(folder.path()),
        architecture: "x86_64".into(),
        memory_size: 128,
        timeout_seconds: 1,
        role_arn: "arn:aws:iam::000000000000:role/shell".into(),
        environment: vec![],
    };
    lambda_api::create_function(&emulator.endpoint, &spec)
        .await
        .expect("create");
    let invoke = |payload: &'static str| {
        let endpoint = emulator.endpoint.clone();
        let name = name.clone();
        async move {
            let started = Instant::now();
            let invoked = lambda_api::invoke(&endpoint, &name, payload, Duration::from_secs(30))
                .await
                .expect("invoke");
            (invoked, started.elapsed())
        }
    };

    let (first, _) = invoke(r#"{"n": 1}"#).await;
    assert_eq!(first.function_error, None, "{first:?}");
    let first_pid = serde_json::from_str::<Value>(&first.payload).expect("json")["pid"].clone();

    let (failed, _) = invoke(r#"{"x": "fail"}"#).await;
    assert_eq!(
        failed.function_error.as_deref(),
        Some("Unhandled"),
        "{failed:?}"
    );
    assert!(failed.payload.contains("\"Boom\""), "{failed:?}");

    let (timed_out, took) = invoke(r#"{"x": "sleep"}"#).await;
    assert_eq!(
        timed_out.function_error.as_deref(),
        Some("Unhandled"),
        "{timed_out:?}"
    );
    assert!(
        timed_out
            .payload
            .contains("Task timed out after 1.00 seconds"),
        "{timed_out:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "the timeout was not enforced: {took:?}"
    );
    assert!(
        chain::function_processes(&name)
            .iter()
            .all(|p| !p.1.contains("sleep")),
        "the timed-out invocation's process group was not killed"
    );

    let (after_timeout, _) = invoke(r#"{"n": 2}"#).await;
    assert_eq!(after_timeout.function_error, None, "{after_timeout:?}");
    let replaced_pid =
        serde_json::from_str::<Value>(&after_timeout.payload).expect("json")["pid"].clone();
    assert_ne!(first_pid, replaced_pid, "a killed process must be replaced");

    let (crashed, _) = invoke(r#"{"x": "crash"}"#).await;
    assert!(crashed.payload.contains("Runtime.ExitError"), "{crashed:?}");
    assert!(crashed.payload.contains("exit status 3"), "{crashed:?}");
    let (after_crash, _) = invoke(r#"{"n": 3}"#).await;
    assert_eq!(after_crash.function_error, None, "{after_crash:?}");

    assert!(
        !chain::function_processes(&name).is_empty(),
        "the environment should be alive"
    );
    drop(emulator);
    let left = chain::function_processes(&name);
    assert!(left.is_empty(), "processes outlived the emulator: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arm64_zip_runs_through_the_chain_under_qemu() {
    let zip = module::lambda_zip("arm64");
    if !zip.is_file() {
        // `make test` builds both zips; a contributor's `cargo test` may have only the x86_64 one.
        eprintln!(
            "SKIPPED: {} is missing: `bash scripts/build.sh arm64`",
            zip.display()
        );
        return;
    }
    let chain = deploy(ChainOptions {
        zip,
        architecture: "arm64".into(),
        api: false,
        ..ChainOptions::defaults("imgresize-arm64").expect("options")
    })
    .await;
    upload(&chain, "arm/cat.jpg", images::jpeg(1600, 1200)).await;
    // Emulated: about 1 s for a 12 MP photo, far less for this one; generous for a loaded machine.
    let done = chain::wait_executions(Emulator::shared(), &chain, 1, Duration::from_secs(120))
        .await
        .expect("execution");
    assert_eq!(done[0].status, ExecutionStatus::Succeeded, "{:?}", done[0]);
    let keys = buckets::keys(&Emulator::shared().s3(), &chain.resized)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
}

/// Postman's runner, installed by `scripts/setup.sh newman` (also part of `all`).
fn newman_or_skip() -> Option<PathBuf> {
    imgresize_tests::built_or_skip(
        imgresize_tests::repo_root().join(".tools/newman/node_modules/.bin/newman"),
        "bash scripts/setup.sh newman",
    )
}

/// The collection users import, run by newman against the local API with the emulator's credentials: every
/// request passes the collection's own tests (STANDARD: the GET waits, bounded, for a final status; EXPRESS:
/// the POST's answer is the result). LocalStack does not check SigV4, so this proves the requests, bodies and
/// flow, not the auth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postman_collection_passes_against_the_local_api() {
    for workflow in [WorkflowType::Standard, WorkflowType::Express] {
        let (Some(zip), Some(newman)) = (module::lambda_zip_or_skip("x86_64"), newman_or_skip())
        else {
            return;
        };
        run_collection(zip, newman, workflow).await;
    }
}

async fn run_collection(zip: PathBuf, newman: PathBuf, workflow: WorkflowType) {
    let emulator = Emulator::shared();
    let chain = deploy(ChainOptions {
        zip,
        workflow,
        ..ChainOptions::defaults("imgresize-postman").expect("options")
    })
    .await;
    let api = chain.api.clone().expect("api deployed");
    let collection = imgresize_tests::repo_root()
        .join("terraform/examples/complete/imgresize.postman_collection.json");
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(&collection).expect("collection"))
            .expect("collection JSON");
    // The object the collection's `key` variable names (its POST leaves out the bucket: the originals).
    let key = document["variable"]
        .as_array()
        .and_then(|vars| vars.iter().find(|v| v["key"] == json!("key")))
        .and_then(|v| v["value"].as_str())
        .expect("the collection's key variable")
        .to_string();
    upload(&chain, &key, images::jpeg(1600, 1200)).await;
    let base_url = emulator
        .execute_api_url(&api.id, &api.stage, "")
        .trim_end_matches('/')
        .to_string();
    let workflow_type = match workflow {
        WorkflowType::Standard => "STANDARD",
        WorkflowType::Express => "EXPRESS",
    };
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("timeout")
            .arg("150")
            .arg(&newman)
            .arg("run")
            .arg(&collection)
            .args(["--env-var", &format!("baseUrl={base_url}")])
            .args(["--env-var", "region=us-east-1"])
            .args(["--env-var", "accessKey=test"])
            .args(["--env-var", "secretKey=test"])
            .args(["--env-var", "sessionToken="])
            .args(["--env-var", &format!("workflowType={workflow_type}")])
            .args([
                "--timeout-request",
                "30000",
                "--color",
                "off",
                "--disable-unicode",
            ])
            .output()
    })
    .await
    .expect("join")
    .expect("newman runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "newman failed on {workflow_type} ({})",
        output.status
    );
    assert!(
        stdout.contains("SUCCEEDED") || stdout.contains("destKey"),
        "{workflow_type}: newman never saw the result"
    );
    if workflow == WorkflowType::Express {
        assert!(
            !stdout.contains("GET /executions"),
            "EXPRESS has nothing to poll"
        );
    }
    let written = buckets::keys(&emulator.s3(), &chain.resized)
        .await
        .expect("keys");
    assert!(!written.is_empty(), "{workflow_type}: nothing written");
}

/// The answer the function gave in `execution` (its Resize state's output), whatever the execution's end:
/// a FAILED execution (a rejection) has no output of its own.
async fn function_answer(execution: &chain::Finished) -> Value {
    let history = chain::history(Emulator::shared(), &execution.arn)
        .await
        .expect("history");
    let exited = history
        .iter()
        .filter_map(|e| e.state_exited_event_details())
        .find(|d| d.name() == "Resize")
        .unwrap_or_else(|| panic!("no Resize state exited in {:?}", types(&history)));
    serde_json::from_str(exited.output().unwrap_or("null")).expect("the answer is JSON")
}

/// Completion events on the real chain, as a consumer sees them: a rule with the module's
/// `completion_events_pattern` on a bus of its own (`completion_events_bus_name`) delivers to a probe
/// queue. A good upload → one `Image Resized` whose detail is exactly the function's answer (the
/// execution's output), with the placeholder the output's metadata records and the source's ETag; a
/// broken one → one `Image Rejected` with exactly the rejection; the same event again → `Image Resized`
/// with `skipped: true` and the placeholder recorded on the output (nothing decoded). Nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_events_carry_the_answer_and_its_placeholder() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let bus = imgresize_tests::unique_name("imgresize-images");
    let source = imgresize_tests::unique_name("com.example.imgresize");
    let chain = deploy(ChainOptions {
        zip,
        api: false,
        completion_events: Some(templates::CompletionEvents {
            bus_name: bus.clone(),
            source: source.clone(),
        }),
        ..ChainOptions::defaults("imgresize-events").expect("options")
    })
    .await;
    // outputs.tf's completion_events_pattern
    let pattern = json!({"detail-type": ["Image Resized", "Image Rejected"], "source": [source]});
    let probe = module::completion_events_probe(emulator, &bus, &pattern.to_string())
        .await
        .expect("consumer");

    upload(&chain, "events/cat.jpg", images::jpeg(1600, 1200)).await;
    let mut truncated = images::jpeg(800, 600);
    truncated.truncate(truncated.len() / 3);
    upload(&chain, "events/broken.jpg", truncated).await;
    let done = chain::wait_executions(emulator, &chain, 2, Duration::from_secs(60))
        .await
        .expect("executions");
    let resized = done
        .iter()
        .find(|e| e.input.contains("cat.jpg"))
        .expect("cat.jpg's execution");
    let rejected = done
        .iter()
        .find(|e| e.input.contains("broken.jpg"))
        .expect("broken.jpg's execution");
    assert_eq!(resized.status, ExecutionStatus::Succeeded, "{resized:?}");
    assert_eq!(rejected.status, ExecutionStatus::Failed, "{rejected:?}");
    assert_eq!(
        rejected.cause.as_deref(),
        Some("CORRUPT_IMAGE"),
        "{rejected:?}"
    );
    let history = types(
        &chain::history(emulator, &resized.arn)
            .await
            .expect("history"),
    );
    assert!(
        is_subsequence(
            &history,
            &[
                HistoryEventType::ChoiceStateEntered,
                HistoryEventType::TaskStateEntered,
                HistoryEventType::TaskSucceeded,
                HistoryEventType::SucceedStateEntered,
            ]
        ),
        "the event is published between the Choice and the Succeed: {history:?}"
    );

    // The same event again: skipped, nothing decoded.
    start_execution(&chain, &resized.input).await;
    let done = chain::wait_executions(emulator, &chain, 3, Duration::from_secs(60))
        .await
        .expect("executions");
    let again = done
        .iter()
        .find(|e| e.arn != resized.arn && e.input.contains("cat.jpg"))
        .expect("the second execution");

    let bodies = module::drain_queue(
        emulator,
        &probe.queue_url,
        3,
        Duration::from_secs(30),
        Duration::from_secs(2),
    )
    .await
    .expect("events");
    let events: Vec<Value> = bodies
        .iter()
        .map(|b| serde_json::from_str(b).expect("an event is JSON"))
        .collect();
    assert_eq!(events.len(), 3, "{events:#?}");
    for event in &events {
        assert_eq!(event["source"], json!(source), "{event}");
    }
    let of_type = |detail_type: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["detail-type"] == json!(detail_type))
            .collect()
    };

    let answer = answer_of(resized);
    let answer_again = answer_of(again);
    assert_eq!(answer_again["skipped"], json!(true), "{answer_again}");
    let resized_events = of_type("Image Resized");
    assert_eq!(resized_events.len(), 2, "{events:#?}");
    let first = resized_events
        .iter()
        .find(|e| e["detail"]["skipped"] == json!(false))
        .expect("the first event");
    assert_eq!(
        first["detail"], answer,
        "the detail is the function's answer"
    );
    let second = resized_events
        .iter()
        .find(|e| e["detail"]["skipped"] == json!(true))
        .expect("the skipped event");
    assert_eq!(second["detail"], answer_again);

    // The placeholder: in the answer, on the output's metadata, and carried by the skipped answer.
    let placeholder = answer["placeholder"].as_str().expect("placeholder");
    assert!(
        (20..=48).contains(&placeholder.len()),
        "a ThumbHash in base64: {placeholder}"
    );
    let dest_key = answer["destKey"].as_str().expect("destKey");
    let head = output_head(&chain, dest_key).await;
    assert_eq!(
        head.metadata
            .unwrap_or_default()
            .get("imgresize-placeholder")
            .map(String::as_str),
        Some(placeholder)
    );
    assert_eq!(answer_again["placeholder"], json!(placeholder));
    let original = emulator
        .s3()
        .head_object()
        .bucket(&chain.originals)
        .key("events/cat.jpg")
        .send()
        .await
        .expect("original");
    assert_eq!(
        answer["source"]["etag"].as_str(),
        original.e_tag().map(|e| e.trim_matches('"'))
    );

    let rejected_events = of_type("Image Rejected");
    assert_eq!(rejected_events.len(), 1, "{events:#?}");
    let rejection = function_answer(rejected).await;
    assert_eq!(rejected_events[0]["detail"], rejection);
    assert_eq!(rejection["ok"], json!(false), "{rejection}");
    assert_eq!(
        rejection["error"]["code"],
        json!("CORRUPT_IMAGE"),
        "{rejection}"
    );
}

/// Delete sync on the real chain: deleting an original (S3 "Object Deleted" → the module's rule → the
/// function's delete request) deletes its output and nothing else: another source sharing its name
/// prefix (`d/cat2.jpg`), one with the same name in another folder (`cat.jpg`) and a stranger's object
/// under the same prefix stay. A delete request arriving after the original was uploaded again (the race,
/// called directly: the function is the one checking) keeps the new output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_original_deletes_exactly_its_outputs() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let chain = deploy(ChainOptions {
        zip,
        api: false,
        delete_sync: true,
        ..ChainOptions::defaults("imgresize-delete").expect("options")
    })
    .await;
    let prefix = chain.env("DEST_PREFIX").unwrap_or_default().to_string();
    for key in ["d/cat.jpg", "d/cat2.jpg", "cat.jpg", "d/dog.jpg"] {
        upload(&chain, key, images::jpeg(640, 480)).await;
    }
    chain::wait_executions(emulator, &chain, 4, Duration::from_secs(90))
        .await
        .expect("executions");
    let s3 = emulator.s3();
    s3.put_object()
        .bucket(&chain.resized)
        .key(format!("{prefix}d/cat_resized.txt"))
        .body(ByteStream::from_static(b"a stranger's"))
        .send()
        .await
        .expect("stranger");
    let before = buckets::keys(&s3, &chain.resized).await.expect("keys");
    let gone = format!("{prefix}d/cat_resized.jpg");
    assert!(before.contains(&gone), "{before:?}");

    s3.delete_object()
        .bucket(&chain.originals)
        .key("d/cat.jpg")
        .send()
        .await
        .expect("delete the original");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let keys = buckets::keys(&s3, &chain.resized).await.expect("keys");
        if !keys.contains(&gone) {
            break;
        }
        assert!(Instant::now() < deadline, "{gone} still there: {keys:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut expected = before.clone();
    expected.retain(|k| *k != gone);
    assert_eq!(
        buckets::keys(&s3, &chain.resized).await.expect("keys"),
        expected,
        "only d/cat.jpg's output went"
    );

    // The race: d/dog.jpg deleted and at once uploaded again. Whenever its delete event is handled, the
    // new upload's output is there at the end, made from the new object.
    s3.delete_object()
        .bucket(&chain.originals)
        .key("d/dog.jpg")
        .send()
        .await
        .expect("delete d/dog.jpg");
    upload(&chain, "d/dog.jpg", images::jpeg(320, 240)).await;
    chain::wait_executions(emulator, &chain, 5, Duration::from_secs(60))
        .await
        .expect("the new upload's execution");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let dog = format!("{prefix}d/dog_resized.jpg");
    let new_etag = s3
        .head_object()
        .bucket(&chain.originals)
        .key("d/dog.jpg")
        .send()
        .await
        .expect("the new original")
        .e_tag
        .unwrap_or_default();
    let head = output_head(&chain, &dog).await;
    assert_eq!(
        head.metadata
            .unwrap_or_default()
            .get("imgresize-source-etag")
            .map(String::as_str),
        Some(new_etag.trim_matches('"')),
        "the output is the new upload's"
    );
    // And deterministically: the delete request handled after the upload.
    let invoked = lambda_api::invoke(
        &emulator.endpoint,
        &chain.name,
        &json!({"action": "delete", "bucket": chain.originals, "key": "d/dog.jpg", "keyEncoding": "url"})
            .to_string(),
        Duration::from_secs(30),
    )
    .await
    .expect("invoke");
    let answer: Value = serde_json::from_str(&invoked.payload).expect("answer");
    assert_eq!(answer["reason"], json!("SOURCE_EXISTS"), "{answer}");
    assert_eq!(answer["deleted"], json!([]), "{answer}");
    let keys = buckets::keys(&s3, &chain.resized).await.expect("keys");
    assert!(
        keys.contains(&format!("{prefix}d/dog_resized.jpg")),
        "{keys:?}"
    );

    // A deletion that fails every attempt is not lost: with the resized bucket gone, listing it fails, Lambda's
    // asynchronous invocation retries twice (after 1 and 2 s on the emulator, scripts/emulator.sh), and the
    // record of the failure, with the request, lands in the module's dead-letter queue.
    let dead_letters = chain
        .delete_sync
        .as_ref()
        .and_then(|d| d.dead_letters.clone())
        .expect("create_eventbridge_dlq is on by default");
    for key in buckets::keys(&s3, &chain.resized).await.expect("keys") {
        s3.delete_object()
            .bucket(&chain.resized)
            .key(&key)
            .send()
            .await
            .expect("empty the resized bucket");
    }
    s3.delete_bucket()
        .bucket(&chain.resized)
        .send()
        .await
        .expect("delete the resized bucket");
    s3.delete_object()
        .bucket(&chain.originals)
        .key("cat.jpg")
        .send()
        .await
        .expect("delete cat.jpg");
    let records = module::drain_queue(
        emulator,
        &dead_letters,
        1,
        Duration::from_secs(60),
        Duration::from_secs(3),
    )
    .await
    .expect("the dead-letter queue");
    assert_eq!(
        records.len(),
        1,
        "one record per failed deletion: {records:?}"
    );
    let record: Value = serde_json::from_str(&records[0]).expect("a JSON record");
    assert_eq!(
        record["requestContext"]["condition"],
        json!("RetriesExhausted"),
        "{record}"
    );
    assert_eq!(
        record["requestContext"]["approximateInvokeCount"],
        json!(3),
        "{record}"
    );
    assert_eq!(
        record["requestPayload"]["action"],
        json!("delete"),
        "{record}"
    );
    assert_eq!(
        record["requestPayload"]["key"],
        json!("cat.jpg"),
        "{record}"
    );
    assert_eq!(
        record["responsePayload"]["errorType"],
        json!("InternalError"),
        "{record}"
    );
    let message = record["responsePayload"]["errorMessage"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains(&chain.resized), "{record}");
}
