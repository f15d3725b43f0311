"""The provider stub's own logic (tests/iac/provider): the policy renderer gives AWS's JSON shape,
and the typed schemas it serves hold what the module needs. Pure Python: runs in the hcl venv."""
import gzip
import json
import sys

import pytest

from conftest import HERE

sys.path.insert(0, str(HERE / "provider"))
from policy_document import render_policy_document  # noqa: E402


def test_one_value_is_a_string_more_are_a_reverse_sorted_list():
    doc = render_policy_document({"statement": [{
        "sid": "Read", "effect": None, "actions": ["s3:GetObject", "s3:ListBucket"],
        "resources": ["arn:aws:s3:::b/*"], "principals": None, "condition": None}]})
    assert doc == {"Version": "2012-10-17", "Statement": [{
        "Sid": "Read", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
        "Resource": "arn:aws:s3:::b/*"}]}


def test_principals_and_conditions():
    doc = render_policy_document({"statement": [
        {"effect": "Deny", "actions": ["s3:*"], "principals": [{"type": "*", "identifiers": ["*"]}],
         "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]},
        {"actions": ["sts:AssumeRole"],
         "principals": [{"type": "Service", "identifiers": ["states.amazonaws.com"]}],
         "condition": [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["123456789012"]}]},
    ]})
    deny, trust = doc["Statement"]
    assert deny["Principal"] == "*" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_override_replaces_the_statement_with_the_same_sid():
    base = {"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject"}]}
    override = {"Statement": [{"Sid": "A", "Effect": "Deny", "Action": "s3:GetObject"}]}
    doc = render_policy_document({"source_policy_documents": [json.dumps(base)],
                                  "override_policy_documents": [json.dumps(override)]})
    assert doc["Statement"] == override["Statement"]


@pytest.mark.parametrize("version", ["5.26.0", "5.100.0", "6.66.0"])
def test_typed_schema_of_what_the_module_uses(version):
    with gzip.open(HERE / "schema" / f"aws-{version}.json.gz", "rt") as fh:
        schema = json.load(fh)
    assert schema["format"] == 2
    fn = schema["resource"]["aws_lambda_function"]
    assert fn["a"]["function_name"] == ["string", "r"]
    assert fn["a"]["memory_size"] == ["number", "o"]
    assert fn["a"]["arn"] == ["string", "c"]
    assert fn["a"]["tags_all"] == [["map", "string"], "oc"]
    assert fn["b"]["environment"]["n"] == "list" and fn["b"]["environment"]["max"] == 1
    assert fn["b"]["timeouts"]["n"] == "single"
    statement = schema["data"]["aws_iam_policy_document"]["b"]["statement"]
    assert statement["n"] == "list"
    assert statement["s"]["b"]["principals"]["n"] == "set"
    assert statement["s"]["a"]["actions"] == [["set", "string"], "o"]
