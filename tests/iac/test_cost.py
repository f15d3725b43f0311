"""scripts/cost.py (`make cost`): the table it prints and the inputs it reads (prices, report, module defaults)."""
import importlib.util
import json
import re
import subprocess
import sys

import hcl2
import pytest

from conftest import MODULE, REPO, blocks, unquote

SCRIPT = REPO / "scripts" / "cost.py"
PRICES = REPO / "bench" / "prices.json"
REPORT = REPO / "bench" / "report.md"
VARIABLES = MODULE / "variables.tf"

spec = importlib.util.spec_from_file_location("cost", SCRIPT)
cost = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cost)


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=60)


def build(*args):
    return cost.build(cost.parse_args([str(a) for a in args]))


@pytest.fixture(scope="module")
def printed():
    r = run()
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_table_has_every_combination(printed):
    photo = printed.split("### 8–12 MP photos", 1)[1].split("###", 1)[0]
    rows = [line for line in photo.splitlines() if line.startswith("| STANDARD") or line.startswith("| EXPRESS")]
    seen = set()
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        seen.add((cells[0], cells[1].split()[0], cells[2].split()[0]))
        assert re.search(r"\*\*[\d,.]+\*\*", " | ".join(cells[4:9])), f"no dominant part marked: {line}"
    assert seen == {(w, a, o) for w in ("STANDARD", "EXPRESS") for a in ("arm64", "x86_64") for o in ("1", "3")}
    for part in ("Lambda compute", "Lambda requests", "Step Functions", "S3 requests", "EventBridge", "API Gateway"):
        assert part in photo
    assert "The seed's way" in printed and "| 128 |" in printed and "| 1769 |" in printed


def test_standard_costs_more_than_express():
    rows = build()["rows"]
    for cls in cost.CLASSES:
        for arch in cost.ARCHES:
            for outputs in (1, 3):
                by = {r["workflow"]: r for r in rows if (r["class"], r["arch"], r["outputs"]) == (cls, arch, outputs)}
                assert by["STANDARD"]["total"] > by["EXPRESS"]["total"]
                assert by["STANDARD"]["api_total"] > by["EXPRESS"]["api_total"]


def test_state_transitions_follow_the_state_machine(tmp_path):
    r = build()
    assert r["path"] == ["ApplyDefaults", "Resize", "CheckResult", "PublishResized", "Resized"]
    assert r["transitions"] == 5
    assert build("--retries", 1)["transitions"] == 6
    # enable_completion_events = false: the publishing state is not in the definition, so not counted.
    text, n = re.subn(r'(variable "enable_completion_events" \{.*?default\s*=\s*)true', r"\g<1>false",
                      VARIABLES.read_text(), count=1, flags=re.S)
    assert n == 1
    copy = tmp_path / "variables.tf"
    copy.write_text(text)
    off = build("--variables", copy)
    assert off["path"] == ["ApplyDefaults", "Resize", "CheckResult", "Resized"]
    assert off["transitions"] == 4


def test_memory_default_is_read_from_variables_tf(tmp_path):
    with open(VARIABLES) as fh:
        parsed = {VARIABLES.name: hcl2.load(fh)}
    variables = {name: body for _, name, _, body in blocks(parsed, "variable")}
    assert build()["memory"] == int(variables["memory_size"]["default"])
    assert build()["arch_default"] == unquote(variables["architectures"]["default"][0])

    text = VARIABLES.read_text()
    changed, n = re.subn(r'(variable "memory_size" \{.*?default\s*=\s*)\d+', r"\g<1>512", text, count=1, flags=re.S)
    assert n == 1
    copy = tmp_path / "variables.tf"
    copy.write_text(changed)
    before, after = build(), build("--variables", copy)
    assert after["memory"] == 512
    pick = lambda r: next(x for x in r["rows"] if (x["class"], x["workflow"], x["arch"], x["outputs"])
                          == ("photo", "EXPRESS", "x86_64", 1))
    assert pick(after)["billed_ms"] > pick(before)["billed_ms"]  # less CPU: longer
    assert pick(after)["parts"]["Lambda compute"] != pick(before)["parts"]["Lambda compute"]
    assert "Memory 512 MB" in run("--variables", copy).stdout


def test_every_price_has_a_source_and_a_date():
    items = json.loads(PRICES.read_text())["items"]
    assert set(cost.PRICE_KEYS) <= set(items)
    for key, item in items.items():
        assert item["source"].startswith("https://aws.amazon.com/"), key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["as_of"]), key
        assert isinstance(item["usd"], (int, float)) and item["usd"] >= 0, key


def test_a_price_without_a_date_is_refused(tmp_path):
    doc = json.loads(PRICES.read_text())
    del doc["items"]["sfn_express_request"]["as_of"]
    bad = tmp_path / "prices.json"
    bad.write_text(json.dumps(doc))
    r = run("--prices", bad)
    assert r.returncode == 2 and "sfn_express_request" in r.stderr and "as_of" in r.stderr


def test_missing_measured_duration_fails_clearly(tmp_path):
    text = REPORT.read_text()
    # The olympus 12 MP row of the median table with its imgresize cell emptied.
    line = next(l for l in text.splitlines() if l.startswith("| olympus-e-p3-4032x3024.jpg | 12.2 |"))
    cells = line.split("|")
    cells[3] = " n/a "
    bad = tmp_path / "report.md"
    bad.write_text(text.replace(line, "|".join(cells), 1))
    r = run("--report", bad)
    assert r.returncode == 2, r.stdout
    assert "no measured duration for olympus-e-p3-4032x3024.jpg" in r.stderr and "imgresize" in r.stderr
    assert "Traceback" not in r.stderr

    bad.write_text(text.replace("## Median time per image", "## Something else"))
    r = run("--report", bad)
    assert r.returncode == 2 and "Median time per image" in r.stderr and "make bench" in r.stderr

    bad.write_text(text.replace("Pillow (tutorial)", "Pillow (other)"))
    r = run("--report", bad)
    assert r.returncode == 2 and '"Pillow (tutorial)" column' in r.stderr


def test_seed_at_128_mb_is_stretched_by_the_cpu_share():
    r = build()
    a = cost.parse_args([])
    seed_ms = r["durations"][cost.SEED_COLUMN]["photo"][0]
    _, billed_128, _ = cost.cost_per_image(r["prices"], "STANDARD", "x86_64", 1, seed_ms, 128, 4, a)
    _, billed_full, _ = cost.cost_per_image(r["prices"], "STANDARD", "x86_64", 1, seed_ms, 1769, 4, a)
    io = a.get_ms + a.put_ms + a.head_per_output * a.head_ms
    assert billed_128 - io == pytest.approx(seed_ms * 1769 / 128, abs=1)
    assert billed_full - io == pytest.approx(seed_ms, abs=1)
