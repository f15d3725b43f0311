"""The module's provider lower bound against the value-level constraints the schemas cannot show
(provider_constraints.json): every constrained value the module uses must be accepted by the lowest
provider version it declares, in the module, its examples and the consumer fixture."""
import json
import re

import pytest

from conftest import EXAMPLES, HERE, MODULE, blocks, parse_dir, unquote

TABLE = json.loads((HERE / "provider_constraints.json").read_text())["constraints"]
ROOTS = [MODULE, *EXAMPLES, HERE / "consumer"]


def version(text):
    return tuple(int(part) for part in text.split("."))


def lower_bound(directory):
    (terraform,) = parse_dir(directory)["versions.tf"]["terraform"]
    constraint = unquote(terraform["required_providers"][0]["aws"]["version"])
    (floor,) = re.findall(r">=\s*([0-9.]+)", constraint)
    return version(floor + ".0" * (2 - floor.count(".")))


@pytest.mark.parametrize("directory", ROOTS, ids=lambda p: p.name)
def test_lower_bound_accepts_every_constrained_value(directory):
    floor = lower_bound(directory)
    for entry in TABLE:
        assert floor >= version(entry["since"]), (
            f"{directory.name}: hashicorp/aws >= {'.'.join(map(str, floor))} admits releases that reject "
            f"{entry['resource']}.{entry['argument']} = {entry['value']!r} (accepted since {entry['since']}: {entry['source']})")


def test_every_entry_is_used_by_the_module():
    """A stale row would make the table look like a check it no longer is."""
    resources = {(t, n): body for _, t, n, body in blocks(parse_dir(MODULE), "resource")}
    for entry in TABLE:
        used = [body for (t, _), body in resources.items()
                if t == entry["resource"] and unquote(body.get(entry["argument"], "")) == entry["value"]]
        assert used, f"{entry['resource']}.{entry['argument']} = {entry['value']!r} is not in the module"


def test_a_lower_bound_below_a_constraint_is_caught(tmp_path):
    (tmp_path / "versions.tf").write_text(
        'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
        '      version = ">= 5.0, < 7.0"\n    }\n  }\n}\n')
    with pytest.raises(AssertionError, match="provided.al2023"):
        test_lower_bound_accepts_every_constrained_value(tmp_path)
