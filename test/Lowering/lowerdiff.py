#!/usr/bin/env python3
"""Differential test of one small lowering program: monolith against deployment.

The program SOURCE lists its calls in comments:

    // CALL: POST /guard {"x": 5}

and its entries take and return types nlohmann::json converts by itself
(integers, bool, double, std::string, std::vector, std::map with string
keys). This script writes the monolith's driver from the entries'
signatures (a call decodes each parameter with nlohmann::json and encodes
the value, as examples/*/driver.cpp do by hand), then hands the example to
test/e2e/difftest.py, which runs both sides and compares every answer.

Python standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

ENTRY = re.compile(
    r'CLEAVE_ENTRY\("(\w+) (/[^"]*)"\)\s*([\w:<>, ]+?)\s+(\w+)\s*\(([^)]*)\)\s*(?:->[^{]*)?(?:try\s*)?\{')
CALL = re.compile(r"^\s*// CALL: (\w+) (\S+)\s*(.*)$")


def params(text):
    """[(type, name)] of a parameter list without default arguments."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    result = []
    for p in out:
        p = p.strip()
        m = re.match(r"^(.*?)([A-Za-z_]\w*)$", p)
        if not m:
            sys.exit("lowerdiff: cannot read parameter '%s'" % p)
        typ = m.group(1).strip().rstrip("&").strip()
        if typ.startswith("const "):
            typ = typ[len("const "):]
        result.append((typ, m.group(2)))
    return result


def driver(source, entries):
    lines = [
        "// Written by lowerdiff.py: the monolith's side of the test.",
        "#define main lowerdiff_monolith_main",
        '#include "%s"' % os.path.basename(source),
        "#undef main",
        '#include "driver.h"',
        "namespace {",
        "Call decodeCall(const std::string &Route, const Json &Args) {",
    ]
    for method, path, ret, name, plist in entries:
        lines.append('  if (Route == "%s %s") {' % (method, path))
        args = []
        for i, (typ, pname) in enumerate(params(plist)):
            lines.append('    auto a%d = Args.at("%s").get<%s>();' % (i, pname, typ))
            args.append("a%d" % i)
        call = "%s(%s)" % (name, ", ".join(args))
        if ret == "void":
            lines.append("    return [=]() mutable { %s; return Reply{204, nullptr}; };" % call)
        else:
            lines.append("    return [=]() mutable { return Reply{200, Json(%s)}; };" % call)
        lines.append("  }")
    lines += [
        '  throw std::runtime_error("no entry for " + Route);',
        "}",
        "} // namespace",
        "int main() { return runScenario(decodeCall); }",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source")
    ap.add_argument("--work", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("--flag", action="append", default=[],
                    help="a compiler flag for both builds (repeatable)")
    args = ap.parse_args()

    text = open(args.source).read()
    entries = ENTRY.findall(text)
    if not entries:
        sys.exit("lowerdiff: no CLEAVE_ENTRY in %s" % args.source)
    calls = []
    for line in text.splitlines():
        m = CALL.match(line)
        if m:
            body = json.loads(m.group(3)) if m.group(3).strip() else {}
            calls.append({"method": m.group(1), "path": m.group(2), "args": body})
    if not calls:
        sys.exit("lowerdiff: no // CALL: lines in %s" % args.source)

    name = os.path.splitext(os.path.basename(args.source))[0]
    example = os.path.join(args.work, name)
    os.makedirs(example, exist_ok=True)
    with open(os.path.join(example, name + ".cpp"), "w") as f:
        f.write(text)
    with open(os.path.join(example, "driver.cpp"), "w") as f:
        f.write(driver(os.path.join(example, name + ".cpp"), entries).replace(
            '#include "driver.h"',
            '#include "%s"' % os.path.join(HERE, "..", "..", "examples", "driver.h")))
    with open(os.path.join(example, "scenario.jsonl"), "w") as f:
        for c in calls:
            f.write(json.dumps(c) + "\n")
    cmd = [sys.executable, os.path.join(HERE, "..", "e2e", "difftest.py"),
           "--example", example, "--work", os.path.join(args.work, "diff"),
           "--include", args.include] + ["--flag=" + f for f in args.flag]
    sys.exit(subprocess.call(cmd))


if __name__ == "__main__":
    main()
