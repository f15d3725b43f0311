//! The emulator's Lambda API (CreateFunction, GetFunction, Invoke), called as plain REST/JSON.
//!
//! Why not `aws-sdk-lambda`: its releases built on the same smithy runtime as the SDK crates pinned in
//! Cargo.toml would have to be found and pinned too, and three JSON calls do not need it. LocalStack does
//! not check signatures; the `Authorization` header only names the access key (its account), the region
//! and the service, which is all it reads from it.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::http;

const API: &str = "2015-03-31";
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0";

/// What `aws_lambda_function.this` declares (lambda.tf), for one function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub zip: std::path::PathBuf,
    /// `arm64` or `x86_64` (the executor runs arm64 under qemu-user).
    pub architecture: String,
    pub memory_size: u32,
    pub timeout_seconds: u32,
    pub role_arn: String,
    pub environment: Vec<(String, String)>,
}

/// What an Invoke answered.
#[derive(Debug, Clone)]
pub struct Invoked {
    /// `X-Amz-Function-Error` (`Unhandled` for a function error), `None` for a normal answer.
    pub function_error: Option<String>,
    pub payload: String,
}

async fn call(
    endpoint: &str,
    method: &str,
    path: &str,
    body: &str,
    timeout: Duration,
) -> Result<http::Response, String> {
    call_version(endpoint, API, method, path, body, timeout).await
}

async fn call_version(
    endpoint: &str,
    version: &str,
    method: &str,
    path: &str,
    body: &str,
    timeout: Duration,
) -> Result<http::Response, String> {
    let url = format!("{}/{version}/{path}", endpoint.trim_end_matches('/'));
    http::request_with_headers(
        method,
        &url,
        Some("application/json"),
        &[("Authorization", AUTHORIZATION)],
        body,
        timeout,
    )
    .await
}

/// CreateFunction (runtime `provided.al2023`, handler `bootstrap`, as lambda.tf), then waits (bounded)
/// until the function is `Active`; returns its ARN.
pub async fn create_function(endpoint: &str, spec: &FunctionSpec) -> Result<String, String> {
    let zip = read_zip(&spec.zip)?;
    let environment: serde_json::Map<String, Value> = spec
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let body = json!({
        "FunctionName": spec.name,
        "Runtime": "provided.al2023",
        "Handler": "bootstrap",
        "Role": spec.role_arn,
        "Architectures": [spec.architecture],
        "MemorySize": spec.memory_size,
        "Timeout": spec.timeout_seconds,
        "Environment": {"Variables": environment},
        "TracingConfig": {"Mode": "Active"},
        "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(zip)},
    });
    let response = call(
        endpoint,
        "POST",
        "functions",
        &body.to_string(),
        Duration::from_secs(60),
    )
    .await?;
    if response.status != 201 && response.status != 200 {
        return Err(format!(
            "CreateFunction {}: HTTP {}: {}",
            spec.name, response.status, response.body
        ));
    }
    let created: Value = serde_json::from_str(&response.body)
        .map_err(|e| format!("CreateFunction answered non-JSON ({e}): {}", response.body))?;
    let arn = created
        .get("FunctionArn")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("CreateFunction answered no FunctionArn: {}", response.body))?
        .to_string();
    wait_active(endpoint, &spec.name, Duration::from_secs(60)).await?;
    Ok(arn)
}

/// PutFunctionEventInvokeConfig, as `aws_lambda_function_event_invoke_config.delete_sync` declares it
/// (eventbridge.tf): `retries` retries of a failed asynchronous call, then its record to `on_failure`.
pub async fn put_event_invoke_config(
    endpoint: &str,
    name: &str,
    retries: u32,
    on_failure: Option<&str>,
) -> Result<(), String> {
    let mut body = json!({"MaximumRetryAttempts": retries});
    if let Some(destination) = on_failure {
        body["DestinationConfig"] = json!({"OnFailure": {"Destination": destination}});
    }
    let response = call_version(
        endpoint,
        "2019-09-25",
        "PUT",
        &format!("functions/{name}/event-invoke-config"),
        &body.to_string(),
        Duration::from_secs(30),
    )
    .await?;
    if response.status != 200 {
        return Err(format!(
            "PutFunctionEventInvokeConfig {name}: HTTP {}: {}",
            response.status, response.body
        ));
    }
    Ok(())
}

fn read_zip(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Polls GetFunction until `State` is `Active`; fails on `Failed` (with its reason) or after `bound`.
pub async fn wait_active(endpoint: &str, name: &str, bound: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let response = call(
            endpoint,
            "GET",
            &format!("functions/{name}"),
            "",
            Duration::from_secs(10),
        )
        .await?;
        let document: Value = serde_json::from_str(&response.body)
            .map_err(|e| format!("GetFunction answered non-JSON ({e}): {}", response.body))?;
        let configuration = &document["Configuration"];
        match configuration["State"].as_str() {
            Some("Active") => return Ok(()),
            Some("Failed") => {
                return Err(format!(
                    "function {name} failed to deploy: {}",
                    configuration["StateReason"]
                        .as_str()
                        .unwrap_or("(no reason)")
                ))
            }
            _ => {}
        }
        if started.elapsed() > bound {
            return Err(format!(
                "function {name} not Active after {bound:?}: {configuration}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Invoke (RequestResponse) with `payload` exactly as given.
pub async fn invoke(
    endpoint: &str,
    name: &str,
    payload: &str,
    timeout: Duration,
) -> Result<Invoked, String> {
    let response = call(
        endpoint,
        "POST",
        &format!("functions/{name}/invocations"),
        payload,
        timeout,
    )
    .await?;
    if response.status != 200 {
        return Err(format!(
            "Invoke {name}: HTTP {}: {}",
            response.status, response.body
        ));
    }
    Ok(Invoked {
        function_error: response.header("x-amz-function-error").map(String::from),
        payload: response.body,
    })
}
