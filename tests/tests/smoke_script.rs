//! `scripts/smoke.sh`, the check users run after `terraform apply`, run as they would run it, against the
//! module deployed on the emulator by the one deployer (`imgresize_tests::module::deploy`): the aws CLI
//! (PyPI's, from the emulator's environment) and curl with `--aws-sigv4`, the stack's values given as the
//! script's environment instead of `terraform output`. It uploads an image under a key with a space and an
//! apostrophe, waits (bounded) for the output at the key the stack's key layout gives, POSTs to the API
//! and polls GET /executions/{id} until SUCCEEDED. LocalStack does not check SigV4: this proves the
//! script's requests, keys and waits, not its signatures.

use std::process::Command;

use imgresize_tests::emulator::Emulator;
use imgresize_tests::module::{self, ChainOptions};
use imgresize_tests::{repo_root, templates};
use serde_json::{json, Value};

/// What the module's `key_layout` output holds for the variables' defaults (outputs.tf).
fn key_layout() -> Value {
    let default = |name: &str| templates::variable_default(name).unwrap_or_else(|e| panic!("{e}"));
    json!({
        "source_prefix": default("source_prefix"),
        "source_suffixes": default("source_suffixes"),
        "dest_prefix": default("dest_prefix"),
        "dest_key_pattern": default("dest_key_pattern"),
        "default_size": default("default_size"),
        // try(var.renditions[0].name, "resized"): renditions are unset by default.
        "rendition_name": "resized",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smoke_script_passes_against_the_deployed_module() {
    let Some(zip) = module::lambda_zip_or_skip("x86_64") else {
        return;
    };
    let emulator = Emulator::shared();
    let chain = module::deploy(
        emulator,
        &ChainOptions {
            zip,
            ..ChainOptions::defaults("imgresize-smoke").expect("options")
        },
    )
    .await
    .unwrap_or_else(|e| panic!("deploy failed: {e}"));
    let api = chain.api.clone().expect("api deployed");
    let aws_cli_dir = repo_root().join(".venv-localstack/bin");
    let path = format!(
        "{}:{}",
        aws_cli_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = tokio::task::spawn_blocking(move || {
        // `timeout`: the script bounds each of its waits itself (TIMEOUT); this bounds the whole run.
        Command::new("timeout")
            .args(["300", "bash"])
            .arg(repo_root().join("scripts/smoke.sh"))
            .envs(emulator.env())
            .env("PATH", path)
            .env("ORIGINALS_BUCKET", &chain.originals)
            .env("RESIZED_BUCKET", &chain.resized)
            .env(
                "RESIZE_URL",
                emulator.execute_api_url(&api.id, &api.stage, "resize"),
            )
            .env(
                "EXECUTIONS_URL",
                emulator.execute_api_url(&api.id, &api.stage, "executions/"),
            )
            .env("KEY_LAYOUT", key_layout().to_string())
            .env("REGION", "us-east-1")
            .env("TIMEOUT", "90")
            .output()
            .expect("run scripts/smoke.sh")
    })
    .await
    .expect("smoke.sh thread");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "smoke.sh failed ({})",
        output.status
    );
    assert!(
        stdout.contains("execution SUCCEEDED") && stdout.contains("smoke: OK in"),
        "{stdout}"
    );
}
