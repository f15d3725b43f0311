#!/usr/bin/env python3
"""Derive compact AWS provider schemas from the CDK-for-Terraform provider packages on npm.

Run by hand (needs npm and the npm registry), not in CI: CI uses the committed
`aws-<version>.json.gz` files next to this script.

    python3 tests/iac/schema/generate.py            # both versions
    python3 tests/iac/schema/generate.py 6.66.0     # one version

How the schema is read from `package/.jsii`:
- a class whose docs say `Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/<v>/docs/
  resources/<name> aws_<name>}` is resource `aws_<name>` (`data-sources/` for data sources);
- its initializer's `config` parameter is a `...Config` struct whose properties carry doc links whose
  `#anchor` is the snake_case argument name (properties without such a link are meta-arguments:
  count, for_each, provider, depends_on, lifecycle, connection, provisioners);
- a summary ending in " block." marks a nested block: its element struct is read the same way;
- a property without `optional` is required.

Output (gzipped JSON, keys sorted so regenerating gives the same bytes):
  {"provider": "hashicorp/aws", "version": "5.100.0", "source": "<npm package>",
   "resource": {"aws_x": S, ...}, "data": {"aws_y": S, ...}}
  S = {"a": {"arg": 1 if required else 0}, "b": {"block": [1 if required else 0, S or null]}}
  (null: the package types that block as `any`, or it is recursive, so its contents are not checked)
"""
import gzip
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGES = {
    "5.100.0": "@cdktf/provider-aws@20.1.0",
    "6.66.0": "@cdktn/provider-aws@25.7.0",
}
OUT_DIR = Path(__file__).resolve().parent

LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/aws/(?P<v>[0-9.]+)/docs/"
    r"(?P<kind>resources|data-sources)/(?P<name>[a-z0-9_]+)(?:#(?P<anchor>[a-z0-9_]+))?"
)


def docs_text(node):
    docs = node.get("docs") or {}
    return (docs.get("summary") or "") + "\n" + (docs.get("remarks") or "")


def struct_fqn(types, type_ref):
    """The fqn of the first of this package's own structs inside a jsii type reference
    (union/collection/fqn); framework types such as cdktf.IResolvable / cdktn.IResolvable are skipped."""
    if not isinstance(type_ref, dict):
        return None
    fqn = type_ref.get("fqn")
    if fqn and fqn in types:
        return fqn
    if "collection" in type_ref:
        return struct_fqn(types, type_ref["collection"].get("elementtype"))
    if "union" in type_ref:
        for t in type_ref["union"].get("types", []):
            found = struct_fqn(types, t)
            if found:
                return found
    return None


def read_struct(types, fqn, stack=()):
    args, blocks = {}, {}
    for prop in types[fqn].get("properties", []):
        m = None
        for m in LINK.finditer(docs_text(prop)):
            if m.group("anchor"):
                break
        if m is None or not m.group("anchor"):
            continue  # meta-argument (count, for_each, provider, lifecycle, ...)
        name = m.group("anchor")
        required = 0 if prop.get("optional") else 1
        summary = ((prop.get("docs") or {}).get("summary") or "").strip()
        if summary.endswith(" block."):
            child = struct_fqn(types, prop["type"])
            if child is None or child in stack or len(stack) > 16:
                # Contents left unchecked (null): the package types very deep schemas (QuickSight
                # definitions) as `any`, and recursive ones (WAFv2 statements) refer to themselves.
                blocks[name] = [required, None]
            else:
                blocks[name] = [required, read_struct(types, child, stack + (fqn,))]
        else:
            args[name] = required
    out = {"a": args}
    if blocks:
        out["b"] = blocks
    return out


def extract(jsii_path, version, source):
    with open(jsii_path, "rb") as fh:
        assembly = json.load(fh)
    types = assembly["types"]
    schema = {"provider": "hashicorp/aws", "version": version, "source": source, "resource": {}, "data": {}}
    for fqn, t in types.items():
        if t.get("kind") != "class":
            continue
        summary = (t.get("docs") or {}).get("summary") or ""
        if not summary.startswith("Represents a {@link"):
            continue
        m = LINK.search(summary)
        if not m or m.group("anchor"):
            continue
        if m.group("v") != version:
            raise RuntimeError(f"{fqn}: links to provider {m.group('v')}, expected {version}")
        params = (t.get("initializer") or {}).get("parameters") or []
        config = next((p for p in params if p["name"] == "config"), None)
        if config is None:
            continue
        kind = "resource" if m.group("kind") == "resources" else "data"
        schema[kind]["aws_" + m.group("name")] = read_struct(types, config["type"]["fqn"])
    if len(schema["resource"]) < 1000:
        raise RuntimeError(f"only {len(schema['resource'])} resources found: format changed?")
    return schema


def generate(version):
    source = PACKAGES[version]
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["npm", "pack", "--silent", source], cwd=tmp, check=True, capture_output=True, text=True
        ).stdout.split()
        tgz = Path(tmp) / out[-1]
        with tarfile.open(tgz) as tar:
            tar.extract("package/.jsii", path=tmp, filter="data")
        schema = extract(Path(tmp) / "package" / ".jsii", version, source)
    data = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
    dest = OUT_DIR / f"aws-{version}.json.gz"
    with open(dest, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(data)
    print(f"{dest.name}: {len(schema['resource'])} resources, {len(schema['data'])} data sources, "
          f"{dest.stat().st_size // 1024} KiB")


def main(argv):
    versions = argv[1:] or sorted(PACKAGES)
    for v in versions:
        if v not in PACKAGES:
            sys.exit(f"unknown version {v}; known: {', '.join(PACKAGES)}")
        generate(v)


if __name__ == "__main__":
    main(sys.argv)
