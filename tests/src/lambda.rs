//! The real Lambda binary (`bootstrap`) under cargo-lambda's runtime emulator, through
//! `scripts/lambda-emulator.sh` (the script `make demo` uses): started with the environment the Terraform
//! module gives the function, invoked over the Lambda Invoke API path, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::emulator::parse_exports;
use crate::{http, repo_root};

/// The function binary built for this machine by `bash scripts/build.sh x86_64` (the same compiler and
/// flags as the zip the module deploys), or `IMGRESIZE_LAMBDA_BINARY` if set.
pub fn binary() -> PathBuf {
    std::env::var_os("IMGRESIZE_LAMBDA_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            repo_root().join("target/x86_64-unknown-linux-gnu/release/imgresize-lambda")
        })
}

/// [`binary`] if it is built, else skipped or failed as [`crate::built_or_skip`] says.
pub fn binary_or_skip() -> Option<PathBuf> {
    crate::built_or_skip(binary(), "bash scripts/build.sh x86_64")
}

/// What an invocation returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function's JSON answer (success or rejection: the handler returns both normally).
    Answer(Value),
    /// A function error: its `errorType` and the error document as the emulator returned it (AWS puts the
    /// same document in a Step Functions task failure's `Cause`).
    FunctionError {
        error_type: String,
        document: String,
    },
}

pub struct LambdaFunction {
    pub invoke_url: String,
    state: PathBuf,
}

impl LambdaFunction {
    /// Starts `binary` with `aws_env` (the emulator's endpoint and credentials, passed the way the script
    /// forwards them) and the function's own environment `function_env`.
    pub fn start(
        binary: &Path,
        aws_env: &[(String, String)],
        function_env: &[(String, String)],
    ) -> Result<LambdaFunction, String> {
        if !binary.is_file() {
            return Err(format!(
                "{} does not exist: build it with `bash scripts/build.sh x86_64` (or set IMGRESIZE_LAMBDA_BINARY)",
                binary.display()
            ));
        }
        let script = repo_root().join("scripts/lambda-emulator.sh");
        let state = repo_root().join(format!(
            ".localstack/{}.state",
            crate::unique_name("test-lambda")
        ));
        let mut command = Command::new("bash");
        command
            .arg(&script)
            .arg("start")
            .arg(binary)
            .args(function_env.iter().map(|(k, v)| format!("{k}={v}")))
            .env("LAMBDA_EMULATOR_STATE", &state)
            .stdin(Stdio::null());
        for (name, value) in aws_env {
            command.env(name, value);
        }
        let output = command
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !output.status.success() {
            return Err(format!(
                "scripts/lambda-emulator.sh start failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let Some(invoke_url) = parse_exports(&String::from_utf8_lossy(&output.stdout))
            .get("LAMBDA_INVOKE_URL")
            .cloned()
        else {
            stop_state(&state);
            return Err("scripts/lambda-emulator.sh printed no LAMBDA_INVOKE_URL".into());
        };
        watch(&script, &state);
        {
            let state = state.clone();
            crate::at_exit(move || stop_state(&state));
        }
        eprintln!("lambda: {} at {invoke_url}", binary.display());
        Ok(LambdaFunction { invoke_url, state })
    }

    /// Invokes the function with `payload` exactly as given (the bytes Lambda would receive).
    pub async fn invoke(&self, payload: &str) -> Result<Outcome, String> {
        let response = http::post_json(&self.invoke_url, payload, Duration::from_secs(60)).await?;
        match response.status {
            200 => serde_json::from_str(&response.body)
                .map(Outcome::Answer)
                .map_err(|e| format!("the function answered non-JSON ({e}): {}", response.body)),
            // cargo-lambda's emulator answers a function error with HTTP 500 and the error document.
            500 => {
                let document: Value = serde_json::from_str(&response.body).map_err(|e| {
                    format!(
                        "HTTP 500 without an error document ({e}): {}",
                        response.body
                    )
                })?;
                let error_type = document
                    .get("errorType")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("no errorType in {}", response.body))?
                    .to_string();
                Ok(Outcome::FunctionError {
                    error_type,
                    document: response.body,
                })
            }
            status => Err(format!(
                "the runtime emulator answered HTTP {status}: {}",
                response.body
            )),
        }
    }
}

impl Drop for LambdaFunction {
    fn drop(&mut self) {
        stop_state(&self.state);
    }
}

fn stop_state(state: &Path) {
    let _ = Command::new("bash")
        .arg(repo_root().join("scripts/lambda-emulator.sh"))
        .arg("stop")
        .env("LAMBDA_EMULATOR_STATE", state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Stops the runtime emulator once this process is gone, however it ends (a killed test cannot run its
/// destructors): a detached shell polls our pid, as `scripts/emulator.sh` does for LocalStack.
fn watch(script: &Path, state: &Path) {
    let _ = Command::new("setsid")
        .arg("bash")
        .arg("-c")
        .arg(r#"while kill -0 "$0" 2>/dev/null; do sleep 2; done; exec bash "$1" stop"#)
        .arg(std::process::id().to_string())
        .arg(script)
        .env("LAMBDA_EMULATOR_STATE", state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
