"""Shared helpers for the IaC tests (run with the python-hcl2 venv: .tools/iac/hcl/bin/python -m pytest tests/iac)."""
import json
import sys
from pathlib import Path

import hcl2
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODULE = REPO / "terraform"
TEMPLATES = MODULE / "templates"
EXAMPLES = sorted(p for p in (MODULE / "examples").iterdir() if p.is_dir())

sys.path.insert(0, str(HERE))


def unquote(s):
    s = str(s)
    if len(s) >= 2 and s[0] == s[-1] == '"':
        s = s[1:-1]
    return s


def parse_dir(directory):
    """{file name: parsed dict} for the *.tf files of one directory."""
    out = {}
    for f in sorted(Path(directory).glob("*.tf")):
        with open(f) as fh:
            out[f.name] = hcl2.load(fh)
    return out


def blocks(parsed, kind):
    """Yield (file, type, name, body) for resource/data blocks, (file, name, None, body) for others."""
    for fname, doc in parsed.items():
        for entry in doc.get(kind, []):
            for label, inner in entry.items():
                if kind in ("resource", "data"):
                    for nlabel, body in inner.items():
                        yield fname, unquote(label), unquote(nlabel), body
                else:
                    yield fname, unquote(label), None, inner


@pytest.fixture(scope="session")
def module():
    return parse_dir(MODULE)


@pytest.fixture(scope="session")
def resources(module):
    return {(t, n): body for _, t, n, body in blocks(module, "resource")}


@pytest.fixture(scope="session")
def datas(module):
    return {(t, n): body for _, t, n, body in blocks(module, "data")}


@pytest.fixture(scope="session")
def samples():
    return json.loads((HERE / "template_samples.json").read_text())


@pytest.fixture(scope="session")
def variables(module):
    return {name: body for _, name, _, body in blocks(module, "variable")}
