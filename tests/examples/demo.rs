//! `make demo` (run by scripts/demo.sh, which starts the emulator and stops it again, also on Ctrl-C): the
//! seed's flow on the emulator. The module's resources are deployed by the one deployer the tests use
//! (`imgresize_tests::module::deploy`, the x86_64 zip `make build` made); then the photos are uploaded to the
//! originals bucket and each resized copy is waited for as it arrives through EventBridge → Step Functions →
//! Lambda; one broken file shows the Fail path; one POST goes through the API and its result is read back
//! with GET. The results land in ./demo-out/.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sfn::types::ExecutionStatus;
use imgresize::engine::{probe, sniff};
use imgresize_tests::emulator::Emulator;
use imgresize_tests::module::{self, Chain, ChainOptions};
use imgresize_tests::{chain, repo_root};
use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Everything the demo waits for is bounded by this (the slowest photo takes well under a second).
const BOUND: Duration = Duration::from_secs(120);
/// The API row's key: a space, an apostrophe and a non-ASCII letter, as the issue asks.
const API_KEY: &str = "uploads/bob's café photo.jpg";
const API_SIZE: u32 = 640;

struct Upload {
    key: String,
    bytes: Vec<u8>,
    expected_failure: bool,
    uploaded_at: Option<Instant>,
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("demo: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("demo: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The photos (../shared/corpus/photos, else the bundled scripts/demo-images/) and one broken file.
fn inputs() -> Result<(PathBuf, Vec<PathBuf>, PathBuf), String> {
    let shared = repo_root().join("../shared/corpus");
    // IMGRESIZE_DEMO_BUNDLED=1 shows what a clone without ../shared sees.
    let bundled_only = std::env::var("IMGRESIZE_DEMO_BUNDLED").as_deref() == Ok("1");
    let (folder, broken) = if shared.join("photos").is_dir() && !bundled_only {
        (
            shared.join("photos"),
            shared.join("broken/truncated_jpeg.jpg"),
        )
    } else {
        let bundled = repo_root().join("scripts/demo-images");
        (bundled.clone(), bundled.join("broken/truncated.jpg"))
    };
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| format!("cannot list {}: {e}", folder.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                ["jpg", "jpeg", "png", "webp", "gif"].contains(&e.to_ascii_lowercase().as_str())
            })
        })
        .collect();
    photos.sort();
    Ok((folder, photos, broken))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `WxH` from the image's header, or `-` when it has none worth showing.
fn size_of(bytes: &[u8]) -> String {
    sniff::sniff(bytes)
        .ok()
        .and_then(|format| probe::dimensions(bytes, format).ok().flatten())
        .map(|(w, h)| format!("{w}x{h}"))
        .unwrap_or_else(|| "-".into())
}

async fn run() -> Result<bool, String> {
    let emulator = Emulator::shared();
    let (folder, photos, broken) = inputs()?;
    println!("photos from {}", folder.display());

    let options = ChainOptions::defaults("imgresize-demo")?;
    let chain = module::deploy(emulator, &options).await?;
    let api = chain.api.clone().ok_or("the deployer made no API")?;
    println!(
        "deployed: {} ({} → {}), function {}, state machine {}",
        chain.name, chain.originals, chain.resized, chain.function_arn, chain.state_machine.arn
    );

    let mut uploads: Vec<Upload> = Vec::new();
    for path in &photos {
        uploads.push(Upload {
            key: format!("uploads/{}", file_name(path)),
            bytes: read(path)?,
            expected_failure: false,
            uploaded_at: None,
        });
    }
    uploads.push(Upload {
        key: format!("uploads/{}", file_name(&broken)),
        bytes: read(&broken)?,
        expected_failure: true,
        uploaded_at: None,
    });
    let s3 = emulator.s3();
    let started = Instant::now();
    // One upload at a time, each waited for until its execution is done: a row's latency is that upload's
    // own trip, not a queue behind the others. The moment an object is first listed is its arrival.
    let mut arrivals: HashMap<String, Instant> = HashMap::new();
    for (done, upload) in uploads.iter_mut().enumerate() {
        s3.put_object()
            .bucket(&chain.originals)
            .key(&upload.key)
            .body(ByteStream::from(upload.bytes.clone()))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "upload {}: {}",
                    upload.key,
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?;
        upload.uploaded_at = Some(Instant::now());
        watch_arrivals(emulator, &chain, done + 1, &mut arrivals).await?;
    }
    let finished = chain::wait_executions(emulator, &chain, uploads.len(), BOUND).await?;
    let mut by_key: HashMap<String, chain::Finished> = HashMap::new();
    for execution in finished {
        let input: Value = serde_json::from_str(&execution.input).unwrap_or(Value::Null);
        let raw = input["key"].as_str().unwrap_or_default();
        // Keys from S3 events arrive URL-encoded (form style on AWS: `+` is a space).
        let key = percent_decode_str(&raw.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        by_key.insert(key, execution);
    }

    let out_dir = repo_root().join("demo-out");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    println!();
    println!(
        "{:<56} {:>10} {:>6} {:>10} {:>5}  {:<31} {:>6}",
        "key", "input", "KB", "output", "KB", "status", "ms"
    );
    let (mut resized, mut failed, mut expected) = (0usize, 0usize, String::from("none"));
    let mut latencies = Vec::new();
    for upload in &uploads {
        let execution = by_key.get(&upload.key);
        let status = execution.map(|e| e.status.clone());
        let output: Value = execution
            .and_then(|e| e.output.as_deref())
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or(Value::Null);
        let dest_key = output["destKey"].as_str().unwrap_or_default();
        let (out_size, out_kb, ms) =
            if status == Some(ExecutionStatus::Succeeded) && !dest_key.is_empty() {
                let object = s3
                    .get_object()
                    .bucket(&chain.resized)
                    .key(dest_key)
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "get {dest_key}: {}",
                            aws_sdk_s3::error::DisplayErrorContext(e)
                        )
                    })?;
                let body = object
                    .body
                    .collect()
                    .await
                    .map_err(|e| format!("read {dest_key}: {e}"))?
                    .into_bytes();
                let local = out_dir.join(dest_key.rsplit('/').next().unwrap_or("out"));
                std::fs::write(&local, &body)
                    .map_err(|e| format!("cannot write {}: {e}", local.display()))?;
                let latency = match (arrivals.get(dest_key), upload.uploaded_at) {
                    (Some(arrived), Some(uploaded)) => arrived.saturating_duration_since(uploaded),
                    _ => Duration::ZERO,
                };
                latencies.push(latency);
                (
                    size_of(&body),
                    format!("{}", body.len() / 1024),
                    format!("{}", latency.as_millis()),
                )
            } else {
                ("-".into(), "-".into(), "-".into())
            };
        let status_text = match (&status, execution) {
            (Some(ExecutionStatus::Succeeded), _) => "SUCCEEDED".to_string(),
            (Some(s), Some(e)) => {
                format!("{} {}", s.as_str(), e.cause.as_deref().unwrap_or_default())
            }
            _ => "NO EXECUTION".to_string(),
        };
        match (&status, upload.expected_failure) {
            (Some(ExecutionStatus::Succeeded), false) => resized += 1,
            (Some(ExecutionStatus::Failed), true) => {
                expected = execution.and_then(|e| e.cause.clone()).unwrap_or_default();
            }
            _ => failed += 1,
        }
        let shown = if upload.expected_failure {
            format!("{status_text} (expected)")
        } else {
            status_text
        };
        println!(
            "{:<56} {:>10} {:>6} {:>10} {:>5}  {:<31} {:>6}",
            upload.key,
            size_of(&upload.bytes),
            upload.bytes.len() / 1024,
            out_size,
            out_kb,
            shown,
            ms
        );
    }

    // The API: the object goes in first (its own upload runs the chain as well; that run is not a row),
    // then POST /resize and GET /executions/{id} until it is done.
    let api_source = uploads.first().ok_or("no photos to show")?;
    s3.put_object()
        .bucket(&chain.originals)
        .key(API_KEY)
        .body(ByteStream::from(api_source.bytes.clone()))
        .send()
        .await
        .map_err(|e| {
            format!(
                "upload {API_KEY}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })?;
    let api_started = Instant::now();
    let (_, api_status, result) =
        chain::call_api(emulator, &api, &chain.originals, API_KEY, API_SIZE, BOUND).await?;
    let api_ms = api_started.elapsed().as_millis();
    let output: Value = result["output"]
        .as_str()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or(Value::Null);
    let api_out = match (output["width"].as_u64(), output["height"].as_u64()) {
        (Some(w), Some(h)) => format!("{w}x{h}"),
        _ => "-".into(),
    };
    let api_kb = output["bytes"]
        .as_u64()
        .map(|b| (b / 1024).to_string())
        .unwrap_or_else(|| "-".into());
    println!(
        "{:<56} {:>10} {:>6} {:>10} {:>5}  {:<31} {:>6}",
        format!("API POST /resize {API_KEY:?} size {API_SIZE}"),
        size_of(&api_source.bytes),
        api_source.bytes.len() / 1024,
        api_out,
        api_kb,
        api_status,
        api_ms
    );
    // Its upload's own event run finishes too before the emulator goes: nothing left running.
    chain::wait_executions(emulator, &chain, uploads.len() + 2, BOUND).await?;

    latencies.sort();
    let p50 = latencies
        .get(latencies.len() / 2)
        .copied()
        .unwrap_or_default();
    let max = latencies.last().copied().unwrap_or_default();
    println!();
    println!(
        "(ms: upload finished → resized object listed; photos one at a time; p50 {} ms, max {} ms; {:.1} s from the first upload)",
        p50.as_millis(),
        max.as_millis(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "{resized} resized through EventBridge → Step Functions → Lambda, {failed} failed; API: {api_status}; expected failure: {expected}"
    );
    println!("results in {}/", out_dir.display());
    Ok(failed == 0 && api_status == "SUCCEEDED" && expected == "CORRUPT_IMAGE")
}

/// Polls (every 20 ms, at most [`BOUND`]) the resized bucket, noting when each key is first listed, until
/// `executions` executions exist and none is running.
async fn watch_arrivals(
    emulator: &Emulator,
    chain: &Chain,
    executions: usize,
    seen: &mut HashMap<String, Instant>,
) -> Result<(), String> {
    let s3 = emulator.s3();
    let sfn = emulator.sfn();
    let deadline = Instant::now() + BOUND;
    loop {
        let listed = s3
            .list_objects_v2()
            .bucket(&chain.resized)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "list {}: {}",
                    chain.resized,
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?;
        let now = Instant::now();
        for object in listed.contents() {
            if let Some(key) = object.key() {
                seen.entry(key.to_string()).or_insert(now);
            }
        }
        let runs = sfn
            .list_executions()
            .state_machine_arn(&chain.state_machine.arn)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "ListExecutions: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?;
        let running = runs
            .executions()
            .iter()
            .any(|e| *e.status() == ExecutionStatus::Running);
        if runs.executions().len() >= executions && !running {
            return Ok(());
        }
        if now > deadline {
            return Err(format!("upload {executions} not done after {BOUND:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
