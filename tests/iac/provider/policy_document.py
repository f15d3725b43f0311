"""aws_iam_policy_document rendered the way the AWS provider renders it (internal/service/iam/
policy_model.go and data_source_policy_document.go), so a plan shows the policies Terraform would send.

Shape: {"Version": "2012-10-17", "Id"?: policy_id, "Statement": [{"Sid"?, "Effect", "Action" |
"NotAction", "Resource" | "NotResource", "Principal" | "NotPrincipal", "Condition"}]}. Like the provider:
a one-element list is written as a plain string, longer lists in reverse sorted order
(policyDecodeConfigStringList), `Principal: "*"` for the single wildcard principal, Effect defaults to
Allow, empty fields are left out; statements of source_policy_documents come first, statements with
the same Sid are replaced by later ones, override_policy_documents last.
"""
import json


def string_or_list(values):
    values = [v for v in (values or []) if v is not None]
    if len(values) == 1:
        return values[0]
    return sorted(values, reverse=True)


def principals(blocks):
    if not blocks:
        return None
    if len(blocks) == 1 and blocks[0]["type"] == "*" and list(blocks[0]["identifiers"] or []) == ["*"]:
        return "*"
    by_type = {}
    for b in blocks:
        by_type.setdefault(b["type"], []).extend(b.get("identifiers") or [])
    return {t: string_or_list(ids) for t, ids in by_type.items()}


def conditions(blocks):
    if not blocks:
        return None
    out = {}
    for c in blocks:
        out.setdefault(c["test"], {})[c["variable"]] = string_or_list(c.get("values"))
    return out


def statement(st):
    out = {}
    if st.get("sid"):
        out["Sid"] = st["sid"]
    out["Effect"] = st.get("effect") or "Allow"
    for key, field in (("Action", "actions"), ("NotAction", "not_actions"),
                       ("Resource", "resources"), ("NotResource", "not_resources")):
        if st.get(field):
            out[key] = string_or_list(st[field])
    for key, field in (("Principal", "principals"), ("NotPrincipal", "not_principals")):
        p = principals(st.get(field))
        if p is not None:
            out[key] = p
    cond = conditions(st.get("condition"))
    if cond:
        out["Condition"] = cond
    return out


def merge(statements, more):
    """Append `more`, a statement with a Sid already present replacing the earlier one in place."""
    for st in more:
        sid = st.get("Sid")
        idx = next((i for i, s in enumerate(statements) if sid and s.get("Sid") == sid), None)
        if idx is None:
            statements.append(st)
        else:
            statements[idx] = st
    return statements


def render_policy_document(config):
    statements = []
    for src in (config.get("source_policy_documents") or []) + [config.get("source_json")]:
        if src:
            statements = merge(statements, json.loads(src).get("Statement", []))
    statements = merge(statements, [statement(st) for st in config.get("statement") or []])
    for src in (config.get("override_policy_documents") or []) + [config.get("override_json")]:
        if src:
            statements = merge(statements, json.loads(src).get("Statement", []))
    doc = {"Version": config.get("version") or "2012-10-17"}
    if config.get("policy_id"):
        doc["Id"] = config["policy_id"]
    doc["Statement"] = statements
    return doc
