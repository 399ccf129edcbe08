#!/usr/bin/env python3
"""Shrinks a failing generated program while its failure persists.

  reduce.py --from DIR --out OUTDIR [--unit N]

DIR is what the harness keeps for a failure (prog.cpp, scenario.jsonl). The
oracle is the harness's own check (monolith against deployment): a candidate
is kept when unit N (default: the first unit that fails or is refused)
still fails the same way:

  refused        the same refusal message, names aside;
  library        the generated library still does not build, same message;
  no answer      a call of the unit still gets no answer;
  differs        an answer or the unit's state still differs.

Passes, repeated until none makes progress: drop the other units; drop
calls from the scenario; drop blocks (a line ending in `{` through its
closing line), two-line `if (c)` / statement pairs and single lines;
unwrap blocks (keep the body, drop the head and the closing line). The
prelude's unused helpers go too.
A candidate whose monolith does not build is simply not kept.

OUTDIR gets prog.cpp, scenario.jsonl and failure.txt, ready to be checked
again with `harness.py --program OUTDIR/prog.cpp --scenario
OUTDIR/scenario.jsonl` and kept as a test (docs/testing.md).
Python standard library only.
"""

import argparse
import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


class Oracle:
    def __init__(self, opts, unit, work):
        self.opts = opts
        self.unit = unit
        self.work = work
        self.target = None
        self.tests = 0

    def verdict(self, text, calls):
        """(category, detail) of the unit in this program, or None when the
        unit agrees or the program is broken."""
        self.tests += 1
        calls = [dict(c) for c in calls]
        work = os.path.join(self.work, "try")
        shutil.rmtree(work, ignore_errors=True)
        try:
            v = harness.check_program(self.opts, work, text, calls)
        except harness.Fail as e:
            first = str(e).split("\n")[0]
            if "monolith" in first:
                return None
            return ("program", harness.normalize(first)[:200])
        u = self.unit
        if u in v.refused:
            return ("refused", harness.normalize(v.refused[u]))
        if u in v.failed:
            p = v.failed[u]
            if p.startswith("the generated library does not build"):
                return ("library", harness.normalize(p))
            if "got no answer" in p:
                return ("no answer", "")
            return ("differs", "")
        return None

    def interesting(self, text, calls):
        return self.verdict(text, calls) == self.target


def chunks(lines, lo, hi):
    """Candidate (start, end) ranges, inclusive, between lines lo and hi."""
    depth = [0]
    for line in lines:
        depth.append(depth[-1] + line.count("{") - line.count("}"))
    out = []
    for i in range(lo, hi + 1):
        s = lines[i].rstrip()
        if s.startswith("//") or not s.strip():
            continue
        if s.endswith("{"):
            d0 = depth[i]
            for j in range(i + 1, hi + 1):
                if depth[j + 1] <= d0 and not lines[j].rstrip().endswith("{"):
                    out.append((i, j))
                    break
        elif not s.endswith(";") and not s.endswith("}") and i + 1 <= hi:
            # if (c) / else / for (...) without braces: the head and its statement.
            out.append((i, i + 1))
        else:
            out.append((i, i))
    return out


def unit_range(lines, unit):
    lo = hi = None
    for i, line in enumerate(lines):
        if line == f"// unit {unit} begin":
            lo = i + 1
        if line == f"// unit {unit} end":
            hi = i - 1
    return lo, hi


def reduce(oracle, text, calls, log):
    # The other units.
    others = [u for u in harness.units_in(text) if u != oracle.unit]
    if others:
        t = harness.remove_units(text, set(others))
        c = [x for x in calls if harness.unit_of_call(x) in (None, oracle.unit)]
        if oracle.interesting(t, c):
            text, calls = t, c
            log(f"reduce: kept unit {oracle.unit} only")
        else:
            for u in others:
                t = harness.remove_units(text, {u})
                c = [x for x in calls if harness.unit_of_call(x) != u]
                if oracle.interesting(t, c):
                    text, calls = t, c
    progress = True
    while progress:
        progress = False
        # The scenario: one call at a time, from the end.
        i = len(calls) - 1
        while i >= 0 and len(calls) > 1:
            c = calls[:i] + calls[i + 1:]
            if oracle.interesting(text, c):
                calls = c
                progress = True
            i -= 1
        # Blocks and lines, largest first, from the end of the unit.
        lines = text.split("\n")
        lo, hi = unit_range(lines, oracle.unit)
        if lo is None:
            break
        first = next(k for k, l in enumerate(lines) if l.startswith("// unit "))
        cands = sorted(chunks(lines, lo, hi) + chunks(lines, 0, first - 1),
                       key=lambda r: (r[0] - r[1], -r[0]))
        removed = set()
        for start, end in cands:
            if any(k in removed for k in range(start, end + 1)):
                continue
            keep = [l for k, l in enumerate(lines) if k not in removed and not start <= k <= end]
            t = "\n".join(keep)
            if oracle.interesting(t, calls):
                removed.update(range(start, end + 1))
                progress = True
                log(f"reduce: dropped lines {start + 1}-{end + 1} "
                    f"({len(lines) - len(removed)} lines left, {oracle.tests} tests)")
        text = "\n".join(l for k, l in enumerate(lines) if k not in removed)
        # Unwrap blocks: keep the body.
        lines = text.split("\n")
        lo, hi = unit_range(lines, oracle.unit)
        for start, end in sorted(chunks(lines, lo, hi), key=lambda r: r[0] - r[1]):
            if end - start < 2 or not lines[start].rstrip().endswith("{"):
                continue
            if lines[start].lstrip().startswith(("CLEAVE_", "struct", "static", "template")):
                continue
            if lines[end].strip() != "}":
                continue
            t = "\n".join(l for k, l in enumerate(lines) if k not in (start, end))
            if oracle.interesting(t, calls):
                text = t
                progress = True
                log(f"reduce: unwrapped the block at line {start + 1}")
                break
    return text, calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--from", dest="src", required=True,
                    help="a failure directory the harness kept (prog.cpp, scenario.jsonl)")
    ap.add_argument("--out", required=True, help="where the reduced program goes")
    ap.add_argument("--unit", type=int, help="the unit to keep failing (default: the first)")
    ap.add_argument("--work", help="a scratch directory (default: OUT/work)")
    harness.add_common_options(ap)
    opts = ap.parse_args()
    opts.cleave = harness.find_tool(opts.cleave, "cleave")
    opts.cleave_run = harness.find_tool(opts.cleave_run, "cleave-run")
    with open(os.path.join(opts.src, "prog.cpp")) as f:
        text = f.read()
    calls = harness.read_scenario(os.path.join(opts.src, "scenario.jsonl"))
    os.makedirs(opts.out, exist_ok=True)
    work = os.path.abspath(opts.work or os.path.join(opts.out, "work"))
    started = time.monotonic()

    units = sorted(harness.units_in(text))
    oracle = Oracle(opts, None, work)
    if opts.unit is not None:
        candidates = [opts.unit]
    else:
        v = harness.check_program(opts, os.path.join(work, "first"), text,
                                  [dict(c) for c in calls])
        candidates = list(v.failed) + list(v.refused)
        if not candidates:
            print("reduce: every unit agrees: nothing to reduce", file=sys.stderr)
            return 1
    oracle.unit = candidates[0]
    oracle.target = oracle.verdict(text, calls)
    if oracle.target is None:
        print(f"reduce: unit {oracle.unit} does not fail", file=sys.stderr)
        return 1
    print(f"reduce: unit {oracle.unit} of {len(units)}: {oracle.target[0]} "
          f"{oracle.target[1]}", file=sys.stderr)
    text, calls = reduce(oracle, text, calls, lambda m: print(m, file=sys.stderr))

    # The tail (GET /state, main) is left out: the harness writes it again.
    text = re.sub(r"\n{3,}", "\n\n", text.split("\n// tail begin")[0]).rstrip("\n") + "\n"
    with open(os.path.join(opts.out, "prog.cpp"), "w") as f:
        f.write(text)
    harness.write_scenario(os.path.join(opts.out, "scenario.jsonl"), calls)
    v = harness.check_program(opts, os.path.join(work, "last"), text, [dict(c) for c in calls])
    with open(os.path.join(opts.out, "failure.txt"), "w") as f:
        for u, m in list(v.refused.items()) + list(v.failed.items()):
            f.write(f"unit {u}: {m}\n")
    shutil.rmtree(work, ignore_errors=True)
    print(f"reduce: {len(text.splitlines())} lines, {len(calls)} calls, "
          f"{oracle.tests} tests in {time.monotonic() - started:.0f} s: "
          f"{os.path.join(opts.out, 'prog.cpp')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
