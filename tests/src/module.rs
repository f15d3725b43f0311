//! The Terraform module's resources, created in the emulator with the AWS SDK the way the `.tf` files
//! declare them, from the module's own template files (see [`crate::templates`]). Each step prints what it
//! deployed.
//!
//! IAM is not enforced by LocalStack (community edition): the roles the module attaches (Step Functions,
//! EventBridge, API Gateway credentials) are passed as ARNs of the module's role names, not created.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IntegrationType};
use aws_sdk_eventbridge::types::{DeadLetterConfig, InputTransformer, Target};
use aws_sdk_s3::types::{EventBridgeConfiguration, NotificationConfiguration};
use aws_sdk_sfn::types::{StateMachineType, TracingConfiguration};
use serde_json::Value;

use crate::emulator::Emulator;
use crate::templates::{self, WorkflowType};

/// LocalStack's default account.
pub const ACCOUNT: &str = "000000000000";
pub const REGION: &str = "us-east-1";
pub const PARTITION: &str = "aws";

fn describe<E: std::error::Error>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {}", aws_sdk_s3::error::DisplayErrorContext(e))
}

/// `aws_s3_bucket_notification` with `eventbridge = true` (s3.tf) on `bucket`.
pub async fn enable_eventbridge(emulator: &Emulator, bucket: &str) -> Result<(), String> {
    emulator
        .s3()
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .event_bridge_configuration(EventBridgeConfiguration::builder().build())
                .build(),
        )
        .send()
        .await
        .map_err(describe("PutBucketNotificationConfiguration"))?;
    eprintln!("deployed: s3://{bucket} → EventBridge notifications on");
    Ok(())
}

/// `aws_cloudwatch_event_rule.object_created` (eventbridge.tf) named `rule`: the module's pattern on
/// `bucket` with `key_filter`. Returns the pattern.
async fn put_object_created_rule(
    events: &aws_sdk_eventbridge::Client,
    rule: &str,
    bucket: &str,
    key_filter: &str,
) -> Result<String, String> {
    let pattern = templates::event_pattern(bucket, key_filter)?;
    events
        .put_rule()
        .name(rule)
        .description(format!(
            "imgresize: new objects in {bucket} start a resize execution"
        ))
        .event_pattern(&pattern)
        .send()
        .await
        .map_err(describe("PutRule"))?;
    Ok(pattern)
}

/// Puts one target on `rule`; a target EventBridge refuses is an error, not a partial success.
async fn put_target(
    events: &aws_sdk_eventbridge::Client,
    rule: &str,
    target: Target,
) -> Result<(), String> {
    let put = events
        .put_targets()
        .rule(rule)
        .targets(target)
        .send()
        .await
        .map_err(describe("PutTargets"))?;
    if put.failed_entry_count() != 0 {
        return Err(format!("PutTargets failed: {:?}", put.failed_entries()));
    }
    Ok(())
}

/// A deployed `aws_cloudwatch_event_rule.object_created` whose target is an SQS probe queue carrying the
/// module's input transformer (in place of the state machine: LocalStack's Step Functions target rejects
/// transformed input without the init-script patch, and a queue shows the exact delivered text).
#[derive(Debug, Clone)]
pub struct ProbedRule {
    pub rule: String,
    pub queue_url: String,
    pub pattern: String,
}

/// The rule on `bucket` with `key_filter` (see [`templates::key_filter`]), with a probe queue as target.
pub async fn object_created_rule_with_probe(
    emulator: &Emulator,
    bucket: &str,
    key_filter: &str,
) -> Result<ProbedRule, String> {
    let name = crate::unique_name("imgresize-object-created");
    let events = emulator.eventbridge();
    let pattern = put_object_created_rule(&events, &name, bucket, key_filter).await?;

    let (queue_url, queue_arn) = probe_queue(emulator, &name).await?;

    let (transformer, paths, template) = input_transformer(false)?;
    let target = Target::builder()
        .id("probe")
        .arn(&queue_arn)
        .input_transformer(transformer)
        .build()
        .map_err(|e| format!("Target: {e}"))?;
    put_target(&events, &name, target).await?;
    eprintln!(
        "deployed: EventBridge rule {name}\n  pattern: {pattern}\n  target: SQS probe {queue_arn}\n  input paths: {paths:?}\n  input template: {}",
        template.trim_end()
    );
    Ok(ProbedRule {
        rule: name,
        queue_url,
        pattern,
    })
}

/// An SQS queue named `name` that a rule can deliver to: its URL and ARN.
async fn probe_queue(emulator: &Emulator, name: &str) -> Result<(String, String), String> {
    let sqs = emulator.sqs();
    let queue_url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(describe("CreateQueue"))?
        .queue_url
        .ok_or("CreateQueue returned no URL")?;
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(describe("GetQueueAttributes"))?
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .ok_or("no QueueArn")?;
    Ok((queue_url, queue_arn))
}

/// A consumer of the completion events: the event bus `bus` (created unless it is `default`), a rule on
/// it with `pattern` (the module's `completion_events_pattern` output) and an SQS probe queue as its
/// target, delivering each event as it is.
pub async fn completion_events_probe(
    emulator: &Emulator,
    bus: &str,
    pattern: &str,
) -> Result<ProbedRule, String> {
    let name = crate::unique_name("imgresize-completion");
    let events = emulator.eventbridge();
    if bus != "default" {
        events
            .create_event_bus()
            .name(bus)
            .send()
            .await
            .map_err(describe("CreateEventBus"))?;
    }
    events
        .put_rule()
        .name(&name)
        .event_bus_name(bus)
        .event_pattern(pattern)
        .send()
        .await
        .map_err(describe("PutRule"))?;
    let (queue_url, queue_arn) = probe_queue(emulator, &name).await?;
    let target = Target::builder()
        .id("probe")
        .arn(&queue_arn)
        .build()
        .map_err(|e| format!("Target: {e}"))?;
    let put = events
        .put_targets()
        .rule(&name)
        .event_bus_name(bus)
        .targets(target)
        .send()
        .await
        .map_err(describe("PutTargets"))?;
    if put.failed_entry_count() != 0 {
        return Err(format!("PutTargets failed: {:?}", put.failed_entries()));
    }
    eprintln!("deployed: consumer rule {name} on bus {bus}\n  pattern: {pattern}\n  target: SQS probe {queue_arn}");
    Ok(ProbedRule {
        rule: name,
        queue_url,
        pattern: pattern.to_string(),
    })
}

/// `input_transformer { input_paths = jsondecode(file(input_paths.json)), input_template =
/// templatefile(input_template.json, { size = local.transformer_size }) }` of eventbridge.tf, with its
/// parts: `size` is `var.default_size`, or `null` when `var.renditions` is set (`configured_renditions`).
fn input_transformer(
    configured_renditions: bool,
) -> Result<(InputTransformer, HashMap<String, String>, String), String> {
    let paths: HashMap<String, String> = templates::input_paths()?.into_iter().collect();
    let size = if configured_renditions {
        "null".to_string()
    } else {
        templates::number_default("default_size")?
    };
    let template = templates::input_template(&size)?;
    let transformer = InputTransformer::builder()
        .set_input_paths_map(Some(paths.clone()))
        .input_template(&template)
        .build()
        .map_err(|e| format!("InputTransformer: {e}"))?;
    Ok((transformer, paths, template))
}

/// Message bodies from `queue_url`: waits (long polls of at most 1 s) until `want` arrived or `deadline`
/// passed, then keeps listening for `settle` more so that unexpected late deliveries are seen too.
pub async fn drain_queue(
    emulator: &Emulator,
    queue_url: &str,
    want: usize,
    deadline: Duration,
    settle: Duration,
) -> Result<Vec<String>, String> {
    let sqs = emulator.sqs();
    let started = Instant::now();
    let mut bodies = Vec::new();
    let mut settle_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if bodies.len() >= want && settle_until.is_none() {
            settle_until = Some(now + settle);
        }
        match settle_until {
            Some(until) if now >= until => break,
            None if now.duration_since(started) >= deadline => break,
            _ => {}
        }
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(describe("ReceiveMessage"))?;
        for message in received.messages() {
            bodies.push(message.body().unwrap_or_default().to_string());
            if let Some(handle) = message.receipt_handle() {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(describe("DeleteMessage"))?;
            }
        }
    }
    Ok(bodies)
}

/// A deployed `aws_sfn_state_machine.this`.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub name: String,
    pub arn: String,
    pub function_arn: String,
    pub definition: String,
    pub workflow: WorkflowType,
}

/// The ARN `aws_lambda_function.this` has for function `name` in the emulator's account.
pub fn function_arn(name: &str) -> String {
    format!("arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}")
}

/// `aws_sfn_state_machine.this` (STANDARD, X-Ray tracing) named `name`, invoking the function of the same
/// name (`var.name` names both), with the originals bucket and the Retry settings given.
pub async fn state_machine(
    emulator: &Emulator,
    name: &str,
    originals_bucket: &str,
    retry: &templates::Retry,
    workflow: WorkflowType,
    api: bool,
    events: Option<&templates::CompletionEvents>,
) -> Result<StateMachine, String> {
    let function_arn = function_arn(name);
    let timeout_seconds = templates::execution_timeout_seconds(workflow, api, retry)?;
    let definition = templates::state_machine_definition(
        PARTITION,
        &function_arn,
        originals_bucket,
        retry,
        timeout_seconds,
        events,
    )?;
    let arn = emulator
        .sfn()
        .create_state_machine()
        .name(name)
        .definition(&definition)
        .role_arn(format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{name}-sfn"))
        .r#type(match workflow {
            WorkflowType::Standard => StateMachineType::Standard,
            WorkflowType::Express => StateMachineType::Express,
        })
        .tracing_configuration(TracingConfiguration::builder().enabled(true).build())
        .send()
        .await
        .map_err(describe("CreateStateMachine"))?
        .state_machine_arn;
    eprintln!(
        "deployed: {workflow:?} state machine {arn} (function {function_arn}, originals {originals_bucket}, {retry:?}, timeout {timeout_seconds} s, completion events {events:?})"
    );
    Ok(StateMachine {
        name: name.to_string(),
        arn,
        function_arn,
        definition,
        workflow,
    })
}

/// `aws_sfn_state_machine.backfill` (backfill.tf) for the chain `name`: the Distributed Map over the
/// originals bucket invoking the chain's function, with the template choices given (the emulator cannot
/// take the module's own, see [`templates::BackfillChoices::emulator`]).
/// `machine` is its name: `<name>-backfill` in the module, another one for a second machine on one chain.
pub async fn backfill_state_machine(
    emulator: &Emulator,
    name: &str,
    machine: &str,
    originals_bucket: &str,
    retry: &templates::Retry,
    choices: &templates::BackfillChoices,
) -> Result<StateMachine, String> {
    let function_arn = function_arn(name);
    let machine = machine.to_string();
    let definition =
        templates::backfill_definition(PARTITION, &function_arn, originals_bucket, retry, choices)?;
    let arn = emulator
        .sfn()
        .create_state_machine()
        .name(&machine)
        .definition(&definition)
        .role_arn(format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{machine}"))
        .r#type(StateMachineType::Standard)
        .tracing_configuration(TracingConfiguration::builder().enabled(true).build())
        .send()
        .await
        .map_err(describe("CreateStateMachine (backfill)"))?
        .state_machine_arn;
    eprintln!("deployed: backfill state machine {arn} (function {function_arn}, {choices:?})");
    Ok(StateMachine {
        name: machine,
        arn,
        function_arn,
        definition,
        // A Distributed Map runs in a Standard parent, whatever the resize machine's type.
        workflow: WorkflowType::Standard,
    })
}

/// A deployed REST API (apigateway.tf): `POST /resize` and `GET /executions/{id}` on stage `stage`.
#[derive(Debug, Clone)]
pub struct RestApi {
    pub id: String,
    pub stage: String,
    pub resize_url: String,
}

/// The module's API responses: status → selection pattern (`local.api_responses`; "" is the default).
const API_RESPONSES: [(&str, &str); 3] = [("200", ""), ("400", r"4\d{2}"), ("500", r"5\d{2}")];

/// The REST API of apigateway.tf in front of `state_machine`, with the variables' defaults
/// (`api_authorization`, `api_stage_name`) and the module's request validator, model and templates.
pub async fn rest_api(
    emulator: &Emulator,
    name: &str,
    state_machine: &StateMachine,
    originals_bucket: &str,
) -> Result<RestApi, String> {
    let api = emulator.apigateway();
    let authorization = match templates::variable_default("api_authorization")? {
        Value::String(s) => s,
        other => return Err(format!("api_authorization default {other}")),
    };
    let stage = match templates::variable_default("api_stage_name")? {
        Value::String(s) => s,
        other => return Err(format!("api_stage_name default {other}")),
    };
    // local.method_authorization / local.api_key_required
    let method_authorization = if authorization == "AWS_IAM" {
        "AWS_IAM"
    } else {
        "NONE"
    };
    let api_key_required = authorization == "API_KEY";
    // local.region: read from the state machine's ARN.
    let region = state_machine
        .arn
        .split(':')
        .nth(3)
        .ok_or("state machine ARN without a region")?;
    let credentials = format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{name}-api");

    let rest_api = api
        .create_rest_api()
        .name(name)
        .description(
            "imgresize: start a resize (POST /resize) and read its result (GET /executions/{id})",
        )
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .map_err(describe("CreateRestApi"))?;
    let api_id = rest_api.id.ok_or("CreateRestApi returned no id")?;
    let root_id = rest_api
        .root_resource_id
        .ok_or("CreateRestApi returned no root resource id")?;

    let validator_id = api
        .create_request_validator()
        .rest_api_id(&api_id)
        .name(format!("{name}-validate"))
        .validate_request_body(true)
        .validate_request_parameters(true)
        .send()
        .await
        .map_err(describe("CreateRequestValidator"))?
        .id
        .ok_or("CreateRequestValidator returned no id")?;
    let model = templates::request_model(originals_bucket)?;
    api.create_model()
        .rest_api_id(&api_id)
        .name("ResizeRequest")
        .description("Body of POST /resize (JSON Schema draft-04)")
        .content_type("application/json")
        .schema(&model)
        .send()
        .await
        .map_err(describe("CreateModel"))?;

    // POST /resize → states:StartExecution, or StartSyncExecution with the Express type
    let express = state_machine.workflow == WorkflowType::Express;
    let start_action = if express {
        "StartSyncExecution"
    } else {
        "StartExecution"
    };
    let resize_id = api
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(&root_id)
        .path_part("resize")
        .send()
        .await
        .map_err(describe("CreateResource /resize"))?
        .id
        .ok_or("CreateResource returned no id")?;
    api.put_method()
        .rest_api_id(&api_id)
        .resource_id(&resize_id)
        .http_method("POST")
        .authorization_type(method_authorization)
        .api_key_required(api_key_required)
        .request_validator_id(&validator_id)
        .request_models("application/json", "ResizeRequest")
        .send()
        .await
        .map_err(describe("PutMethod POST /resize"))?;
    let start_template = templates::start_execution_template(&state_machine.arn)?;
    api.put_integration()
        .rest_api_id(&api_id)
        .resource_id(&resize_id)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri(format!(
            "arn:{PARTITION}:apigateway:{region}:states:action/{start_action}"
        ))
        .credentials(&credentials)
        .passthrough_behavior("NEVER")
        .request_templates("application/json", &start_template)
        .send()
        .await
        .map_err(describe("PutIntegration POST /resize"))?;
    let sync_response = if express {
        Some(templates::sync_response_template()?)
    } else {
        None
    };
    responses(&api, &api_id, &resize_id, "POST", sync_response.as_deref()).await?;
    if !express {
        executions_route(
            &api,
            &api_id,
            &root_id,
            &validator_id,
            (method_authorization, api_key_required),
            region,
            &credentials,
            state_machine,
        )
        .await?;
    }

    // aws_api_gateway_deployment + aws_api_gateway_stage (X-Ray on)
    let deployment_id = api
        .create_deployment()
        .rest_api_id(&api_id)
        .description(format!("imgresize {name}"))
        .send()
        .await
        .map_err(describe("CreateDeployment"))?
        .id
        .ok_or("CreateDeployment returned no id")?;
    api.create_stage()
        .rest_api_id(&api_id)
        .stage_name(&stage)
        .deployment_id(&deployment_id)
        .tracing_enabled(true)
        .send()
        .await
        .map_err(describe("CreateStage"))?;

    let resize_url = emulator.execute_api_url(&api_id, &stage, "resize");
    eprintln!(
        "deployed: REST API {api_id} stage {stage} (authorization {method_authorization}, credentials {credentials})\n  POST /resize → {start_action}, model:\n{model}\n  request template:\n{start_template}\n  URL: {resize_url}"
    );
    Ok(RestApi {
        id: api_id,
        stage,
        resize_url,
    })
}

/// `GET /executions/{id}` → states:DescribeExecution (STANDARD only: Express executions have no history).
#[allow(clippy::too_many_arguments)]
async fn executions_route(
    api: &aws_sdk_apigateway::Client,
    api_id: &str,
    root_id: &str,
    validator_id: &str,
    authorization: (&str, bool),
    region: &str,
    credentials: &str,
    state_machine: &StateMachine,
) -> Result<(), String> {
    let executions_id = api
        .create_resource()
        .rest_api_id(api_id)
        .parent_id(root_id)
        .path_part("executions")
        .send()
        .await
        .map_err(describe("CreateResource /executions"))?
        .id
        .ok_or("CreateResource returned no id")?;
    let execution_id = api
        .create_resource()
        .rest_api_id(api_id)
        .parent_id(&executions_id)
        .path_part("{id}")
        .send()
        .await
        .map_err(describe("CreateResource /executions/{id}"))?
        .id
        .ok_or("CreateResource returned no id")?;
    api.put_method()
        .rest_api_id(api_id)
        .resource_id(&execution_id)
        .http_method("GET")
        .authorization_type(authorization.0)
        .api_key_required(authorization.1)
        .request_validator_id(validator_id)
        .request_parameters("method.request.path.id", true)
        .send()
        .await
        .map_err(describe("PutMethod GET /executions/{id}"))?;
    let describe_template = templates::describe_execution_template(&state_machine.arn)?;
    eprintln!(
        "  GET /executions/{{id}} → DescribeExecution, request template:\n{describe_template}"
    );
    api.put_integration()
        .rest_api_id(api_id)
        .resource_id(&execution_id)
        .http_method("GET")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri(format!(
            "arn:{PARTITION}:apigateway:{region}:states:action/DescribeExecution"
        ))
        .credentials(credentials)
        .passthrough_behavior("NEVER")
        .request_templates("application/json", &describe_template)
        .send()
        .await
        .map_err(describe("PutIntegration GET /executions/{id}"))?;
    responses(api, api_id, &execution_id, "GET", None).await?;
    Ok(())
}

/// `POST /backfill` of apigateway.tf on `api` (AWS_IAM: LocalStack does not check the signature), starting
/// `backfill` with the module's `start_backfill.vtl`, then a new deployment of the stage. Returns its URL.
pub async fn backfill_route(
    emulator: &Emulator,
    name: &str,
    api: &RestApi,
    backfill: &StateMachine,
) -> Result<String, String> {
    let client = emulator.apigateway();
    let root_id = client
        .get_resources()
        .rest_api_id(&api.id)
        .send()
        .await
        .map_err(describe("GetResources"))?
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id().map(String::from))
        .ok_or("the API has no root resource")?;
    let resource_id = client
        .create_resource()
        .rest_api_id(&api.id)
        .parent_id(&root_id)
        .path_part("backfill")
        .send()
        .await
        .map_err(describe("CreateResource /backfill"))?
        .id
        .ok_or("CreateResource returned no id")?;
    client
        .put_method()
        .rest_api_id(&api.id)
        .resource_id(&resource_id)
        .http_method("POST")
        .authorization_type("AWS_IAM")
        .send()
        .await
        .map_err(describe("PutMethod POST /backfill"))?;
    let region = backfill
        .arn
        .split(':')
        .nth(3)
        .ok_or("state machine ARN without a region")?;
    let template = templates::render(
        "start_backfill.vtl",
        &[("state_machine_arn", backfill.arn.clone())],
    )?;
    client
        .put_integration()
        .rest_api_id(&api.id)
        .resource_id(&resource_id)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri(format!(
            "arn:{PARTITION}:apigateway:{region}:states:action/StartExecution"
        ))
        .credentials(format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{name}-api"))
        .passthrough_behavior("NEVER")
        .request_templates("application/json", &template)
        .send()
        .await
        .map_err(describe("PutIntegration POST /backfill"))?;
    responses(&client, &api.id, &resource_id, "POST", None).await?;
    // aws_api_gateway_deployment's triggers include the route: a new deployment of the stage.
    client
        .create_deployment()
        .rest_api_id(&api.id)
        .stage_name(&api.stage)
        .description(format!("imgresize {name} with /backfill"))
        .send()
        .await
        .map_err(describe("CreateDeployment"))?;
    let url = emulator.execute_api_url(&api.id, &api.stage, "backfill");
    eprintln!("deployed: POST /backfill → StartExecution of {} (AWS_IAM), request template:\n{template}\n  URL: {url}", backfill.arn);
    Ok(url)
}

/// `aws_api_gateway_method_response` + `aws_api_gateway_integration_response` for each of the module's
/// status codes.
async fn responses(
    api: &aws_sdk_apigateway::Client,
    api_id: &str,
    resource_id: &str,
    method: &str,
    ok_template: Option<&str>,
) -> Result<(), String> {
    for (status, pattern) in API_RESPONSES {
        api.put_method_response()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(method)
            .status_code(status)
            .response_models("application/json", "Empty")
            .send()
            .await
            .map_err(describe("PutMethodResponse"))?;
        api.put_integration_response()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(method)
            .status_code(status)
            .set_selection_pattern((!pattern.is_empty()).then(|| pattern.to_string()))
            .set_response_templates(ok_template.filter(|_| status == "200").map(|template| {
                HashMap::from([("application/json".to_string(), template.to_string())])
            }))
            .send()
            .await
            .map_err(describe("PutIntegrationResponse"))?;
    }
    Ok(())
}

/// `aws_cloudwatch_event_rule.object_created` + `aws_cloudwatch_event_target.state_machine` (eventbridge.tf):
/// the module's pattern on `bucket`, the state machine as the target, with the module's input transformer.
/// Returns the rule's name.
pub async fn object_created_rule(
    emulator: &Emulator,
    name: &str,
    bucket: &str,
    key_filter: &str,
    state_machine: &StateMachine,
    configured_renditions: bool,
) -> Result<String, String> {
    let rule = format!("{name}-object-created");
    let events = emulator.eventbridge();
    let pattern = put_object_created_rule(&events, &rule, bucket, key_filter).await?;
    let (transformer, paths, template) = input_transformer(configured_renditions)?;
    let target = Target::builder()
        .id("state-machine")
        .arn(&state_machine.arn)
        .role_arn(format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{name}-events"))
        .input_transformer(transformer)
        .build()
        .map_err(|e| format!("Target: {e}"))?;
    put_target(&events, &rule, target).await?;
    eprintln!(
        "deployed: EventBridge rule {rule}\n  pattern: {pattern}\n  target: {}\n  input paths: {paths:?}\n  input template: {}",
        state_machine.arn,
        template.trim_end()
    );
    Ok(rule)
}

/// What [`object_deleted_rule`] deployed.
#[derive(Debug, Clone)]
pub struct DeleteSync {
    pub rule: String,
    /// The URL of `aws_sqs_queue.eventbridge_dlq` (`var.create_eventbridge_dlq`, on by default), where a
    /// deletion lands that was not delivered or whose call failed every attempt; `None` when off.
    pub dead_letters: Option<String>,
}

/// `aws_cloudwatch_event_rule.object_deleted` + `aws_cloudwatch_event_target.delete_sync` +
/// `aws_lambda_function_event_invoke_config.delete_sync` (eventbridge.tf, `var.enable_delete_sync`):
/// "Object Deleted" events of `bucket` (a caller's deletes) invoke the function `function` directly with
/// the module's delete request; with the dead-letter queue, both the target's undelivered events and the
/// records of calls that failed all of Lambda's retries go there.
pub async fn object_deleted_rule(
    emulator: &Emulator,
    name: &str,
    bucket: &str,
    key_filter: &str,
    (function, function_arn): (&str, &str),
) -> Result<DeleteSync, String> {
    let rule = format!("{name}-object-deleted");
    let events = emulator.eventbridge();
    let pattern = templates::deleted_event_pattern(bucket, key_filter, &["DeleteObject"])?;
    events
        .put_rule()
        .name(&rule)
        .event_pattern(&pattern)
        .send()
        .await
        .map_err(describe("PutRule"))?;
    let paths: HashMap<String, String> = templates::input_paths()?.into_iter().collect();
    let template = templates::delete_input_template()?;
    let transformer = InputTransformer::builder()
        .set_input_paths_map(Some(paths))
        .input_template(&template)
        .build()
        .map_err(|e| format!("InputTransformer: {e}"))?;
    let dead_letters = if variable_is_true("create_eventbridge_dlq")? {
        Some(probe_queue(emulator, &format!("{name}-eventbridge-dlq")).await?)
    } else {
        None
    };
    let mut target = Target::builder()
        .id("delete-sync")
        .arn(function_arn)
        .input_transformer(transformer);
    if let Some((_, queue_arn)) = &dead_letters {
        target = target.dead_letter_config(DeadLetterConfig::builder().arn(queue_arn).build());
    }
    let target = target.build().map_err(|e| format!("Target: {e}"))?;
    put_target(&events, &rule, target).await?;
    crate::lambda_api::put_event_invoke_config(
        &emulator.endpoint,
        function,
        2,
        dead_letters.as_ref().map(|(_, arn)| arn.as_str()),
    )
    .await?;
    eprintln!(
        "deployed: EventBridge rule {rule}\n  pattern: {pattern}\n  target: {function_arn}\n  input template: {}\n  dead letters: {dead_letters:?}",
        template.trim_end()
    );
    Ok(DeleteSync {
        rule,
        dead_letters: dead_letters.map(|(url, _)| url),
    })
}

/// The Lambda zip `scripts/build.sh <architecture>` (`make build`) writes: what the module deploys.
pub fn lambda_zip(architecture: &str) -> std::path::PathBuf {
    crate::repo_root().join(format!(
        "target/lambda/{architecture}/imgresize-lambda/bootstrap.zip"
    ))
}

/// [`lambda_zip`] if it is built, else skipped or failed as [`crate::built_or_skip`] says.
pub fn lambda_zip_or_skip(architecture: &str) -> Option<std::path::PathBuf> {
    crate::built_or_skip(
        lambda_zip(architecture),
        &format!("bash scripts/build.sh {architecture}"),
    )
}

/// `aws_lambda_function.this` (lambda.tf) named `name`: the zip, `architecture`, the variables' default for
/// memory, `local.function_timeout` for `workflow` and `api`, and `environment` (normally
/// `local.lambda_environment`). Returns its ARN.
pub async fn lambda_function(
    emulator: &Emulator,
    name: &str,
    zip: &std::path::Path,
    architecture: &str,
    environment: Vec<(String, String)>,
    (workflow, api): (WorkflowType, bool),
) -> Result<String, String> {
    let count = |variable: &str| -> Result<u32, String> {
        let value = templates::variable_default(variable)?;
        value
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| format!("variable {variable:?}: default {value} is not a count"))
    };
    let spec = crate::lambda_api::FunctionSpec {
        name: name.to_string(),
        zip: zip.to_path_buf(),
        architecture: architecture.to_string(),
        memory_size: count("memory_size")?,
        timeout_seconds: templates::function_timeout_seconds(workflow, api)?,
        role_arn: format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{name}-lambda"),
        environment,
    };
    let arn = crate::lambda_api::create_function(&emulator.endpoint, &spec).await?;
    let shown: Vec<String> = spec
        .environment
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    eprintln!(
        "deployed: function {arn} ({}, {architecture}, {} MB, {} s)\n  environment: {}",
        zip.display(),
        spec.memory_size,
        spec.timeout_seconds,
        shown.join(" ")
    );
    Ok(arn)
}

fn variable_is_true(name: &str) -> Result<bool, String> {
    Ok(templates::variable_default(name)? == Value::Bool(true))
}

/// What [`deploy`] puts into the emulator.
#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// Prefix of every name (made unique per deployment).
    pub prefix: String,
    pub zip: std::path::PathBuf,
    pub architecture: String,
    /// Added to (or replacing entries of) `local.lambda_environment`, e.g. `AWS_ENDPOINT_URL_S3` pointing the
    /// function, and only the function, at a fault proxy.
    pub extra_environment: Vec<(String, String)>,
    pub retry: templates::Retry,
    /// Also the REST API (apigateway.tf).
    pub api: bool,
    /// `var.workflow_type`.
    pub workflow: WorkflowType,
    /// The S3 trigger (`var.enable_s3_trigger`): notifications on and the rule targeting the state machine.
    pub s3_trigger: bool,
    /// Also the backfill state machine (backfill.tf, `var.enable_backfill`), with these template choices.
    pub backfill: Option<templates::BackfillChoices>,
    /// `var.renditions`, as the JSON main.tf gives the function (`RENDITIONS`); it also makes EventBridge
    /// send `size` null (`local.transformer_size`).
    pub renditions: Option<String>,
    /// Completion events (`var.enable_completion_events`): `Some` with the bus and source, `None` off.
    /// `defaults` gives the module's defaults with the source `var.name` would give: the deployment's
    /// prefix (a unique name would make every test's rule different; tests that listen use their own).
    pub completion_events: Option<templates::CompletionEvents>,
    /// Delete sync (`var.enable_delete_sync`): the "Object Deleted" rule invoking the function.
    pub delete_sync: bool,
}

impl ChainOptions {
    /// The module's defaults with the x86_64 zip (the one this machine runs natively).
    pub fn defaults(prefix: &str) -> Result<ChainOptions, String> {
        Ok(ChainOptions {
            prefix: prefix.to_string(),
            zip: lambda_zip("x86_64"),
            architecture: "x86_64".to_string(),
            extra_environment: Vec::new(),
            retry: templates::Retry::defaults()?,
            api: true,
            workflow: WorkflowType::default_type()?,
            s3_trigger: true,
            backfill: None,
            renditions: None,
            completion_events: templates::CompletionEvents::module_defaults(prefix)?,
            delete_sync: variable_is_true("enable_delete_sync")?,
        })
    }
}

/// The whole module in the emulator.
#[derive(Debug, Clone)]
pub struct Chain {
    pub name: String,
    pub originals: String,
    pub resized: String,
    pub environment: Vec<(String, String)>,
    pub function_arn: String,
    pub state_machine: StateMachine,
    /// `None` without the S3 trigger.
    pub rule: Option<String>,
    pub api: Option<RestApi>,
    pub backfill: Option<StateMachine>,
    /// `POST /backfill` when both the API and the backfill are deployed.
    pub backfill_url: Option<String>,
    /// With `ChainOptions::delete_sync`.
    pub delete_sync: Option<DeleteSync>,
}

impl Chain {
    /// The value the function's environment gives `name`.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.environment
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Deploys the module's resources, as the `.tf` files declare them, from the module's own files: the two
/// buckets, S3 → EventBridge notifications, the function (the real zip, `local.lambda_environment`), the
/// state machine, the rule with its input transformer targeting the state machine, and (if asked) the API.
/// The one deployer: the chain suite and `make demo` both use it.
pub async fn deploy(emulator: &Emulator, options: &ChainOptions) -> Result<Chain, String> {
    let name = crate::unique_name(&options.prefix);
    let originals = format!("{name}-originals");
    let resized = format!("{name}-resized");
    crate::buckets::create(&emulator.s3(), &[&originals, &resized]).await?;
    if options.s3_trigger {
        enable_eventbridge(emulator, &originals).await?;
    }

    let mut environment = templates::lambda_environment(&resized, &originals)?;
    let renditions = options
        .renditions
        .iter()
        .map(|json| ("RENDITIONS".to_string(), json.clone()));
    for (key, value) in options.extra_environment.iter().cloned().chain(renditions) {
        environment.retain(|(k, _)| *k != key);
        environment.push((key, value));
    }
    if !options.zip.is_file() {
        return Err(format!(
            "{} is missing: build it with `bash scripts/build.sh {}`",
            options.zip.display(),
            options.architecture
        ));
    }
    let function_arn = lambda_function(
        emulator,
        &name,
        &options.zip,
        &options.architecture,
        environment.clone(),
        (options.workflow, options.api),
    )
    .await?;
    let machine = state_machine(
        emulator,
        &name,
        &originals,
        &options.retry,
        options.workflow,
        options.api,
        options.completion_events.as_ref(),
    )
    .await?;
    if machine.function_arn != function_arn {
        return Err(format!(
            "the state machine invokes {} but the function is {function_arn}",
            machine.function_arn
        ));
    }
    let rule = if options.s3_trigger {
        Some(
            object_created_rule(
                emulator,
                &name,
                &originals,
                &templates::default_key_filter()?,
                &machine,
                options.renditions.is_some(),
            )
            .await?,
        )
    } else {
        None
    };
    let delete_sync = if options.delete_sync {
        Some(
            object_deleted_rule(
                emulator,
                &name,
                &originals,
                &templates::default_key_filter()?,
                (&name, &function_arn),
            )
            .await?,
        )
    } else {
        None
    };
    let backfill = match &options.backfill {
        Some(choices) => Some(
            backfill_state_machine(
                emulator,
                &name,
                &format!("{name}-backfill"),
                &originals,
                &options.retry,
                choices,
            )
            .await?,
        ),
        None => None,
    };
    let api = if options.api {
        Some(rest_api(emulator, &name, &machine, &originals).await?)
    } else {
        None
    };
    let backfill_url = match (&api, &backfill) {
        (Some(api), Some(backfill)) => Some(backfill_route(emulator, &name, api, backfill).await?),
        _ => None,
    };
    Ok(Chain {
        name,
        originals,
        resized,
        environment,
        function_arn,
        state_machine: machine,
        rule,
        api,
        backfill,
        backfill_url,
        delete_sync,
    })
}
