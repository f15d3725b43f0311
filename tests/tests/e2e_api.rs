//! The API hop examined on its own (the chain suite, `tests/tests/chain.rs`, runs POST → execution →
//! function → object → GET as one, for one key): here every hostile key and invalid body, and API Gateway's
//! documented VTL behaviour, which LocalStack does not reproduce. The module's REST API (apigateway.tf: `/resize` POST with an AWS
//! integration to `states:StartExecution`, credentials role, request validator and the model from
//! `templates/request_model.json`, the mapping template `templates/start_execution.vtl`; and
//! `GET /executions/{id}` with `templates/describe_execution.vtl`) deployed to LocalStack and called over
//! HTTP at `/_aws/execute-api/<api-id>/<stage>/...`.
//!
//! LocalStack does not reproduce API Gateway's `$util.escapeJavaScript` (it uses `json.dumps`), and does not
//! enforce IAM authorization; the last test therefore evaluates the mapping templates under API Gateway's
//! *documented* behaviour with an emulation of that VTL subset (`imgresize_tests::vtl`).

use std::collections::HashMap;
use std::time::Duration;

use imgresize_tests::emulator::Emulator;
use imgresize_tests::module::{self, RestApi, StateMachine};
use imgresize_tests::templates::{self, Retry, WorkflowType};
use imgresize_tests::{http, unique_name, vtl};
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Keys that break naive templates: quotes, a backslash (also before an apostrophe), a slash, unicode
/// (composed, decomposed, outside the BMP), a tab.
fn hostile_keys() -> Vec<&'static str> {
    vec![
        "dir/bob's photo.jpg",
        r#"dir/"quoted" name.jpg"#,
        r"dir\back\slash.jpg",
        r"it\'s.jpg",
        "ünïcödé/café/photo é 😀.jpg",
        "nfd/cafe\u{301}.jpg",
        "tab\there.png",
    ]
}

/// Bodies the model accepts.
fn valid_bodies(originals: &str) -> Vec<Value> {
    let mut bodies: Vec<Value> = hostile_keys()
        .into_iter()
        .map(|key| json!({"bucket": originals, "key": key, "size": 800}))
        .collect();
    bodies.push(json!({"key": "no-bucket-no-size.jpg"}));
    bodies.push(json!({
        "bucket": originals, "key": "all-fields.png", "size": 10000, "format": "webp", "quality": 1,
        "color": "keep", "keyEncoding": "raw"
    }));
    bodies.push(json!({"key": "smallest.jpg", "size": 1, "quality": 100}));
    bodies
}

struct Deployed {
    emulator: &'static Emulator,
    originals: String,
    machine: StateMachine,
    api: RestApi,
}

async fn deploy() -> Deployed {
    let emulator = Emulator::shared();
    let originals = unique_name("originals");
    let name = unique_name("imgresize");
    // The function is never reached: these tests look at what API Gateway hands to Step Functions.
    let machine = module::state_machine(
        emulator,
        &name,
        &originals,
        &Retry::defaults().expect("retry defaults"),
        WorkflowType::Standard,
        true,
        None,
    )
    .await
    .expect("state machine");
    let api = module::rest_api(emulator, &name, &machine, &originals)
        .await
        .expect("REST API");
    Deployed {
        emulator,
        originals,
        machine,
        api,
    }
}

impl Deployed {
    async fn executions(&self) -> usize {
        self.emulator
            .sfn()
            .list_executions()
            .state_machine_arn(&self.machine.arn)
            .send()
            .await
            .expect("ListExecutions")
            .executions
            .len()
    }

    async fn execution_input(&self, execution_arn: &str) -> String {
        self.emulator
            .sfn()
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .expect("DescribeExecution")
            .input()
            .expect("an input")
            .to_string()
    }
}

#[tokio::test]
async fn a_valid_post_starts_an_execution_whose_input_is_the_body() {
    let d = deploy().await;
    let prefix = templates::execution_arn_prefix(&d.machine.arn);
    // Not here: a backslash right before an apostrophe. LocalStack's escapeJavaScript (json.dumps) leaves
    // `'` alone, so the template's replaceAll("\\'","'") then eats the second half of an escaped
    // backslash and LocalStack hands Step Functions invalid JSON. Under API Gateway's documented escaping
    // (`'` → `\'`) that key is fine: the last test checks it with every other body.
    let bodies: Vec<Value> = valid_bodies(&d.originals)
        .into_iter()
        .filter(|body| !body["key"].as_str().unwrap_or_default().contains("\\'"))
        .collect();
    assert!(bodies.len() + 1 == valid_bodies(&d.originals).len());
    for body in &bodies {
        let text = body.to_string();
        let response = http::post_json(&d.api.resize_url, &text, TIMEOUT)
            .await
            .expect("POST /resize");
        assert_eq!(response.status, 200, "{text} → {}", response.body);
        let answer: Value = serde_json::from_str(&response.body).expect("JSON answer");
        let fields: Vec<&str> = answer
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fields, ["executionArn", "startDate"], "{answer}");
        assert!(answer["startDate"].is_number(), "{answer}");
        let execution_arn = answer["executionArn"].as_str().expect("executionArn");
        assert!(execution_arn.starts_with(&prefix), "{execution_arn}");

        let input = d.execution_input(execution_arn).await;
        let input_value: Value = serde_json::from_str(&input)
            .unwrap_or_else(|e| panic!("execution input is not JSON ({e}): {input}"));
        assert_eq!(
            &input_value, body,
            "execution input {input} for body {text}"
        );

        // GET /executions/{id}: the same execution, through describe_execution.vtl.
        let id = execution_arn.trim_start_matches(&prefix);
        let url = d
            .emulator
            .execute_api_url(&d.api.id, &d.api.stage, &format!("executions/{id}"));
        let got = http::request("GET", &url, None, "", TIMEOUT)
            .await
            .expect("GET /executions/{id}");
        assert_eq!(got.status, 200, "{}", got.body);
        let described: Value = serde_json::from_str(&got.body).expect("JSON");
        assert_eq!(described["executionArn"], json!(execution_arn));
        let described_input: Value =
            serde_json::from_str(described["input"].as_str().expect("input")).expect("JSON input");
        assert_eq!(&described_input, body);
    }
    eprintln!("{} POST bodies went through unchanged", bodies.len());
}

#[tokio::test]
async fn invalid_bodies_are_rejected_with_4xx_and_start_nothing() {
    let d = deploy().await;
    let before = d.executions().await;
    let other_bucket = unique_name("someone-elses-bucket");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "missing key",
            json!({"size": 100}).to_string(),
            "application/json",
        ),
        (
            "empty key",
            json!({"key": ""}).to_string(),
            "application/json",
        ),
        (
            "size 0",
            json!({"key": "a.jpg", "size": 0}).to_string(),
            "application/json",
        ),
        (
            "size 10001",
            json!({"key": "a.jpg", "size": 10001}).to_string(),
            "application/json",
        ),
        (
            "size not a number",
            json!({"key": "a.jpg", "size": "800"}).to_string(),
            "application/json",
        ),
        (
            "another bucket",
            json!({"bucket": other_bucket, "key": "a.jpg"}).to_string(),
            "application/json",
        ),
        (
            "unknown field",
            json!({"key": "a.jpg", "x": 1}).to_string(),
            "application/json",
        ),
        (
            "quality 0",
            json!({"key": "a.jpg", "quality": 0}).to_string(),
            "application/json",
        ),
        (
            "unknown color",
            json!({"key": "a.jpg", "color": "p3"}).to_string(),
            "application/json",
        ),
        ("not JSON", "key=a.jpg".to_string(), "application/json"),
        (
            "not application/json",
            json!({"key": "a.jpg"}).to_string(),
            "text/plain",
        ),
    ];
    for (what, body, content_type) in &cases {
        let response = http::request("POST", &d.api.resize_url, Some(content_type), body, TIMEOUT)
            .await
            .expect("POST /resize");
        assert!(
            (400..500).contains(&response.status),
            "{what}: {body} → HTTP {} {}",
            response.status,
            response.body
        );
        eprintln!("{what}: HTTP {} {}", response.status, response.body);
    }
    assert_eq!(
        d.executions().await,
        before,
        "a rejected body started an execution"
    );
    // The same API does accept a valid body (the rejections above are the validator's, not a broken API).
    let response = http::post_json(
        &d.api.resize_url,
        &json!({"key": "a.jpg"}).to_string(),
        TIMEOUT,
    )
    .await
    .expect("POST /resize");
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(d.executions().await, before + 1);
}

/// An emulation of documented behaviour, not of an emulator: API Gateway's `$util.escapeJavaScript` turns
/// `'` into `\'` (invalid in JSON), and the module's template undoes exactly that with
/// `.replaceAll("\\'","'")`. Rendered for each valid body, the request to Step Functions must be valid JSON
/// whose `input` is the body.
#[test]
fn the_mapping_templates_yield_valid_json_under_api_gateways_documented_escaping() {
    let machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:imgresize";
    let start = templates::start_execution_template(machine_arn).expect("start_execution.vtl");
    for body in valid_bodies("imgresize-originals") {
        let text = body.to_string();
        let context = vtl::Context {
            body: text.clone(),
            params: HashMap::new(),
        };
        let request = vtl::evaluate(&start, &context).expect("evaluated");
        let request: Value = serde_json::from_str(&request)
            .unwrap_or_else(|e| panic!("not JSON ({e}) for body {text}:\n{request}"));
        assert_eq!(request["stateMachineArn"], json!(machine_arn));
        let input: Value = serde_json::from_str(request["input"].as_str().expect("input string"))
            .expect("input is JSON");
        assert_eq!(input, body, "for body {text}");
    }

    // The seed's template (no replaceAll) breaks on an apostrophe under the same rules: the emulation
    // reproduces the documented failure, so the check above can fail.
    let seed = start.replace(r#".replaceAll("\\'","'")"#, "");
    assert_ne!(seed, start, "the module's template carries the replaceAll");
    let context = vtl::Context {
        body: json!({"key": "bob's photo.jpg"}).to_string(),
        params: HashMap::new(),
    };
    let broken = vtl::evaluate(&seed, &context).expect("evaluated");
    assert!(
        serde_json::from_str::<Value>(&broken).is_err(),
        "expected invalid JSON: {broken}"
    );

    // GET /executions/{id}: the id is appended to the module's execution ARN prefix.
    let describe =
        templates::describe_execution_template(machine_arn).expect("describe_execution.vtl");
    for id in ["3f1c0d4e-1111-2222-3333-444455556666", "bob's-run"] {
        let context = vtl::Context {
            body: String::new(),
            params: HashMap::from([("id".to_string(), id.to_string())]),
        };
        let request = vtl::evaluate(&describe, &context).expect("evaluated");
        let request: Value =
            serde_json::from_str(&request).unwrap_or_else(|e| panic!("not JSON ({e}):\n{request}"));
        assert_eq!(
            request["executionArn"],
            json!(format!(
                "{}{id}",
                templates::execution_arn_prefix(machine_arn)
            ))
        );
    }
}
