"""The templates: every reference resolves, placeholders match the templatefile() calls both ways,
each renders to what its consumer needs (JSON, ASL, JSON Schema draft-04, VTL that yields JSON under
API Gateway's documented escapeJavaScript), and the contract with the function holds."""
import json
import re

import pytest

import render
from conftest import MODULE, REPO, TEMPLATES

CALL = re.compile(r'\b(templatefile|file)\("\$\{path\.module\}/templates/([^"]+)"')


def walk_strings(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from walk_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_strings(v)
    elif isinstance(node, str):
        yield node


def map_keys(text, start):
    """Top-level keys of the `{k = v, ...}` object starting at text[start] == '{'."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                break
        i += 1
    body = text[start + 1:i]
    keys, depth, in_str, token = [], 0, False, ""
    for c in body:
        if in_str:
            token += c
            if c == '"':
                in_str = False
            continue
        if c == '"':
            in_str = True
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if depth == 0 and c == ",":
            token = ""
            continue
        if depth == 0 and c == "=" and "=" not in token:
            keys.append(token.strip())
        token += c
    return set(keys)


@pytest.fixture(scope="module")
def calls(module):
    """[(function, template file name, set of keys or None)] for every call in the module."""
    found = []
    for doc in module.values():
        for s in walk_strings(doc):
            for m in CALL.finditer(s):
                keys = None
                if m.group(1) == "templatefile":
                    brace = s.index("{", m.end())
                    keys = map_keys(s, brace)
                found.append((m.group(1), m.group(2), keys))
    return found


def test_calls_found(calls):
    assert len(calls) >= 7, calls


def test_every_referenced_template_exists(calls):
    for _, name, _ in calls:
        assert (TEMPLATES / name).is_file(), f"templates/{name} is referenced but missing"


def test_every_template_is_used():
    used = {m[1] for m in CALL.findall("".join(p.read_text() for p in MODULE.glob("*.tf")))}
    files = {p.name for p in TEMPLATES.iterdir() if p.is_file() and p.name != "README.md"}
    assert files == used


def test_placeholders_match_templatefile_arguments(calls):
    for func, name, keys in calls:
        placeholders = render.placeholders((TEMPLATES / name).read_text())
        if func == "file":
            assert placeholders == set(), f"{name} is read with file() but has placeholders {placeholders}"
        else:
            assert placeholders == keys, f"{name}: template has {sorted(placeholders)}, templatefile() passes {sorted(keys)}"


def test_templates_are_plain_substitution_only():
    for p in TEMPLATES.iterdir():
        if p.name == "README.md":
            continue
        text = p.read_text()
        assert "%{" not in text, f"{p.name}: template directives are not allowed"
        assert "$${" not in text, f"{p.name}: escapes are not allowed"


def test_readme_documents_every_placeholder():
    readme = (TEMPLATES / "README.md").read_text()
    for p in TEMPLATES.iterdir():
        if p.name == "README.md":
            continue
        assert f"`{p.name}`" in readme, f"templates/README.md does not list {p.name}"
        for name in render.placeholders(p.read_text()):
            assert f"`{name}`" in readme, f"templates/README.md does not document ${{{name}}} of {p.name}"


def test_samples_cover_exactly_the_placeholders(samples):
    names = {p.name for p in TEMPLATES.iterdir() if p.name != "README.md"}
    assert set(samples) == names
    for name in names:
        render.render_sample(name)  # raises on a missing or unused value


def test_renderer_rejects_leftovers():
    with pytest.raises(render.RenderError):
        render.render("${a} ${b}", {"a": 1})
    with pytest.raises(render.RenderError):
        render.render("${a}", {"a": 1, "b": 2})
    with pytest.raises(render.RenderError):
        render.render("%{ if true }x%{ endif }", {})
    assert render.render('{"x": ${a}}', {"a": 5}) == '{"x": 5}'


# --- the function's contract (lambda/CONTRACT.md) --------------------------------------------

@pytest.fixture(scope="module")
def contract():
    return (REPO / "lambda" / "CONTRACT.md").read_text()


def contract_env(contract):
    section = contract.split("## Environment", 1)[1]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.M))


def test_transient_error_type_matches_contract(contract):
    m = re.search(r"`errorType` = \*\*`(\w+)`\*\*", contract)
    assert m and m.group(1) == "TransientError"
    definition = json.loads(render.render_sample("state_machine.asl.json"))
    errors = definition["States"]["Resize"]["Retry"][0]["ErrorEquals"]
    assert m.group(1) in errors


def test_lambda_environment_matches_contract(contract):
    text = (MODULE / "main.tf").read_text()
    block = text.split("lambda_environment = merge(", 1)[1].split("\n  )\n", 1)[0]
    keys = set(re.findall(r"^\s+([A-Z_]+)\s+=", block, re.M)) | set(re.findall(r"\{ ([A-Z_]+) = ", block))
    assert keys == contract_env(contract)


def test_request_model_fields_are_contract_fields(contract):
    fields = set(re.findall(r"^\| `(\w+)` \|", contract.split("## Input", 1)[1].split("## Output", 1)[0], re.M))
    model = json.loads(render.render_sample("request_model.json"))
    assert set(model["properties"]) <= fields


# --- state machine ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def asl():
    return json.loads(render.render_sample("state_machine.asl.json"))


def test_task_invokes_the_function(asl, samples):
    task = asl["States"]["Resize"]
    assert task["Type"] == "Task"
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    assert task["Parameters"]["FunctionName"] == samples["state_machine.asl.json"]["function_arn"]
    assert task["OutputPath"] == "$.Payload"
    assert task["Next"] == "CheckResult"


def test_missing_bucket_defaults_to_originals(asl, samples):
    first = asl["States"][asl["StartAt"]]
    assert first["Type"] == "Pass"
    assert first["Parameters"]["defaults"] == {"bucket": samples["state_machine.asl.json"]["bucket"]}
    assert first["Parameters"]["request.$"] == "$"
    assert asl["States"]["Resize"]["Parameters"]["Payload.$"] == "States.JsonMerge($.defaults, $.request, false)"


def test_retry_policy(asl):
    (retry,) = asl["States"]["Resize"]["Retry"]
    for error in ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                  "Lambda.TooManyRequestsException", "TransientError"):
        assert error in retry["ErrorEquals"]
    assert "States.ALL" not in retry["ErrorEquals"]
    assert retry["JitterStrategy"] == "FULL"
    assert isinstance(retry["BackoffRate"], float) and retry["BackoffRate"] >= 1
    assert retry["MaxDelaySeconds"] >= retry["IntervalSeconds"]


def test_catch_goes_to_a_fail_with_error_and_cause(asl):
    (catch,) = asl["States"]["Resize"]["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and "ResultPath" not in catch
    fail = asl["States"][catch["Next"]]
    assert fail == {**fail, "Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"}


def after_publishing(asl, name):
    """The state `name` leads to, through its completion-event Task when there is one (the sample has
    completion events on): that Task passes the answer on unchanged and reaches the same state when
    publishing fails."""
    state = asl["States"][name]
    if state["Type"] == "Task" and state["Resource"].endswith(":states:::events:putEvents"):
        assert state["ResultPath"] is None
        (entry,) = state["Parameters"]["Entries"]
        assert entry["Detail.$"] == "$"
        assert [c["Next"] for c in state["Catch"]] == [state["Next"]]
        return after_publishing(asl, state["Next"])
    return state


def test_choice_on_ok(asl):
    choice = asl["States"]["CheckResult"]
    assert choice["Type"] == "Choice"
    (rule,) = choice["Choices"]
    assert rule["Variable"] == "$.ok" and rule["BooleanEquals"] is True
    assert after_publishing(asl, rule["Next"])["Type"] == "Succeed"
    rejected = after_publishing(asl, choice["Default"])
    assert rejected["Type"] == "Fail" and rejected["CausePath"] == "$.error.code"


def test_completion_events_name_their_detail_types(asl, samples):
    choice = asl["States"]["CheckResult"]
    sample = samples["completion_events.asl.part"]
    for name, detail_type in ((choice["Choices"][0]["Next"], "Image Resized"), (choice["Default"], "Image Rejected")):
        (entry,) = asl["States"][name]["Parameters"]["Entries"]
        assert entry == {"EventBusName": sample["event_bus_name"], "Source": sample["event_source"],
                         "DetailType": detail_type, "Detail.$": "$"}


# --- EventBridge --------------------------------------------------------------------------------

@pytest.mark.parametrize("key_filter", [
    [{"exists": True}],
    [{"prefix": "uploads/"}],
    [{"suffix": ".jpg"}, {"suffix": ".png"}],
    [{"wildcard": "uploads/*.jpg"}],
])
def test_event_pattern_renders_to_json(key_filter):
    text = render.render((TEMPLATES / "event_pattern.json").read_text(),
                         {"bucket": "originals", "key_filter": json.dumps(key_filter)})
    pattern = json.loads(text)
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == ["originals"]
    assert pattern["detail"]["object"]["key"] == key_filter


def test_key_filter_local_covers_the_four_cases():
    text = (MODULE / "main.tf").read_text()
    for matcher in ("exists = true", "prefix = var.source_prefix", "suffix = s", 'wildcard = "${var.source_prefix}*${s}"'):
        assert matcher in text


def test_input_transformer_builds_the_function_input():
    paths = json.loads((TEMPLATES / "input_paths.json").read_text())
    assert paths == {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key", "objectSize": "$.detail.object.size",
                     "sequencer": "$.detail.object.sequencer"}
    template = render.render((TEMPLATES / "input_template.json").read_text(), {"size": 1000})
    assert set(re.findall(r"<(\w+)>", template)) == set(paths)
    # EventBridge inserts each value as JSON (strings quoted) where a placeholder stands alone.
    event = {"bucket": "orig", "key": "dir/my+photo+%C3%A9%2Bx%27s.jpg", "objectSize": 52431,
             "sequencer": "0055AED6DCD90281E5"}
    delivered = re.sub(r"<(\w+)>", lambda m: json.dumps(event[m.group(1)]), template)
    assert json.loads(delivered) == {"bucket": "orig", "key": event["key"], "size": 1000,
                                     "objectSize": 52431, "sequencer": "0055AED6DCD90281E5", "keyEncoding": "url"}


# --- API ------------------------------------------------------------------------------------------

def test_request_model_is_draft04(samples):
    model = json.loads(render.render_sample("request_model.json"))
    assert model["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert model["type"] == "object" and model["required"] == ["key"]
    assert model["additionalProperties"] is False
    props = model["properties"]
    assert props["bucket"] == {"type": "string", "enum": [samples["request_model.json"]["bucket"]]}
    assert props["key"]["type"] == "string" and props["key"]["minLength"] == 1
    assert (props["size"]["type"], props["size"]["minimum"], props["size"]["maximum"]) == ("integer", 1, 10000)


def escape_javascript(s):
    """API Gateway's $util.escapeJavaScript (Apache Commons Lang StringEscapeUtils.escapeJavaScript):
    backslash-escapes ' " \\ and /, control characters, and writes non-ASCII as \\uXXXX."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "'\"\\/":
            out.append("\\" + ch)
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif o < 32:
            out.append("\\u%04X" % o)
        elif o > 0x7F:
            out.extend("\\u%04X" % u for u in utf16_units(ch))
        else:
            out.append(ch)
    return "".join(out)


def utf16_units(ch):
    b = ch.encode("utf-16-be")
    return [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2)]


def vtl(template, body=None, params=None):
    """Evaluate the two VTL expressions these templates use, as API Gateway documents them."""
    def java_replace_all_escaped_quote(s):  # .replaceAll("\\'","'"): regex \\' = a backslash, then '
        return s.replace("\\'", "'")
    text = template.replace("$util.escapeJavaScript($input.body).replaceAll(\"\\\\'\",\"'\")",
                            java_replace_all_escaped_quote(escape_javascript(body or "")))
    text = re.sub(r"\$util\.escapeJavaScript\(\$input\.params\('(\w+)'\)\)\.replaceAll\(\"\\\\'\",\"'\"\)",
                  lambda m: java_replace_all_escaped_quote(escape_javascript((params or {})[m.group(1)])), text)
    assert "$util" not in text and "$input" not in text, f"unevaluated VTL left: {text}"
    return text


@pytest.mark.parametrize("key", [
    "photos/cat.jpg", "bob's photo.jpg", 'quote " and back\\slash.jpg', "dir/my photo é+x's.jpg",
    "emoji 😀/x.png", "a\\'b.jpg", "slash/../up.jpg",
])
def test_start_execution_template_yields_json_for_any_key(key, samples):
    body = json.dumps({"key": key, "size": 640}, ensure_ascii=False)
    rendered = vtl(render.render_sample("start_execution.vtl"), body=body)
    request = json.loads(rendered)  # API Gateway sends this to states:StartExecution
    assert request["stateMachineArn"] == samples["start_execution.vtl"]["state_machine_arn"]
    assert json.loads(request["input"]) == {"key": key, "size": 640}


def test_seed_template_without_replace_all_breaks_on_apostrophes():
    seed = '{"input": "$util.escapeJavaScript($input.body)"}'
    text = seed.replace("$util.escapeJavaScript($input.body)", escape_javascript('{"key": "bob\'s.jpg"}'))
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.parametrize("name", ["0b6c0f6e-1d9f-4a51-9f5e-7f3c2e1a9b10", "it's", 'a"b'])
def test_describe_execution_template(name, samples):
    rendered = vtl(render.render_sample("describe_execution.vtl"), params={"id": name})
    request = json.loads(rendered)
    assert request == {"executionArn": samples["describe_execution.vtl"]["execution_arn_prefix"] + name}


def contract_codes(contract):
    """lambda/CONTRACT.md's rejection table: code -> HTTP status."""
    section = contract.split("| code | statusCode | when |", 1)[1].split("\n\n", 1)[0]
    return {code: int(status) for code, status in re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \|", section, re.M)}


def test_sync_response_maps_every_contract_code_to_its_status(contract):
    """The Express API's response template has one line per row of CONTRACT.md's table, and no other."""
    template = (MODULE / "templates" / "sync_response.vtl").read_text()
    mapped = {code: int(status) for code, status in
              re.findall(r'#(?:else)?if\(\$code == "([A-Z_]+)"\)#set\(\$http = (\d{3})\)', template)}
    assert mapped == contract_codes(contract)
    assert len(mapped) >= 8


def test_sync_response_reads_the_fail_states_of_the_definition(asl):
    """What the template matches on is what the state machine's Fail states produce."""
    template = (MODULE / "templates" / "sync_response.vtl").read_text()
    rejected = asl["States"]["Rejected"]
    assert f'$input.path(\'$.error\') == "{rejected["Error"]}"' in template
    assert rejected["CausePath"] == "$.error.code"


def test_render_py_gives_what_terraform_rendered(samples):
    """template_samples.rendered.json is Terraform's own templatefile() output for every sample,
    kept current by the terraform check (tests/iac/terraform.py); render.py must match it without
    Terraform installed."""
    rendered = json.loads((REPO / "tests" / "iac" / "template_samples.rendered.json").read_text())
    assert sorted(rendered) == sorted(samples)
    for name in samples:
        assert render.render_sample(name) == rendered[name], name
