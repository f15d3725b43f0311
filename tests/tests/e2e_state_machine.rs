//! Proof 3 of the cloud wiring: the module's state machine (`templates/state_machine.asl.json`, rendered
//! with the values stepfunctions.tf passes and the retry variables' defaults) is created in LocalStack's
//! Step Functions — so a real ASL implementation validates it — and executed.
//!
//! Mechanism for the Task → Lambda hop: **LocalStack's mocked service integrations** (`SFN_MOCK_CONFIG`, the
//! AWS Step Functions Local mock-configuration format; an execution picks a test case with
//! `stateMachineArn#TestCase`). LocalStack cannot run the function itself here (its Lambda executor needs
//! Docker), so this suite starts a LocalStack of its own with `SFN_MOCK_CONFIG` pointing at a file in a
//! temporary folder, and fills that file with **real answers of the real function binary**, recorded in the
//! same run: the `bootstrap` runs under cargo-lambda's runtime emulator against this LocalStack's S3 and is
//! invoked with exactly the payloads the state machine sends (each test checks that in the execution
//! history). Nothing in the mock is written by hand.
//!
//! - the function's success answer → SUCCEEDED with that answer as output;
//! - its rejection answer (`ok: false`) → FAILED, error `ImageRejected`, cause = the answer's error code;
//! - its transient error (`TransientError`, S3 unreachable) → retried exactly `retry_max_attempts` times,
//!   within the declared backoff, then FAILED through the Catch with that error and cause.
//!
//! The retry settings are the variables' defaults (2 s, ×2.00, 4 retries, ≤ 30 s, full jitter): the
//! transient case takes up to 30 s (about 15 s on average), inside the 60 s bound on every execution.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use imgresize_tests::emulator::Emulator;
use imgresize_tests::lambda::{self, LambdaFunction, Outcome};
use imgresize_tests::module::{self, StateMachine};
use imgresize_tests::templates::{self, Retry};
use imgresize_tests::{at_exit, buckets, images, unique_name};
use serde_json::{json, Value};

const PHOTO: &str = "photos/cat.jpg";

/// A payload the state machine sends and what the real function answered to it.
struct Recorded {
    payload: Value,
    outcome: Outcome,
}

struct Setup {
    emulator: Emulator,
    machine: StateMachine,
    retry: Retry,
    originals: String,
    success: Recorded,
    rejection: Recorded,
    transient: Recorded,
}

/// The shared deployment, or `None` when the function binary is not built (the tests then skip).
fn setup() -> Option<&'static Setup> {
    static SETUP: OnceLock<Result<Option<Setup>, String>> = OnceLock::new();
    let result = SETUP.get_or_init(|| {
        let Some(binary) = lambda::binary_or_skip() else {
            return Ok(None);
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?
            .block_on(deploy(&binary))
            .map(Some)
    });
    match result {
        Ok(setup) => setup.as_ref(),
        Err(message) => panic!("setup failed: {message}"),
    }
}

async fn deploy(binary: &Path) -> Result<Setup, String> {
    // The mock file lives in a temporary folder, removed at exit; LocalStack reads it at each mocked
    // execution (it reloads it when its mtime changes), so it can be written after start-up.
    let folder = tempfile::Builder::new()
        .prefix("imgresize-sfn-mock-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    {
        let folder = folder.clone();
        at_exit(move || {
            let _ = std::fs::remove_dir_all(&folder);
        });
    }
    let mock_file = folder.join("sfn-mock.json");
    let mock_setting = mock_file
        .to_str()
        .ok_or("temp path is not UTF-8")?
        .to_string();
    let emulator = Emulator::dedicated(&[("SFN_MOCK_CONFIG", &mock_setting)])?;
    eprintln!("dedicated emulator with SFN_MOCK_CONFIG={mock_setting}");

    let s3 = emulator.s3();
    let (originals, resized) = (unique_name("originals"), unique_name("resized"));
    buckets::create(&s3, &[&originals, &resized]).await?;
    s3.put_object()
        .bucket(&originals)
        .key(PHOTO)
        .body(ByteStream::from(images::jpeg(1600, 1200)))
        .send()
        .await
        .map_err(|e| format!("upload: {e}"))?;

    // The payloads the state machine will send (ApplyDefaults merges {"bucket": originals} under the input).
    let success_payload = json!({"bucket": originals, "key": PHOTO, "size": 800});
    let rejection_payload = json!({
        "bucket": "not-the-originals-bucket", "key": PHOTO, "size": 1000, "objectSize": 5, "keyEncoding": "url"
    });
    let transient_payload = json!({"bucket": originals, "key": PHOTO});

    let environment = templates::lambda_environment(&resized, &originals)?;
    let (success, rejection) = {
        let function = LambdaFunction::start(binary, &emulator.env(), &environment)?;
        let success = function.invoke(&success_payload.to_string()).await?;
        let rejection = function.invoke(&rejection_payload.to_string()).await?;
        (success, rejection)
    };
    // The same function with S3 unreachable (a closed port): S3 fails after the SDK's retries and the
    // function reports the transient error type. One S3 attempt keeps this quick.
    let transient = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a free port: {e}"))?;
        let unreachable: Vec<(String, String)> = emulator
            .env()
            .into_iter()
            .map(|(k, v)| {
                if k == "AWS_ENDPOINT_URL" {
                    (k, format!("http://{closed}"))
                } else {
                    (k, v)
                }
            })
            .collect();
        let mut environment = environment.clone();
        environment.push(("S3_MAX_ATTEMPTS".into(), "1".into()));
        let function = LambdaFunction::start(binary, &unreachable, &environment)?;
        function.invoke(&transient_payload.to_string()).await?
    };
    eprintln!("real answers:\n  success: {success:?}\n  rejection: {rejection:?}\n  transient: {transient:?}");
    let (Outcome::Answer(success_answer), Outcome::Answer(rejection_answer)) =
        (&success, &rejection)
    else {
        return Err(format!("expected answers, got {success:?} / {rejection:?}"));
    };
    if success_answer["ok"] != json!(true) || rejection_answer["ok"] != json!(false) {
        return Err(format!(
            "expected a success and a rejection: {success_answer} / {rejection_answer}"
        ));
    }
    let Outcome::FunctionError {
        error_type,
        document,
    } = &transient
    else {
        return Err(format!("expected a function error, got {transient:?}"));
    };

    let retry = Retry::defaults()?;
    let name = unique_name("imgresize");
    // More mocked failures than the declared attempts: a retry too many would show in the history.
    let failures = format!("0-{}", retry.max_attempts + 5);
    let mock = json!({
        "StateMachines": {
            name.clone(): {
                "TestCases": {
                    "Success": {"Resize": "RealSuccess"},
                    "Rejection": {"Resize": "RealRejection"},
                    "Transient": {"Resize": "RealTransientError"},
                }
            }
        },
        "MockedResponses": {
            "RealSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": success_answer}}},
            "RealRejection": {"0": {"Return": {"StatusCode": 200, "Payload": rejection_answer}}},
            "RealTransientError": {failures: {"Throw": {"Error": error_type, "Cause": document}}},
        }
    });
    let staging = folder.join("sfn-mock.json.new");
    std::fs::write(
        &staging,
        serde_json::to_vec_pretty(&mock).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("writing the mock file: {e}"))?;
    std::fs::rename(&staging, &mock_file).map_err(|e| format!("placing the mock file: {e}"))?;
    eprintln!("mock configuration:\n{mock:#}");

    let machine = module::state_machine(&emulator, &name, &originals, &retry).await?;
    eprintln!("definition:\n{}", machine.definition);
    Ok(Setup {
        emulator,
        machine,
        retry,
        originals,
        success: Recorded {
            payload: success_payload,
            outcome: success,
        },
        rejection: Recorded {
            payload: rejection_payload,
            outcome: rejection,
        },
        transient: Recorded {
            payload: transient_payload,
            outcome: transient,
        },
    })
}

struct Execution {
    status: ExecutionStatus,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
    history: Vec<HistoryEvent>,
}

/// Starts the test case `case` with `input`, waits for the end (DescribeExecution every 200 ms, ≤ 60 s).
fn execute(setup: &Setup, case: &str, input: &Value) -> Execution {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let sfn = setup.emulator.sfn();
        let arn = sfn
            .start_execution()
            .state_machine_arn(format!("{}#{case}", setup.machine.arn))
            .input(input.to_string())
            .send()
            .await
            .expect("StartExecution")
            .execution_arn;
        let started = Instant::now();
        let described = loop {
            let described = sfn
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .expect("DescribeExecution");
            if described.status != ExecutionStatus::Running {
                break described;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{case}: still running after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let history = sfn
            .get_execution_history()
            .execution_arn(&arn)
            .max_results(1000)
            .send()
            .await
            .expect("GetExecutionHistory")
            .events;
        eprintln!(
            "{case}: {:?} after {:.1} s; error {:?}; cause {:?}; output {:?}",
            described.status,
            started.elapsed().as_secs_f64(),
            described.error(),
            described.cause(),
            described.output()
        );
        Execution {
            output: described.output().map(String::from),
            error: described.error().map(String::from),
            cause: described.cause().map(String::from),
            status: described.status,
            history,
        }
    })
}

fn of_type(history: &[HistoryEvent], kind: HistoryEventType) -> Vec<&HistoryEvent> {
    history.iter().filter(|e| *e.r#type() == kind).collect()
}

/// Every Lambda invocation the Task scheduled: the function it names and the payload it sends.
fn invocations(setup: &Setup, history: &[HistoryEvent]) -> Vec<Value> {
    of_type(history, HistoryEventType::TaskScheduled)
        .into_iter()
        .map(|event| {
            let details = event
                .task_scheduled_event_details()
                .expect("TaskScheduled details");
            assert_eq!(
                (details.resource_type(), details.resource()),
                ("lambda", "invoke")
            );
            let parameters: Value =
                serde_json::from_str(details.parameters()).expect("parameters are JSON");
            assert_eq!(
                parameters["FunctionName"],
                json!(setup.machine.function_arn),
                "{parameters}"
            );
            parameters["Payload"].clone()
        })
        .collect()
}

fn entered_states(history: &[HistoryEvent]) -> Vec<String> {
    history
        .iter()
        .filter_map(|e| {
            e.state_entered_event_details()
                .map(|d| d.name().to_string())
        })
        .collect()
}

#[test]
fn the_functions_success_answer_ends_succeeded() {
    let Some(setup) = setup() else {
        return;
    };
    let Outcome::Answer(answer) = &setup.success.outcome else {
        unreachable!("checked in setup")
    };
    // An API caller's input: no bucket, so ApplyDefaults supplies the originals bucket.
    let run = execute(setup, "Success", &json!({"key": PHOTO, "size": 800}));
    assert_eq!(
        invocations(setup, &run.history),
        vec![setup.success.payload.clone()],
        "the function must have been sent what it answered to (bucket {} merged in)",
        setup.originals
    );
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{:?}", run.error);
    let output: Value =
        serde_json::from_str(run.output.as_deref().expect("an output")).expect("JSON output");
    assert_eq!(&output, answer, "the output is the function's answer");
    assert_eq!(
        entered_states(&run.history),
        ["ApplyDefaults", "Resize", "CheckResult", "Resized"]
    );
}

#[test]
fn the_functions_rejection_answer_ends_failed_with_its_error_code_as_cause() {
    let Some(setup) = setup() else {
        return;
    };
    let Outcome::Answer(answer) = &setup.rejection.outcome else {
        unreachable!("checked in setup")
    };
    // An EventBridge-shaped input naming another bucket: the input's bucket wins over the default.
    let run = execute(setup, "Rejection", &setup.rejection.payload);
    assert_eq!(
        invocations(setup, &run.history),
        vec![setup.rejection.payload.clone()]
    );
    let definition: Value = serde_json::from_str(&setup.machine.definition).expect("ASL");
    assert_eq!(run.status, ExecutionStatus::Failed);
    assert_eq!(
        run.error.as_deref(),
        definition["States"]["Rejected"]["Error"].as_str()
    );
    assert_eq!(
        answer["error"]["code"],
        json!("BUCKET_NOT_ALLOWED"),
        "{answer}"
    );
    assert_eq!(run.cause.as_deref(), answer["error"]["code"].as_str());
    assert_eq!(
        entered_states(&run.history),
        ["ApplyDefaults", "Resize", "CheckResult", "Rejected"]
    );
}

#[test]
fn a_transient_error_is_retried_as_declared_then_fails_through_the_catch() {
    let Some(setup) = setup() else {
        return;
    };
    let Outcome::FunctionError {
        error_type,
        document,
    } = &setup.transient.outcome
    else {
        unreachable!("checked in setup")
    };
    assert_eq!(error_type, "TransientError");
    let run = execute(setup, "Transient", &json!({"key": PHOTO}));

    let attempts = invocations(setup, &run.history);
    assert_eq!(
        attempts.len(),
        1 + setup.retry.max_attempts as usize,
        "one attempt plus retry_max_attempts retries"
    );
    assert!(
        attempts.iter().all(|p| *p == setup.transient.payload),
        "{attempts:?}"
    );
    assert_eq!(run.status, ExecutionStatus::Failed);
    assert_eq!(run.error.as_deref(), Some(error_type.as_str()));
    assert_eq!(run.cause.as_deref(), Some(document.as_str()));
    assert_eq!(
        entered_states(&run.history),
        ["ApplyDefaults", "Resize", "ResizeFailed"],
        "retries stay in Resize; the Catch leads to ResizeFailed"
    );

    // Each wait between a failure and the next attempt stays within the declared backoff (full jitter only
    // shortens it); 1.5 s of slack for the emulator's own scheduling.
    let failed = of_type(&run.history, HistoryEventType::TaskFailed);
    let scheduled = of_type(&run.history, HistoryEventType::TaskScheduled);
    assert_eq!(failed.len(), scheduled.len());
    for (n, (failure, next)) in failed.iter().zip(scheduled.iter().skip(1)).enumerate() {
        let waited = next.timestamp().as_secs_f64() - failure.timestamp().as_secs_f64();
        let cap = setup.retry.max_wait_before(n as u32);
        assert!(
            waited <= cap + 1.5,
            "retry {n}: waited {waited:.1} s, more than the declared {cap} s"
        );
    }
}
