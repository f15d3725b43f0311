#!/usr/bin/env python3
"""A stand-in for the hashicorp/aws provider, faithful to its schema, so the real Terraform core can
`validate` and `plan` the module offline (no provider can be downloaded here).

    stub.py --schema-version 5.100.0      (started by Terraform, through the wrapper that
                                           tests/iac/terraform.py writes into its provider mirror)

What it serves, from tests/iac/schema/aws-<version>.json.gz (generate.py, format 2):
- every resource and data source of that provider version with its attributes' types,
  required/optional/computed flags and nested blocks (nesting mode, min/max items); resource types
  whose schema the CDK package leaves partly untyped (a block typed `any`) are served without that
  block's contents checked: such a block accepts no arguments (none of them is used by the module);
- the provider configuration: region, profile, credentials, default_tags, ignore_tags, assume_role, ...;
- plans: computed attributes the configuration leaves null are unknown ("known after apply"), as the
  real provider plans a create; `tags_all` is `default_tags` merged with `tags`, as the real one does;
- data sources: aws_partition, aws_region, aws_caller_identity (account 123456789012) with realistic
  values, aws_iam_policy_document rendered for real (its `json` in AWS's shape); any other data source
  gets placeholder values for its computed attributes.
The partition follows the provider's region (cn-* -> aws-cn, us-gov-* -> aws-us-gov) unless
IAC_STUB_PARTITION says otherwise; IAC_STUB_ACCOUNT_ID overrides the account.
It never creates anything: apply, import and refresh of real objects are refused with an error.

The PyPI package `tf` supplies the plugin transport (go-plugin handshake, mTLS, gRPC server and the
protocol 6 messages); its own schema classes cannot express list nesting or object types, so this file
builds the protocol's schema messages itself and implements the provider service directly.
"""
import argparse
import copy
import gzip
import hashlib
import json
import os
import sys
from pathlib import Path

from tf import provider as tf_provider
from tf import runner
from tf.gen import tfplugin_pb2 as pb
from tf.types import Unknown
from tf.utils import read_dynamic_value, to_dynamic_value

from policy_document import render_policy_document

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schema"
NESTING = {"single": pb.Schema.NestedBlock.SINGLE, "list": pb.Schema.NestedBlock.LIST,
           "set": pb.Schema.NestedBlock.SET}
PARTITIONS = {
    "aws": ("amazonaws.com", "com.amazonaws"),
    "aws-cn": ("amazonaws.com.cn", "cn.com.amazonaws"),
    "aws-us-gov": ("amazonaws.com", "com.amazonaws"),
}
S = "string"
# The provider block's own schema: what the examples and a consumer write (not the ~250 endpoints).
PROVIDER_SCHEMA = {
    "a": {
        "region": [S, "o"], "profile": [S, "o"], "access_key": [S, "o"], "secret_key": [S, "o"],
        "token": [S, "o"], "max_retries": ["number", "o"], "shared_config_files": [["list", S], "o"],
        "shared_credentials_files": [["list", S], "o"], "allowed_account_ids": [["set", S], "o"],
        "forbidden_account_ids": [["set", S], "o"], "skip_credentials_validation": ["bool", "o"],
        "skip_metadata_api_check": [S, "o"], "skip_region_validation": ["bool", "o"],
        "skip_requesting_account_id": ["bool", "o"], "s3_use_path_style": ["bool", "o"],
        "sts_region": [S, "o"], "retry_mode": [S, "o"], "use_fips_endpoint": ["bool", "o"],
        "use_dualstack_endpoint": ["bool", "o"], "insecure": ["bool", "o"],
    },
    "b": {
        "default_tags": {"n": "list", "min": 0, "max": 1, "s": {"a": {"tags": [["map", S], "o"]}}},
        "ignore_tags": {"n": "list", "min": 0, "max": 1,
                        "s": {"a": {"keys": [["set", S], "o"], "key_prefixes": [["set", S], "o"]}}},
        "assume_role": {"n": "list", "min": 0, "max": 1,
                        "s": {"a": {"role_arn": [S, "o"], "session_name": [S, "o"], "external_id": [S, "o"],
                                    "duration": [S, "o"], "policy": [S, "o"]}}},
        "endpoints": {"n": "set", "min": 0, "max": 0,
                      "s": {"a": {k: [S, "o"] for k in (
                          "apigateway", "cloudwatch", "cloudwatchlogs", "events", "iam", "lambda", "s3",
                          "sfn", "sns", "sqs", "sts", "wafv2")}}},
    },
}


# ------------------------------------------------------------------------------- schema messages

def block_pb(spec):
    """protocol Schema.Block of a generate.py spec (None: a block the package leaves untyped)."""
    spec = spec or {"a": {}}
    attrs = []
    for name, (tf_type, flags) in sorted(spec["a"].items()):
        attrs.append(pb.Schema.Attribute(
            name=name, type=json.dumps(tf_type).encode(), required=flags == "r",
            optional=flags in ("o", "oc"), computed=flags in ("c", "oc")))
    blocks = []
    for name, b in sorted(spec.get("b", {}).items()):
        blocks.append(pb.Schema.NestedBlock(
            type_name=name, block=block_pb(b["s"]), nesting=NESTING[b["n"]],
            min_items=b["min"], max_items=b["max"]))
    return pb.Schema.Block(attributes=attrs, block_types=blocks)


def served_types():
    """IAC_STUB_TYPES="aws_s3_bucket,data.aws_partition,...": serve only these (None: everything).
    Terraform reads the whole schema at every provider start (~1 s for 2,300 types, several starts per
    command); a configuration can only use the types it declares, so the runner passes the types the
    checked roots declare and the answers stay the same, a type the provider lacks included."""
    raw = os.environ.get("IAC_STUB_TYPES")
    return None if raw is None else set(filter(None, raw.split(",")))


def schema_response(schema):
    wanted = served_types()

    def pick(kind, prefix):
        return {k: pb.Schema(block=block_pb(v)) for k, v in schema[kind].items()
                if wanted is None or prefix + k in wanted}

    return pb.GetProviderSchema.Response(
        provider=pb.Schema(block=block_pb(PROVIDER_SCHEMA)),
        provider_meta=pb.Schema(block=pb.Schema.Block()),
        resource_schemas=pick("resource", ""),
        data_source_schemas=pick("data", "data."),
    )


def cached_schema_response(path, schema):
    """Building ~2,300 schemas takes about a second; Terraform starts the provider several times per
    command, so the serialized response is kept in IAC_STUB_CACHE (a temp dir of the runner)."""
    cache_dir = os.environ.get("IAC_STUB_CACHE")
    if not cache_dir:
        return schema_response(schema)
    key = hashlib.sha256(path.read_bytes() + Path(__file__).read_bytes()
                         + os.environ.get("IAC_STUB_TYPES", "*").encode()).hexdigest()[:16]
    cached = Path(cache_dir) / f"schema-{schema['version']}-{key}.pb"
    if cached.exists():
        return pb.GetProviderSchema.Response.FromString(cached.read_bytes())
    resp = schema_response(schema)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(resp.SerializeToString())
    os.replace(tmp, cached)  # atomic: parallel provider processes may race
    return resp


# ------------------------------------------------------------------------------- values

def placeholder(tf_type, name, ctx):
    """A known value of the given type for a computed attribute of a data source."""
    if tf_type == "string":
        if name.endswith("arn"):
            return f"arn:{ctx['partition']}:stub:{ctx['region']}:{ctx['account_id']}:{name}"
        return f"stub-{name}"
    if tf_type == "number":
        return 0
    if tf_type == "bool":
        return False
    if tf_type == "dynamic":
        return None
    kind = tf_type[0]
    if kind in ("list", "set"):
        return []
    if kind == "map":
        return {}
    return {k: None for k in tf_type[1]}  # object


def mark_unknown(spec, value, prior):
    """Planned value of one block body: computed attributes left null become unknown (a create,
    or an attribute the prior state does not hold)."""
    if spec is None or not isinstance(value, dict):
        return value
    for name, (_, flags) in spec["a"].items():
        if flags in ("c", "oc") and value.get(name) is None:
            old = (prior or {}).get(name) if isinstance(prior, dict) else None
            value[name] = old if old is not None else Unknown
    for name, b in spec.get("b", {}).items():
        inner = value.get(name)
        if isinstance(inner, list):
            value[name] = [mark_unknown(b["s"], item, None) for item in inner]
        elif isinstance(inner, dict):
            value[name] = mark_unknown(b["s"], inner, None)
    return value


def is_known(value):
    if value is Unknown:
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def diag(summary, detail=""):
    return pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary, detail=detail)


# ------------------------------------------------------------------------------- the service

class StubServicer(tf_provider.rpc.ProviderServicer):
    def __init__(self, schema_path):
        with gzip.open(schema_path, "rt") as fh:
            self.schema = json.load(fh)
        self.schema_path = schema_path
        self.version = self.schema["version"]
        self.default_tags = {}
        self.ctx = {"region": "us-east-1", "partition": "aws", "account_id": "123456789012"}

    # -- schema and configuration
    def GetMetadata(self, request, context):
        return pb.GetMetadata.Response(server_capabilities=pb.ServerCapabilities(
            plan_destroy=True, get_provider_schema_optional=True))

    def GetProviderSchema(self, request, context):
        return cached_schema_response(self.schema_path, self.schema)

    def ValidateProviderConfig(self, request, context):
        return pb.ValidateProviderConfig.Response()

    def ValidateResourceConfig(self, request, context):
        return pb.ValidateResourceConfig.Response()

    def ValidateDataResourceConfig(self, request, context):
        return pb.ValidateDataResourceConfig.Response()

    def ConfigureProvider(self, request, context):
        config = read_dynamic_value(request.config) or {}
        region = config.get("region") or os.environ.get("AWS_REGION") or "us-east-1"
        if region is Unknown:
            region = "us-east-1"
        partition = os.environ.get("IAC_STUB_PARTITION") or (
            "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws")
        if partition not in PARTITIONS:
            return pb.ConfigureProvider.Response(diagnostics=[diag(f"unknown partition {partition}")])
        self.ctx = {"region": region, "partition": partition,
                    "account_id": os.environ.get("IAC_STUB_ACCOUNT_ID", "123456789012")}
        default_tags = config.get("default_tags") or []
        self.default_tags = (default_tags[0].get("tags") if default_tags else None) or {}
        return pb.ConfigureProvider.Response()

    # -- resources
    def UpgradeResourceState(self, request, context):
        state = json.loads(request.raw_state.json) if request.raw_state.json else None
        return pb.UpgradeResourceState.Response(upgraded_state=to_dynamic_value(state))

    def ReadResource(self, request, context):
        return pb.ReadResource.Response(new_state=request.current_state, private=request.private)

    def PlanResourceChange(self, request, context):
        proposed = read_dynamic_value(request.proposed_new_state)
        if proposed is None:  # destroy
            return pb.PlanResourceChange.Response(planned_state=request.proposed_new_state)
        prior = read_dynamic_value(request.prior_state)
        spec = self.schema["resource"][request.type_name]
        planned = mark_unknown(spec, copy.deepcopy(proposed), prior)
        if "tags_all" in spec["a"] and prior is None:
            tags = proposed.get("tags") or {}
            planned["tags_all"] = ({**self.default_tags, **tags}
                                   if is_known(tags) and is_known(self.default_tags) else Unknown)
        return pb.PlanResourceChange.Response(planned_state=to_dynamic_value(planned),
                                              legacy_type_system=True)

    def ApplyResourceChange(self, request, context):
        return pb.ApplyResourceChange.Response(diagnostics=[diag(
            "the offline aws stub cannot apply", "tests/iac/provider/stub.py only validates and plans")])

    def ImportResourceState(self, request, context):
        return pb.ImportResourceState.Response(diagnostics=[diag("the offline aws stub cannot import")])

    # -- data sources
    def ReadDataSource(self, request, context):
        config = read_dynamic_value(request.config) or {}
        spec = self.schema["data"][request.type_name]
        try:
            state = self.read_data(request.type_name, spec, config)
        except ValueError as exc:
            return pb.ReadDataSource.Response(diagnostics=[diag(f"{request.type_name}: {exc}")])
        return pb.ReadDataSource.Response(state=to_dynamic_value(state))

    def read_data(self, type_name, spec, config):
        ctx = self.ctx
        dns_suffix, reverse = PARTITIONS[ctx["partition"]]
        known = {
            "aws_partition": {"id": ctx["partition"], "partition": ctx["partition"],
                              "dns_suffix": dns_suffix, "reverse_dns_prefix": reverse},
            "aws_region": {"id": ctx["region"], "name": ctx["region"], "region": ctx["region"],
                           "endpoint": f"ec2.{ctx['region']}.{dns_suffix}",
                           "description": f"stub description of {ctx['region']}"},
            "aws_caller_identity": {"id": ctx["account_id"], "account_id": ctx["account_id"],
                                    "arn": f"arn:{ctx['partition']}:iam::{ctx['account_id']}:user/terraform",
                                    "user_id": "AIDAEXAMPLEUSERID0001"},
        }.get(type_name, {})
        if type_name == "aws_iam_policy_document":
            doc = render_policy_document(config)
            known = {"json": json.dumps(doc, indent=2), "minified_json": json.dumps(doc, separators=(",", ":")),
                     "id": str(abs(hash(json.dumps(doc, sort_keys=True))))}
        state = dict(config)
        for name, (tf_type, flags) in spec["a"].items():
            if name in known and (flags == "c" or state.get(name) is None):
                state[name] = known[name]
            elif flags in ("c", "oc") and state.get(name) is None:
                state[name] = placeholder(tf_type, name, ctx)
        return state


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema-version", required=True)
    args, rest = ap.parse_known_args(argv[1:])
    schema_path = SCHEMA_DIR / f"aws-{args.schema_version}.json.gz"
    servicer = StubServicer(schema_path)
    # run_provider() builds tf.provider.ProviderServicer(provider): serve ours instead.
    tf_provider.ProviderServicer = lambda _app: servicer
    runner.run_provider(StubApp(), [argv[0], *rest])
    # Terraform has closed the connection: skip the interpreter's teardown of gRPC's threads
    # (~0.2 s per provider start, and Terraform starts it several times per command).
    sys.stdout.flush()
    os._exit(0)


class StubApp:
    """What tf.runner.run_provider asks of a provider object besides the servicer."""

    def full_name(self):
        return "registry.terraform.io/hashicorp/aws"


if __name__ == "__main__":
    main(sys.argv)
