//! Load on the real function: the release `bootstrap` (built by `bash scripts/build.sh x86_64`) under
//! cargo-lambda's runtime emulator, against the emulator's S3.
//!
//! The runtime emulator serves one invocation at a time per function, as Lambda does per execution
//! environment, so concurrency C means C bootstrap processes, each under its own runtime emulator, each
//! fed by one client worker: C execution environments side by side. Each request resizes its own source
//! object (unique keys over synthetic images and, when ../shared is present, the corpus photos).
//!
//! Asserts: N answers `ok: true`, N distinct destination keys, exactly those N objects in the bucket,
//! each decodable with the answered dimensions. Records throughput (images/s, and per core), latency
//! p50/p99 (client-side, invocation round trip) and peak RSS per invocation (the bootstrap's VmHWM,
//! reset before each invocation through /proc/PID/clear_refs); prints them and writes
//! `bench/out/load-N.json` (N requests), which `make bench` puts in bench/report.md.
//!
//! Environment: IMGRESIZE_LOAD_REQUESTS (default 100; the full run is 1000), IMGRESIZE_LOAD_CONCURRENCY
//! (default 4), IMGRESIZE_LOAD_SIZE (default 1000), IMGRESIZE_LOAD_TIMEOUT_SECS (default 300: the whole
//! test, uploads included, must finish within it). Without the binary the tests are skipped with a
//! message, unless IMGRESIZE_REQUIRE_BUILD=1 (then they fail).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use imgresize::engine::geometry::fit;
use imgresize_tests::emulator::Emulator;
use imgresize_tests::lambda::{self, LambdaFunction, Outcome};
use imgresize_tests::{buckets, images, repo_root, unique_name};
use serde_json::{json, Value};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// One kind of source image: its bytes, stored dimensions, and a name for the key.
struct Input {
    name: String,
    bytes: Arc<Vec<u8>>,
    width: u32,
    height: u32,
}

fn inputs() -> Vec<Input> {
    let mut inputs: Vec<(String, Vec<u8>)> = vec![
        ("synthetic-2400x1600.jpg".into(), images::jpeg(2400, 1600)),
        ("synthetic-1200x1800.jpg".into(), images::jpeg(1200, 1800)),
        ("synthetic-1600x1000.png".into(), images::png(1600, 1000)),
        ("synthetic-640x480.jpg".into(), images::jpeg(640, 480)),
    ];
    let corpus = std::env::var_os("IMGRESIZE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"));
    let photos = corpus.join("photos");
    if corpus.join("SOURCES.md").is_file() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&photos)
            .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for file in files {
            if let (Some(name), Ok(bytes)) = (file.file_name(), std::fs::read(&file)) {
                inputs.push((name.to_string_lossy().into_owned(), bytes));
            }
        }
    } else {
        eprintln!(
            "no corpus at {}: synthetic images only (set IMGRESIZE_CORPUS)",
            corpus.display()
        );
    }
    inputs
        .into_iter()
        .map(|(name, bytes)| {
            let (width, height) = image::ImageReader::new(std::io::Cursor::new(&bytes))
                .with_guessed_format()
                .ok()
                .and_then(|r| r.into_dimensions().ok())
                .unwrap_or_else(|| panic!("{name}: unreadable header"));
            Input {
                name,
                bytes: Arc::new(bytes),
                width,
                height,
            }
        })
        .collect()
}

/// The bootstrap's pid: the process running `binary` under the runtime emulator at `invoke_url`'s port
/// (scripts/lambda-emulator.sh marks every process of a run with IMGRESIZE_LAMBDA=<its run dir>).
fn function_pid(binary: &Path, invoke_url: &str) -> Option<u32> {
    let port = invoke_url.split(':').nth(2)?.split('/').next()?;
    let marker = format!("/lambda-{port}");
    let binary = binary.canonicalize().ok()?;
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
        let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let marked = environ
            .split(|&b| b == 0)
            .any(|var| var.starts_with(b"IMGRESIZE_LAMBDA=") && var.ends_with(marker.as_bytes()));
        (exe == binary && marked).then_some(pid)
    })
}

/// A field of /proc/PID/status in MB (VmRSS, VmHWM).
fn status_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the process's peak RSS to its current RSS (Linux: "5" > /proc/PID/clear_refs).
fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

async fn create_buckets(s3: &Client) -> (String, String) {
    let (source, dest) = (unique_name("load-in"), unique_name("load-out"));
    buckets::create(s3, &[&source, &dest])
        .await
        .expect("create buckets");
    (source, dest)
}

fn function_env(source: &str, dest: &str) -> Vec<(String, String)> {
    [
        ("DEST_BUCKET", dest),
        ("ALLOWED_SOURCE_BUCKETS", source),
        ("RUST_LOG", "warn"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

struct Sample {
    input: usize,
    millis: f64,
    peak_mb: Option<f64>,
    outcome: Result<Outcome, String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_on_the_real_bootstrap() {
    let Some(binary) = lambda::binary_or_skip() else {
        return;
    };
    let requests = env_number("IMGRESIZE_LOAD_REQUESTS", 100);
    let concurrency = env_number("IMGRESIZE_LOAD_CONCURRENCY", 4);
    let size = env_number("IMGRESIZE_LOAD_SIZE", 1000) as u32;
    let budget = Duration::from_secs(env_number("IMGRESIZE_LOAD_TIMEOUT_SECS", 300) as u64);
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let emulator = Emulator::shared();
    let s3 = emulator.s3();
    let (source, dest) = create_buckets(&s3).await;
    let inputs = Arc::new(inputs());

    // Unique source keys: request i resizes its own object.
    let keys: Arc<Vec<(String, usize)>> = Arc::new(
        (0..requests)
            .map(|i| {
                let input = i % inputs.len();
                (format!("load/{i:05}-{}", inputs[input].name), input)
            })
            .collect(),
    );
    let upload_started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut uploads = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (s3, source, keys, inputs, next) = (
            s3.clone(),
            source.clone(),
            Arc::clone(&keys),
            Arc::clone(&inputs),
            Arc::clone(&next),
        );
        uploads.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((key, input)) = keys.get(i) else {
                    return;
                };
                s3.put_object()
                    .bucket(&source)
                    .key(key)
                    .body(ByteStream::from(inputs[*input].bytes.to_vec()))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("upload {key}: {e}"));
            }
        });
    }
    while let Some(done) = uploads.join_next().await {
        done.expect("upload task");
    }
    let upload_secs = upload_started.elapsed().as_secs_f64();

    // C execution environments: C bootstraps, each under its own runtime emulator.
    let mut functions = Vec::new();
    for _ in 0..concurrency {
        let function =
            LambdaFunction::start(&binary, &emulator.env(), &function_env(&source, &dest))
                .expect("start the bootstrap");
        let pid = function_pid(&binary, &function.invoke_url).expect("the bootstrap's pid");
        let idle = status_mb(pid, "VmRSS").unwrap_or(f64::NAN);
        functions.push((Arc::new(function), pid, idle));
    }

    let run_started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for (function, pid, _) in &functions {
        let (function, pid, keys, next, source) = (
            Arc::clone(function),
            *pid,
            Arc::clone(&keys),
            Arc::clone(&next),
            source.clone(),
        );
        workers.spawn(async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((key, input)) = keys.get(i) else {
                    return (pid, samples);
                };
                let can_reset = reset_peak(pid);
                let payload = json!({"bucket": source, "key": key, "size": size}).to_string();
                let t0 = Instant::now();
                let outcome = function.invoke(&payload).await;
                let millis = t0.elapsed().as_secs_f64() * 1000.0;
                let peak_mb = can_reset.then(|| status_mb(pid, "VmHWM")).flatten();
                samples.push(Sample {
                    input: *input,
                    millis,
                    peak_mb,
                    outcome,
                });
            }
        });
    }
    let remaining = budget.saturating_sub(started.elapsed());
    let results = tokio::time::timeout(remaining, async {
        let mut results = Vec::new();
        while let Some(done) = workers.join_next().await {
            results.push(done.expect("worker"));
        }
        results
    })
    .await
    .unwrap_or_else(|_| panic!("{requests} requests did not finish within {budget:?}"));
    let run_secs = run_started.elapsed().as_secs_f64();

    // Every answer: ok, the contract's destination key, dimensions that fit the box.
    let mut errors = Vec::new();
    let mut answers: BTreeMap<String, Value> = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut per_input: BTreeMap<usize, (Vec<f64>, f64)> = BTreeMap::new();
    let mut per_process = Vec::new();
    for (pid, samples) in &results {
        let mut peaks: Vec<f64> = samples.iter().filter_map(|s| s.peak_mb).collect();
        peaks.sort_by(f64::total_cmp);
        let idle = functions
            .iter()
            .find(|(_, p, _)| p == pid)
            .map_or(f64::NAN, |f| f.2);
        per_process.push(json!({
            "pid": pid, "invocations": samples.len(), "idle_rss_mb": round(idle),
            "peak_rss_mb_max": round(peaks.last().copied().unwrap_or(f64::NAN)),
            "peak_rss_mb_p50": round(percentile(&peaks, 50.0)),
        }));
        for sample in samples {
            latencies.push(sample.millis);
            let entry = per_input.entry(sample.input).or_default();
            entry.0.push(sample.millis);
            entry.1 = entry.1.max(sample.peak_mb.unwrap_or(0.0));
            let input = &inputs[sample.input];
            match &sample.outcome {
                Ok(Outcome::Answer(answer)) if answer["ok"] == json!(true) => {
                    let (w, h) = (
                        answer["width"].as_u64().unwrap_or(0) as u32,
                        answer["height"].as_u64().unwrap_or(0) as u32,
                    );
                    let upright = fit(input.width, input.height, size);
                    let turned = (upright.1, upright.0);
                    if (w, h) != upright && (w, h) != turned {
                        errors.push(format!(
                            "{}: {w}x{h}, expected {upright:?} (or turned)",
                            input.name
                        ));
                    }
                    let key = answer["destKey"].as_str().unwrap_or_default().to_string();
                    if answers.insert(key.clone(), answer.clone()).is_some() {
                        errors.push(format!("duplicate destination key {key}"));
                    }
                }
                other => errors.push(format!("{}: {other:?}", input.name)),
            }
        }
    }

    // The bucket holds exactly those objects, each a whole image of the answered size.
    let listed: BTreeSet<String> = buckets::keys(&s3, &dest)
        .await
        .expect("list")
        .into_iter()
        .collect();
    let answered: BTreeSet<String> = answers.keys().cloned().collect();
    let verify_started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let answers = Arc::new(answers.into_iter().collect::<Vec<_>>());
    let mut checks = tokio::task::JoinSet::new();
    for _ in 0..cores.max(2) {
        let (s3, dest, answers, next) = (
            s3.clone(),
            dest.clone(),
            Arc::clone(&answers),
            Arc::clone(&next),
        );
        checks.spawn(async move {
            let mut problems = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((key, answer)) = answers.get(i) else {
                    return problems;
                };
                let bytes = match s3.get_object().bucket(&dest).key(key).send().await {
                    Ok(object) => object.body.collect().await.map(|b| b.to_vec()),
                    Err(e) => {
                        problems.push(format!("{key}: {e}"));
                        continue;
                    }
                };
                let Ok(bytes) = bytes else {
                    problems.push(format!("{key}: body"));
                    continue;
                };
                let want = (answer["width"].as_u64(), answer["height"].as_u64());
                let decoded = tokio::task::spawn_blocking(move || {
                    image::load_from_memory(&bytes)
                        .map(|i| (i.width() as u64, i.height() as u64, bytes.len()))
                })
                .await
                .expect("decode task");
                match decoded {
                    Ok((w, h, n)) if (Some(w), Some(h)) == want && answer["bytes"] == json!(n) => {}
                    other => problems.push(format!("{key}: {other:?}, answer {answer}")),
                }
            }
        });
    }
    while let Some(done) = checks.join_next().await {
        errors.extend(done.expect("check task"));
    }
    let verify_secs = verify_started.elapsed().as_secs_f64();

    latencies.sort_by(f64::total_cmp);
    let throughput = requests as f64 / run_secs;
    let report = json!({
        "test": "tests/tests/load.rs",
        "mode": format!("{concurrency} release bootstraps, each under its own cargo-lambda runtime emulator, against LocalStack S3 on 127.0.0.1"),
        "binary": binary.display().to_string(),
        "requests": requests, "concurrency": concurrency, "size": size, "cores": cores,
        "inputs": inputs.iter().map(|i| json!({"name": i.name, "width": i.width, "height": i.height, "bytes": i.bytes.len()})).collect::<Vec<_>>(),
        "ok": answered.len(), "errors": errors.len(), "objects": listed.len(),
        "seconds": {"upload": round(upload_secs), "run": round(run_secs), "verify": round(verify_secs),
                    "total": round(started.elapsed().as_secs_f64())},
        "throughput_images_per_s": round(throughput * 10.0) / 10.0,
        "throughput_images_per_s_per_core": round(throughput / cores as f64 * 10.0) / 10.0,
        "latency_ms": {"p50": round(percentile(&latencies, 50.0)), "p90": round(percentile(&latencies, 90.0)),
                       "p99": round(percentile(&latencies, 99.0)), "max": round(latencies.last().copied().unwrap_or(f64::NAN))},
        "processes": per_process,
        "per_input": per_input.iter().map(|(i, (ms, peak))| {
            let mut ms = ms.clone();
            ms.sort_by(f64::total_cmp);
            json!({"name": inputs[*i].name, "n": ms.len(), "p50_ms": round(percentile(&ms, 50.0)), "peak_rss_mb": round(*peak)})
        }).collect::<Vec<_>>(),
    });
    let out = repo_root().join("bench/out");
    let report_path = out.join(format!("load-{requests}.json"));
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(
        &report_path,
        serde_json::to_string_pretty(&report).unwrap_or_default(),
    );
    eprintln!(
        "load: {requests} requests, concurrency {concurrency}, size {size}: {:.1} images/s ({:.1}/s per core on {cores}), \
         p50 {:.0} ms, p99 {:.0} ms; peak RSS per invocation up to {:.1} MB; {} errors (run {:.1} s, upload {:.1} s, verify {:.1} s)",
        throughput,
        throughput / cores as f64,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        per_process
            .iter()
            .filter_map(|p| p["peak_rss_mb_max"].as_f64())
            .fold(0.0, f64::max),
        errors.len(),
        run_secs,
        upload_secs,
        verify_secs
    );
    eprintln!("load: report in {}", report_path.display());

    assert!(
        errors.is_empty(),
        "{} errors, first: {:#?}",
        errors.len(),
        &errors[..errors.len().min(10)]
    );
    assert_eq!(answered.len(), requests, "answers");
    assert_eq!(
        listed, answered,
        "the bucket holds other objects than those answered"
    );
    assert!(
        started.elapsed() <= budget,
        "took {:?}, over {budget:?}",
        started.elapsed()
    );
}

/// Resolves once process `pid` is gone.
async fn died(pid: u32) {
    while Path::new(&format!("/proc/{pid}")).exists() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the internet uploads, sent to the real bootstrap: each is a rejection (`ok: false`), nothing is
/// written, and the same process answers the next request. A process that dies on an input is a crash
/// Lambda reports as Runtime.ExitError, which no retry fixes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_bootstrap_survives_hostile_inputs() {
    let Some(binary) = lambda::binary_or_skip() else {
        return;
    };
    let emulator = Emulator::shared();
    let s3 = emulator.s3();
    let (source, dest) = create_buckets(&s3).await;

    let mut truncated = images::jpeg(800, 600);
    truncated.truncate(truncated.len() / 2);
    // A PNG whose header promises 100000x100000 pixels, with (almost) nothing behind it.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bomb_png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (&b"IHDR"[..], &ihdr[..]),
        (b"IDAT", b"\x78\x9c\x03\0\0\0\0\x01"),
        (b"IEND", b""),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        bomb_png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        bomb_png.extend_from_slice(&chunk);
        // PNG's chunk CRC is CRC-32 (ISO 3309), what crc32fast computes.
        bomb_png.extend_from_slice(&crc32fast::hash(&chunk).to_be_bytes());
    }
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("truncated.jpg", truncated, &["CORRUPT_IMAGE"]),
        // libjpeg's error_exit (a marker shorter than its own length field).
        (
            "bad-marker.jpg",
            b"\xFF\xD8\xFF\xC0\x00\x02\x08\x00".to_vec(),
            &["CORRUPT_IMAGE"],
        ),
        (
            "not-an-image.jpg",
            b"hello, world".to_vec(),
            &["UNSUPPORTED_FORMAT"],
        ),
        ("empty.jpg", Vec::new(), &["UNSUPPORTED_FORMAT"]),
        ("bomb.png", bomb_png, &["IMAGE_TOO_LARGE"]),
    ];
    for (key, bytes, _) in &cases {
        s3.put_object()
            .bucket(&source)
            .key(*key)
            .body(ByteStream::from(bytes.clone()))
            .send()
            .await
            .expect("upload");
    }
    s3.put_object()
        .bucket(&source)
        .key("fine.jpg")
        .body(ByteStream::from(images::jpeg(400, 300)))
        .send()
        .await
        .expect("upload");

    let function = LambdaFunction::start(&binary, &emulator.env(), &function_env(&source, &dest))
        .expect("start the bootstrap");
    let pid = function_pid(&binary, &function.invoke_url).expect("the bootstrap's pid");
    for (key, _, codes) in &cases {
        let payload = json!({"bucket": source, "key": key, "size": 100}).to_string();
        // The runtime emulator waits out its timeout when the process dies: watch the process instead.
        let outcome = tokio::select! {
            outcome = function.invoke(&payload) => outcome,
            () = died(pid) => Err("the bootstrap process died during the invocation".to_string()),
        };
        let code = match &outcome {
            Ok(Outcome::Answer(answer)) if answer["ok"] == json!(false) => {
                answer["error"]["code"].as_str().unwrap_or_default()
            }
            _ => "",
        };
        assert!(
            codes.contains(&code),
            "{key}: expected {codes:?}, got {outcome:?}{}",
            if Path::new(&format!("/proc/{pid}")).exists() {
                String::new()
            } else {
                " — the bootstrap process died (a release build with panic=abort cannot catch \
                 libjpeg's error unwinds)"
                    .to_string()
            }
        );
        assert!(
            Path::new(&format!("/proc/{pid}")).exists(),
            "{key}: the bootstrap died"
        );
    }
    let payload = json!({"bucket": source, "key": "fine.jpg", "size": 100}).to_string();
    match function.invoke(&payload).await {
        Ok(Outcome::Answer(answer)) if answer["ok"] == json!(true) => {}
        other => panic!("a good image after the hostile ones: {other:?}"),
    }
    let written = buckets::keys(&s3, &dest).await.expect("list");
    assert_eq!(
        written,
        vec!["output/fine_resized.jpg"],
        "rejected inputs wrote"
    );
}
