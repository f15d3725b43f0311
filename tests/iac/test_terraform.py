"""What real Terraform plans for each root of terraform.py's ROOTS (against the aws provider stub).

The plans come from $IAC_PLANS (run.sh's terraform check keeps them there), or are made here
(`terraform init/validate/plan/show -json` in a temporary copy, see terraform.py). Without a
terraform binary these tests are skipped.

Other tests can use the `plan` fixture: plan(root, version=NEWEST) -> the `terraform show -json`
document; `created(plan_json)` -> the addresses it creates.
"""
import json
import os
from pathlib import Path

import pytest

import terraform as tf

pytestmark = pytest.mark.skipif(tf.terraform_binary() is None, reason="no terraform binary on PATH")

COMPLETE = "terraform/examples/complete"
EXISTING = "terraform/examples/existing-buckets"
CONSUMER = "tests/iac/consumer"
M = "module.imgresize."


@pytest.fixture(scope="session")
def plan():
    kept = Path(os.environ["IAC_PLANS"]) if os.environ.get("IAC_PLANS") else None
    made = {}
    workspace = []

    def get(root, version=tf.NEWEST):
        if kept and (kept / tf.plan_name(root, version)).exists():
            return json.loads((kept / tf.plan_name(root, version)).read_text())
        if (root, version) not in made:
            if not workspace:
                workspace.append(tf.Workspace(tf.terraform_binary()))
            failed, out, plan_json, _ = workspace[0].plan(root, version, tf.ROOTS.get(root, {}))
            assert failed is None, f"{root} aws {version}: {failed} failed:\n{out}"
            made[(root, version)] = plan_json
        return made[(root, version)]

    yield get
    for ws in workspace:
        ws.close()


def created(plan_json):
    return set(tf.planned_addresses(plan_json))


def after(plan_json, address):
    return next(rc["change"]["after"] for rc in plan_json["resource_changes"] if rc["address"] == address)


def test_complete_creates_the_whole_pipeline(plan):
    addrs = created(plan(COMPLETE))
    for want in ('aws_s3_bucket.this["originals"]', 'aws_s3_bucket.this["resized"]',
                 "aws_lambda_function.this", "aws_sfn_state_machine.this",
                 "aws_cloudwatch_event_rule.object_created[0]", "aws_api_gateway_stage.this[0]",
                 "aws_sfn_state_machine.backfill[0]", "aws_iam_role.backfill[0]"):
        assert M + want in addrs


def test_existing_buckets_creates_no_bucket_or_bucket_setting(plan):
    addrs = created(plan(EXISTING))
    owned = sorted(a for a in addrs if a.startswith(M + "aws_s3_bucket")
                   and not a.startswith(M + "aws_s3_bucket_notification."))
    assert owned == []
    assert M + "aws_lambda_function.this" in addrs


def test_existing_buckets_leaves_the_bucket_notification_alone(plan):
    """aws_s3_bucket_notification replaces a bucket's whole notification configuration."""
    assert not any(a.startswith(M + "aws_s3_bucket_notification.") for a in created(plan(EXISTING)))
    assert plan(EXISTING)["planned_values"]["outputs"]["bucket_notification_managed"]["value"] is False


@pytest.mark.parametrize("root", sorted(tf.ROOTS))
def test_nothing_account_wide_is_taken_over(plan, root):
    """The API Gateway account setting is one per account and region: no root manages it by default,
    and nothing that needs it (API logs) is turned on, so a brand-new account applies."""
    addrs = created(plan(root))
    assert not [a for a in addrs if "aws_api_gateway_account." in a or "api_gateway_cloudwatch" in a]
    assert not [a for a in addrs if "aws_cloudwatch_log_group.api_" in a]
    for address in (a for a in addrs if a.endswith("aws_api_gateway_stage.this[0]")):
        assert after(plan(root), address)["access_log_settings"] == []
    for address in (a for a in addrs if a.endswith("aws_api_gateway_method_settings.all[0]")):
        assert after(plan(root), address)["settings"][0]["logging_level"] == "OFF"


def test_the_consumer_keeps_its_buckets_and_their_notifications(plan):
    """A user's stack on existing buckets: the module creates no bucket or bucket setting, and the
    only notification configuration is the consumer's own (which turns on EventBridge delivery)."""
    addrs = created(plan(CONSUMER))
    assert not [a for a in addrs if a.startswith(M + "aws_s3_bucket")]
    assert "aws_s3_bucket_notification.uploads" in addrs
    assert after(plan(CONSUMER), "aws_s3_bucket_notification.uploads")["eventbridge"] is True
    function = after(plan(CONSUMER), M + "aws_lambda_function.this")
    assert (function["s3_bucket"], function["s3_key"], function["filename"]) == (
        "corp-artifacts", "imgresize/imgresize-0.1.0-arm64.zip", None)


def test_the_consumer_in_china_gets_china_arns_and_the_documented_principals(plan):
    consumer = plan(CONSUMER)
    roles = {a: after(consumer, a) for a in created(consumer) if ".aws_iam_role." in a}
    assert len(roles) == 5  # lambda, sfn, events, api, backfill
    known = 0
    for address, role in roles.items():
        assert role["path"] == "/imgresize/", address
        if "assume_role_policy" not in role:  # EventBridge's names the rule's ARN: known after apply
            continue
        service = json.loads(role["assume_role_policy"])["Statement"][0]["Principal"]["Service"]
        assert service.endswith(".amazonaws.com") and not service.endswith(".cn"), f"{address}: {service}"
        known += 1
    assert known == 4
    uri = after(consumer, M + "aws_api_gateway_integration.resize_post[0]")["uri"]
    assert uri.startswith("arn:aws-cn:apigateway:cn-north-1:states:action/")


@pytest.mark.parametrize("root, version", [(r, v) for r in sorted(tf.ROOTS) for v in tf.versions_of(r)])
def test_every_root_plans_the_same_resources_on_every_provider_version(plan, root, version):
    assert created(plan(root, version)) == created(plan(root, tf.NEWEST))


def test_policies_are_rendered_in_the_plan(plan):
    """The stub renders aws_iam_policy_document for real: the trust policy is known at plan time."""
    trust = json.loads(after(plan(COMPLETE), M + "aws_iam_role.lambda")["assume_role_policy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                   "Principal": {"Service": "lambda.amazonaws.com"}}]


def test_default_tags_reach_tags_all(plan):
    tags_all = after(plan(COMPLETE), M + "aws_lambda_function.this")["tags_all"]
    assert tags_all["Project"] == "imgresize" and tags_all["Example"] == "complete"


def test_the_consumer_subscribes_to_the_completion_events_on_its_own_bus(plan):
    """The consumer's rule takes the module's pattern output; the module publishes to the consumer's bus."""
    consumer = plan(CONSUMER)
    rule = after(consumer, "aws_cloudwatch_event_rule.images_done")
    assert json.loads(rule["event_pattern"]) == {"source": ["photos"],
                                                 "detail-type": ["Image Resized", "Image Rejected"]}
    assert rule["event_bus_name"] == "photo-events"
