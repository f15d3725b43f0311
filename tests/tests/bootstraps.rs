//! The deployable artifacts themselves, run as Lambda runs them: each zip's `bootstrap` under cargo-lambda's
//! runtime emulator, reading from and writing to the emulator's S3, on ../shared/corpus.
//!
//! - The x86_64 bootstrap (built by `scripts/build.sh`, which adds no flags to a plain `cargo lambda build`:
//!   see `every_build_gets_the_c_flags_libjpeg_unwinding_needs` in artifacts.rs) answers every file of
//!   `broken/` as SOURCES.md says and is still alive after each: a libjpeg error that cannot unwind through
//!   the C frames would abort the process instead (Lambda: Runtime.ExitError, for every retry). A JPEG
//!   that makes libjpeg stop with a fatal error (the unwinding path; the corpus's corrupt JPEGs end in
//!   warnings) comes first.
//! - The arm64 bootstrap (what the module deploys by default) runs under qemu-user and gives the same
//!   answers as the x86_64 one on `photos/`, `broken/` and that fatal JPEG: the same codes, dimensions and formats, outputs
//!   within DSSIM 0.0005 of each other (the SIMD paths differ: NEON against AVX2). A functional test, not a
//!   timing: emulated, a 12 MP JPEG takes about a second.
//!
//! Skipped with a message without ../shared or the zips (unless IMGRESIZE_REQUIRE_BUILD=1, as `make test`
//! sets: then a missing zip or a missing qemu is a failure).

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use imgresize_tests::bootstraps::{self, Bootstrap};
use imgresize_tests::emulator::Emulator;
use imgresize_tests::lambda::{LambdaFunction, Outcome};
use imgresize_tests::similarity::{dssim, mean_difference};
use imgresize_tests::{buckets, images, unique_name};
use serde_json::json;

// The one corpus locator of the test suites (the lambda crate's), included by path.
#[path = "../../lambda/tests/support/corpus.rs"]
mod support_corpus;
use support_corpus::corpus;

/// The most two builds' renderings of one output may differ (the bound).
const MAX_DSSIM: f64 = 0.0005;
/// Colour drift between them, per channel, 0..=255 (luma SSIM barely sees a colour shift).
const MAX_MEAN_DIFFERENCE: f64 = 1.0;
/// Inputs whose entropy-coded data is itself corrupt, where the architectures may render a few blocks
/// differently. hopper_bad_exif.jpg (SOURCES.md says only its metadata is odd) makes libjpeg warn "bad Huffman
/// code" and "extraneous bytes before marker" dozens of times; from the garbage it decodes 8x8 blocks of
/// extreme coefficients, and the two builds' SIMD code (AVX2, NEON) round those differently: measured
/// 2026-11-28, 2 of 3,969 blocks differ (106 pixels, by up to 255 levels), DSSIM 0.00053, while every other
/// file of photos/ and broken/ came out bit-identical (DSSIM 0). For these the answers must still agree and
/// the difference stay inside [`MAX_DIFFERING_BLOCKS`] of the blocks.
const CORRUPT_ENTROPY_DATA: &[&str] = &["broken/hopper_bad_exif.jpg"];
/// The share of 8x8 blocks that may differ for [`CORRUPT_ENTROPY_DATA`] (measured: 0.05 %).
const MAX_DIFFERING_BLOCKS: f64 = 0.001;

/// The share of 8x8 blocks in which two images of one size differ at all.
fn differing_blocks(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let (width, height) = a.dimensions();
    let mut blocks = std::collections::BTreeSet::new();
    for (x, y, pixel) in a.enumerate_pixels() {
        if pixel != b.get_pixel(x, y) {
            blocks.insert((x / 8, y / 8));
        }
    }
    blocks.len() as f64 / (f64::from(width.div_ceil(8)) * f64::from(height.div_ceil(8)))
}

/// One invocation, emulated: a 12 MP photo takes about a second; the bound is for a hung process.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(120);

/// A JPEG whose header declares 7-bit samples: libjpeg's `jpeg_read_header` stops with a fatal error
/// ("Unsupported JPEG data precision 7"), so the decoder's error unwind crosses libjpeg's C frames. The
/// broken corpus has no such file (its corrupt JPEGs end in warnings), and this is the path that aborts a
/// bootstrap built without unwind tables.
fn fatal_jpeg() -> (String, Vec<u8>) {
    let mut jpeg = images::jpeg(64, 48);
    // SOF0 is FF C0, two length bytes, then the sample precision.
    let sof = jpeg
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .expect("a baseline JPEG");
    jpeg[sof + 4] = 7;
    ("generated/fatal-precision-7.jpg".into(), jpeg)
}

/// `folder/name` keys and bytes of every file in the corpus folders.
fn corpus_files(corpus: &Path, folders: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for folder in folders {
        let dir = corpus.join(folder);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "{} is empty", dir.display());
        for path in paths {
            let name = path.file_name().expect("a file name").to_string_lossy();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.push((format!("{folder}/{name}"), bytes));
        }
    }
    files
}

async fn upload(s3: &Client, bucket: &str, files: &[(String, Vec<u8>)]) {
    for (key, bytes) in files {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(bytes.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("upload {key}: {e}"));
    }
}

/// A running bootstrap writing to a bucket of its own.
struct Running {
    arch: &'static str,
    function: LambdaFunction,
    dest: String,
    _bootstrap: Bootstrap,
}

async fn start(bootstrap: Bootstrap, emulator: &Emulator, s3: &Client, source: &str) -> Running {
    let dest = unique_name(&format!("out-{}", bootstrap.arch.replace('_', "-")));
    buckets::create(s3, &[&dest]).await.expect("dest bucket");
    let env: Vec<(String, String)> = [
        ("DEST_BUCKET", dest.as_str()),
        ("ALLOWED_SOURCE_BUCKETS", source),
        ("RUST_LOG", "warn"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let function = LambdaFunction::start(&bootstrap.executable, &emulator.env(), &env)
        .unwrap_or_else(|e| panic!("start the {} bootstrap: {e}", bootstrap.arch));
    Running {
        arch: bootstrap.arch,
        function,
        dest,
        _bootstrap: bootstrap,
    }
}

/// What an answer says, without the parts that name the build's own bucket.
#[derive(Debug, Clone, PartialEq)]
enum Said {
    Resized {
        width: u64,
        height: u64,
        format: String,
        dest_key: String,
    },
    Rejected(String),
    Failed(String),
}

/// The rejection's message of the last answer (for the one test that checks where it came from).
async fn rejection_message(running: &Running, source: &str, key: &str) -> String {
    let payload = json!({"bucket": source, "key": key, "size": 1000}).to_string();
    match running.function.invoke(&payload).await {
        Ok(Outcome::Answer(answer)) => answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        other => panic!("{}: {key}: {other:?}", running.arch),
    }
}

async fn ask(running: &Running, source: &str, key: &str) -> Said {
    let payload = json!({"bucket": source, "key": key, "size": 1000}).to_string();
    let outcome = tokio::time::timeout(INVOKE_TIMEOUT, running.function.invoke(&payload))
        .await
        .unwrap_or_else(|_| panic!("{}: {key}: no answer in {INVOKE_TIMEOUT:?}", running.arch))
        .unwrap_or_else(|e| {
            panic!(
                "{}: {key}: {e} (did the bootstrap die? a libjpeg error that cannot unwind aborts it)",
                running.arch
            )
        });
    match outcome {
        Outcome::Answer(answer) if answer["ok"] == json!(true) => Said::Resized {
            width: answer["width"].as_u64().unwrap_or_default(),
            height: answer["height"].as_u64().unwrap_or_default(),
            format: answer["format"].as_str().unwrap_or_default().to_string(),
            dest_key: answer["destKey"].as_str().unwrap_or_default().to_string(),
        },
        Outcome::Answer(answer) => Said::Rejected(
            answer["error"]["code"]
                .as_str()
                .unwrap_or("(no code)")
                .to_string(),
        ),
        Outcome::FunctionError { error_type, .. } => Said::Failed(error_type),
    }
}

async fn download(s3: &Client, bucket: &str, key: &str) -> image::RgbImage {
    let bytes = output_bytes(s3, bucket, key).await;
    image::load_from_memory(&bytes)
        .unwrap_or_else(|e| panic!("s3://{bucket}/{key} does not decode: {e}"))
        .to_rgb8()
}

/// SHA-256 of the output the commit before renditions made from a corpus file with the default settings
/// (`lambda/tests/fixtures/default_outputs.json`, see lambda/tests/default_output.rs).
fn recorded_output(corpus_key: &str) -> Option<String> {
    let path = imgresize_tests::repo_root().join("lambda/tests/fixtures/default_outputs.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let recorded: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    recorded
        .get(corpus_key)
        .and_then(|hash| hash.as_str())
        .map(String::from)
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SOURCES.md's expectations for broken/, by file name.
fn expected_for_broken(name: &str) -> &'static [&'static str] {
    match name {
        "hopper_bad_exif.jpg"
        | "invalid-exif.jpg"
        | "icc-after-SOF.jpg"
        | "sugarshack_bad_mpo_header.jpg"
        | "truncated_app14.jpg"
        | "invalid-image00971.jpg"
        | "decompression_bomb_extents.gif" => &["ok"],
        "olympus-corrupted-3648x2736.jpg" => &["ok", "CORRUPT_IMAGE"],
        "empty.jpg"
        | "text-named.jpg"
        | "broken.png"
        | "broken_data_stream.png"
        | "truncated_image.png"
        | "truncated_jpeg.jpg" => &["UNSUPPORTED_FORMAT", "CORRUPT_IMAGE"],
        name if name.starts_with("bomb-") || name == "decompression_bomb.gif" => {
            &["IMAGE_TOO_LARGE"]
        }
        _ => &[],
    }
}

fn summary(said: &Said) -> &str {
    match said {
        Said::Resized { .. } => "ok",
        Said::Rejected(code) => code,
        Said::Failed(error_type) => error_type,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plainly_built_bootstrap_answers_the_broken_corpus_and_survives() {
    let Some(bootstrap) = bootstraps::unpack("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let s3 = emulator.s3();
    let source = unique_name("plain-in");
    buckets::create(&s3, &[&source])
        .await
        .expect("source bucket");
    let (fatal_key, fatal_bytes) = fatal_jpeg();
    upload(&s3, &source, &[(fatal_key.clone(), fatal_bytes)]).await;
    let running = start(bootstrap, emulator, &s3, &source).await;

    // libjpeg's fatal error, unwound through its C frames, is a rejection with libjpeg's own words, and the
    // process lives on (to answer the whole corpus after it, where there is one).
    assert_eq!(
        ask(&running, &source, &fatal_key).await,
        Said::Rejected("CORRUPT_IMAGE".into())
    );
    let message = rejection_message(&running, &source, &fatal_key).await;
    assert!(
        message.contains("precision 7"),
        "not libjpeg's message: {message:?}"
    );

    let Some(corpus) = corpus() else { return };
    let files = corpus_files(&corpus, &["broken"]);
    upload(&s3, &source, &files).await;

    let mut wrong = Vec::new();
    let mut resized = Vec::new();
    let mut not_as_recorded = Vec::new();
    for (key, _) in &files {
        let name = key.trim_start_matches("broken/");
        let expected = expected_for_broken(name);
        assert!(
            !expected.is_empty(),
            "{name}: SOURCES.md lists no outcome for it"
        );
        let said = ask(&running, &source, key).await;
        eprintln!("x86_64 {key}: {said:?}");
        if let Said::Resized { dest_key, .. } = &said {
            resized.push(dest_key.clone());
            if let Some(hash) = recorded_output(key) {
                let bytes = output_bytes(&s3, &running.dest, dest_key).await;
                if sha256(&bytes) != hash {
                    not_as_recorded.push(key.clone());
                }
            }
        }
        if !expected.contains(&summary(&said)) {
            wrong.push(format!("{key}: {said:?}, expected one of {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Rejections wrote nothing: exactly the answered outputs are in the bucket.
    resized.sort();
    let written = buckets::keys(&s3, &running.dest).await.expect("list");
    assert_eq!(
        written, resized,
        "the bucket holds other objects than the answers name"
    );

    // What ships reproduces the outputs of the commit before renditions byte for byte (the default
    // configuration; lambda/tests/default_output.rs holds the engine to the same hashes in a test build).
    // Every corpus image but the colour references (judging material, not inputs; not recorded).
    let photos: Vec<(String, Vec<u8>)> =
        corpus_files(&corpus, &["photos", "formats", "colour", "orientation"])
            .into_iter()
            .filter(|(key, _)| !key.contains("reference"))
            .collect();
    upload(&s3, &source, &photos).await;
    for (key, _) in &photos {
        match ask(&running, &source, key).await {
            Said::Resized { dest_key, .. } => {
                let hash =
                    recorded_output(key).unwrap_or_else(|| panic!("{key}: no recorded output"));
                if sha256(&output_bytes(&s3, &running.dest, &dest_key).await) != hash {
                    not_as_recorded.push(key.clone());
                }
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    assert!(
        not_as_recorded.is_empty(),
        "outputs differ from the recorded ones: {not_as_recorded:?}"
    );
}

async fn output_bytes(s3: &Client, bucket: &str, key: &str) -> Vec<u8> {
    buckets::object(s3, bucket, key)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arm64_bootstrap_answers_like_the_x86_64_one_under_emulation() {
    let Some(corpus) = corpus() else { return };
    let Some(x86_64) = bootstraps::unpack("x86_64") else {
        return;
    };
    let Some(arm64) = bootstraps::unpack("arm64") else {
        return;
    };
    let emulator = Emulator::shared();
    let s3 = emulator.s3();
    let source = unique_name("arch-in");
    buckets::create(&s3, &[&source])
        .await
        .expect("source bucket");
    let mut files = corpus_files(&corpus, &["photos", "broken"]);
    files.push(fatal_jpeg());
    upload(&s3, &source, &files).await;
    let x86_64 = start(x86_64, emulator, &s3, &source).await;
    let arm64 = start(arm64, emulator, &s3, &source).await;

    let mut differences = Vec::new();
    let mut worst = (0.0f64, String::new());
    for (key, _) in &files {
        let (on_x86_64, on_arm64) = (
            ask(&x86_64, &source, key).await,
            ask(&arm64, &source, key).await,
        );
        if on_x86_64 != on_arm64 {
            differences.push(format!("{key}: x86_64 {on_x86_64:?}, arm64 {on_arm64:?}"));
            continue;
        }
        let Said::Resized { dest_key, .. } = &on_x86_64 else {
            eprintln!("{key}: both {on_x86_64:?}");
            continue;
        };
        let a = download(&s3, &x86_64.dest, dest_key).await;
        let b = download(&s3, &arm64.dest, dest_key).await;
        if a.dimensions() != b.dimensions() {
            differences.push(format!(
                "{key}: decoded {:?} vs {:?}",
                a.dimensions(),
                b.dimensions()
            ));
            continue;
        }
        let (d, m) = (dssim(&a, &b), mean_difference(&a, &b));
        eprintln!("{key}: {on_x86_64:?}, DSSIM {d:.7}, mean difference {m:.3}");
        if d > worst.0 {
            worst = (d, key.clone());
        }
        if CORRUPT_ENTROPY_DATA.contains(&key.as_str()) {
            let share = differing_blocks(&a, &b);
            eprintln!(
                "{key}: corrupt entropy data, {:.3} % of the blocks differ",
                share * 100.0
            );
            if share > MAX_DIFFERING_BLOCKS {
                differences.push(format!(
                    "{key}: {:.3} % of the blocks differ",
                    share * 100.0
                ));
            }
            continue;
        }
        if d > MAX_DSSIM || m > MAX_MEAN_DIFFERENCE {
            // Both renderings kept, to see where they differ.
            let kept = std::env::temp_dir().join(format!("bootstraps-{}", std::process::id()));
            let stem = key.replace('/', "_");
            let _ = std::fs::create_dir_all(&kept);
            let _ = a.save(kept.join(format!("{stem}.x86_64.png")));
            let _ = b.save(kept.join(format!("{stem}.arm64.png")));
            differences.push(format!(
                "{key}: DSSIM {d:.6}, mean difference {m:.3} (both in {})",
                kept.display()
            ));
        }
    }
    eprintln!(
        "largest DSSIM x86_64 vs arm64: {:.7} ({})",
        worst.0, worst.1
    );
    assert!(
        differences.is_empty(),
        "the architectures disagree:\n{}",
        differences.join("\n")
    );
    // Both wrote the same set of outputs.
    assert_eq!(
        buckets::keys(&s3, &x86_64.dest).await.expect("list"),
        buckets::keys(&s3, &arm64.dest).await.expect("list")
    );
}
