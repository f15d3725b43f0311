//! The AWS emulator (LocalStack, host mode) for a whole test process.
//!
//! Started once, on first use, by `scripts/emulator.sh` (the script `make demo` uses too), unless
//! `AWS_ENDPOINT_URL` already points at one (then `make` owns it). Stopped at process exit by an
//! `atexit` hook; the script's watchdog also stops it if this process is killed.
//! [`Emulator::dedicated`] starts a separate instance with extra LocalStack settings (e.g. `SFN_MOCK_CONFIG`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;

use crate::repo_root;

pub struct Emulator {
    pub endpoint: String,
    /// The script's state file when this process started the emulator (and so must stop it).
    state: Option<PathBuf>,
}

static SHARED: OnceLock<Result<Emulator, String>> = OnceLock::new();

impl Emulator {
    /// The process-wide emulator; panics with the script's output if it cannot start.
    pub fn shared() -> &'static Emulator {
        let started = SHARED.get_or_init(|| {
            let emulator = Self::start()?;
            if emulator.state.is_some() {
                // SAFETY: registering a plain extern "C" function with no captured state.
                unsafe { libc::atexit(stop_shared) };
            }
            Ok(emulator)
        });
        match started {
            Ok(emulator) => emulator,
            Err(message) => panic!("the emulator did not start: {message}"),
        }
    }

    fn start() -> Result<Emulator, String> {
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            return Ok(Emulator {
                endpoint,
                state: None,
            });
        }
        let state = repo_root().join(format!(".localstack/test-{}.state", std::process::id()));
        Self::launch(state, &[])
    }

    /// A LocalStack of its own for this caller, started with extra settings (e.g.
    /// `SFN_MOCK_CONFIG=/abs/file`), whatever `AWS_ENDPOINT_URL` says. Stopped when dropped, at process
    /// exit if it lives in a static, and by the script's watchdog if the process is killed.
    pub fn dedicated(settings: &[(&str, &str)]) -> Result<Emulator, String> {
        let state = repo_root().join(format!(
            ".localstack/{}.state",
            crate::unique_name("test-dedicated")
        ));
        let emulator = Self::launch(state.clone(), settings)?;
        crate::at_exit(move || stop_state(&state));
        Ok(emulator)
    }

    fn launch(state: PathBuf, settings: &[(&str, &str)]) -> Result<Emulator, String> {
        let output = Command::new("bash")
            .arg(repo_root().join("scripts/emulator.sh"))
            .arg("start")
            .args(
                settings
                    .iter()
                    .map(|(name, value)| format!("{name}={value}")),
            )
            .env("EMULATOR_STATE", &state)
            .env("EMULATOR_WATCH_PID", std::process::id().to_string())
            .output()
            .map_err(|e| format!("cannot run scripts/emulator.sh: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "scripts/emulator.sh start failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let exports = parse_exports(&String::from_utf8_lossy(&output.stdout));
        let endpoint = exports
            .get("AWS_ENDPOINT_URL")
            .cloned()
            .ok_or("scripts/emulator.sh printed no AWS_ENDPOINT_URL")?;
        eprintln!("emulator: {endpoint}");
        Ok(Emulator {
            endpoint,
            state: Some(state),
        })
    }

    fn stop(&self) {
        if let Some(state) = &self.state {
            stop_state(state);
        }
    }

    /// SDK configuration for the emulator: its endpoint, test credentials, us-east-1.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                Credentials::new("test", "test", None, None, "imgresize-tests"),
            ))
            .build()
    }

    /// An S3 client on the emulator. Make one per test: clients hold connections of the runtime
    /// that made them.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An SQS client on the emulator.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config())
    }

    /// An EventBridge client on the emulator.
    pub fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk_config())
    }

    /// A Step Functions client on the emulator.
    pub fn sfn(&self) -> aws_sdk_sfn::Client {
        aws_sdk_sfn::Client::new(&self.sdk_config())
    }

    /// An API Gateway (REST APIs) client on the emulator.
    pub fn apigateway(&self) -> aws_sdk_apigateway::Client {
        aws_sdk_apigateway::Client::new(&self.sdk_config())
    }

    /// The URL LocalStack serves a deployed REST API stage's `path` at.
    pub fn execute_api_url(&self, api_id: &str, stage: &str, path: &str) -> String {
        format!(
            "{}/_aws/execute-api/{api_id}/{stage}/{}",
            self.endpoint.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// The environment a process needs to reach the emulator with the AWS SDK.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

impl Drop for Emulator {
    /// Only instances from [`Emulator::dedicated`] are ever dropped (the shared one lives in a static).
    fn drop(&mut self) {
        self.stop();
    }
}

/// Stops the instance of a state file; safe to repeat.
fn stop_state(state: &std::path::Path) {
    let _ = Command::new("bash")
        .arg(repo_root().join("scripts/emulator.sh"))
        .arg("stop")
        .env("EMULATOR_STATE", state)
        .output();
}

extern "C" fn stop_shared() {
    if let Some(Ok(emulator)) = SHARED.get() {
        emulator.stop();
    }
}

/// Reads `export NAME=VALUE` lines (values optionally single-quoted, as the script prints them).
pub(crate) fn parse_exports(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("export "))
        .filter_map(|assignment| assignment.split_once('='))
        .map(|(name, value)| {
            let value = value.trim();
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(value);
            (name.to_string(), value.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_parsed() {
        let map = parse_exports("export A=1\nexport B='two words'\nnoise\n");
        assert_eq!(map.get("A").map(String::as_str), Some("1"));
        assert_eq!(map.get("B").map(String::as_str), Some("two words"));
    }
}
