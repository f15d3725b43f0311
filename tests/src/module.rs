//! The Terraform module's resources, created in the emulator with the AWS SDK the way the `.tf` files
//! declare them, from the module's own template files (see [`crate::templates`]). Each step prints what it
//! deployed.
//!
//! IAM is not enforced by LocalStack (community edition): the roles the module attaches (Step Functions,
//! EventBridge, API Gateway credentials) are passed as ARNs of the module's role names, not created.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IntegrationType};
use aws_sdk_eventbridge::types::{InputTransformer, Target};
use aws_sdk_s3::types::{EventBridgeConfiguration, NotificationConfiguration};
use aws_sdk_sfn::types::{StateMachineType, TracingConfiguration};
use serde_json::Value;

use crate::emulator::Emulator;
use crate::templates;

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
    let pattern = templates::event_pattern(bucket, key_filter)?;
    let events = emulator.eventbridge();
    events
        .put_rule()
        .name(&name)
        .description(format!(
            "imgresize: new objects in {bucket} start a resize execution"
        ))
        .event_pattern(&pattern)
        .send()
        .await
        .map_err(describe("PutRule"))?;

    let sqs = emulator.sqs();
    let queue_url = sqs
        .create_queue()
        .queue_name(&name)
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

    // input_transformer { input_paths = jsondecode(file(input_paths.json)),
    //                     input_template = templatefile(input_template.json, { size = var.default_size }) }
    let paths: HashMap<String, String> = templates::input_paths()?.into_iter().collect();
    let template = templates::input_template(&templates::number_default("default_size")?)?;
    let transformer = InputTransformer::builder()
        .set_input_paths_map(Some(paths.clone()))
        .input_template(&template)
        .build()
        .map_err(|e| format!("InputTransformer: {e}"))?;
    let target = Target::builder()
        .id("probe")
        .arn(&queue_arn)
        .input_transformer(transformer)
        .build()
        .map_err(|e| format!("Target: {e}"))?;
    let put = events
        .put_targets()
        .rule(&name)
        .targets(target)
        .send()
        .await
        .map_err(describe("PutTargets"))?;
    if put.failed_entry_count() != 0 {
        return Err(format!("PutTargets failed: {:?}", put.failed_entries()));
    }
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
) -> Result<StateMachine, String> {
    let function_arn = function_arn(name);
    let definition =
        templates::state_machine_definition(PARTITION, &function_arn, originals_bucket, retry)?;
    let arn = emulator
        .sfn()
        .create_state_machine()
        .name(name)
        .definition(&definition)
        .role_arn(format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{name}-sfn"))
        .r#type(StateMachineType::Standard)
        .tracing_configuration(TracingConfiguration::builder().enabled(true).build())
        .send()
        .await
        .map_err(describe("CreateStateMachine"))?
        .state_machine_arn;
    eprintln!(
        "deployed: state machine {arn} (function {function_arn}, originals {originals_bucket}, {retry:?})"
    );
    Ok(StateMachine {
        name: name.to_string(),
        arn,
        function_arn,
        definition,
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

    // POST /resize → states:StartExecution
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
            "arn:{PARTITION}:apigateway:{region}:states:action/StartExecution"
        ))
        .credentials(&credentials)
        .passthrough_behavior("NEVER")
        .request_templates("application/json", &start_template)
        .send()
        .await
        .map_err(describe("PutIntegration POST /resize"))?;
    responses(&api, &api_id, &resize_id, "POST").await?;

    // GET /executions/{id} → states:DescribeExecution
    let executions_id = api
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(&root_id)
        .path_part("executions")
        .send()
        .await
        .map_err(describe("CreateResource /executions"))?
        .id
        .ok_or("CreateResource returned no id")?;
    let execution_id = api
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(&executions_id)
        .path_part("{id}")
        .send()
        .await
        .map_err(describe("CreateResource /executions/{id}"))?
        .id
        .ok_or("CreateResource returned no id")?;
    api.put_method()
        .rest_api_id(&api_id)
        .resource_id(&execution_id)
        .http_method("GET")
        .authorization_type(method_authorization)
        .api_key_required(api_key_required)
        .request_validator_id(&validator_id)
        .request_parameters("method.request.path.id", true)
        .send()
        .await
        .map_err(describe("PutMethod GET /executions/{id}"))?;
    let describe_template = templates::describe_execution_template(&state_machine.arn)?;
    api.put_integration()
        .rest_api_id(&api_id)
        .resource_id(&execution_id)
        .http_method("GET")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri(format!(
            "arn:{PARTITION}:apigateway:{region}:states:action/DescribeExecution"
        ))
        .credentials(&credentials)
        .passthrough_behavior("NEVER")
        .request_templates("application/json", &describe_template)
        .send()
        .await
        .map_err(describe("PutIntegration GET /executions/{id}"))?;
    responses(&api, &api_id, &execution_id, "GET").await?;

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
        "deployed: REST API {api_id} stage {stage} (authorization {method_authorization}, credentials {credentials})\n  POST /resize → StartExecution, model:\n{model}\n  request template:\n{start_template}\n  GET /executions/{{id}} → DescribeExecution, request template:\n{describe_template}\n  URL: {resize_url}"
    );
    Ok(RestApi {
        id: api_id,
        stage,
        resize_url,
    })
}

/// `aws_api_gateway_method_response` + `aws_api_gateway_integration_response` for each of the module's
/// status codes.
async fn responses(
    api: &aws_sdk_apigateway::Client,
    api_id: &str,
    resource_id: &str,
    method: &str,
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
            .send()
            .await
            .map_err(describe("PutIntegrationResponse"))?;
    }
    Ok(())
}
