#!/usr/bin/env python3
"""Render terraform/templates/* the way Terraform's templatefile() does for these files: plain
`${name}` substitution (the templates use no `%{...}` directives and no `$${` escapes).
Fails on a placeholder without a value, a value without a placeholder, or any other `${` / `%{`.

    render.py TEMPLATE [name=value ...]      print the rendered template
    render.py --sample TEMPLATE [-o OUT]     use the sample values of tests/iac/template_samples.json
"""
import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE.parents[1] / "terraform" / "templates"
SAMPLES = HERE / "template_samples.json"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class RenderError(Exception):
    pass


def placeholders(text):
    return set(PLACEHOLDER.findall(text))


def render(text, values):
    if "%{" in text:
        raise RenderError("template directive %{ found: only ${name} placeholders are allowed")
    leftover = PLACEHOLDER.sub("", text)
    if "${" in leftover:
        raise RenderError("a ${ that is not a plain ${name} placeholder")
    names = placeholders(text)
    missing = sorted(names - set(values))
    unused = sorted(set(values) - names)
    if missing:
        raise RenderError(f"no value for placeholder(s): {', '.join(missing)}")
    if unused:
        raise RenderError(f"value(s) for placeholder(s) the template lacks: {', '.join(unused)}")
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def samples():
    return json.loads(SAMPLES.read_text())


def render_sample(name):
    return render((TEMPLATES / name).read_text(), samples()[name])


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", action="store_true")
    ap.add_argument("-o", "--output", type=Path)
    ap.add_argument("template")
    ap.add_argument("values", nargs="*")
    args = ap.parse_args(argv)
    path = Path(args.template)
    if not path.exists():
        path = TEMPLATES / args.template
    if args.sample:
        values = samples()[path.name]
    else:
        values = dict(v.split("=", 1) for v in args.values)
    try:
        out = render(path.read_text(), values)
    except RenderError as exc:
        sys.exit(f"{path.name}: {exc}")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(out)
        print(f"{path.name} rendered to {args.output.name}")
    else:
        sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
