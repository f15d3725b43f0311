//! `imgresize`: the Lambda's engine on local files, to preview settings before deploying.
//!
//! Prints one JSON line (the Lambda's `ok`/`error` shapes, minus the S3 fields). Exit status: 0
//! resized, 1 input rejected, 2 the output could not be written.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use imgresize::config::{
    DEFAULT_AVIF_TIME_BUDGET_MS, DEFAULT_KEY_PATTERN, DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_PIXELS,
    DEFAULT_QUALITY, DEFAULT_SIZE,
};
use imgresize::engine::rendition::{self, Rendition};
use imgresize::engine::{
    self, ColorMode, Job, Limits, Options, OutputFormat, QUALITY_RANGE, SIZE_RANGE,
};
use imgresize::keys::{check_distinct, destination_key};
use imgresize::response::{to_json, OutputSummary, Rejected};
use imgresize::Error;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(version, about = "Resize images with the imgresize Lambda's engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resize INPUT into OUTPUT, fitting it inside a SIZE×SIZE box; with --renditions, write every
    /// rendition into the folder OUTPUT under its key's file name.
    Resize {
        /// Longest edge of the output in pixels (1..=10000); never upscales.
        #[arg(long, default_value_t = DEFAULT_SIZE, value_parser = clap::value_parser!(u32).range(i64::from(*SIZE_RANGE.start())..=i64::from(*SIZE_RANGE.end())))]
        size: u32,
        /// Output format (jpeg, png, webp, avif); default: the input's (GIF/BMP → PNG).
        #[arg(long, value_parser = parse_format)]
        format: Option<OutputFormat>,
        /// The renditions, as CONTRACT.md's RENDITIONS: a JSON array, or a file holding one.
        #[arg(long, value_parser = parse_renditions, conflicts_with_all = ["size", "format"])]
        renditions: Option<RenditionSet>,
        /// Renditions made at once (default: this machine's CPUs).
        #[arg(long)]
        threads: Option<usize>,
        /// JPEG/WebP/AVIF quality (1..=100).
        #[arg(long, default_value_t = DEFAULT_QUALITY, value_parser = clap::value_parser!(u8).range(i64::from(*QUALITY_RANGE.start())..=i64::from(*QUALITY_RANGE.end())))]
        quality: u8,
        /// srgb: convert to sRGB and write no profile; keep: embed the input's RGB/gray profile untouched.
        #[arg(long, default_value = "srgb", value_parser = parse_color)]
        color: ColorMode,
        /// Refuse images with more pixels than this (from the header, before decoding).
        #[arg(long, default_value_t = DEFAULT_MAX_PIXELS)]
        max_pixels: u64,
        /// Refuse files larger than this many bytes.
        #[arg(long, default_value_t = DEFAULT_MAX_INPUT_BYTES)]
        max_bytes: u64,
        /// Time an AVIF encode may take by its predicted cost (AVIF_TIME_BUDGET_MS), in milliseconds.
        #[arg(long, default_value_t = DEFAULT_AVIF_TIME_BUDGET_MS, value_parser = clap::value_parser!(u64).range(1..=900_000))]
        avif_budget_ms: u64,
        input: PathBuf,
        output: PathBuf,
    },
    /// Serve timed resizes over stdin/stdout JSON lines for `bench/run.py` (see bench/README.md).
    BenchWorker,
}

fn main() -> ExitCode {
    // The same allocator settings as the Lambda, so `bench-worker` times what the function does.
    imgresize::memory::keep_buffers_between_images();
    match Cli::parse().command {
        Command::Resize {
            renditions: Some(RenditionSet(renditions)),
            quality,
            color,
            max_pixels,
            max_bytes,
            threads,
            avif_budget_ms,
            input,
            output,
            ..
        } => {
            let job = Job {
                renditions,
                quality,
                color,
                parallelism: threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
                    .max(1),
                avif_budget: Duration::from_millis(avif_budget_ms),
            };
            let (answer, status) =
                render_files(&input, &output, &job, &Limits { max_pixels }, max_bytes);
            println!("{answer}");
            ExitCode::from(status)
        }
        Command::Resize {
            size,
            format,
            quality,
            color,
            max_pixels,
            max_bytes,
            avif_budget_ms,
            input,
            output,
            ..
        } => {
            let options = Options {
                size,
                format,
                quality,
                color,
                avif_budget: Duration::from_millis(avif_budget_ms),
            };
            let (answer, status) =
                resize_file(&input, &output, &options, &Limits { max_pixels }, max_bytes);
            println!("{answer}");
            ExitCode::from(status)
        }
        Command::BenchWorker => bench_worker(),
    }
}

fn parse_color(name: &str) -> Result<ColorMode, String> {
    name.parse().map_err(|e: Error| e.to_string())
}

fn parse_format(name: &str) -> Result<OutputFormat, String> {
    OutputFormat::parse(name).ok_or_else(|| format!("{name:?} is not jpeg, png, webp or avif"))
}

/// A checked set (clap reads `Option<Vec<_>>` as a repeated flag, hence the wrapper).
#[derive(Debug, Clone)]
struct RenditionSet(Vec<Rendition>);

/// `--renditions`: a JSON array, or the path of a file holding one.
fn parse_renditions(text: &str) -> Result<RenditionSet, String> {
    let json = if text.trim_start().starts_with('[') {
        text.to_string()
    } else {
        std::fs::read_to_string(text).map_err(|e| format!("cannot read {text}: {e}"))?
    };
    let value: Value = serde_json::from_str(&json).map_err(|e| format!("not JSON: {e}"))?;
    let renditions = rendition::parse_set(&value)?;
    check_distinct("", DEFAULT_KEY_PATTERN, &renditions)?;
    Ok(RenditionSet(renditions))
}

/// Every rendition of `input` into the folder `out_dir`, each under its key's file name (the default
/// key pattern, no prefix); all or nothing, as the function: a failed write removes the files written.
fn render_files(
    input: &Path,
    out_dir: &Path,
    job: &Job,
    limits: &Limits,
    max_bytes: u64,
) -> (Value, u8) {
    let rejected = |error: &Error, status| (to_json(&Rejected::from(error)), status);
    let data = match read_input(input, max_bytes) {
        Ok(data) => data,
        Err(error) => return rejected(&error, 1),
    };
    let started = Instant::now();
    let rendered = match engine::render(&data, job, limits) {
        Ok(rendered) => rendered,
        Err(error) => return rejected(&error, 1),
    };
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let file_name = input
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut written: Vec<PathBuf> = Vec::new();
    let mut outputs = Vec::new();
    for output in &rendered.outputs {
        let size = job
            .renditions
            .iter()
            .find(|r| r.name == output.name)
            .map_or(0, Rendition::key_size);
        let path = destination_key(
            "",
            DEFAULT_KEY_PATTERN,
            &file_name,
            output.format,
            size,
            &output.name,
        )
        .map(|key| out_dir.join(key))
        .and_then(|path| {
            write_whole(&path, &output.bytes)
                .map(|()| path.clone())
                .map_err(|error| {
                    Error::Internal(format!("cannot write {}: {error}", path.display()))
                })
        });
        match path {
            Ok(path) => {
                outputs.push(OutputSummary::written(
                    &output.name,
                    output.format,
                    &path.display().to_string(),
                    output.width,
                    output.height,
                    output.bytes.len(),
                ));
                written.push(path);
            }
            Err(error) => {
                for path in &written {
                    let _ = std::fs::remove_file(path);
                }
                return rejected(&error, 2);
            }
        }
    }
    let answer = json!({
        "ok": true, "statusCode": 200, "outputs": outputs, "source": rendered.source,
        "ms": (millis * 100.0).round() / 100.0,
    });
    (answer, 0)
}

fn resize_file(
    input: &Path,
    output: &Path,
    options: &Options,
    limits: &Limits,
    max_bytes: u64,
) -> (Value, u8) {
    let data = match read_input(input, max_bytes) {
        Ok(data) => data,
        Err(error) => return (to_json(&Rejected::from(&error)), 1),
    };
    let started = Instant::now();
    let resized = match engine::resize(&data, options, limits) {
        Ok(resized) => resized,
        Err(error) => return (to_json(&Rejected::from(&error)), 1),
    };
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(error) = write_whole(output, &resized.bytes) {
        let error = Error::Internal(format!("cannot write {}: {error}", output.display()));
        return (to_json(&Rejected::from(&error)), 2);
    }
    let answer = json!({
        "ok": true, "statusCode": 200, "output": output.display().to_string(),
        "width": resized.width, "height": resized.height, "bytes": resized.bytes.len(),
        "format": resized.format.name(), "source": resized.source, "ms": (millis * 100.0).round() / 100.0,
    });
    (answer, 0)
}

fn read_input(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Error> {
    let unreadable =
        |e: std::io::Error| Error::InvalidRequest(format!("cannot read {}: {e}", path.display()));
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > max_bytes {
        return Err(Error::InputTooLarge {
            size,
            max: max_bytes,
        });
    }
    std::fs::read(path).map_err(unreadable)
}

/// Writes beside the target and renames, so an interrupted run never leaves half an image.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let result = std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// The benchmark's worker protocol: `{"op":"load","id","path"}`, `{"op":"run","id","size",
/// "quality","out"}` (timed around the in-memory resize only; optional `"color"`, and `"format"`,
/// JPEG when absent), `{"op":"renditions","id","renditions","quality","threads","out_dir"}` (every
/// rendition from one decode, timed the same way), `{"op":"quit"}`.
fn bench_worker() -> ExitCode {
    let mut images: std::collections::HashMap<String, Vec<u8>> = Default::default();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let request: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let text = |name: &str| {
            request
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let reply = match request.get("op").and_then(Value::as_str) {
            Some("load") => match std::fs::read(text("path")) {
                Ok(data) => {
                    images.insert(text("id"), data);
                    json!({"ok": true})
                }
                Err(e) => json!({"ok": false, "error": e.to_string()}),
            },
            Some("run") => match images.get(&text("id")) {
                Some(data) => bench_run(data, &request),
                None => json!({"ok": false, "error": "unknown id"}),
            },
            Some("renditions") => match images.get(&text("id")) {
                Some(data) => bench_renditions(data, &request),
                None => json!({"ok": false, "error": "unknown id"}),
            },
            Some("quit") => break,
            _ => json!({"ok": false, "error": "unknown op"}),
        };
        if writeln!(stdout, "{reply}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
    ExitCode::SUCCESS
}

fn bench_run(data: &[u8], request: &Value) -> Value {
    let number =
        |name: &str, default: u64| request.get(name).and_then(Value::as_u64).unwrap_or(default);
    let options = Options {
        size: u32::try_from(number("size", u64::from(DEFAULT_SIZE))).unwrap_or(DEFAULT_SIZE),
        format: Some(
            request
                .get("format")
                .and_then(Value::as_str)
                .and_then(OutputFormat::parse)
                .unwrap_or(OutputFormat::Jpeg),
        ),
        quality: u8::try_from(number("quality", u64::from(DEFAULT_QUALITY)))
            .unwrap_or(DEFAULT_QUALITY),
        color: request
            .get("color")
            .and_then(Value::as_str)
            .and_then(|name| name.parse().ok())
            .unwrap_or_default(),
        avif_budget: Duration::from_millis(DEFAULT_AVIF_TIME_BUDGET_MS),
    };
    let limits = Limits {
        max_pixels: DEFAULT_MAX_PIXELS,
    };
    let started = Instant::now();
    let result = engine::resize(data, &options, &limits);
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(resized) => {
            if let Some(out) = request.get("out").and_then(Value::as_str) {
                if let Err(e) = std::fs::write(out, &resized.bytes) {
                    return json!({"ok": false, "error": e.to_string()});
                }
            }
            json!({"ok": true, "ms": millis, "bytes": resized.bytes.len(),
                   "width": resized.width, "height": resized.height})
        }
        Err(error) => json!({"ok": false, "error": error.to_string()}),
    }
}

fn bench_renditions(data: &[u8], request: &Value) -> Value {
    let renditions = match request
        .get("renditions")
        .ok_or_else(|| "no renditions".to_string())
        .and_then(rendition::parse_set)
    {
        Ok(renditions) => renditions,
        Err(error) => return json!({"ok": false, "error": error}),
    };
    let number =
        |name: &str, default: u64| request.get(name).and_then(Value::as_u64).unwrap_or(default);
    let job = Job {
        renditions,
        quality: u8::try_from(number("quality", u64::from(DEFAULT_QUALITY)))
            .unwrap_or(DEFAULT_QUALITY),
        color: ColorMode::default(),
        parallelism: usize::try_from(number("threads", 1)).unwrap_or(1).max(1),
        avif_budget: Duration::from_millis(DEFAULT_AVIF_TIME_BUDGET_MS),
    };
    let limits = Limits {
        max_pixels: DEFAULT_MAX_PIXELS,
    };
    let started = Instant::now();
    let result = engine::render(data, &job, &limits);
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(rendered) => {
            if let Some(dir) = request.get("out_dir").and_then(Value::as_str) {
                for output in &rendered.outputs {
                    let path = Path::new(dir).join(format!(
                        "{}.{}",
                        output.name,
                        output.format.extension()
                    ));
                    if let Err(e) = std::fs::write(&path, &output.bytes) {
                        return json!({"ok": false, "error": format!("{}: {e}", path.display())});
                    }
                }
            }
            let outputs: Vec<Value> = rendered
                .outputs
                .iter()
                .map(|o| {
                    json!({"name": o.name, "format": o.format.name(), "width": o.width,
                                "height": o.height, "bytes": o.bytes.len()})
                })
                .collect();
            json!({"ok": true, "ms": millis, "outputs": outputs})
        }
        Err(error) => json!({"ok": false, "error": error.to_string()}),
    }
}
