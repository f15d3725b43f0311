#!/usr/bin/env python3
"""Real Terraform, offline: `fmt -check`, `init`, `validate`, `plan` and `show -json` of the module,
its examples and every root listed in ROOTS, against the aws provider stub (tests/iac/provider/stub.py)
serving each provider version of tests/iac/schema/; `plan` of the VARIANTS of a root's inputs;
`terraform test` of the module (its own
terraform/tests/*.tftest.hcl); the broken fixtures of BROKEN must fail; and
tests/iac/render.py must render every sample of template_samples.json exactly as templatefile() does.

    tests/iac/terraform.py [--plans DIR] [--jobs N] [--write-rendered]

Prints one line per step and a summary line "terraform check: ..."; exit status 1 on any failure.
Without a `terraform` binary on PATH (or $TERRAFORM) it prints a SKIP line and exits 0.
--plans DIR keeps each plan as DIR/<root with / as __>@<version>.json (`terraform show -json`) for
the pytest suite (test_terraform.py), which otherwise runs the plans it needs itself.

Nothing is written into the repository: the roots are copied, with their relative layout, into a
temporary directory, one copy per provider version (Terraform writes .terraform.lock.hcl next to a root), TF_DATA_DIR points there,
and TF_CLI_CONFIG_FILE is a config of our own whose filesystem_mirror holds exactly one version of
hashicorp/aws (a wrapper that starts the stub with that version's schema), so `terraform init` works
offline, installs local modules, and picks that version under the roots' own constraints.
Python standard library only (runs with any python3 >= 3.9).
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
STUB = HERE / "provider" / "stub.py"
STUB_PYTHON = REPO / ".tools" / "iac" / "provider" / "bin" / "python"

# Provider versions: the module's lower bound and the newest of each major it accepts
# (tests/iac/schema/aws-<version>.json.gz).
VERSIONS = ["5.26.0", "5.100.0", "6.66.0"]
NEWEST = VERSIONS[-1]

# Every root module that must validate and plan, repo-relative, with the inputs of its plan.
# The check, the plans kept for pytest and test_terraform.py all read this table.
# "versions": the provider versions to run it with (default: all of VERSIONS).
ROOTS = {
    # The module alone needs only its package; the examples run it under every provider version.
    "terraform": {"versions": [NEWEST], "vars": {"lambda_s3_bucket": "artifacts", "lambda_s3_key": "imgresize/imgresize-0.1.0-arm64.zip"}},
    "terraform/examples/complete": {"var_file": "terraform.tfvars"},
    "terraform/examples/existing-buckets": {"var_file": "terraform.tfvars.example"},
    # A user's stack: the module copied out of the repository (its modules/imgresize link is
    # dereferenced by the copy), existing buckets, a zip in S3, AWS China.
    "tests/iac/consumer": {},
}

# Inputs that switch the module's optional parts on or off: each must plan too (count/for_each,
# conditions and preconditions under that input), against the newest provider, after ROOTS ran.
# Each variant's inputs are added to (or replace) the root's own "vars".
VARIANTS = {
    "terraform": {
        "no API": {"create_api": "false"},
        "no S3 trigger": {"enable_s3_trigger": "false"},
        "no trigger, no API": {"enable_s3_trigger": "false", "create_api": "false"},
        "no alarms": {"create_alarms": "false"},
        "no EventBridge DLQ": {"create_eventbridge_dlq": "false"},
        "SNS topic with e-mail": {"create_sns_topic": "true", "alarm_email_addresses": '["ops@example.com"]'},
        "x86_64, suffixes, versioning": {"architectures": '["x86_64"]', "source_suffixes": '[".jpg", ".png"]',
                                         "enable_versioning": "true"},
    },
}

# Broken fixtures: each must make real Terraform fail, at `validate` or at `plan`, with this error.
FIXTURES = HERE / "tf_fixtures"
BROKEN = {
    "misspelled_argument": 'An argument named "bucket_prefx" is not expected here',
    "wrong_type": 'Inappropriate value for attribute "memory_size"',
    "bad_variable_value": "Invalid value for variable",
    "missing_reference": "Reference to undeclared resource",
}

# Terraform's own rendering of every sample of template_samples.json (see check_templates).
RENDERED = HERE / "template_samples.rendered.json"

# What the copy holds: every tree a root may reach through a relative module source. The module's
# `terraform test` files are its own, terraform/tests/*.tftest.hcl.
COPIED = ["terraform", "tests/iac/tf_fixtures", "tests/iac/consumer"]
# The module's default zip path (<repo>/target/lambda/<arch>/...): filebase64sha256() reads it at plan.
DUMMY_ZIPS = [f"target/lambda/{arch}/imgresize-lambda/bootstrap.zip" for arch in ("arm64", "x86_64")]

TIMEOUT = 300  # seconds for any one terraform command


def versions_of(rel):
    return ROOTS[rel].get("versions", VERSIONS)


def terraform_binary():
    found = os.environ.get("TERRAFORM") or shutil.which("terraform")
    return found if found and os.access(found, os.X_OK) else None


def terraform_version(binary):
    out = subprocess.run([binary, "version", "-json"], capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)["terraform_version"]


class Workspace:
    """A temporary copy of the roots plus one provider mirror and CLI config per provider version."""

    def __init__(self, binary):
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="iac-terraform-"))
        for version in VERSIONS:
            self.write_copy(version)
            self.write_mirror(version)
        self.cache = self.dir / "stub-cache"
        self.cache.mkdir()
        self.types = declared_types(self.repo(NEWEST))

    def repo(self, version):
        """The copy used with one provider version: init writes the lock file into each root."""
        return self.dir / f"repo-{version}"

    def write_copy(self, version):
        for rel in COPIED:
            if (REPO / rel).exists():
                shutil.copytree(REPO / rel, self.repo(version) / rel,
                                ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
        for rel in DUMMY_ZIPS:
            dummy_zip(self.repo(version) / rel)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_mirror(self, version):
        plugin = (self.dir / f"mirror-{version}" / "registry.terraform.io" / "hashicorp" / "aws" / version
                  / "linux_amd64" / f"terraform-provider-aws_v{version}")
        plugin.parent.mkdir(parents=True)
        plugin.write_text(f'#!/bin/sh\nexec "{STUB_PYTHON}" "{STUB}" --schema-version {version} "$@"\n')
        plugin.chmod(0o755)
        (self.dir / f"cli-{version}.tfrc").write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{self.dir / f"mirror-{version}"}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n')

    def env(self, version, data_dir):
        env = dict(os.environ)
        env.update({
            "TF_CLI_CONFIG_FILE": str(self.dir / f"cli-{version}.tfrc"),
            "TF_DATA_DIR": str(data_dir),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "IAC_STUB_CACHE": str(self.cache),
            "IAC_STUB_TYPES": ",".join(sorted(self.types)),
        })
        return env

    def run(self, rel, version, args):
        """Run one terraform command in the copy of root `rel`; returns (exit status, output)."""
        data_dir = self.dir / "data" / f"{rel.replace('/', '__')}@{version}"
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            out = subprocess.run([self.binary, *args, "-no-color"], cwd=self.repo(version) / rel,
                                 env=self.env(version, data_dir), capture_output=True, text=True,
                                 timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return 124, f"terraform {args[0]} timed out after {TIMEOUT}s"
        return out.returncode, out.stdout + out.stderr

    def test(self, rel, version):
        """(ok, line, output) of `terraform test` (the root's tests/*.tftest.hcl) in the copy of root `rel`."""
        rc, out = self.run(rel, version, ["init", "-input=false", "-backend=false"])
        if rc == 0:
            rc, out = self.run(rel, version, ["test"])
        summary = re.findall(r"^(?:Success!|Failure!) .*$", out, re.M)
        return rc == 0, f"{rel} aws {version}: terraform test: {summary[-1] if summary else first_error(out)}", out

    def plan_variant(self, rel, inputs):
        """`terraform plan` of an already initialised root (ROOTS ran first) with other inputs;
        several may run at once in one root: no state, no lock, no plan file."""
        return self.run(rel, NEWEST, ["plan", "-input=false", "-lock=false"]
                        + [f"-var={k}={v}" for k, v in inputs.items()])

    def plan(self, rel, version, inputs):
        """init, validate, plan, show -json for one root and version.
        Returns (failed step or None, output of the last step, plan JSON or None)."""
        plan_file = self.dir / "data" / f"{rel.replace('/', '__')}@{version}.tfplan"
        steps = [
            ("init", ["init", "-input=false", "-backend=false"]),
            ("validate", ["validate"]),
            ("plan", ["plan", "-input=false", "-lock=false", f"-out={plan_file}"]
             + ([f"-var-file={inputs['var_file']}"] if inputs.get("var_file") else [])
             + [f"-var={k}={v}" for k, v in inputs.get("vars", {}).items()]),
            ("show", ["show", "-json", str(plan_file)]),
        ]
        out, warnings = "", []
        for name, args in steps:
            rc, out = self.run(rel, version, args)
            if rc != 0:
                return name, out, None, warnings
            if name in ("validate", "plan"):  # init warns that the lock file lacks other platforms' hashes
                warnings += [f"{name}: {w}" for w in re.findall(r"^(?:│ )?Warning: (.*)$", out, re.M)]
        return None, out, json.loads(out), sorted(set(warnings))


def render_with_terraform(binary, samples, templates_dir):
    """{template: text} as Terraform's own templatefile() renders each sample of
    template_samples.json: a root with no provider, one output per template, applied in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="iac-templates-") as tmp:
        names = sorted(samples)
        outputs = "".join(
            f'output "t{i}" {{\n  value = templatefile("{templates_dir / name}", var.samples["{name}"])\n}}\n'
            for i, name in enumerate(names))
        Path(tmp, "main.tf").write_text('variable "samples" {\n  type = any\n}\n' + outputs)
        Path(tmp, "samples.auto.tfvars.json").write_text(json.dumps({"samples": samples}))
        env = dict(os.environ, TF_DATA_DIR=str(Path(tmp, ".terraform")), TF_IN_AUTOMATION="1",
                   CHECKPOINT_DISABLE="1", TF_CLI_CONFIG_FILE=os.devnull)
        for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
            subprocess.run([binary, *args, "-no-color"], cwd=tmp, env=env, check=True,
                           capture_output=True, text=True, timeout=TIMEOUT)
        out = subprocess.run([binary, "output", "-json"], cwd=tmp, env=env, check=True,
                             capture_output=True, text=True, timeout=TIMEOUT)
        values = json.loads(out.stdout)
        return {name: values[f"t{i}"]["value"] for i, name in enumerate(names)}


def check_templates(binary, write=False):
    """(ok, line, detail): render.py (the renderer the statelint/asl checks use) must give exactly
    what Terraform's templatefile() gives for every sample, and so must RENDERED, the committed copy
    of Terraform's output that checks without Terraform (pytest, the Rust suites) compare against.
    write=True rewrites RENDERED from Terraform's output instead of comparing it."""
    sys.path.insert(0, str(HERE))
    import render  # noqa: E402 - tests/iac/render.py, stdlib only
    samples = render.samples()
    try:
        by_terraform = render_with_terraform(binary, samples, REPO / "terraform" / "templates")
    except subprocess.CalledProcessError as exc:
        return False, "templates: templatefile() failed", exc.stdout + exc.stderr
    if write:
        RENDERED.write_text(json.dumps(by_terraform, indent=2, sort_keys=True) + "\n")
    committed = json.loads(RENDERED.read_text()) if RENDERED.exists() else {}
    if committed != by_terraform:
        stale = sorted(n for n in by_terraform if committed.get(n) != by_terraform[n])
        return False, (f"templates: {RENDERED.name} is stale for {', '.join(stale)}: "
                       "run tests/iac/terraform.py --write-rendered"), ""
    differ = [name for name in sorted(samples) if render.render_sample(name) != by_terraform[name]]
    if differ:
        return False, f"templates: render.py differs from templatefile() for {', '.join(differ)}", ""
    return True, (f"templates: render.py and {RENDERED.name} give what templatefile() gives "
                  f"for all {len(samples)} samples"), ""


def dummy_zip(path):
    """An empty but valid zip file: the module hashes the package with filebase64sha256()."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)


def declared_types(tree):
    """Resource and data source types declared anywhere in the copied trees (see stub.py,
    served_types: the stub serves these only, which Terraform reads much faster)."""
    found = set()
    for f in tree.rglob("*.tf"):
        for kind, name in re.findall(r'^\s*(resource|data)\s+"(aws_[a-z0-9_]+)"', f.read_text(), re.M):
            found.add(name if kind == "resource" else "data." + name)
    return found


def planned_addresses(plan_json, actions=("create",)):
    """Resource addresses the plan creates (or takes any of `actions` on), sorted."""
    return sorted(rc["address"] for rc in plan_json.get("resource_changes", [])
                  if any(a in rc["change"]["actions"] for a in actions))


def first_error(output):
    m = re.search(r"^(?:│ )?Error: (.*)$", output, re.M)
    return m.group(1).strip() if m else output.strip().splitlines()[-1] if output.strip() else "no output"


def plan_name(rel, version):
    return f"{rel.replace('/', '__')}@{version}.json"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plans", type=Path, help="keep each plan's JSON in this directory")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--write-rendered", action="store_true",
                    help=f"rewrite {RENDERED.name} from templatefile() (after a template or sample changes)")
    args = ap.parse_args(argv)
    binary = terraform_binary()
    if binary is None:
        print("SKIP: no terraform binary on PATH (or $TERRAFORM): real Terraform checks not run")
        print("terraform check: skipped (terraform not installed)")
        return 0
    if not STUB_PYTHON.exists():
        print(f"{STUB_PYTHON} missing: run tests/iac/setup.sh")
        return 1
    version = terraform_version(binary)
    start = time.time()
    failures = []
    ws = Workspace(binary)
    try:
        rc, out = ws.run(".", NEWEST, ["fmt", "-check", "-recursive", "-diff", *COPIED])
        line = "fmt -check -recursive " + " ".join(COPIED)
        report(rc == 0, line, out, failures)

        jobs = [(rel, v) for rel in ROOTS for v in versions_of(rel)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda job: (job, ws.plan(job[0], job[1], ROOTS[job[0]])), jobs))
        for (rel, v), (failed, out, plan, warnings) in results:
            if failed:
                report(False, f"{rel} aws {v}: {failed} failed: {first_error(out)}", out, failures)
                continue
            n = len(planned_addresses(plan))
            report(True, f"{rel} aws {v}: init, validate, plan OK ({n} to create, "
                         f"{len(warnings)} warning(s))", "", failures)
            for w in warnings:
                print(f"      warning: {w}")
            if args.plans:
                args.plans.mkdir(parents=True, exist_ok=True)
                (args.plans / plan_name(rel, v)).write_text(json.dumps(plan))

        variants = [(rel, name, inputs) for rel, named in VARIANTS.items() for name, inputs in named.items()]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(
                lambda job: (job, ws.plan_variant(job[0], {**ROOTS[job[0]].get("vars", {}), **job[2]})), variants))
        for (rel, name, _), (rc, out) in results:
            summary = re.findall(r"^Plan: .*$", out, re.M)
            what = summary[-1] if rc == 0 and summary else f"failed: {first_error(out)}"
            report(rc == 0, f"{rel} aws {NEWEST} with {name}: {what}", out, failures)

        report(*check_templates(binary, args.write_rendered), failures)
        report(*ws.test("terraform", NEWEST), failures)

        fixtures = {name: f"tests/iac/tf_fixtures/{name}" for name in BROKEN}
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda name: (name, ws.plan(fixtures[name], NEWEST, {})), BROKEN))
        for name, (failed, out, _, _) in results:
            ok = failed in ("validate", "plan") and BROKEN[name] in out
            what = f"fails at {failed}: {first_error(out)}" if failed else "passed, but must fail"
            report(ok, f"broken fixture {name} {what}", out, failures)
    finally:
        ws.close()
    total = 3 + len(jobs) + len(variants) + len(BROKEN)
    print(f"terraform check: {total - len(failures)}/{total} OK with Terraform {version} "
          f"(aws {', '.join(VERSIONS)}), {time.time() - start:.0f}s")
    return 1 if failures else 0


def report(ok, line, output, failures):
    print(("ok    " if ok else "FAIL  ") + line)
    if not ok:
        failures.append(line)
        print("      " + "\n      ".join(output.strip().splitlines()[-40:]))


if __name__ == "__main__":
    sys.exit(main())
