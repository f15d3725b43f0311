//! The Terraform module's own contract files (`terraform/templates/`), rendered the way the module renders
//! them, with the values the module computes.
//!
//! Terraform fills these files with `templatefile()`; they use plain `${name}` placeholders only (see
//! `terraform/templates/README.md`), so replacing each `${name}` with its value is exactly what
//! `templatefile()` produces. Anything else that Terraform's template language would interpret (`%{`
//! directives, `$${` escapes, `${ expression }`) is refused rather than guessed at, as is a placeholder
//! without a value or a value without a placeholder.
//!
//! The values mirror the `.tf` files: which variable feeds which placeholder, and how it is formatted
//! (`format("%.2f", ...)`, `jsonencode(...)`). Variable defaults are read from `terraform/variables.tf`, so a
//! changed default is what the suites deploy.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::repo_root;

/// `terraform/templates/`.
pub fn templates_dir() -> PathBuf {
    repo_root().join("terraform").join("templates")
}

/// The text of one template file, as Terraform's `file()` reads it.
pub fn load(name: &str) -> Result<String, String> {
    let path = templates_dir().join(name);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Renders a template file with `templatefile()` semantics for these files.
pub fn render(name: &str, values: &[(&str, String)]) -> Result<String, String> {
    render_text(&load(name)?, values).map_err(|e| format!("{name}: {e}"))
}

/// Renders a template that must be JSON, and parses it.
pub fn render_json(name: &str, values: &[(&str, String)]) -> Result<Value, String> {
    let text = render(name, values)?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{name} rendered to invalid JSON ({e}):\n{text}"))
}

/// Replaces every `${name}` in `text`; fails on a placeholder without a value, a value the text does not
/// use, and any template syntax beyond plain placeholders.
pub fn render_text(text: &str, values: &[(&str, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut used = vec![false; values.len()];
    let mut rest = text;
    while let Some(at) = rest.find(['$', '%']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("$${") || tail.starts_with("%%{") {
            return Err(
                "escaped template sequence ($${ or %%{): not used by the module's templates".into(),
            );
        }
        if tail.starts_with("%{") {
            return Err("template directive %{...}: not used by the module's templates".into());
        }
        if let Some(inner) = tail.strip_prefix("${") {
            let end = inner
                .find('}')
                .ok_or("an unterminated ${ in the template")?;
            let name = &inner[..end];
            if !is_identifier(name) {
                return Err(format!("${{{name}}} is not a plain ${{name}} placeholder"));
            }
            let index = values
                .iter()
                .position(|(n, _)| *n == name)
                .ok_or_else(|| format!("no value for placeholder ${{{name}}}"))?;
            used[index] = true;
            out.push_str(&values[index].1);
            rest = &inner[end + 1..];
        } else {
            // A `$` or `%` that starts nothing (e.g. VTL's `$util`): literal text for Terraform too.
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    let unused: Vec<&str> = values
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|((name, _), _)| *name)
        .collect();
    if !unused.is_empty() {
        return Err(format!(
            "value(s) for placeholder(s) the template lacks: {}",
            unused.join(", ")
        ));
    }
    Ok(out)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The `default` of a variable in `terraform/variables.tf`, as JSON (the defaults the suites need are
/// literals HCL and JSON write alike: numbers, strings, `null`, `[]`, lists of strings).
pub fn variable_default(name: &str) -> Result<Value, String> {
    let path = repo_root().join("terraform").join("variables.tf");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let header = format!("variable \"{name}\"");
    let mut lines = text.lines();
    lines
        .by_ref()
        .find(|line| line.trim_start().starts_with(&header))
        .ok_or_else(|| format!("variables.tf declares no variable {name:?}"))?;
    let mut depth = 1i32;
    for line in lines {
        if depth == 1 {
            if let Some(value) = line
                .trim()
                .strip_prefix("default")
                .and_then(|rest| rest.trim_start().strip_prefix('='))
            {
                let value = value.trim();
                return serde_json::from_str(value).map_err(|e| {
                    format!("variable {name:?}: default {value:?} is not a plain literal ({e})")
                });
            }
        }
        depth += brace_balance(line);
        if depth <= 0 {
            break;
        }
    }
    Err(format!("variable {name:?} has no default"))
}

/// `{` minus `}` outside string literals and comments on one line of HCL.
fn brace_balance(line: &str) -> i32 {
    let (mut balance, mut in_string, mut escaped) = (0, false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => break,
            '/' if chars.peek() == Some(&'/') => break,
            '{' => balance += 1,
            '}' => balance -= 1,
            _ => {}
        }
    }
    balance
}

/// A variable default that must be a number, as Terraform prints it in a template (`2`, `1000`, `2.5`).
pub fn number_default(name: &str) -> Result<String, String> {
    let value = variable_default(name)?;
    tf_number(&value).ok_or_else(|| format!("variable {name:?}: default {value} is not a number"))
}

fn number_value(name: &str) -> Result<f64, String> {
    variable_default(name)?
        .as_f64()
        .ok_or_else(|| format!("variable {name:?}: default is not a number"))
}

fn string_default(name: &str) -> Result<String, String> {
    match variable_default(name)? {
        Value::String(s) => Ok(s),
        other => Err(format!(
            "variable {name:?}: default {other} is not a string"
        )),
    }
}

/// A number as Terraform's string conversion writes it: whole numbers without a decimal point.
pub fn tf_number(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        Value::Number(n) => {
            let f = n.as_f64()?;
            if f.fract() == 0.0 && f.abs() < 1e15 {
                Some(format!("{f:.0}"))
            } else {
                Some(f.to_string())
            }
        }
        _ => None,
    }
}

/// The Retry settings of the state machine (stepfunctions.tf), from the variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: f64,
}

impl Retry {
    /// The module's defaults (`var.retry_*` in variables.tf).
    pub fn defaults() -> Result<Retry, String> {
        let max_attempts = number_value("retry_max_attempts")?;
        Ok(Retry {
            interval_seconds: number_value("retry_interval_seconds")?,
            max_attempts: if max_attempts >= 0.0 && max_attempts.fract() == 0.0 {
                max_attempts as u32
            } else {
                return Err(format!(
                    "retry_max_attempts default {max_attempts} is not a count"
                ));
            },
            backoff_rate: number_value("retry_backoff_rate")?,
            max_delay_seconds: number_value("retry_max_delay_seconds")?,
        })
    }

    /// The longest wait Step Functions may make before retry `n` (0-based): the interval grown by the
    /// backoff rate, capped by MaxDelaySeconds (full jitter only shortens it).
    pub fn max_wait_before(&self, n: u32) -> f64 {
        let exponent = i32::try_from(n).unwrap_or(i32::MAX);
        (self.interval_seconds * self.backoff_rate.powi(exponent)).min(self.max_delay_seconds)
    }
}

/// `var.workflow_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowType {
    Standard,
    Express,
}

impl WorkflowType {
    /// The variable's default.
    pub fn default_type() -> Result<WorkflowType, String> {
        match string_default("workflow_type")?.as_str() {
            "STANDARD" => Ok(WorkflowType::Standard),
            "EXPRESS" => Ok(WorkflowType::Express),
            other => Err(format!("workflow_type default {other:?}")),
        }
    }
}

/// `local.function_timeout` (main.tf): `var.timeout`, at most 25 s for Express behind the API.
pub fn function_timeout_seconds(workflow: WorkflowType, api: bool) -> Result<u32, String> {
    let timeout = number_value("timeout")?;
    let capped = match (workflow, api) {
        (WorkflowType::Express, true) => timeout.min(25.0),
        _ => timeout,
    };
    if capped >= 1.0 && capped.fract() == 0.0 {
        Ok(capped as u32)
    } else {
        Err(format!(
            "timeout default {timeout} is not a whole number of seconds"
        ))
    }
}

/// `local.execution_timeout_seconds` (main.tf): 28 s for Express behind the API (API Gateway's 29 s),
/// else the retry budget, at most Express's 300 s.
pub fn execution_timeout_seconds(
    workflow: WorkflowType,
    api: bool,
    retry: &Retry,
) -> Result<u64, String> {
    let timeout = f64::from(function_timeout_seconds(workflow, api)?);
    let attempts = f64::from(retry.max_attempts);
    let budget = (timeout * (attempts + 1.0) + attempts * retry.max_delay_seconds + 60.0) as u64;
    Ok(match (workflow, api) {
        (WorkflowType::Express, true) => 28,
        (WorkflowType::Express, false) => budget.min(300),
        (WorkflowType::Standard, _) => budget,
    })
}

/// Where the state machine publishes its completion events (`var.enable_completion_events` on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionEvents {
    /// `var.completion_events_bus_name`.
    pub bus_name: String,
    /// `local.completion_events_source`: `var.completion_events_source`, or `var.name`.
    pub source: String,
}

impl CompletionEvents {
    /// The module's defaults for a deployment named `name`: `None` when `enable_completion_events`
    /// defaults to false.
    pub fn module_defaults(name: &str) -> Result<Option<CompletionEvents>, String> {
        if variable_default("enable_completion_events")? != Value::Bool(true) {
            return Ok(None);
        }
        let source = match variable_default("completion_events_source")? {
            Value::Null => name.to_string(),
            Value::String(s) => s,
            other => return Err(format!("completion_events_source default {other}")),
        };
        Ok(Some(CompletionEvents {
            bus_name: string_default("completion_events_bus_name")?,
            source,
        }))
    }
}

/// `local.completion_event_states` (main.tf): `completion_events.asl.part` rendered, trimmed, with the
/// comma and indentation that put it before `"Resized"`; empty when off.
pub fn completion_event_states(
    partition: &str,
    events: Option<&CompletionEvents>,
) -> Result<String, String> {
    let Some(events) = events else {
        return Ok(String::new());
    };
    let text = render(
        "completion_events.asl.part",
        &[
            ("partition", partition.to_string()),
            ("event_bus_name", events.bus_name.clone()),
            ("event_source", events.source.clone()),
        ],
    )?;
    Ok(format!("{},\n    ", text.trim()))
}

/// `state_machine.asl.json` with the values `aws_sfn_state_machine.this` passes (stepfunctions.tf).
pub fn state_machine_definition(
    partition: &str,
    function_arn: &str,
    originals_bucket: &str,
    retry: &Retry,
    timeout_seconds: u64,
    events: Option<&CompletionEvents>,
) -> Result<String, String> {
    let number = |v: f64| tf_number(&json!(v)).ok_or_else(|| format!("{v} is not a number"));
    let (resized_next, rejected_next) = match events {
        Some(_) => ("PublishResized", "PublishRejected"),
        None => ("Resized", "Rejected"),
    };
    let text = render(
        "state_machine.asl.json",
        &[
            ("partition", partition.to_string()),
            ("function_arn", function_arn.to_string()),
            ("bucket", originals_bucket.to_string()),
            ("retry_interval_seconds", number(retry.interval_seconds)?),
            ("retry_max_attempts", retry.max_attempts.to_string()),
            // format("%.2f", var.retry_backoff_rate)
            ("retry_backoff_rate", format!("{:.2}", retry.backoff_rate)),
            ("retry_max_delay_seconds", number(retry.max_delay_seconds)?),
            ("timeout_seconds", timeout_seconds.to_string()),
            ("resized_next", resized_next.to_string()),
            ("rejected_next", rejected_next.to_string()),
            (
                "completion_event_states",
                completion_event_states(partition, events)?,
            ),
        ],
    )?;
    serde_json::from_str::<Value>(&text)
        .map_err(|e| format!("state_machine.asl.json rendered to invalid JSON: {e}\n{text}"))?;
    Ok(text)
}

/// `templates/sync_response.vtl`: the Express API's 200 response template (`file()`, no placeholders).
pub fn sync_response_template() -> Result<String, String> {
    load("sync_response.vtl")
}

/// The choices `backfill.asl.json` leaves to its renderer (backfill.tf passes the AWS ones; the emulator
/// suite the ones LocalStack accepts, and says so).
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillChoices {
    pub prefix: String,
    pub max_concurrency: u32,
    /// `Some(p)`: `"ToleratedFailurePercentage": p` (AWS); `None`: omitted (LocalStack rejects the field).
    pub tolerated_failure_percentage: Option<f64>,
    /// `Some((bucket, prefix))`: a ResultWriter to S3; `None`: results stay in the output and are counted.
    pub result_writer: Option<(String, String)>,
    /// `EXPRESS` (the module's default) or `STANDARD` (the only one LocalStack runs).
    pub child_execution_type: String,
}

impl BackfillChoices {
    /// The module's defaults (variables.tf) with the results prefix in `resized_bucket`.
    pub fn module_defaults(resized_bucket: &str) -> Result<BackfillChoices, String> {
        let results_prefix = string_default("backfill_results_prefix")?;
        Ok(BackfillChoices {
            prefix: string_default("source_prefix")?,
            max_concurrency: number_value("backfill_max_concurrency")? as u32,
            tolerated_failure_percentage: Some(number_value(
                "backfill_tolerated_failure_percentage",
            )?),
            result_writer: (!results_prefix.is_empty())
                .then(|| (resized_bucket.to_string(), results_prefix)),
            child_execution_type: string_default("backfill_child_execution_type")?,
        })
    }

    /// What LocalStack 2026.3 runs: its ASL parser rejects `ToleratedFailurePercentage` and `EXPRESS`
    /// children; results stay in the output so that the machine's own summary is exercised.
    pub fn emulator(max_concurrency: u32) -> Result<BackfillChoices, String> {
        Ok(BackfillChoices {
            prefix: string_default("source_prefix")?,
            max_concurrency,
            tolerated_failure_percentage: None,
            result_writer: None,
            child_execution_type: "STANDARD".into(),
        })
    }
}

/// `backfill.asl.json` with the values `aws_sfn_state_machine.backfill` passes (backfill.tf), for `choices`.
pub fn backfill_definition(
    partition: &str,
    function_arn: &str,
    originals_bucket: &str,
    retry: &Retry,
    choices: &BackfillChoices,
) -> Result<String, String> {
    let number = |v: f64| tf_number(&json!(v)).ok_or_else(|| format!("{v} is not a number"));
    // local.backfill_tolerated_failure / local.backfill_result_writer (backfill.tf)
    let tolerated_failure = match choices.tolerated_failure_percentage {
        Some(p) => format!("\"ToleratedFailurePercentage\": {},\n      ", number(p)?),
        None => String::new(),
    };
    let result_writer = match &choices.result_writer {
        Some((bucket, prefix)) => format!(
            "\"ResultWriter\": {},\n      ",
            json!({"Parameters": {"Bucket": bucket, "Prefix": prefix},
                   "Resource": format!("arn:{partition}:states:::s3:putObject")})
        ),
        None => String::new(),
    };
    let text = render(
        "backfill.asl.json",
        &[
            ("partition", partition.to_string()),
            ("function_arn", function_arn.to_string()),
            ("bucket", originals_bucket.to_string()),
            ("prefix", choices.prefix.clone()),
            ("max_concurrency", choices.max_concurrency.to_string()),
            ("tolerated_failure", tolerated_failure),
            ("result_writer", result_writer),
            ("child_execution_type", choices.child_execution_type.clone()),
            ("retry_interval_seconds", number(retry.interval_seconds)?),
            ("retry_max_attempts", retry.max_attempts.to_string()),
            ("retry_backoff_rate", format!("{:.2}", retry.backoff_rate)),
            ("retry_max_delay_seconds", number(retry.max_delay_seconds)?),
        ],
    )?;
    serde_json::from_str::<Value>(&text)
        .map_err(|e| format!("backfill.asl.json rendered to invalid JSON: {e}\n{text}"))?;
    Ok(text)
}

/// `deleted_event_pattern.json` as `aws_cloudwatch_event_rule.object_deleted` renders it (eventbridge.tf):
/// `reasons` is `local.delete_sync_reasons`.
pub fn deleted_event_pattern(
    originals_bucket: &str,
    key_filter: &str,
    reasons: &[&str],
) -> Result<String, String> {
    let text = render(
        "deleted_event_pattern.json",
        &[
            ("bucket", originals_bucket.to_string()),
            ("key_filter", key_filter.to_string()),
            ("reasons", json!(reasons).to_string()),
        ],
    )?;
    serde_json::from_str::<Value>(&text)
        .map_err(|e| format!("deleted_event_pattern.json rendered to invalid JSON: {e}"))?;
    Ok(text)
}

/// `delete_input_template.json` (`file()`): the delete-sync target's input template.
pub fn delete_input_template() -> Result<String, String> {
    load("delete_input_template.json")
}

/// `local.key_filter` (main.tf): the EventBridge matchers on the object key for `var.source_prefix` and
/// `var.source_suffixes`, as `jsonencode` writes them (compact; the validations on both variables rule out
/// the characters `jsonencode` would escape differently from serde_json: `<`, `>`, `&`).
pub fn key_filter(prefix: &str, suffixes: &[String]) -> String {
    let filter = match (prefix.is_empty(), suffixes.is_empty()) {
        (true, true) => json!([{ "exists": true }]),
        (false, true) => json!([{ "prefix": prefix }]),
        (true, false) => Value::Array(suffixes.iter().map(|s| json!({ "suffix": s })).collect()),
        (false, false) => Value::Array(
            suffixes
                .iter()
                .map(|s| json!({ "wildcard": format!("{prefix}*{s}") }))
                .collect(),
        ),
    };
    filter.to_string()
}

/// The key filter for the module's default `source_prefix` and `source_suffixes`.
pub fn default_key_filter() -> Result<String, String> {
    let prefix = string_default("source_prefix")?;
    let suffixes: Vec<String> = match variable_default("source_suffixes")? {
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(format!("source_suffixes default holds {other}")),
            })
            .collect::<Result<_, _>>()?,
        other => return Err(format!("source_suffixes default {other} is not a list")),
    };
    Ok(key_filter(&prefix, &suffixes))
}

/// `event_pattern.json` as `aws_cloudwatch_event_rule.object_created` renders it (eventbridge.tf).
pub fn event_pattern(originals_bucket: &str, key_filter: &str) -> Result<String, String> {
    let text = render(
        "event_pattern.json",
        &[
            ("bucket", originals_bucket.to_string()),
            ("key_filter", key_filter.to_string()),
        ],
    )?;
    serde_json::from_str::<Value>(&text)
        .map_err(|e| format!("event_pattern.json rendered to invalid JSON: {e}"))?;
    Ok(text)
}

/// `input_paths.json`, read with `jsondecode(file(...))`: the transformer's paths map.
pub fn input_paths() -> Result<Vec<(String, String)>, String> {
    let value: Value = serde_json::from_str(&load("input_paths.json")?)
        .map_err(|e| format!("input_paths.json is not JSON: {e}"))?;
    let map = value
        .as_object()
        .ok_or("input_paths.json is not a JSON object")?;
    map.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|path| (k.clone(), path.to_string()))
                .ok_or_else(|| format!("input_paths.json: {k} is not a string"))
        })
        .collect()
}

/// `input_template.json` with `size = var.default_size` (eventbridge.tf). Not JSON until EventBridge fills
/// its own `<name>` placeholders.
pub fn input_template(default_size: &str) -> Result<String, String> {
    render("input_template.json", &[("size", default_size.to_string())])
}

/// `start_execution.vtl` with the state machine's ARN (apigateway.tf, integration `resize_post`).
pub fn start_execution_template(state_machine_arn: &str) -> Result<String, String> {
    render(
        "start_execution.vtl",
        &[("state_machine_arn", state_machine_arn.to_string())],
    )
}

/// `local.execution_arn_prefix` (main.tf): the state machine ARN with `:stateMachine:` → `:execution:`, plus `:`.
pub fn execution_arn_prefix(state_machine_arn: &str) -> String {
    format!(
        "{}:",
        state_machine_arn.replace(":stateMachine:", ":execution:")
    )
}

/// `describe_execution.vtl` (apigateway.tf, integration `execution_get`).
pub fn describe_execution_template(state_machine_arn: &str) -> Result<String, String> {
    render(
        "describe_execution.vtl",
        &[(
            "execution_arn_prefix",
            execution_arn_prefix(state_machine_arn),
        )],
    )
}

/// `request_model.json` with the originals bucket (apigateway.tf, `aws_api_gateway_model.resize_request`).
pub fn request_model(originals_bucket: &str) -> Result<String, String> {
    let text = render(
        "request_model.json",
        &[("bucket", originals_bucket.to_string())],
    )?;
    serde_json::from_str::<Value>(&text)
        .map_err(|e| format!("request_model.json rendered to invalid JSON: {e}"))?;
    Ok(text)
}

/// `local.lambda_environment` (main.tf) for the variables' defaults: the function's environment, read from
/// the module's HCL itself so that a variable added there reaches the emulator without a hand-kept copy.
///
/// The local is a `merge()` of object literals, each either plain (`{ NAME = expr, ... }`) or guarded
/// (`condition ? {} : { NAME = expr }`, or the other way round). Expressions are evaluated for the forms the
/// module uses (see [`eval_hcl`]); anything else is an error naming it, so a new form is noticed here rather
/// than deployed wrong.
pub fn lambda_environment(
    resized_bucket: &str,
    originals_bucket: &str,
) -> Result<Vec<(String, String)>, String> {
    let path = repo_root().join("terraform").join("main.tf");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let locals = [
        ("resized_bucket_name", resized_bucket),
        ("originals_bucket_name", originals_bucket),
    ];
    hcl_environment(&text, &locals)
}

/// The body of `lambda_environment = merge(...)` in `text`, evaluated with the `local.*` values given.
fn hcl_environment(text: &str, locals: &[(&str, &str)]) -> Result<Vec<(String, String)>, String> {
    let start = text
        .find("lambda_environment = merge(")
        .ok_or("main.tf has no `lambda_environment = merge(`")?;
    let body = &text[start + "lambda_environment = merge(".len()..];
    // The merge's arguments: up to its closing parenthesis.
    let mut depth = 1i32;
    let mut end = None;
    let mut in_string = false;
    for (i, c) in body.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let body = &body[..end.ok_or("lambda_environment's merge( is not closed")?];
    let mut env: Vec<(String, String)> = Vec::new();
    for argument in split_top_level(body, ',') {
        let argument = strip_comments(&argument);
        let argument = argument.trim();
        if argument.is_empty() {
            continue;
        }
        let object = match split_conditional(argument) {
            Some((condition, then, otherwise)) => {
                if eval_condition(condition)? {
                    then
                } else {
                    otherwise
                }
            }
            None => argument,
        };
        // merge(): a later key wins.
        for (name, value) in object_entries(object, locals)? {
            env.retain(|(n, _)| *n != name);
            env.push((name, value));
        }
    }
    if env.is_empty() {
        return Err("local.lambda_environment evaluated to nothing".into());
    }
    Ok(env)
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find('#') {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits on `separator` outside strings, brackets, braces and parentheses.
fn split_top_level(text: &str, separator: char) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut in_string) =
        (Vec::new(), String::new(), 0i32, false);
    for c in text.chars() {
        match c {
            '"' => in_string = !in_string,
            '{' | '[' | '(' if !in_string => depth += 1,
            '}' | ']' | ')' if !in_string => depth -= 1,
            _ => {}
        }
        if c == separator && depth == 0 && !in_string {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

/// `condition ? then : otherwise` at the top level of `text`, if it is one.
fn split_conditional(text: &str) -> Option<(&str, &str, &str)> {
    let question = top_level_find(text, '?')?;
    let colon = question + 1 + top_level_find(&text[question + 1..], ':')?;
    Some((
        text[..question].trim(),
        text[question + 1..colon].trim(),
        text[colon + 1..].trim(),
    ))
}

fn top_level_find(text: &str, wanted: char) -> Option<usize> {
    let (mut depth, mut in_string) = (0i32, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '{' | '[' | '(' if !in_string => depth += 1,
            '}' | ']' | ')' if !in_string => depth -= 1,
            _ if c == wanted && depth == 0 && !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

/// The entries of an object literal `{ NAME = expr ... }` (newline- or comma-separated).
fn object_entries(object: &str, locals: &[(&str, &str)]) -> Result<Vec<(String, String)>, String> {
    let inner = object
        .trim()
        .strip_prefix('{')
        .and_then(|o| o.strip_suffix('}'))
        .ok_or_else(|| format!("lambda_environment: {object:?} is not an object literal"))?;
    let mut entries = Vec::new();
    for line in split_top_level(inner, '\n')
        .iter()
        .flat_map(|line| split_top_level(line, ','))
    {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (name, expression) = line
            .split_once('=')
            .ok_or_else(|| format!("lambda_environment: {line:?} is not `NAME = expression`"))?;
        let name = name.trim().trim_matches('"');
        entries.push((name.to_string(), eval_hcl(expression.trim(), locals)?));
    }
    Ok(entries)
}

/// A value of the environment: `local.NAME` (from `locals`), `var.NAME` (its default in variables.tf),
/// `tostring(...)`, `jsonencode(var.NAME)` or a string literal without interpolation.
fn eval_hcl(expression: &str, locals: &[(&str, &str)]) -> Result<String, String> {
    if let Some(inner) = expression
        .strip_prefix("tostring(")
        .and_then(|e| e.strip_suffix(')'))
    {
        return eval_hcl(inner.trim(), locals);
    }
    if let Some(inner) = expression
        .strip_prefix("jsonencode(")
        .and_then(|e| e.strip_suffix(')'))
    {
        let name = inner.trim().strip_prefix("var.").ok_or_else(|| {
            format!("lambda_environment: jsonencode of {inner:?} (only var.NAME is read)")
        })?;
        return Ok(variable_default(name)?.to_string());
    }
    if let Some(name) = expression.strip_prefix("local.") {
        return locals
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .ok_or_else(|| format!("lambda_environment: no value for local.{name}"));
    }
    if let Some(name) = expression.strip_prefix("var.") {
        return match variable_default(name)? {
            Value::String(s) => Ok(s),
            Value::Bool(b) => Ok(b.to_string()),
            other => tf_number(&other).ok_or_else(|| {
                format!("lambda_environment: var.{name} default {other} is no string")
            }),
        };
    }
    if let Some(literal) = expression
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
    {
        if !literal.contains("${") && !literal.contains('\\') {
            return Ok(literal.to_string());
        }
    }
    Err(format!(
        "lambda_environment: expression {expression:?} is not one this reader evaluates (tests/src/templates.rs)"
    ))
}

/// `var.NAME == null`, `var.NAME != null`, `var.NAME` (a bool) or `!var.NAME`.
fn eval_condition(condition: &str) -> Result<bool, String> {
    let default = |name: &str| {
        name.trim()
            .strip_prefix("var.")
            .ok_or_else(|| {
                format!("lambda_environment: condition on {name:?} (only var.NAME is read)")
            })
            .and_then(variable_default)
    };
    if let Some((name, rest)) = condition.split_once("==") {
        if rest.trim() == "null" {
            return Ok(default(name)?.is_null());
        }
    }
    if let Some((name, rest)) = condition.split_once("!=") {
        if rest.trim() == "null" {
            return Ok(!default(name)?.is_null());
        }
    }
    let (negate, name) = match condition.strip_prefix('!') {
        Some(name) => (true, name),
        None => (false, condition),
    };
    match default(name)? {
        Value::Bool(b) => Ok(b != negate),
        other => Err(format!(
            "lambda_environment: condition {condition:?}: {other} is not a bool"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn placeholders_are_filled_and_vtl_is_left_alone() {
        let text =
            r#"{"a": "${x}", "b": ${y}, "c": "$util.escapeJavaScript($input.body)", "d": "50%"}"#;
        let out = render_text(text, &values(&[("x", "one"), ("y", "2")])).expect("rendered");
        assert_eq!(
            out,
            r#"{"a": "one", "b": 2, "c": "$util.escapeJavaScript($input.body)", "d": "50%"}"#
        );
    }

    #[test]
    fn anything_not_rendered_exactly_is_an_error() {
        assert!(render_text("${x}", &[]).is_err(), "missing value");
        assert!(
            render_text("x", &values(&[("x", "1")])).is_err(),
            "unused value"
        );
        assert!(render_text("${ x }", &values(&[("x", "1")])).is_err());
        assert!(render_text("${x", &values(&[("x", "1")])).is_err());
        assert!(render_text("$${x}", &values(&[("x", "1")])).is_err());
        assert!(render_text("%{ if x }y%{ endif }", &values(&[("x", "1")])).is_err());
        assert!(render_text("${var.x}", &values(&[("x", "1")])).is_err());
    }

    #[test]
    fn key_filters_match_the_modules_local() {
        assert_eq!(key_filter("", &[]), r#"[{"exists":true}]"#);
        assert_eq!(key_filter("uploads/", &[]), r#"[{"prefix":"uploads/"}]"#);
        let suffixes = [".jpg".to_string(), ".png".to_string()];
        assert_eq!(
            key_filter("", &suffixes),
            r#"[{"suffix":".jpg"},{"suffix":".png"}]"#
        );
        assert_eq!(
            key_filter("up/", &suffixes),
            r#"[{"wildcard":"up/*.jpg"},{"wildcard":"up/*.png"}]"#
        );
    }

    #[test]
    fn numbers_print_like_terraform() {
        assert_eq!(tf_number(&json!(2)).as_deref(), Some("2"));
        assert_eq!(tf_number(&json!(2.0)).as_deref(), Some("2"));
        assert_eq!(tf_number(&json!(2.5)).as_deref(), Some("2.5"));
        assert_eq!(tf_number(&json!("2")), None);
    }

    #[test]
    fn every_template_renders_with_the_modules_values() {
        let retry = Retry::defaults().expect("retry defaults");
        assert!(retry.max_attempts >= 1, "{retry:?}");
        let asl = state_machine_definition(
            "aws",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "originals",
            &retry,
            480,
            CompletionEvents::module_defaults("imgresize")
                .expect("events")
                .as_ref(),
        )
        .expect("asl");
        assert!(asl.contains("\"TimeoutSeconds\": 480,"), "{asl}");
        assert_eq!(
            execution_timeout_seconds(WorkflowType::Express, true, &retry),
            Ok(28)
        );
        assert!(sync_response_template()
            .expect("sync response")
            .contains("responseOverride.status"));
        assert!(asl.contains("\"BackoffRate\": "), "{asl}");
        event_pattern("originals", &default_key_filter().expect("key filter")).expect("pattern");
        input_template(&number_default("default_size").expect("size")).expect("input template");
        assert!(!input_paths().expect("paths").is_empty());
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:imgresize";
        start_execution_template(arn).expect("start");
        let describe = describe_execution_template(arn).expect("describe");
        assert!(describe.contains("arn:aws:states:us-east-1:123456789012:execution:imgresize:"));
        request_model("originals").expect("model");
        let env = lambda_environment("resized", "originals").expect("env");
        for name in [
            "DEST_PREFIX",
            "DEST_KEY_PATTERN",
            "DEFAULT_SIZE",
            "RUST_LOG",
        ] {
            assert!(
                env.iter().any(|(k, _)| k == name),
                "{name} missing: {env:?}"
            );
        }
        assert!(env
            .iter()
            .any(|(k, v)| k == "DEST_BUCKET" && v == "resized"));
    }

    /// Off adds no state at all (so no transition and no cost); on, the ok and rejected branches each
    /// pass through their publishing state before the same Succeed and Fail states as before.
    #[test]
    fn completion_events_add_two_states_only_when_on() {
        let retry = Retry::defaults().expect("retry defaults");
        let events = CompletionEvents {
            bus_name: "images".into(),
            source: "my-app".into(),
        };
        let states = |events: Option<&CompletionEvents>| -> Value {
            let text = state_machine_definition("aws", "arn:f", "b", &retry, 480, events)
                .expect("renders");
            serde_json::from_str::<Value>(&text).expect("JSON")["States"].clone()
        };
        let off = states(None);
        let names = |v: &Value| -> Vec<String> {
            let mut names: Vec<String> = v.as_object().expect("states").keys().cloned().collect();
            names.sort();
            names
        };
        assert_eq!(
            names(&off),
            [
                "ApplyDefaults",
                "CheckResult",
                "Rejected",
                "Resize",
                "ResizeFailed",
                "Resized"
            ]
        );
        assert_eq!(off["CheckResult"]["Choices"][0]["Next"], json!("Resized"));
        assert_eq!(off["CheckResult"]["Default"], json!("Rejected"));

        let on = states(Some(&events));
        assert_eq!(names(&on).len(), 8, "{on}");
        assert_eq!(
            on["CheckResult"]["Choices"][0]["Next"],
            json!("PublishResized")
        );
        assert_eq!(on["CheckResult"]["Default"], json!("PublishRejected"));
        for (state, detail_type, next) in [
            ("PublishResized", "Image Resized", "Resized"),
            ("PublishRejected", "Image Rejected", "Rejected"),
        ] {
            let task = &on[state];
            assert_eq!(task["Resource"], json!("arn:aws:states:::events:putEvents"));
            assert_eq!(
                task["Parameters"]["Entries"],
                json!([{"EventBusName": "images", "Source": "my-app",
                        "DetailType": detail_type, "Detail.$": "$"}])
            );
            // The answer passes on unchanged: the Fail state still reads $.error.code.
            assert_eq!(task["ResultPath"], Value::Null);
            assert_eq!(task["Next"], json!(next));
            assert_eq!(task["Catch"][0]["Next"], json!(next));
        }
        for unchanged in [
            "ApplyDefaults",
            "Resize",
            "Resized",
            "Rejected",
            "ResizeFailed",
        ] {
            assert_eq!(on[unchanged], off[unchanged], "{unchanged}");
        }
    }

    #[test]
    fn the_environment_local_is_read_from_hcl() {
        let hcl = r#"
  other = 1
  lambda_environment = merge(
    {
      DEST_BUCKET = local.resized_bucket_name # where results go
      DEST_PREFIX = var.dest_prefix
      DEFAULT_SIZE = tostring(var.default_size)
      LITERAL = "x"
    },
    var.cache_control == null ? {} : { CACHE_CONTROL = var.cache_control },
    var.cache_control != null ? { NEVER = "y" } : {},
  )
"#;
        let env = hcl_environment(hcl, &[("resized_bucket_name", "r")]).expect("env");
        let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("DEST_BUCKET"), Some("r"));
        assert_eq!(get("LITERAL"), Some("x"));
        assert_eq!(
            get("DEFAULT_SIZE").map(String::from),
            Some(number_default("default_size").expect("size"))
        );
        assert_eq!(get("CACHE_CONTROL"), None);
        assert_eq!(get("NEVER"), None);
        let unknown = hcl_environment("lambda_environment = merge({ A = upper(var.x) })", &[]);
        assert!(unknown.is_err(), "{unknown:?}");
    }
}
