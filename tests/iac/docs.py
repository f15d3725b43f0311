#!/usr/bin/env python3
"""Inputs and outputs tables of terraform/README.md, generated from variables.tf and outputs.tf
(the part between the BEGIN/END markers, in the spirit of terraform-docs).

    docs.py --write    rewrite the tables
    docs.py --check    exit 1 if the README is out of date (run by tests/iac/run.sh via pytest)
"""
import re
import sys
from pathlib import Path

import hcl2

MODULE = Path(__file__).resolve().parents[2] / "terraform"
README = MODULE / "README.md"


def unquote(s):
    s = str(s)
    if len(s) >= 2 and s[0] == s[-1] == '"':
        s = s[1:-1]
    return s.replace('\\"', '"').replace("\\\\", "\\")


def hcl_value(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, list):
        return "[" + ", ".join(hcl_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {hcl_value(x)}" for k, x in v.items() if not k.startswith("__")) + "}"
    s = str(v)
    if s.startswith("${") and s.endswith("}"):
        return s[2:-1]
    return s


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def load(name):
    with open(MODULE / name) as fh:
        return hcl2.load(fh)


def variables():
    for entry in load("variables.tf").get("variable", []):
        for label, body in entry.items():
            yield unquote(label), body


def outputs():
    for entry in load("outputs.tf").get("output", []):
        for label, body in entry.items():
            yield unquote(label), body


def tables():
    lines = ["| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"]
    for name, body in variables():
        typ = hcl_value(body.get("type", "any"))
        if "default" in body:
            default, required = f"`{hcl_value(body['default'])}`", "no"
        else:
            default, required = "n/a", "yes"
        lines.append(f"| `{name}` | {cell(unquote(body.get('description', '')))} | `{typ}` | {cell(default)} | {required} |")
    inputs = "\n".join(lines)
    lines = ["| Name | Description |", "|------|-------------|"]
    for name, body in outputs():
        sensitive = " (sensitive)" if body.get("sensitive") is True else ""
        lines.append(f"| `{name}` | {cell(unquote(body.get('description', '')))}{sensitive} |")
    return inputs, "\n".join(lines)


def render(readme):
    inputs, outs = tables()
    for marker, table in (("INPUTS", inputs), ("OUTPUTS", outs)):
        pattern = re.compile(rf"(<!-- BEGIN_{marker} -->\n)(?:.*?\n)?(<!-- END_{marker} -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README.md lacks the <!-- BEGIN_{marker} --> / <!-- END_{marker} --> markers")
        readme = pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), readme)
    return readme


def main(argv):
    current = README.read_text()
    wanted = render(current)
    if "--write" in argv:
        README.write_text(wanted)
        print("terraform/README.md tables written")
        return 0
    if current != wanted:
        print("terraform/README.md inputs/outputs tables are out of date: run tests/iac/docs.py --write")
        return 1
    print("terraform/README.md tables up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
