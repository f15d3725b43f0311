#!/usr/bin/env python3
"""Approximate `terraform fmt -check` for the module (no Terraform binary here).

Implements the rules of hclwrite's formatter that matter for hand-written HCL:
- indentation: a line whose brackets open more than they close indents the following lines by
  two spaces (however many it opened); lines that close them dedent (hclwrite's indent stack);
- `=` of consecutive single-line attributes is aligned one space after the longest name
  (a chain ends at a blank line, a comment line, a block or a multi-line value, as in hclwrite);
- a multi-line value's first line (`name = {`) has exactly one space on each side of `=`;
- no tabs, no trailing whitespace, file ends with exactly one newline.

    check_fmt.py [PATH ...]     (default: every .tf and .tfvars under terraform/)
"""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OPEN, CLOSE = "([{", ")]}"


def scan(line, state):
    """Tokenize one line just enough: returns (code_chars, state) where code_chars is a list of
    (column, char) outside strings and comments. state carries open strings/interpolations
    across lines (a stack: "s" = in a string, "i" = in an interpolation inside a string)."""
    out = []
    stack = list(state)
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        top = stack[-1] if stack else None
        if top == "s":
            if c == "\\":
                i += 2
                continue
            if line.startswith("${", i) or line.startswith("%{", i):
                stack.append("i")
                i += 2
                continue
            if c == '"':
                stack.pop()
            i += 1
            continue
        # code, or inside an interpolation
        if c == '"':
            stack.append("s")
            i += 1
            continue
        if c == "#" or line.startswith("//", i):
            break
        if line.startswith("/*", i):
            end = line.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if top == "i":
            if c == "{":
                stack.append("b")
            elif c == "}":
                stack.pop()
            i += 1
            continue
        if top == "b":
            if c == "{":
                stack.append("b")
            elif c == "}":
                stack.pop()
            i += 1
            continue
        out.append((i, c))
        i += 1
    return out, tuple(stack)


def check_file(path):
    problems = []
    text = path.read_text()
    if "\t" in text:
        problems.append((0, "contains a tab"))
    if not text.endswith("\n") or text.endswith("\n\n"):
        problems.append((0, "must end with exactly one newline"))
    lines = text.split("\n")
    indents = []  # hclwrite's indent stack: brackets opened by each indenting line
    state = ()
    chain = []  # (lineno, lead_width, eq_col)

    def close_chain():
        if chain:
            want = max(width for _, width, _ in chain) + 1
            for lineno, width, eq_col in chain:
                if eq_col != want:
                    problems.append((lineno, f"'=' at column {eq_col + 1}, expected {want + 1} (align with neighbours)"))
        chain.clear()

    heredoc = None
    for idx, line in enumerate(lines, start=1):
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        if line != line.rstrip():
            problems.append((idx, "trailing whitespace"))
        in_string = bool(state)
        code, new_state = scan(line, state)
        stripped = line.strip()
        net = sum((ch in OPEN) - (ch in CLOSE) for _, ch in code)
        if net < 0:
            closed = -net
            while closed > 0 and indents:
                if closed >= indents[-1]:
                    closed -= indents.pop()
                else:
                    indents[-1] -= closed
                    closed = 0
        if not in_string and stripped:
            want_indent = 2 * len(indents)
            indent = len(line) - len(line.lstrip(" "))
            if indent != want_indent:
                problems.append((idx, f"indented {indent} spaces, expected {want_indent}"))
        if net > 0:
            indents.append(net)
        # the assignment cell, as hclwrite finds it
        assign = None
        if not in_string and code and not stripped.startswith(("#", "//")):
            for k, (col, c) in enumerate(code):
                nxt = line[col + 1] if col + 1 < len(line) else ""
                prev = line[col - 1] if col > 0 else ""
                if c == "=" and nxt not in "=>" and prev not in "=!<>" and k > 0:
                    net = sum((ch in OPEN) - (ch in CLOSE) for _, ch in code[k:])
                    rest_in_string = bool(new_state)
                    assign = (col, net == 0 and not rest_in_string)
                    break
        if assign and assign[1]:
            col = assign[0]
            lead = line[:col].rstrip(" ")
            chain.append((idx, len(lead), col))
        else:
            close_chain()
            if assign:
                col = assign[0]
                if line[col - 1] != " " or line[col - 2] == " " or line[col + 1:col + 2] != " ":
                    problems.append((idx, "multi-line value: use exactly one space around '='"))
        if "<<" in line and not in_string:
            marker = line.split("<<", 1)[1].lstrip("-").strip()
            if marker.isidentifier():
                heredoc = marker
        state = new_state
    close_chain()
    if indents:
        problems.append((len(lines), "unbalanced brackets at end of file"))
    return problems


def main(argv):
    paths = [Path(p) for p in argv[1:]] or sorted(
        p for p in (REPO / "terraform").rglob("*") if p.suffix in (".tf", ".tfvars") or p.name.endswith(".tfvars.example"))
    bad = 0
    for p in paths:
        for lineno, msg in check_file(p):
            bad += 1
            rel = p.resolve().relative_to(REPO) if p.resolve().is_relative_to(REPO) else p
            print(f"{rel}:{lineno}: {msg}")
    if bad:
        print(f"fmt check: {bad} problem(s) in {len(paths)} files")
        return 1
    print(f"fmt check: {len(paths)} files formatted like terraform fmt (approximation)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
