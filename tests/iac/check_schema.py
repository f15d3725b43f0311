#!/usr/bin/env python3
"""Check Terraform files against the AWS provider schemas committed in tests/iac/schema/.

For every resource and data block: the type exists; every argument and nested block name exists;
arguments are written as `name = value` and blocks as `name { ... }` (also inside `dynamic`);
required arguments and blocks are present; computed-only attributes are not set. Every check runs
against each schema (the module's lower bound 5.26.0, and 5.100.0 / 6.66.0, the newest of each major
it accepts), so a name one version lacks is reported for that version.
Module calls with a local source are checked against that module's variables.

    check_schema.py [--schema FILE.json.gz ...] [PATH ...]

PATH is a .tf file or a directory (its *.tf files, not recursive). Default: terraform/ and
terraform/examples/*/ of this repository. Exit status 1 when anything is reported.
Runs in the python-hcl2 virtual environment (see tests/iac/setup.sh).
"""
import argparse
import difflib
import gzip
import json
import re
import sys
from pathlib import Path

import hcl2

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = Path(__file__).resolve().parent / "schema"

META_ARGS = {"count", "for_each", "provider", "depends_on"}
META_BLOCKS = {"lifecycle", "connection", "provisioner"}
LIFECYCLE = {
    "a": {"create_before_destroy": 0, "prevent_destroy": 0, "ignore_changes": 0, "replace_triggered_by": 0},
    "b": {"precondition": [0, {"a": {"condition": 1, "error_message": 1}}],
          "postcondition": [0, {"a": {"condition": 1, "error_message": 1}}]},
}


def unquote(label):
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def is_block_list(value):
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, dict) and v.get("__is_block__") for v in value)


def schema_paths():
    """Every committed schema, oldest provider version first (aws-5.26.0, aws-5.100.0, aws-6.66.0)."""
    def version(p):
        return tuple(int(x) for x in p.name[len("aws-"):-len(".json.gz")].split("."))
    return sorted(SCHEMA_DIR.glob("aws-*.json.gz"), key=version)


def load_schemas(paths):
    schemas = []
    for p in paths:
        with gzip.open(p, "rt") as fh:
            schema = json.load(fh)
        if schema.get("format") == 2:
            for kind in ("resource", "data"):
                schema[kind] = {name: names_only(spec) for name, spec in schema[kind].items()}
        schemas.append(schema)
    return schemas


def names_only(spec):
    """The typed schema (generate.py, format 2) reduced to what this check reads:
    {"a": {arg: 1 if required else 0}, "c": [computed-only attributes],
     "b": {block: [1 if at least one is required else 0, inner or None]}}."""
    if spec is None:
        return None
    out = {"a": {n: int(f == "r") for n, (_, f) in spec["a"].items() if f != "c"},
           "c": sorted(n for n, (_, f) in spec["a"].items() if f == "c")}
    out["b"] = {n: [int(b["min"] > 0), names_only(b["s"])] for n, b in spec.get("b", {}).items()}
    return out


def tf_files(paths):
    files = []
    for p in paths:
        p = Path(p)
        files.extend(sorted(p.glob("*.tf")) if p.is_dir() else [p])
    return files


def line_of(text, pattern):
    m = re.search(pattern, text, re.M)
    return text.count("\n", 0, m.start()) + 1 if m else 0


class Checker:
    def __init__(self, schema):
        self.schema = schema
        self.version = schema["version"]
        self.findings = []  # (where, message)

    def report(self, where, msg):
        self.findings.append((where, msg))

    def body(self, where, body, spec):
        """Check one block body against spec {"a": {...}, "b": {...}}; spec None: unchecked."""
        if spec is None:
            return
        args, blocks = spec.get("a", {}), spec.get("b", {})
        present = set()
        for key, value in body.items():
            if key.startswith("__"):
                continue
            if key == "dynamic":
                for dyn in value if isinstance(value, list) else [value]:
                    for label, dbody in dyn.items():
                        if label.startswith("__"):
                            continue
                        name = unquote(label)
                        present.add(name)
                        if name in args:
                            self.report(where, f"dynamic \"{name}\": {name} is an argument, not a block")
                        elif name not in blocks:
                            self.unknown(where, f"dynamic \"{name}\"", name, args, blocks)
                        else:
                            for content in dbody.get("content", []):
                                self.body(f"{where}.{name}", content, blocks[name][1])
                continue
            present.add(key)
            if key in args:
                if is_block_list(value):
                    self.report(where, f"argument \"{key}\" is written as a block; write {key} = ...")
            elif key in blocks:
                if not is_block_list(value):
                    self.report(where, f"block \"{key}\" is written as an argument; write {key} {{ ... }}")
                else:
                    for item in value:
                        self.body(f"{where}.{key}", item, blocks[key][1])
            elif key in spec.get("c", ()):
                self.report(where, f"\"{key}\" is computed by the provider and cannot be set")
            else:
                self.unknown(where, f"\"{key}\"", key, args, blocks)
        for name, required in args.items():
            if required and name not in present:
                self.report(where, f"required argument \"{name}\" is missing")
        for name, (required, _) in blocks.items():
            if required and name not in present:
                self.report(where, f"required block \"{name}\" is missing")

    def unknown(self, where, shown, key, args, blocks):
        close = difflib.get_close_matches(key, list(args) + list(blocks), n=1)
        hint = f" (did you mean \"{close[0]}\"?)" if close else ""
        self.report(where, f"unknown argument or block {shown}{hint}")

    def top(self, where, kind, rtype, body):
        table = self.schema["resource" if kind == "resource" else "data"]
        if rtype not in table:
            word = "resource type" if kind == "resource" else "data source"
            self.report(where, f"unknown {word} \"{rtype}\"")
            return
        spec = table[rtype]
        meta_checked = {k: v for k, v in body.items() if k in META_BLOCKS or k in META_ARGS}
        rest = {k: v for k, v in body.items() if k not in meta_checked}
        self.body(where, rest, spec)
        if "lifecycle" in body:
            if not is_block_list(body["lifecycle"]):
                self.report(where, "block \"lifecycle\" is written as an argument")
            else:
                for item in body["lifecycle"]:
                    self.body(f"{where}.lifecycle", item, LIFECYCLE)


def module_variables(directory):
    names, required = set(), set()
    for f in sorted(Path(directory).glob("*.tf")):
        with open(f) as fh:
            doc = hcl2.load(fh)
        for var in doc.get("variable", []):
            for label, body in var.items():
                name = unquote(label)
                names.add(name)
                if "default" not in body:
                    required.add(name)
    return names, required


def check_module_call(where, body, base_dir, report):
    source = unquote(str(body.get("source", "")))
    if not source.startswith((".", "/")):
        return  # registry/git modules: not checked here
    target = (base_dir / source).resolve()
    if not target.is_dir():
        report(where, f"module source \"{source}\" does not exist")
        return
    names, required = module_variables(target)
    meta = {"source", "version", "providers", "count", "for_each", "depends_on"}
    for key in body:
        if key.startswith("__") or key in meta:
            continue
        if key not in names:
            close = difflib.get_close_matches(key, sorted(names), n=1)
            hint = f" (did you mean \"{close[0]}\"?)" if close else ""
            report(where, f"module has no variable \"{key}\"{hint}")
    for name in sorted(required - set(body)):
        report(where, f"required module variable \"{name}\" is not set")


def check(paths, schemas):
    """Returns a list of "file:line: kind.type.name: message [aws versions]" strings."""
    by_key = {}
    order = []

    def add(key, version):
        if key not in by_key:
            by_key[key] = []
            order.append(key)
        if version not in by_key[key]:
            by_key[key].append(version)

    for f in tf_files(paths):
        text = f.read_text()
        try:
            doc = hcl2.loads(text)
        except Exception as exc:  # noqa: BLE001 - any parse error is a finding
            add((str(f), 0, "", f"cannot parse: {exc}"), "hcl")
            continue
        rel = str(f.resolve().relative_to(REPO)) if f.resolve().is_relative_to(REPO) else str(f)
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                for rlabel, named in entry.items():
                    rtype = unquote(rlabel)
                    for nlabel, body in named.items():
                        name = unquote(nlabel)
                        line = line_of(text, rf'^\s*{kind}\s+"{re.escape(rtype)}"\s+"{re.escape(name)}"')
                        prefix = "" if kind == "resource" else "data."
                        where = f"{prefix}{rtype}.{name}"
                        for schema in schemas:
                            c = Checker(schema)
                            c.top(where, kind, rtype, body)
                            for w, msg in c.findings:
                                add((rel, line, w, msg), schema["version"])
        for entry in doc.get("module", []):
            for mlabel, body in entry.items():
                name = unquote(mlabel)
                line = line_of(text, rf'^\s*module\s+"{re.escape(name)}"')
                check_module_call(f"module.{name}", body, f.parent,
                                  lambda w, msg: add((rel, line, w, msg), "module"))
    out = []
    for key in order:
        rel, line, where, msg = key
        versions = ", ".join(by_key[key])
        out.append(f"{rel}:{line}: {where}: {msg} [{versions}]")
    return out


def default_paths():
    root = REPO / "terraform"
    # The consumer fixture: the module as a user's stack calls it (tests/iac/consumer/main.tf).
    return [root] + sorted(p for p in (root / "examples").glob("*") if p.is_dir()) + [REPO / "tests" / "iac" / "consumer"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema", action="append", type=Path,
                    help="schema file (default: every tests/iac/schema/aws-*.json.gz)")
    ap.add_argument("paths", nargs="*", type=Path)
    args = ap.parse_args(argv)
    schema_files = args.schema or schema_paths()
    if not schema_files:
        sys.exit("no schema files found")
    schemas = load_schemas(schema_files)
    paths = args.paths or default_paths()
    findings = check(paths, schemas)
    for line in findings:
        print(line)
    files = len(tf_files(paths))
    versions = ", ".join(s["version"] for s in schemas)
    if findings:
        print(f"schema check: {len(findings)} problem(s) in {files} files (hashicorp/aws {versions})")
        return 1
    print(f"schema check: {files} files OK against hashicorp/aws {versions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
