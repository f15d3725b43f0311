//! The backfill state machine (backfill.tf, `templates/backfill.asl.json`) on the emulator, with the real
//! function: a Distributed Map over ListObjectsV2 of the originals bucket, one child execution per object.
//!
//! 300 small generated objects, some already resized (by the handler in-process, with the function's own
//! environment, so their outputs are current), some broken: the summary's counts are exact (processed,
//! skipped, rejected, failed) and every valid object has its output. `scripts/backfill.sh`, with a
//! ResultWriter as on AWS, prints the same counts from the result files, and its second run finds every
//! valid object done (kept small: a run costs the emulator about as much per skipped object as per
//! resized one, see the report in the first test's output).
//!
//! The template choices are the emulator's (LocalStack 2026.3 rejects `ToleratedFailurePercentage` and
//! `EXPRESS` children; results stay in the output so the machine's own summarising step runs): printed.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sfn::types::ExecutionStatus;
use imgresize::config::Config;
use imgresize::handler::Handler;
use imgresize::s3::S3Store;
use imgresize_tests::emulator::Emulator;
use imgresize_tests::module::{self, Chain, ChainOptions, StateMachine};
use imgresize_tests::templates::BackfillChoices;
use imgresize_tests::{buckets, images};
use serde_json::{json, Value};

const OBJECTS: usize = 300;
/// Parallel children on a 2-core machine shared with the emulator.
const MAX_CONCURRENCY: u32 = 10;

/// What object `i` is: every 10th is broken, every 7th valid one is already done.
fn kind(i: usize) -> &'static str {
    if i % 10 == 3 {
        "broken"
    } else if i % 7 == 0 {
        "done"
    } else {
        "new"
    }
}

fn key(i: usize) -> String {
    format!("backfill/{i:03}.jpg")
}

/// Starts the backfill and waits (bounded) for its end; returns the status and the output.
async fn run(machine: &StateMachine, bound: Duration) -> (ExecutionStatus, Value, Duration) {
    let sfn = Emulator::shared().sfn();
    let started = Instant::now();
    let arn = sfn
        .start_execution()
        .state_machine_arn(&machine.arn)
        .input("{}")
        .send()
        .await
        .expect("StartExecution")
        .execution_arn;
    loop {
        let d = sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .expect("DescribeExecution");
        if *d.status() != ExecutionStatus::Running {
            let output = serde_json::from_str(d.output().unwrap_or("null")).expect("output");
            if *d.status() != ExecutionStatus::Succeeded {
                eprintln!(
                    "backfill ended {:?}: {:?} {:?}",
                    d.status(),
                    d.error(),
                    d.cause()
                );
            }
            return (d.status().clone(), output, started.elapsed());
        }
        assert!(
            started.elapsed() < bound,
            "the backfill still runs after {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The handler in-process with the deployed function's environment: outputs it writes are what the
/// function would write (same settings fingerprint).
fn function_twin(chain: &Chain) -> Handler<S3Store> {
    let config = Config::from_lookup(|name| chain.env(name).map(String::from)).expect("config");
    let store = S3Store::from_sdk_config(&Emulator::shared().sdk_config(), config.s3);
    Handler::new(config, store)
}

/// Uploads objects `0..total` (each `kind`: broken bytes or a small photo) and resizes the "done" ones
/// beforehand through the function's own handler. Returns the answers of those resizes.
async fn seed(emulator: &Emulator, chain: &Chain, total: usize) -> Vec<Value> {
    let s3 = emulator.s3();
    let photo = images::jpeg(64, 48);
    for i in 0..total {
        let body = match kind(i) {
            "broken" => b"not an image at all".to_vec(),
            _ => photo.clone(),
        };
        s3.put_object()
            .bucket(&chain.originals)
            .key(key(i))
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("upload");
    }
    let twin = function_twin(chain);
    let mut answers = Vec::new();
    for i in (0..total).filter(|i| kind(*i) == "done") {
        let answer = twin
            .handle(&json!({"bucket": chain.originals, "key": key(i)}))
            .await
            .expect("resized beforehand");
        answers.push(answer);
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_of_300_objects_counts_exactly() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let choices = BackfillChoices::emulator(MAX_CONCURRENCY).expect("choices");
    eprintln!("backfill template choices on the emulator: {choices:?} (the module passes ToleratedFailurePercentage, EXPRESS children and a ResultWriter on AWS)");
    let chain = module::deploy(
        emulator,
        &ChainOptions {
            zip,
            api: false,
            // Uploads must not start resizes of their own: the backfill is what is tested.
            s3_trigger: false,
            backfill: Some(choices),
            ..ChainOptions::defaults("imgresize-backfill").expect("options")
        },
    )
    .await
    .unwrap_or_else(|e| panic!("deploy failed: {e}"));
    let machine = chain.backfill.clone().expect("backfill deployed");

    for answer in seed(emulator, &chain, OBJECTS).await {
        assert_eq!(answer["skipped"], json!(false), "{answer}");
    }
    let count = |k: &str| (0..OBJECTS).filter(|i| kind(*i) == k).count();
    let (broken, done, new) = (count("broken"), count("done"), count("new"));

    let (status, summary, took) = run(&machine, Duration::from_secs(240)).await;
    eprintln!(
        "backfill of {OBJECTS} objects ({new} new, {done} done, {broken} broken): {took:?}, {:.1} objects/s, MaxConcurrency {MAX_CONCURRENCY}: {summary}",
        OBJECTS as f64 / took.as_secs_f64()
    );
    assert_eq!(status, ExecutionStatus::Succeeded, "{summary}");
    assert_eq!(
        (
            summary["total"].clone(),
            summary["processed"].clone(),
            summary["skipped"].clone(),
            summary["rejected"].clone(),
            summary["failed"].clone()
        ),
        (
            json!(OBJECTS),
            json!(new),
            json!(done),
            json!(broken),
            json!(0)
        ),
        "{summary}"
    );
    let written: BTreeSet<String> = buckets::keys(&emulator.s3(), &chain.resized)
        .await
        .expect("keys")
        .into_iter()
        .collect();
    let prefix = chain.env("DEST_PREFIX").unwrap_or_default().to_string();
    let expected: BTreeSet<String> = (0..OBJECTS)
        .filter(|i| kind(*i) != "broken")
        .map(|i| format!("{prefix}backfill/{i:03}_resized.jpg"))
        .collect();
    assert_eq!(
        written, expected,
        "every valid object has its output, and only those"
    );
}

/// An empty listing is a clean zero-count run. The machine looks for one key first (LocalStack 2026.3's
/// ItemReader fails an empty listing with `States.Runtime` "'Contents'"; AWS would run an empty Map), so
/// the answer is the same on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_listing_is_a_zero_count_run() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let chain = module::deploy(
        Emulator::shared(),
        &ChainOptions {
            zip,
            api: false,
            s3_trigger: false,
            backfill: Some(BackfillChoices::emulator(MAX_CONCURRENCY).expect("choices")),
            ..ChainOptions::defaults("imgresize-backfill-empty").expect("options")
        },
    )
    .await
    .unwrap_or_else(|e| panic!("deploy failed: {e}"));
    let machine = chain.backfill.clone().expect("backfill deployed");
    let (status, summary, _) = run(&machine, Duration::from_secs(60)).await;
    assert_eq!(status, ExecutionStatus::Succeeded, "{summary}");
    assert_eq!(
        summary,
        json!({"total": 0, "processed": 0, "skipped": 0, "rejected": 0, "failed": 0})
    );
}

/// `scripts/backfill.sh` (`make backfill`) against the deployed machine: the summary it prints, and a
/// second run that finds every valid object done. Then with a ResultWriter, as the module deploys it on
/// AWS: LocalStack 2026.3 writes only an empty manifest (its ResultWriter has a "TODO: generate result
/// files"), and the script, which checks the files against the map run's item count, fails loudly instead
/// of reporting a smaller backfill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backfill_script_prints_the_summary_and_a_rerun_skips() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let options = ChainOptions {
        zip,
        api: false,
        s3_trigger: false,
        backfill: Some(BackfillChoices::emulator(MAX_CONCURRENCY).expect("choices")),
        ..ChainOptions::defaults("imgresize-bf-script").expect("options")
    };
    let chain = module::deploy(emulator, &options)
        .await
        .unwrap_or_else(|e| panic!("deploy failed: {e}"));
    let machine = chain.backfill.clone().expect("backfill");
    let total = 12;
    seed(emulator, &chain, total).await;
    let count = |k: &str| (0..total).filter(|i| kind(*i) == k).count();

    let first = backfill_script(&machine.arn).await;
    assert!(
        first.status.success(),
        "backfill.sh failed ({})",
        first.status
    );
    assert_eq!(
        summary_line(&first),
        json!({"status": "SUCCEEDED", "total": total, "processed": count("new"),
               "skipped": count("done"), "rejected": count("broken"), "failed": 0})
    );
    // Re-running is cheap: every valid object is skipped, nothing is written.
    let second = backfill_script(&machine.arn).await;
    assert!(
        second.status.success(),
        "backfill.sh failed ({})",
        second.status
    );
    assert_eq!(
        summary_line(&second),
        json!({"status": "SUCCEEDED", "total": total, "processed": 0,
               "skipped": count("new") + count("done"), "rejected": count("broken"), "failed": 0})
    );

    // With a ResultWriter into the resized bucket (the module's default on AWS).
    let prefix = "backfill-results/";
    let mut choices = BackfillChoices::emulator(MAX_CONCURRENCY).expect("choices");
    choices.result_writer = Some((chain.resized.clone(), prefix.to_string()));
    let writer = module::backfill_state_machine(
        emulator,
        &chain.name,
        &format!("{}-backfill-rw", chain.name),
        &chain.originals,
        &options.retry,
        &choices,
    )
    .await
    .expect("backfill machine with a ResultWriter");
    let third = backfill_script(&writer.arn).await;
    let stderr = String::from_utf8_lossy(&third.stderr);
    let results = buckets::keys(&emulator.s3(), &chain.resized)
        .await
        .expect("keys");
    assert!(
        results
            .iter()
            .any(|k| k.starts_with(prefix) && k.ends_with("manifest.json")),
        "no ResultWriter manifest: {results:?}"
    );
    assert!(
        !third.status.success() && stderr.contains("result files hold 0 results"),
        "the script must refuse a manifest without the run's results: {stderr}"
    );
}

/// Runs `scripts/backfill.sh` on the machine `arn` with the emulator's environment and the aws CLI of the
/// emulator's virtual environment; prints its output.
async fn backfill_script(arn: &str) -> std::process::Output {
    let path = format!(
        "{}:{}",
        imgresize_tests::repo_root()
            .join(".venv-localstack/bin")
            .display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let arn = arn.to_string();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("timeout")
            .args(["180", "bash"])
            .arg(imgresize_tests::repo_root().join("scripts/backfill.sh"))
            .envs(Emulator::shared().env())
            .env("PATH", path)
            .env("BACKFILL_STATE_MACHINE_ARN", arn)
            .env("POLL", "1")
            .env("TIMEOUT", "150")
            .output()
    })
    .await
    .expect("join")
    .expect("the script runs");
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The summary line the script prints last.
fn summary_line(output: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("null")).expect("a JSON summary")
}

/// `POST /backfill` (apigateway.tf, AWS_IAM; LocalStack does not check the signature) starts a run of the
/// backfill state machine and answers its executionArn; the run counts as the others do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_backfill_starts_a_run() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let chain = module::deploy(
        emulator,
        &ChainOptions {
            zip,
            s3_trigger: false,
            backfill: Some(BackfillChoices::emulator(MAX_CONCURRENCY).expect("choices")),
            ..ChainOptions::defaults("imgresize-bf-api").expect("options")
        },
    )
    .await
    .unwrap_or_else(|e| panic!("deploy failed: {e}"));
    let url = chain.backfill_url.clone().expect("POST /backfill deployed");
    let machine = chain.backfill.clone().expect("backfill");
    let s3 = emulator.s3();
    for (key, body) in [
        ("api/a.jpg", images::jpeg(64, 48)),
        ("api/b.png", images::png(48, 64)),
        ("api/c.jpg", b"not an image".to_vec()),
    ] {
        s3.put_object()
            .bucket(&chain.originals)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("upload");
    }
    let answer = imgresize_tests::http::post_json(&url, "{}", Duration::from_secs(20))
        .await
        .expect("POST /backfill");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let started: Value = serde_json::from_str(&answer.body).expect("JSON");
    let arn = started["executionArn"].as_str().expect("executionArn");
    assert!(
        arn.starts_with(&machine.arn.replace(":stateMachine:", ":execution:")),
        "{arn} is not an execution of {}",
        machine.arn
    );
    let sfn = emulator.sfn();
    let deadline = Instant::now() + Duration::from_secs(60);
    let output = loop {
        let d = sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .expect("DescribeExecution");
        if *d.status() != ExecutionStatus::Running {
            assert_eq!(*d.status(), ExecutionStatus::Succeeded, "{d:?}");
            break serde_json::from_str::<Value>(d.output().unwrap_or("null")).expect("output");
        }
        assert!(Instant::now() < deadline, "the run did not end");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        output,
        json!({"total": 3, "processed": 2, "skipped": 0, "rejected": 1, "failed": 0})
    );
}
