//! The emulator suites deploy templates rendered by this crate's renderer (`templates::render`); what
//! a user deploys is rendered by Terraform's `templatefile()`. One source for both: every sample of
//! `tests/iac/template_samples.json` must render here to exactly what Terraform rendered for it,
//! kept in `tests/iac/template_samples.rendered.json` (tests/iac/terraform.py checks that file
//! against the real Terraform on every run of `make iac`).

use imgresize_tests::{repo_root, templates};
use serde_json::{Map, Value};

fn read_json(relative: &str) -> Map<String, Value> {
    let path = repo_root().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => map,
        other => panic!("{} is not a JSON object: {other:?}", path.display()),
    }
}

/// A sample value as `templatefile()` interpolates it: strings as they are, numbers in Terraform's
/// own spelling.
fn interpolated(name: &str, key: &str, value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        number @ Value::Number(_) => templates::tf_number(number)
            .unwrap_or_else(|| panic!("{name}: {key} = {number} has no Terraform spelling")),
        other => panic!("{name}: {key} = {other} is not a string or a number"),
    }
}

#[test]
fn the_crates_renderer_gives_what_terraform_rendered() {
    let samples = read_json("tests/iac/template_samples.json");
    let rendered = read_json("tests/iac/template_samples.rendered.json");
    assert_eq!(
        samples.keys().collect::<Vec<_>>(),
        rendered.keys().collect::<Vec<_>>(),
        "every sample has Terraform's rendering"
    );
    for (name, values) in &samples {
        let Value::Object(values) = values else {
            panic!("{name}: the sample's values are not an object");
        };
        let values: Vec<(&str, String)> = values
            .iter()
            .map(|(key, value)| (key.as_str(), interpolated(name, key, value)))
            .collect();
        let ours = templates::render(name, &values).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Some(ours.as_str()),
            rendered[name].as_str(),
            "{name}: this crate and Terraform render differently"
        );
    }
}

/// The fragments `backfill.tf` computes for the AWS choices (`local.backfill_tolerated_failure`,
/// `local.backfill_result_writer`, checked against `terraform console` when the sample was written) are
/// what `templates::backfill_definition` computes: the emulator suite deploys the same file, with only
/// the choices it states changed.
#[test]
fn the_backfill_choices_render_as_terraform_renders_them() {
    let rendered = read_json("tests/iac/template_samples.rendered.json");
    let samples = read_json("tests/iac/template_samples.json");
    let sample = &samples["backfill.asl.json"];
    let text = |key: &str| sample[key].as_str().expect(key).to_string();
    let resized = "imgresize-resized-20250101000000000000000002".to_string();
    let choices = templates::BackfillChoices {
        prefix: text("prefix"),
        max_concurrency: 100,
        tolerated_failure_percentage: Some(5.0),
        result_writer: Some((resized, "backfill-results/".into())),
        child_execution_type: text("child_execution_type"),
    };
    let retry = templates::Retry {
        interval_seconds: 2.0,
        max_attempts: 4,
        backoff_rate: 2.0,
        max_delay_seconds: 30.0,
    };
    let ours = templates::backfill_definition(
        "aws",
        &text("function_arn"),
        &text("bucket"),
        &retry,
        &choices,
    )
    .expect("renders");
    assert_eq!(Some(ours.as_str()), rendered["backfill.asl.json"].as_str());
}

/// The AWS choices the module passes by default, read from variables.tf as the suites read them: what the
/// emulator suite leaves out (and says so) is exactly these.
#[test]
fn the_module_defaults_are_the_aws_backfill_choices() {
    let defaults = templates::BackfillChoices::module_defaults("resized").expect("defaults");
    assert_eq!(
        defaults,
        templates::BackfillChoices {
            prefix: String::new(),
            max_concurrency: 100,
            tolerated_failure_percentage: Some(5.0),
            result_writer: Some(("resized".into(), "backfill-results/".into())),
            child_execution_type: "EXPRESS".into(),
        }
    );
    let emulator = templates::BackfillChoices::emulator(100).expect("emulator choices");
    assert_eq!(
        (
            emulator.tolerated_failure_percentage,
            emulator.result_writer,
            emulator.child_execution_type.as_str()
        ),
        (None, None, "STANDARD")
    );
}
