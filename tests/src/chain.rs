//! Watching the deployed chain ([`crate::module::deploy`]) work: its executions, their histories, the API's
//! two calls, and the function's processes (the project's LocalStack executor runs each execution
//! environment as a local `bootstrap` process). Shared by the chain suite and `make demo`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent};
use serde_json::{json, Value};

use crate::emulator::Emulator;
use crate::http;
use crate::module::{Chain, RestApi};

/// A finished execution of the chain's state machine.
#[derive(Debug, Clone)]
pub struct Finished {
    pub arn: String,
    pub status: ExecutionStatus,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Start to stop, as Step Functions recorded them.
    pub duration: Option<Duration>,
}

fn describe<E: std::error::Error>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {}", aws_sdk_s3::error::DisplayErrorContext(e))
}

/// Every execution ARN of the chain's state machine with its status, across pages.
async fn list(
    emulator: &Emulator,
    chain: &Chain,
) -> Result<Vec<(String, ExecutionStatus)>, String> {
    let sfn = emulator.sfn();
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .list_executions()
            .state_machine_arn(&chain.state_machine.arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(describe("ListExecutions"))?;
        for e in page.executions() {
            all.push((e.execution_arn().to_string(), e.status().clone()));
        }
        token = page.next_token().map(String::from);
        if token.is_none() {
            return Ok(all);
        }
    }
}

/// Waits (polling, at most `bound`) until at least `count` executions exist and none is running, then
/// describes them all. More than `count` is returned as found: the caller decides whether that is wrong.
pub async fn wait_executions(
    emulator: &Emulator,
    chain: &Chain,
    count: usize,
    bound: Duration,
) -> Result<Vec<Finished>, String> {
    let started = Instant::now();
    let listed = loop {
        let listed = list(emulator, chain).await?;
        let running = listed
            .iter()
            .filter(|(_, s)| *s == ExecutionStatus::Running)
            .count();
        if listed.len() >= count && running == 0 {
            break listed;
        }
        if started.elapsed() > bound {
            return Err(format!(
                "after {bound:?}: {} execution(s), {running} running, {count} wanted finished",
                listed.len()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let sfn = emulator.sfn();
    let mut finished = Vec::with_capacity(listed.len());
    for (arn, _) in listed {
        let d = sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .map_err(describe("DescribeExecution"))?;
        let duration = d.stop_date().and_then(|stop| {
            let millis = stop.to_millis().ok()? - d.start_date().to_millis().ok()?;
            u64::try_from(millis).ok().map(Duration::from_millis)
        });
        finished.push(Finished {
            arn,
            status: d.status().clone(),
            input: d.input().unwrap_or_default().to_string(),
            output: d.output().map(String::from),
            error: d.error().map(String::from),
            cause: d.cause().map(String::from),
            duration,
        });
    }
    Ok(finished)
}

/// The execution's whole history, oldest first.
pub async fn history(
    emulator: &Emulator,
    execution_arn: &str,
) -> Result<Vec<HistoryEvent>, String> {
    let sfn = emulator.sfn();
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(execution_arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(describe("GetExecutionHistory"))?;
        events.extend(page.events().iter().cloned());
        token = page.next_token().map(String::from);
        if token.is_none() {
            return Ok(events);
        }
    }
}

/// `POST /resize` with `{"bucket", "key", "size"}`, then `GET /executions/{id}` until the execution is no
/// longer running (at most `bound`). Returns the execution ARN, its final status and the GET's answer.
pub async fn call_api(
    emulator: &Emulator,
    api: &RestApi,
    bucket: &str,
    key: &str,
    size: u32,
    bound: Duration,
) -> Result<(String, String, Value), String> {
    let body = json!({"bucket": bucket, "key": key, "size": size});
    call_api_with(emulator, api, &body, bound).await
}

/// [`call_api`] with any body: POST it to /resize, then read the execution through GET /executions/{id}.
pub async fn call_api_with(
    emulator: &Emulator,
    api: &RestApi,
    body: &Value,
    bound: Duration,
) -> Result<(String, String, Value), String> {
    let body = body.to_string();
    let started = http::post_json(&api.resize_url, &body, Duration::from_secs(20)).await?;
    if started.status != 200 {
        return Err(format!(
            "POST /resize: HTTP {}: {}",
            started.status, started.body
        ));
    }
    let answer: Value = serde_json::from_str(&started.body)
        .map_err(|e| format!("POST /resize answered non-JSON ({e}): {}", started.body))?;
    let arn = answer["executionArn"]
        .as_str()
        .ok_or_else(|| format!("POST /resize answered no executionArn: {}", started.body))?
        .to_string();
    let id = arn.rsplit(':').next().unwrap_or_default();
    let url = emulator.execute_api_url(&api.id, &api.stage, &format!("executions/{id}"));
    let deadline = Instant::now() + bound;
    loop {
        let got = http::request("GET", &url, None, "", Duration::from_secs(20)).await?;
        if got.status != 200 {
            return Err(format!(
                "GET /executions/{id}: HTTP {}: {}",
                got.status, got.body
            ));
        }
        let result: Value = serde_json::from_str(&got.body)
            .map_err(|e| format!("GET /executions answered non-JSON ({e}): {}", got.body))?;
        let status = result["status"].as_str().unwrap_or_default().to_string();
        if status != "RUNNING" {
            return Ok((arn, status, result));
        }
        if Instant::now() > deadline {
            return Err(format!("execution {arn} still RUNNING after {bound:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Processes (pid, command line) of the function `name` on this machine: those whose environment names it
/// (`AWS_LAMBDA_FUNCTION_NAME`, which the executor gives the `bootstrap` and its children inherit).
pub fn function_processes(name: &str) -> Vec<(u32, String)> {
    let marker = format!("AWS_LAMBDA_FUNCTION_NAME={name}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may exit between listing and reading: skip it then.
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|v| v == marker.as_bytes()) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push((pid, cmdline.trim().to_string()));
        }
    }
    found
}

/// Samples, every 50 ms on a thread of its own, how many `bootstrap` processes (execution environments) of
/// a function are alive, and keeps the largest number seen.
pub struct EnvironmentWatcher {
    stop: Arc<AtomicBool>,
    most: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EnvironmentWatcher {
    pub fn start(function_name: &str) -> EnvironmentWatcher {
        let stop = Arc::new(AtomicBool::new(false));
        let most = Arc::new(AtomicUsize::new(0));
        let (s, m, name) = (
            Arc::clone(&stop),
            Arc::clone(&most),
            function_name.to_string(),
        );
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let alive = function_processes(&name)
                    .iter()
                    .filter(|(_, cmdline)| cmdline.contains("bootstrap"))
                    .count();
                m.fetch_max(alive, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        EnvironmentWatcher {
            stop,
            most,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the most environments seen alive at once.
    pub fn stop(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.most.load(Ordering::Relaxed)
    }
}
