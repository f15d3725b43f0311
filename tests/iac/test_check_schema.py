"""The provider schema checker catches each kind of mistake (fixtures) and passes the real module."""
import pytest

import check_schema
from conftest import HERE, MODULE, EXAMPLES

FIXTURES = HERE / "fixtures"

# fixture directory → (fragment of the expected message, versions it must be reported for)
EXPECTED = {
    "misspelled_argument": ('aws_s3_bucket.originals: unknown argument or block "bucket_prefx" (did you mean "bucket_prefix"?)', "5.26.0, 5.100.0, 6.66.0"),
    "block_as_argument": ('aws_lambda_function.this: block "environment" is written as an argument', "5.26.0, 5.100.0, 6.66.0"),
    "argument_as_block": ('aws_sqs_queue.dlq: argument "tags" is written as a block', "5.26.0, 5.100.0, 6.66.0"),
    "missing_required_argument": ('aws_sfn_state_machine.this: required argument "role_arn" is missing', "5.26.0, 5.100.0, 6.66.0"),
    "unknown_nested_argument": ('aws_lambda_function.this.tracing_config: unknown argument or block "mod"', "5.26.0, 5.100.0, 6.66.0"),
    "unknown_resource_type": ('aws_s3_buckets.originals: unknown resource type "aws_s3_buckets"', "5.26.0, 5.100.0, 6.66.0"),
    "removed_in_6": ('aws_api_gateway_deployment.this: unknown argument or block "stage_name"', "6.66.0"),
    "new_in_6": ('aws_sqs_queue.dlq: unknown argument or block "region"', "5.26.0, 5.100.0"),
    "bad_module_input": ('module.imgresize: module has no variable "memory_mb"', "module"),
}


@pytest.fixture(scope="module")
def schemas():
    return check_schema.load_schemas(check_schema.schema_paths())


def test_lower_bound_and_newest_of_each_major(schemas):
    assert [s["version"] for s in schemas] == ["5.26.0", "5.100.0", "6.66.0"]
    for s in schemas:
        assert len(s["resource"]) > 1200 and len(s["data"]) > 500
        assert "aws_caller_identity" in s["data"] and "aws_iam_policy_document" in s["data"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_reported(name, schemas):
    fragment, versions = EXPECTED[name]
    findings = check_schema.check([FIXTURES / name], schemas)
    matching = [f for f in findings if fragment in f]
    assert matching, f"{name}: expected {fragment!r}, got {findings}"
    assert all(f.endswith(f"[{versions}]") for f in matching), matching
    # one mistake per fixture (a misspelled nested argument also leaves its required one missing)
    assert len(findings) <= 2, findings


def test_every_fixture_directory_has_an_expectation():
    dirs = {p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "checkov_violations"}
    assert dirs == set(EXPECTED)


def test_module_and_examples_pass(schemas):
    findings = check_schema.check([MODULE, *EXAMPLES], schemas)
    assert findings == []


def test_cli_exit_status():
    assert check_schema.main([str(FIXTURES / "misspelled_argument")]) == 1
    assert check_schema.main([str(MODULE), *map(str, EXAMPLES)]) == 0
