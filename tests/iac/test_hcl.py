"""Assertions on the module's HCL (python-hcl2): variables are documented and typed, the wiring
references this module's own resources, IAM is least privilege, the API redeploys on change."""
import re

import pytest

import docs
from conftest import EXAMPLES, HERE, MODULE, REPO, blocks, parse_dir, unquote

LAYOUT = {"versions.tf", "variables.tf", "outputs.tf", "main.tf", "s3.tf", "lambda.tf", "stepfunctions.tf", "backfill.tf",
          "eventbridge.tf", "apigateway.tf", "iam.tf", "observability.tf"}


def test_layout():
    assert {p.name for p in MODULE.glob("*.tf")} == LAYOUT
    for example in ("complete", "existing-buckets"):
        assert (MODULE / "examples" / example / "main.tf").is_file()
    assert (MODULE / "examples" / "complete" / "terraform.tfvars").is_file()


def test_versions(module):
    (terraform,) = module["versions.tf"]["terraform"]
    assert unquote(terraform["required_version"]) == ">= 1.5"
    aws = terraform["required_providers"][0]["aws"]
    assert {k: unquote(v) for k, v in aws.items() if not k.startswith("__")} == {"source": "hashicorp/aws", "version": ">= 5.26, < 7.0"}


@pytest.mark.parametrize("directory", [MODULE, *EXAMPLES], ids=lambda p: p.name)
def test_every_variable_has_description_type_and_validation(directory):
    parsed = parse_dir(directory)
    variables = list(blocks(parsed, "variable"))
    assert variables or directory != MODULE
    for _, name, _, body in variables:
        assert unquote(body.get("description", "")).strip(), f"variable {name}: no description"
        assert "type" in body, f"variable {name}: no type"
        if body["type"] != "bool":  # a bool cannot hold an invalid value
            assert body.get("validation"), f"variable {name}: no validation"


def test_every_output_has_description(module):
    for _, name, _, body in blocks(module, "output"):
        assert unquote(body.get("description", "")).strip(), f"output {name}: no description"


def test_readme_tables_are_current():
    assert docs.main(["--check"]) == 0


# --- Lambda ----------------------------------------------------------------------------------------

def test_lambda_function(resources):
    fn = resources[("aws_lambda_function", "this")]
    assert fn["runtime"] == '"provided.al2023"'
    assert fn["handler"] == '"bootstrap"'
    assert fn["architectures"] == "${var.architectures}"
    assert fn["memory_size"] == "${var.memory_size}"
    assert fn["filename"] == "${var.lambda_zip_path}"
    assert fn["s3_bucket"] == "${var.lambda_s3_bucket}" and fn["s3_key"] == "${var.lambda_s3_key}"
    assert fn["source_code_hash"] == "${var.lambda_zip_path != null && var.lambda_s3_key == null ? filebase64sha256(var.lambda_zip_path) : var.lambda_source_code_hash}"
    assert fn["tracing_config"][0]["mode"] == '"Active"'
    assert fn["role"] == "${aws_iam_role.lambda.arn}"
    assert "${aws_cloudwatch_log_group.lambda}" in fn["depends_on"]


def test_nothing_in_the_module_refers_outside_its_folder():
    """Sourced from git or a registry, the module is its folder alone: a default such as
    "${path.module}/../target/..." (the old zip path) fails every plan there."""
    for tf in MODULE.glob("*.tf"):
        text = tf.read_text()
        assert "path.module}/.." not in text, f"{tf.name} reaches outside the module"
        assert not re.search(r'"\.\./', text), f"{tf.name} uses a relative path outside the module"
        assert "path.root" not in text and "path.cwd" not in text, f"{tf.name} depends on the caller's folder"


def test_the_package_is_a_local_zip_or_an_s3_object(datas):
    """Exactly one way to give the package, said by a precondition that names the inputs."""
    checks = datas[("aws_caller_identity", "current")]["lifecycle"][0]["precondition"]
    messages = " ".join(unquote(c["error_message"]) for c in checks)
    assert "lambda_zip_path" in messages and "lambda_s3_bucket and lambda_s3_key" in messages


def test_lambda_log_group_is_the_functions(resources):
    assert resources[("aws_cloudwatch_log_group", "lambda")]["name"] == '"/aws/lambda/${var.name}"'
    assert resources[("aws_lambda_function", "this")]["function_name"] == "${var.name}"


# --- wiring: every hop points at this module's own resources -----------------------------------------

def test_eventbridge_target(resources):
    target = resources[("aws_cloudwatch_event_target", "state_machine")]
    assert target["arn"] == "${aws_sfn_state_machine.this.arn}"
    assert target["role_arn"] == "${aws_iam_role.events[0].arn}"
    assert target["rule"] == "${aws_cloudwatch_event_rule.object_created[0].name}"
    transformer = target["input_transformer"][0]
    assert "templates/input_paths.json" in transformer["input_paths"]
    assert "templates/input_template.json" in transformer["input_template"]
    assert "size = local.transformer_size" in transformer["input_template"]


def test_s3_notification_on_originals(resources):
    notification = resources[("aws_s3_bucket_notification", "originals")]
    assert notification["eventbridge"] is True
    assert notification["bucket"] == "${local.originals_bucket_name}"


@pytest.mark.parametrize("name,action", [
    ("resize_post", '${local.express ? "StartSyncExecution" : "StartExecution"}'),
    ("execution_get", "DescribeExecution"),
])
def test_api_integrations(resources, name, action):
    integration = resources[("aws_api_gateway_integration", name)]
    assert integration["type"] == '"AWS"'
    assert integration["integration_http_method"] == '"POST"'
    assert integration["uri"] == f'"arn:${{local.partition}}:apigateway:${{local.region}}:states:action/{action}"'
    assert integration["credentials"] == "${aws_iam_role.api[0].arn}"


def test_api_methods(resources):
    post = resources[("aws_api_gateway_method", "resize_post")]
    assert post["authorization"] == "${local.method_authorization}"
    assert post["request_validator_id"] == "${aws_api_gateway_request_validator.this[0].id}"
    assert post["request_models"] == {"\"application/json\"": "${aws_api_gateway_model.resize_request[0].name}"}
    get = resources[("aws_api_gateway_method", "execution_get")]
    assert get["request_parameters"] == {'"method.request.path.id"': True}
    assert resources[("aws_api_gateway_resource", "execution")]["path_part"] == '"{id}"'


def test_api_deployment_redeploys_on_every_change(resources):
    deployment = resources[("aws_api_gateway_deployment", "this")]
    trigger = deployment["triggers"]["redeployment"]
    assert trigger.startswith("${sha1(jsonencode([")
    kinds = ("aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_integration",
             "aws_api_gateway_method_response", "aws_api_gateway_integration_response",
             "aws_api_gateway_model", "aws_api_gateway_request_validator")
    for (rtype, name) in resources:
        if rtype in kinds:
            assert f"{rtype}.{name}" in trigger, f"{rtype}.{name} is not in the deployment's triggers"
    assert deployment["lifecycle"][0]["create_before_destroy"] is True


def test_api_stage(resources):
    stage = resources[("aws_api_gateway_stage", "this")]
    assert stage["xray_tracing_enabled"] is True
    # Access logs only with the log group, which exists only when API logging is on: a stage with
    # logs cannot be created in an account whose API Gateway CloudWatch role was never set.
    (dyn,) = [d['"access_log_settings"'] for d in stage["dynamic"] if '"access_log_settings"' in d]
    assert dyn["for_each"] == "${aws_cloudwatch_log_group.api_access}"
    for group in ("api_access", "api_execution"):
        assert resources[("aws_cloudwatch_log_group", group)]["count"] == "${local.api_logging ? 1 : 0}"
    settings = resources[("aws_api_gateway_method_settings", "all")]["settings"][0]
    assert settings["throttling_rate_limit"] == "${var.api_throttling_rate_limit}"
    assert settings["throttling_burst_limit"] == "${var.api_throttling_burst_limit}"
    assert settings["logging_level"] == '${local.api_logging ? var.api_execution_logging_level : "OFF"}'


def test_nothing_account_wide_by_default(module, variables):
    """The API Gateway account setting is a per-region singleton: off by default in the module and
    in both examples, and API logging (which needs it) follows it unless asked for."""
    assert variables["create_api_gateway_cloudwatch_role"]["default"] is False
    assert variables["enable_api_logging"]["default"] is None
    text = (MODULE / "main.tf").read_text()
    assert "api_logging = var.create_api && coalesce(var.enable_api_logging, var.create_api_gateway_cloudwatch_role)" in text
    for example in EXAMPLES:
        parsed = parse_dir(example)
        for _, name, _, body in blocks(parsed, "variable"):
            if name == "create_api_gateway_cloudwatch_role":
                assert body["default"] is False, f"{example.name}: takes over the account's API Gateway setting"
        tfvars = example / "terraform.tfvars"
        if tfvars.is_file():
            assert not re.search(r"^create_api_gateway_cloudwatch_role\s*=\s*true", tfvars.read_text(), re.M)


def test_state_machine(resources):
    sm = resources[("aws_sfn_state_machine", "this")]
    assert sm["type"] == "${var.workflow_type}"
    assert sm["role_arn"] == "${aws_iam_role.sfn.arn}"
    assert "function_arn = aws_lambda_function.this.arn" in sm["definition"]
    assert sm["tracing_configuration"][0]["enabled"] is True
    assert sm["logging_configuration"][0]["log_destination"] == '"${aws_cloudwatch_log_group.sfn.arn}:*"'


# --- IAM: least privilege ---------------------------------------------------------------------------

# (policy document, sid) → exact resources. "*" only where AWS offers no resource-level permission.
EXPECTED_STATEMENTS = {
    ("lambda", "WriteOwnLogGroup"): (["logs:CreateLogStream", "logs:PutLogEvents"], ["${aws_cloudwatch_log_group.lambda.arn}:*"]),
    ("lambda", "XRayWrite"): (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
    ("lambda", "ReadOriginals"): (["s3:GetObject"], ["${local.originals_bucket_arn}/${var.source_prefix}*"]),
    ("lambda", "ListOriginals"): (["s3:ListBucket"], ["${local.originals_bucket_arn}"]),
    ("lambda", "WriteResized"): (["s3:PutObject"], ["${local.resized_bucket_arn}/${var.dest_prefix}*"]),
    ("lambda", "RemoveOwnPartialOutputs"): (["s3:DeleteObject"], ["${local.resized_bucket_arn}/${var.dest_prefix}*"]),
    ("lambda", "ReadOwnOutputs"): (["s3:GetObject"], ["${local.resized_bucket_arn}/${var.dest_prefix}*"]),
    ("lambda", "ListResized"): (["s3:ListBucket"], ["${local.resized_bucket_arn}"]),
    ("sfn", "InvokeResizeFunction"): (["lambda:InvokeFunction"], ["${aws_lambda_function.this.arn}"]),
    ("sfn_logging", "LogDelivery"): (None, ["*"]),
    ("sfn_logging", "XRayWrite"): (None, ["*"]),
    ("events", "StartResizeExecution"): (["states:StartExecution"], ["${aws_sfn_state_machine.this.arn}"]),
    ("api", "StartResizeExecution"): (['${local.express ? "states:StartSyncExecution" : "states:StartExecution"}'],
                                      ["${aws_sfn_state_machine.this.arn}"]),
    ("api", "DescribeResizeExecutions"): (["states:DescribeExecution"], ["${statement.value}*"]),
    ("backfill", "InvokeResizeFunction"): (["lambda:InvokeFunction"], ["${aws_lambda_function.this.arn}"]),
    ("backfill", "ListOriginalsUnderPrefix"): (["s3:ListBucket"], ["${local.originals_bucket_arn}"]),
    ("backfill", "StartChildExecutions"): (["states:StartExecution"], ["${local.backfill_state_machine_arn}"]),
    ("backfill", "ManageChildExecutions"): (["states:DescribeExecution", "states:StopExecution"], ["${local.backfill_execution_arn_base}/*"]),
    ("eventbridge_dlq", "EventBridgeRuleDeadLetters"): (["sqs:SendMessage"], ["${aws_sqs_queue.eventbridge_dlq[0].arn}"]),
}


def statements(datas):
    for (dtype, name), body in datas.items():
        if dtype != "aws_iam_policy_document":
            continue
        for st in body.get("statement", []):
            yield name, st
        for dyn in body.get("dynamic", []):
            for label, d in dyn.items():
                if unquote(label) == "statement":
                    for content in d["content"]:
                        yield name, content


def test_no_wildcard_actions(datas):
    for name, st in statements(datas):
        for action in st.get("actions", []):
            assert "*" not in action, f"{name}: wildcard action {action}"
        assert "not_actions" not in st and "not_resources" not in st


def test_statements_are_exactly_as_designed(datas):
    seen = set()
    for name, st in statements(datas):
        if name.endswith("_assume"):
            assert st["actions"] == ['"sts:AssumeRole"']
            continue
        sid = unquote(st.get("sid", ""))
        if sid == "StartBackfillExecution":  # POST /backfill, only with the backfill
            assert st["resources"] == ["${statement.value}"] and st["actions"] == ['"states:StartExecution"']
            assert "local.backfill_state_machine_arn" in str(datas[("aws_iam_policy_document", "api")])
            continue
        if sid == "WriteBackfillResults":  # only with a results prefix
            assert st["resources"] == ["${statement.value}"]
            assert st["actions"] == ['"s3:PutObject"', '"s3:GetObject"', '"s3:ListMultipartUploadParts"',
                                     '"s3:AbortMultipartUpload"']
            continue
        if sid == "PublishCompletionEvents":  # only with completion events: that bus, that source, two types
            assert name == "sfn" and st["resources"] == ["${statement.value}"]
            assert st["actions"] == ['"events:PutEvents"']
            assert "local.completion_events_bus_arn" in str(datas[("aws_iam_policy_document", "sfn")])
            conditions = {unquote(c["variable"]): c["values"] for c in st["condition"]}
            assert conditions == {"events:source": ["${local.completion_events_source}"],
                                  "events:detail-type": ['"Image Resized"', '"Image Rejected"']}
            continue
        if sid == "DeadLetterFailedDeletions":  # only with delete sync and the queue: that queue only
            assert name == "lambda" and st["resources"] == ["${aws_sqs_queue.eventbridge_dlq[0].arn}"]
            assert st["actions"] == ['"sqs:SendMessage"']
            continue
        if sid == "BucketKeysThroughS3":  # the users' KMS keys, only when some are given
            assert st["resources"] == "${statement.value}"
            assert st["actions"] == ['"kms:Decrypt"', '"kms:GenerateDataKey"']
            (cond,) = st["condition"]
            assert unquote(cond["variable"]) == "kms:ViaService"
            assert cond["values"] == ['"s3.${local.region}.${local.dns_suffix}"']
            continue
        assert (name, sid) in EXPECTED_STATEMENTS, f"unexpected statement {name}/{sid}"
        actions, res = EXPECTED_STATEMENTS[(name, sid)]
        assert [unquote(r) for r in st["resources"]] == res, f"{name}/{sid}: resources {st['resources']}"
        if actions is not None:
            assert [unquote(a) for a in st["actions"]] == actions, f"{name}/{sid}: actions {st['actions']}"
        seen.add((name, sid))
    assert seen == set(EXPECTED_STATEMENTS)


def test_star_resources_are_commented_as_required():
    text = (MODULE / "iam.tf").read_text()
    for m in re.finditer(r'((?:[ \t]*#[^\n]*\n)*)[ \t]*statement \{\n[ \t]*sid\s*=\s*"(\w+)"(.*?)\n  \}', text, re.S):
        comments, sid, body = m.groups()
        if re.search(r'resources\s*=\s*\["\*"\]', body):
            assert 'Required "*"' in comments, f"statement {sid} uses Resource \"*\" without a comment saying why"


def test_assume_role_principals(datas):
    """The literal principals AWS documents: "<service>.amazonaws.com" in aws, aws-cn and aws-us-gov
    for these four services (a DNS-suffix principal is "lambda.amazonaws.com.cn" in China: refused)."""
    expect = {"lambda_assume": "lambda", "sfn_assume": "states", "events_assume": "events", "api_assume": "apigateway",
              "eventbridge_dlq": "events"}
    for name, service in expect.items():
        (st,) = datas[("aws_iam_policy_document", name)]["statement"]
        assert st["principals"][0]["identifiers"] == [f'"{service}.amazonaws.com"']
    for tf in MODULE.glob("*.tf"):
        assert not re.search(r"identifiers\s*=\s*\[[^\]]*dns_suffix", tf.read_text()), tf.name


def conditions(st):
    return {unquote(c["variable"]): (unquote(c["test"]), c["values"]) for c in st.get("condition", [])}


def test_trust_policies_name_their_source(datas):
    """Confused-deputy protection wherever the service sets the keys."""
    (sfn,) = datas[("aws_iam_policy_document", "sfn_assume")]["statement"]
    assert conditions(sfn) == {"aws:SourceAccount": ("StringEquals", ["${local.account_id}"])}
    (events,) = datas[("aws_iam_policy_document", "events_assume")]["statement"]
    assert conditions(events) == {
        "aws:SourceAccount": ("StringEquals", ["${local.account_id}"]),
        "aws:SourceArn": ("ArnEquals", ["${aws_cloudwatch_event_rule.object_created[0].arn}"]),
    }
    # API Gateway does not send the keys when it assumes an integration's role: IfExists only.
    (api,) = datas[("aws_iam_policy_document", "api_assume")]["statement"]
    assert conditions(api) == {"aws:SourceAccount": ("StringEqualsIfExists", ["${local.account_id}"])}


def test_roles_take_the_path(resources):
    for (rtype, name), body in resources.items():
        if rtype == "aws_iam_role":
            assert body["path"] == "${var.iam_role_path}", name
            assert body["permissions_boundary"] == "${var.iam_role_permissions_boundary}", name


def test_roles_use_their_own_policy(resources):
    for role in ("lambda", "sfn", "events", "api"):
        policy = resources[("aws_iam_role_policy", role)]
        assert policy["policy"] == f"${{data.aws_iam_policy_document.{role}.json}}"
        assert policy["role"] in (f"${{aws_iam_role.{role}.id}}", f"${{aws_iam_role.{role}[0].id}}")


# --- S3 ---------------------------------------------------------------------------------------------

def test_existing_buckets_keep_their_notifications(resources, variables):
    """aws_s3_bucket_notification replaces a bucket's whole notification configuration: by default it
    is managed only on the bucket the module creates."""
    notification = resources[("aws_s3_bucket_notification", "originals")]
    assert notification["count"] == "${local.manage_bucket_notification ? 1 : 0}"
    assert variables["create_bucket_notification"]["default"] is None
    assert "manage_bucket_notification = coalesce(var.create_bucket_notification, var.create_buckets)" in (MODULE / "main.tf").read_text()


def test_lifecycle_filter_is_the_form_every_provider_accepts(resources):
    """`filter {}` warns on provider 5.86+; an empty prefix is accepted quietly by all."""
    (rule,) = resources[("aws_s3_bucket_lifecycle_configuration", "this")]["rule"]
    assert rule["filter"] == [{"prefix": '""', "__is_block__": True}] or rule["filter"][0]["prefix"] == '""'


def test_outputs_do_not_collide_by_default(variables):
    """a/cat.jpg and b/cat.jpg must not share an output key."""
    assert unquote(variables["dest_key_pattern"]["default"]).startswith("{dir}")


def test_created_buckets_are_locked_down(resources):
    for rtype in ("aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls",
                  "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_policy",
                  "aws_s3_bucket_lifecycle_configuration"):
        (body,) = [b for (t, _), b in resources.items() if t == rtype]
        assert body["for_each"] == "${aws_s3_bucket.this}", rtype
    pab = resources[("aws_s3_bucket_public_access_block", "this")]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    assert resources[("aws_s3_bucket_ownership_controls", "this")]["rule"][0]["object_ownership"] == '"BucketOwnerEnforced"'
    policy = resources[("aws_s3_bucket_policy", "tls_only")]["policy"]
    assert "aws:SecureTransport" in policy and '"false"' in policy


# --- hygiene ---------------------------------------------------------------------------------------

def test_no_machine_paths_in_committed_files():
    roots = [MODULE, HERE]
    pattern = re.compile(r"/(work|tmp|root|home)/")
    for root in roots:
        for p in root.rglob("*"):
            if not p.is_file() or p.suffix in (".gz",) or "node_modules" in p.parts or "__pycache__" in p.parts:
                continue
            text = p.read_text(errors="replace")
            for m in pattern.finditer(text):
                line = text[max(0, text.rfind("\n", 0, m.start()) + 1):text.find("\n", m.start())]
                pytest.fail(f"{p.relative_to(REPO)}: machine path in {line.strip()!r}")


# --- for users with an account -----------------------------------------------------------------------

def test_postman_collection():
    import json
    coll = json.loads((MODULE / "examples" / "complete" / "imgresize.postman_collection.json").read_text())
    assert coll["info"]["schema"].endswith("/v2.1.0/collection.json")
    auth = {a["key"]: a["value"] for a in coll["auth"]["awsv4"]}
    assert coll["auth"]["type"] == "awsv4"
    assert auth["region"] == "{{region}}" and auth["service"] == "execute-api"
    variables = {v["key"] for v in coll["variable"]}
    assert {"baseUrl", "region", "accessKey", "secretKey"} <= variables
    urls = {(i["request"]["method"], i["request"]["url"]["raw"]) for i in coll["item"]}
    assert ("POST", "{{baseUrl}}/resize") in urls
    assert ("GET", "{{baseUrl}}/executions/{{executionName}}") in urls


def test_smoke_script():
    import subprocess
    script = REPO / "scripts" / "smoke.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = script.read_text()
    assert "--aws-sigv4" in text and "SUCCEEDED" in text
    assert "deadline" in text  # every wait is bounded
