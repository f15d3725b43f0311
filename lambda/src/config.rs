//! The function's configuration, read once from the environment (see CONTRACT.md for the table).

use std::time::Duration;

use crate::engine::rendition::{self, Rendition};
use crate::engine::{ColorMode, Limits, QUALITY_RANGE, SIZE_RANGE};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub dest_bucket: String,
    /// Buckets the function may read; empty means any.
    pub allowed_source_buckets: Vec<String>,
    pub dest_prefix: String,
    pub dest_key_pattern: String,
    pub default_size: u32,
    /// What every upload becomes (`RENDITIONS`); by default one output of `default_size`, the input's
    /// format, named `resized`.
    pub renditions: Vec<Rendition>,
    /// Renditions made at once: the vCPUs the function's memory buys (see [`vcpus_for_memory`]).
    pub parallelism: usize,
    pub quality: u8,
    /// What outputs say about colour (`COLOR`), unless a request says otherwise.
    pub color: ColorMode,
    pub max_input_bytes: u64,
    pub max_pixels: u64,
    pub cache_control: Option<String>,
    /// What one AVIF encode may take by its predicted cost (`AVIF_TIME_BUDGET_MS`).
    pub avif_time_budget: Duration,
    pub s3: S3Settings,
}

/// Bounds on every S3 call, so a stalled connection becomes a retryable error, never a hung Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3Settings {
    /// One HTTP attempt, up to the response headers.
    pub attempt_timeout: Duration,
    /// Attempts per call, the SDK's retries included.
    pub max_attempts: u32,
    /// Downloading one object's body.
    pub body_timeout: Duration,
}

pub const DEFAULT_PREFIX: &str = "output/";
/// `{dir}` keeps the source's folder: without it `a/cat.jpg` and `b/cat.jpg` wrote one object, the
/// later upload silently replacing the other's output. `{name}` keeps renditions apart; the default
/// rendition is named `resized`, so `b.jpg` still gives `output/b_resized.jpg`.
pub const DEFAULT_KEY_PATTERN: &str = "{dir}{stem}_{name}.{ext}";
/// Lambda gives a function one vCPU per this many MB of memory (AWS documents 1,769 MB as one vCPU).
pub const MB_PER_VCPU: u64 = 1769;
pub const DEFAULT_SIZE: u32 = 1000;
pub const DEFAULT_QUALITY: u8 = 82;
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 50 * 1024 * 1024;
pub const DEFAULT_MAX_PIXELS: u64 = 60_000_000;
/// 10 s: a sixth of the module's default 60 s timeout and well inside the 25 s it is cut to for Express
/// behind the API, leaving the rest for the fetch, the decode, other outputs and the store. With the
/// model's margin it lets a 1 MP AVIF (the default size) encode at the preferred speed and caps an AVIF
/// at about 10 MP (3 MP at qualities from 89; engine/encode/avif.rs).
pub const DEFAULT_AVIF_TIME_BUDGET_MS: u64 = 10_000;

impl Config {
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let dest_bucket =
            get("DEST_BUCKET").ok_or_else(|| Error::Internal("DEST_BUCKET must be set".into()))?;
        let allowed_source_buckets = get("ALLOWED_SOURCE_BUCKETS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        // An explicitly empty prefix is allowed (write at the bucket root), so read it raw.
        let dest_prefix = lookup("DEST_PREFIX").unwrap_or_else(|| DEFAULT_PREFIX.to_string());
        let dest_key_pattern =
            get("DEST_KEY_PATTERN").unwrap_or_else(|| DEFAULT_KEY_PATTERN.to_string());
        crate::keys::validate_pattern(&dest_key_pattern)?;
        let default_size = number(&get, "DEFAULT_SIZE", DEFAULT_SIZE, SIZE_RANGE)?;
        let renditions = match get("RENDITIONS") {
            None => vec![Rendition::single(default_size, None)],
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| e.to_string())
                .and_then(|value| rendition::parse_set(&value))
                .map_err(|e| Error::Internal(format!("RENDITIONS: {e}")))?,
        };
        crate::keys::check_distinct(&dest_prefix, &dest_key_pattern, &renditions)
            .map_err(|e| Error::Internal(format!("RENDITIONS and DEST_KEY_PATTERN: {e}")))?;
        let memory_mb = number(&get, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0, 0..=u64::MAX)?;
        let config = Config {
            dest_bucket,
            allowed_source_buckets,
            dest_prefix,
            dest_key_pattern,
            default_size,
            renditions,
            parallelism: vcpus_for_memory(memory_mb),
            quality: number(&get, "QUALITY", DEFAULT_QUALITY, QUALITY_RANGE)?,
            color: match get("COLOR") {
                None => ColorMode::default(),
                Some(name) => name.parse().map_err(|_| {
                    Error::Internal(format!(
                        "COLOR={name:?} must be one of {}",
                        ColorMode::NAMES.join(", ")
                    ))
                })?,
            },
            max_input_bytes: number(
                &get,
                "MAX_INPUT_BYTES",
                DEFAULT_MAX_INPUT_BYTES,
                1..=u64::MAX,
            )?,
            max_pixels: number(&get, "MAX_PIXELS", DEFAULT_MAX_PIXELS, 1..=u64::MAX)?,
            cache_control: get("CACHE_CONTROL"),
            avif_time_budget: Duration::from_millis(number(
                &get,
                "AVIF_TIME_BUDGET_MS",
                DEFAULT_AVIF_TIME_BUDGET_MS,
                1..=900_000,
            )?),
            s3: S3Settings {
                attempt_timeout: Duration::from_millis(number(
                    &get,
                    "S3_ATTEMPT_TIMEOUT_MS",
                    10_000,
                    1..=900_000,
                )?),
                max_attempts: number(&get, "S3_MAX_ATTEMPTS", 3, 1..=10)?,
                body_timeout: Duration::from_millis(number(
                    &get,
                    "S3_BODY_TIMEOUT_MS",
                    60_000,
                    1..=900_000,
                )?),
            },
        };
        Ok(config)
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_pixels: self.max_pixels,
        }
    }

    pub fn allows_bucket(&self, bucket: &str) -> bool {
        self.allowed_source_buckets.is_empty()
            || self.allowed_source_buckets.iter().any(|b| b == bucket)
    }
}

/// The vCPUs a function of `memory_mb` gets, never more than this machine has; 1 when unknown (`0`, as
/// outside Lambda). The OS's count is not the share: a 1,024 MB function sees two CPUs but is given
/// little more than half of one.
pub fn vcpus_for_memory(memory_mb: u64) -> usize {
    let machine = std::thread::available_parallelism().map_or(1, usize::from);
    let share = usize::try_from(memory_mb.div_ceil(MB_PER_VCPU)).unwrap_or(usize::MAX);
    share.clamp(1, machine.max(1))
}

fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, Error>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(text) = get(name) else {
        return Ok(default);
    };
    match text.parse::<T>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(Error::Internal(format!(
            "{name}={text:?} must be a whole number from {} to {}",
            range.start(),
            range.end()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn the_default_pattern_keeps_outputs_of_same_named_files_apart() {
        let key = |source: &str| {
            crate::keys::destination_key(
                DEFAULT_PREFIX,
                DEFAULT_KEY_PATTERN,
                source,
                crate::engine::OutputFormat::Jpeg,
                DEFAULT_SIZE,
                crate::engine::rendition::DEFAULT_NAME,
            )
        };
        assert_eq!(key("b.jpg"), Ok("output/b_resized.jpg".to_string()));
        assert_eq!(key("a/cat.jpg"), Ok("output/a/cat_resized.jpg".to_string()));
        assert_ne!(key("a/cat.jpg"), key("b/cat.jpg"));
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = config(&[("DEST_BUCKET", "out")]).expect("config");
        assert_eq!(c.dest_prefix, "output/");
        assert_eq!(c.dest_key_pattern, "{dir}{stem}_{name}.{ext}");
        assert_eq!(c.renditions, vec![Rendition::single(1000, None)]);
        assert_eq!(c.parallelism, 1);
        assert_eq!((c.default_size, c.quality), (1000, 82));
        assert_eq!((c.max_input_bytes, c.max_pixels), (52_428_800, 60_000_000));
        assert!(c.allows_bucket("anything"));
        assert_eq!(c.cache_control, None);
        assert_eq!(c.color, ColorMode::Srgb);
        assert_eq!(c.avif_time_budget, Duration::from_secs(10));
    }

    #[test]
    fn color_is_srgb_or_keep() {
        let c = config(&[("DEST_BUCKET", "out"), ("COLOR", "keep")]).expect("config");
        assert_eq!(c.color, ColorMode::Keep);
        let wrong = config(&[("DEST_BUCKET", "out"), ("COLOR", "p3")]);
        assert_eq!(wrong.map_err(|e| e.code()), Err("INTERNAL"));
    }

    #[test]
    fn renditions_are_read_and_checked() {
        let c = config(&[
            ("DEST_BUCKET", "out"),
            (
                "RENDITIONS",
                r#"[{"name":"thumb","size":320,"fit":"cover"},{"name":"card","width":640}]"#,
            ),
        ])
        .expect("config");
        assert_eq!(c.renditions.len(), 2);
        for (renditions, pattern) in [
            ("not json", "{dir}{stem}_{name}.{ext}"),
            (r#"[{"name":"a"}]"#, "{dir}{stem}_{name}.{ext}"),
            (
                r#"[{"name":"a","size":1},{"name":"b","size":1}]"#,
                "{stem}.{ext}",
            ),
        ] {
            let wrong = config(&[
                ("DEST_BUCKET", "out"),
                ("RENDITIONS", renditions),
                ("DEST_KEY_PATTERN", pattern),
            ]);
            assert_eq!(wrong.map_err(|e| e.code()), Err("INTERNAL"), "{renditions}");
        }
    }

    #[test]
    fn parallelism_follows_the_memory_not_the_machine() {
        let machine = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(vcpus_for_memory(0), 1);
        assert_eq!(vcpus_for_memory(1024), 1);
        assert_eq!(vcpus_for_memory(1769), 1);
        assert_eq!(vcpus_for_memory(1770), 2.min(machine));
        assert_eq!(vcpus_for_memory(10_240), 6.min(machine));
    }

    #[test]
    fn dest_bucket_is_required() {
        assert_eq!(config(&[]).map_err(|e| e.code()), Err("INTERNAL"));
    }

    #[test]
    fn allowed_buckets_are_a_list() {
        let c = config(&[
            ("DEST_BUCKET", "out"),
            ("ALLOWED_SOURCE_BUCKETS", " a, b ,"),
        ])
        .expect("config");
        assert_eq!(c.allowed_source_buckets, vec!["a", "b"]);
        assert!(c.allows_bucket("b") && !c.allows_bucket("c"));
    }

    #[test]
    fn bad_numbers_are_refused_not_clamped() {
        for (name, value) in [
            ("DEFAULT_SIZE", "0"),
            ("QUALITY", "101"),
            ("MAX_PIXELS", "lots"),
            ("AVIF_TIME_BUDGET_MS", "0"),
            ("AVIF_TIME_BUDGET_MS", "900001"),
        ] {
            assert!(
                config(&[("DEST_BUCKET", "out"), (name, value)]).is_err(),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn a_pattern_without_the_stem_is_refused() {
        assert!(config(&[("DEST_BUCKET", "out"), ("DEST_KEY_PATTERN", "fixed.{ext}")]).is_err());
    }
}
