#!/usr/bin/env python3
"""Derive typed AWS provider schemas from the CDK-for-Terraform provider packages on npm.

Run by hand (needs npm and the npm registry), not in CI: CI uses the committed
`aws-<version>.json.gz` files next to this script.

    python3 tests/iac/schema/generate.py            # every version below
    python3 tests/iac/schema/generate.py 6.66.0     # one version

Versions: 5.100.0 and 6.66.0 (the newest of each major the module accepts) and 5.26.0, the module's
lower bound: `@cdktf/provider-aws@18.0.6` is the newest release of that package whose bundled provider
(`cdktf.provider.version` in its package.json) is <= 5.26.0 (18.0.5 bundles 5.25.0, 18.0.7 5.27.0).

How the schema is read from the package (`package/.jsii` for names, docs and types; the compiled
`package/lib/<resource>/index.js` for what the jsii does not say):
- a class whose docs say `Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/<v>/docs/
  resources/<name> aws_<name>}` is resource `aws_<name>` (`data-sources/` for data sources);
- its initializer's `config` parameter is a `...Config` struct whose properties carry doc links whose
  `#anchor` is the snake_case argument name (properties without such a link are meta-arguments:
  count, for_each, provider, depends_on, lifecycle, connection, provisioners); a property without
  `optional` is required;
- a summary ending in " block." marks a nested block: its element struct is read the same way. A block
  typed as one struct holds at most one item: nesting `single` when the JS says `type: "struct"` (or,
  in packages without that hint, for `timeouts`), else `list` with max_items 1; a block typed as an
  array is `set` when the JS builds it as `new XList(this, "name", true)` (wrapsSet), else `list`;
  a required block has min_items 1;
- an array-typed argument is a set when its JS getter reads `cdktf.Fn.tolist(this.get...Attribute(..))`;
- computed-only attributes are the read-only getters of the resource class (or of a block's
  `...OutputReference` class) that the config struct lacks; their names come from the JS getter
  (`this.getStringAttribute('code_sha256')`), their types from the jsii (`...List` classes are lists or
  sets of objects whose attributes are that class's getters).
Not in the packages, so approximated: which optional arguments are also computed (only `id` and
`tags_all` are marked so), and the max_items of array-typed blocks.

Output (gzipped JSON, keys sorted so regenerating gives the same bytes):
  {"format": 2, "provider": "hashicorp/aws", "version": "5.100.0", "source": "<npm package>",
   "resource": {"aws_x": S, ...}, "data": {"aws_y": S, ...}}
  S = {"a": {"name": [TYPE, FLAGS], ...}, "b": {"name": {"n": NESTING, "min": 0, "max": 0, "s": S or null}}}
  TYPE: Terraform's JSON type syntax ("string", "number", "bool", "dynamic", ["list", T], ["set", T],
        ["map", T], ["object", {"attr": T, ...}]), as the provider protocol carries it
  FLAGS: "r" required, "o" optional, "oc" optional and computed, "c" computed only
  NESTING: "single", "list" or "set"; max 0 means no limit
  s null: the package types that block as `any`, or it is recursive, so its contents are not known
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
    "5.26.0": "@cdktf/provider-aws@18.0.6",
    "5.100.0": "@cdktf/provider-aws@20.1.0",
    "6.66.0": "@cdktn/provider-aws@25.7.0",
}
OUT_DIR = Path(__file__).resolve().parent

LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/aws/(?P<v>[0-9.]+)/docs/"
    r"(?P<kind>resources|data-sources)/(?P<name>[a-z0-9_]+)(?:#(?P<anchor>[a-z0-9_]+))?"
)
# Framework types (cdktf.* / cdktn.*) that stand for a map of primitives.
MAP_CLASSES = {"StringMap": "string", "NumberMap": "number", "BooleanMap": "bool", "AnyMap": "dynamic"}
PRIMITIVES = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic", "json": "dynamic"}
# Optional arguments the provider also computes (the packages do not say which ones are).
OPTIONAL_COMPUTED = {"id", "tags_all"}


# ---------------------------------------------------------------- the compiled JS: what jsii lacks

CLASS_RE = re.compile(r"^class (\w+) extends ", re.M)
GETTER_RE = re.compile(r"get (\w+)\(\) \{\s*return (.*?);\s*\}", re.S)
ATTR_NAME_RE = re.compile(r"this\.get\w*Attribute\('([a-z0-9_]+)'\)")
NEW_LIST_RE = re.compile(r"new (\w+)List\(this, [\"']([a-z0-9_]+)[\"'], (true|false)\)")
NEW_REF_RE = re.compile(r"new (\w+)OutputReference\(this, [\"']([a-z0-9_]+)[\"']\)")
HCL_FN_RE = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{", re.M)
HCL_ATTR_RE = re.compile(r"^ +(\w+): \{\n +value: [^\n]*\n +isBlock: (?:true|false),\n +type: \"(\w+)\"", re.M)


class JsClass:
    """What one compiled class says: getter names -> attribute names, which arrays are sets,
    how its blocks are built."""

    def __init__(self):
        self.names = {}        # camelCase getter -> snake_case attribute
        self.sets = set()      # attributes (snake) read through Fn.tolist: sets
        self.wraps_set = {}    # attribute (snake) built as new XList(this, name, wrapsSet)
        self.hcl_type = {}     # attribute (snake) -> "struct" / "list" / "set" / "simple" / "map"


def parse_js(text):
    """{class or struct name: JsClass} for one compiled resource file."""
    out = {}
    starts = [(m.start(), m.group(1)) for m in CLASS_RE.finditer(text)]
    for i, (pos, name) in enumerate(starts):
        body = text[pos: starts[i + 1][0] if i + 1 < len(starts) else len(text)]
        js = out.setdefault(name, JsClass())
        for g in GETTER_RE.finditer(body):
            camel, expr = g.group(1), g.group(2)
            m = ATTR_NAME_RE.search(expr) or NEW_LIST_RE.search(expr) or NEW_REF_RE.search(expr)
            if m:
                snake = m.group(1) if m.re is ATTR_NAME_RE else m.group(2)
                js.names[camel] = snake
                if m.re is ATTR_NAME_RE and "Fn.tolist(" in expr:
                    js.sets.add(snake)
        for m in NEW_LIST_RE.finditer(body):
            js.wraps_set[m.group(2)] = m.group(3) == "true"
        syn = body.find("synthesizeHclAttributes()")
        if syn >= 0:
            js.hcl_type.update(hcl_types(body[syn:]))
    # Struct converters: function lambdaFunctionTimeoutsToHclTerraform(struct) -> LambdaFunctionTimeouts
    fns = [(m.start(), m.group(1)) for m in HCL_FN_RE.finditer(text)]
    for pos, fn in fns:
        end = text.find("\n}\n", pos)
        struct = fn[0].upper() + fn[1:]
        out.setdefault(struct, JsClass()).hcl_type.update(hcl_types(text[pos:end]))
    return out


def hcl_types(text):
    return {m.group(1): m.group(2) for m in HCL_ATTR_RE.finditer(text)}


# ---------------------------------------------------------------- the jsii: names and types

def docs_text(node):
    docs = node.get("docs") or {}
    return (docs.get("summary") or "") + "\n" + (docs.get("remarks") or "")


def snake(camel):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def local_name(fqn):
    return fqn.rsplit(".", 1)[-1]


class Package:
    def __init__(self, types, js_files):
        self.types = types
        self.js_files = js_files   # "src/x/index.ts" -> {name: JsClass}
        self.max_depth = 16

    def js(self, fqn):
        """The JsClass of a jsii type (empty when the compiled file does not mention it)."""
        t = self.types.get(fqn) or {}
        where = (t.get("locationInModule") or {}).get("filename", "")
        return self.js_files.get(where, {}).get(local_name(fqn), JsClass())

    def struct_fqn(self, type_ref):
        """The fqn of the first of this package's own structs inside a jsii type reference
        (union/collection/fqn); framework types such as cdktf.IResolvable are skipped."""
        if not isinstance(type_ref, dict):
            return None
        fqn = type_ref.get("fqn")
        if fqn and fqn in self.types:
            return fqn
        if "collection" in type_ref:
            return self.struct_fqn(type_ref["collection"].get("elementtype"))
        if "union" in type_ref:
            for t in type_ref["union"].get("types", []):
                found = self.struct_fqn(t)
                if found:
                    return found
        return None

    def tf_type(self, type_ref, is_set=False, wraps_set=False, stack=()):
        """Terraform type (JSON syntax) of a jsii type reference; None if it cannot be expressed."""
        if "primitive" in type_ref:
            return PRIMITIVES.get(type_ref["primitive"])
        if "union" in type_ref:
            # IResolvable | T: the other member is the type
            for t in type_ref["union"]["types"]:
                if t.get("fqn", "").endswith(".IResolvable"):
                    continue
                found = self.tf_type(t, is_set, wraps_set, stack)
                if found is not None:
                    return found
            return None
        if "collection" in type_ref:
            elem = self.tf_type(type_ref["collection"]["elementtype"], stack=stack)
            if elem is None:
                return None
            if type_ref["collection"]["kind"] == "map":
                return ["map", elem]
            return ["set" if is_set else "list", elem]
        fqn = type_ref.get("fqn", "")
        name = local_name(fqn)
        if fqn not in self.types:
            if name == "IResolvable":   # how the packages type computed booleans
                return "bool"
            if name in MAP_CLASSES:
                return ["map", MAP_CLASSES[name]]
            if name.endswith("MapList"):   # cdktf.StringMapList: list of maps
                return ["list", ["map", MAP_CLASSES.get(name[:-4], "string")]]
            if name.endswith("List") and name[:-4] in ("String", "Number", "Boolean"):
                return ["list", PRIMITIVES[name[:-4].lower()]]
            return None
        if fqn in stack or len(stack) > 12:
            return None
        base = fqn
        kind = "object"
        for suffix, k in (("OutputReference", "object"), ("List", "list"), ("Map", "map")):
            if name.endswith(suffix) and fqn[: -len(suffix)] + "OutputReference" in self.types:
                base, kind = fqn[: -len(suffix)] + "OutputReference", k
                break
        obj = self.object_type(base, stack + (fqn,))
        if obj is None:
            return None
        if kind == "list":
            return ["set" if wraps_set else "list", obj]
        if kind == "map":
            return ["map", obj]
        return obj

    def object_type(self, ref_fqn, stack):
        """Object type made of every getter of a (computed) ...OutputReference class, or of every
        property of a struct (an argument typed as a list of objects, e.g. security group rules)."""
        js = self.js(ref_fqn if ref_fqn.endswith("OutputReference") else ref_fqn + "OutputReference")
        attrs = {}
        for prop in self.types[ref_fqn].get("properties", []):
            camel = prop["name"]
            if camel == "internalValue" or camel.endswith("Input") or prop.get("static"):
                continue
            anchor = [m.group("anchor") for m in LINK.finditer(docs_text(prop)) if m.group("anchor")]
            name = anchor[0] if anchor else js.names.get(camel, snake(camel))
            t = self.tf_type(prop["type"], name in js.sets, js.wraps_set.get(name, False), stack)
            if t is None:
                return None
            attrs[name] = t
        return ["object", attrs]

    def read_struct(self, fqn, owner_fqn, stack=()):
        """Schema S of one config struct; owner_fqn is the class whose getters read it (the resource
        class, or the block's ...OutputReference class): it tells sets and computed attributes."""
        owner_js = self.js(owner_fqn) if owner_fqn in self.types else JsClass()
        struct_js = self.js(fqn)
        args, blocks, config_props = {}, {}, set()
        for prop in self.types[fqn].get("properties", []):
            config_props.add(prop["name"])
            m = None
            for m in LINK.finditer(docs_text(prop)):
                if m.group("anchor"):
                    break
            if m is None or not m.group("anchor"):
                continue  # meta-argument (count, for_each, provider, lifecycle, ...)
            name = m.group("anchor")
            required = not prop.get("optional")
            summary = ((prop.get("docs") or {}).get("summary") or "").strip()
            if summary.endswith(" block."):
                blocks[name] = self.block(prop, name, required, owner_js, struct_js, owner_fqn, stack)
            else:
                is_set = (name in owner_js.sets or owner_js.wraps_set.get(name, False)
                          or owner_js.hcl_type.get(name) == "set" or struct_js.hcl_type.get(name) == "set")
                t = self.tf_type(prop["type"], is_set, is_set)
                flags = "r" if required else ("oc" if name in OPTIONAL_COMPUTED else "o")
                args[name] = [t or "dynamic", flags]
        if owner_fqn in self.types:
            for prop in self.types[owner_fqn].get("properties", []):
                camel = prop["name"]
                if (not prop.get("immutable") or prop.get("static") or camel.endswith("Input")
                        or camel in config_props or camel in ("tfResourceType", "internalValue")):
                    continue
                name = owner_js.names.get(camel, snake(camel))
                if name in args or name in blocks:
                    continue
                t = self.tf_type(prop["type"], name in owner_js.sets, owner_js.wraps_set.get(name, False))
                args[name] = [t or "dynamic", "c"]
        out = {"a": args}
        if blocks:
            out["b"] = blocks
        return out

    def block(self, prop, name, required, owner_js, struct_js, owner_fqn, stack):
        child = self.struct_fqn(prop["type"])
        is_array = "collection" in json.dumps(prop["type"])
        hint = struct_js.hcl_type.get(name) or owner_js.hcl_type.get(name)
        if is_array:
            nesting = "set" if owner_js.wraps_set.get(name) or hint == "set" else "list"
            max_items = 0
        elif hint == "struct" or (hint is None and name == "timeouts"):
            nesting, max_items = "single", 0
        else:
            nesting, max_items = "list", 1
        spec = None
        if child is not None and child not in stack and len(stack) <= self.max_depth:
            # Contents left unknown (null): the package types very deep schemas (QuickSight
            # definitions) as `any`, recursive ones refer to themselves, and WAFv2 statements nest
            # statements in distinct structs (cut at max_depth, see extract()).
            spec = self.read_struct(child, child + "OutputReference", stack + (owner_fqn,))
        return {"n": nesting, "min": 1 if required and nesting != "single" else 0, "max": max_items, "s": spec}


def read_bounded(pkg, config_fqn, fqn, budget=100_000):
    """A resource's schema, its deepest blocks cut (null) until it stays under `budget` bytes of
    JSON: WAFv2 rule statements nest statements in distinct structs and grow to ~80 MB at depth 16."""
    for depth in (16, 10, 8, 6, 4):
        pkg.max_depth = depth
        spec = pkg.read_struct(config_fqn, fqn)
        if len(json.dumps(spec)) <= budget:
            break
    pkg.max_depth = 16
    return spec


def extract(jsii_path, lib_dir, version, source):
    with open(jsii_path, "rb") as fh:
        types = json.load(fh)["types"]
    js_files = {}
    for f in Path(lib_dir).glob("*/index.js"):
        js_files[f"src/{f.parent.name}/index.ts"] = parse_js(f.read_text())
    pkg = Package(types, js_files)
    schema = {"format": 2, "provider": "hashicorp/aws", "version": version, "source": source,
              "resource": {}, "data": {}}
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
        schema[kind]["aws_" + m.group("name")] = read_bounded(pkg, config["type"]["fqn"], fqn)
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
            wanted = [m for m in tar.getmembers()
                      if m.name == "package/.jsii" or re.fullmatch(r"package/lib/[^/]+/index\.js", m.name)]
            tar.extractall(path=tmp, members=wanted, filter="data")
        schema = extract(Path(tmp) / "package" / ".jsii", Path(tmp) / "package" / "lib", version, source)
    write(schema, OUT_DIR / f"aws-{version}.json.gz")


def write(schema, dest):
    data = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
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
