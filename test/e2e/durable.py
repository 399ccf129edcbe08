#!/usr/bin/env python3
"""Durable state and idempotency of a deployment, against a real cleave-run.

Builds examples/counter (entries without boundaries) and examples/pipeline
(entries cut into steps), and checks that:
  - state lives in OUT/.cleave/state.db and survives a restart;
  - --state=memory starts empty every time;
  - a request repeated with the same Idempotency-Key gets the first answer
    and changes state once, on both kinds of entry; another key is a new
    request.
Prints one PASS line per check; exits 1 on the first failure.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import difftest  # noqa: E402
from difftest import Failure, Runtime, cleave_build, find_tool, http_call  # noqa: E402


def call(base, method, path, args=None, key=None):
    headers = {"Idempotency-Key": key} if key else None
    status, body, _ = http_call(base, method, path, args, headers=headers)
    return status, (json.loads(body) if body else None)


def expect(what, got, want):
    if got != want:
        raise Failure(f"{what}: got {got!r}, expected {want!r}")


def counter(opts, cleave_run):
    out = os.path.join(opts.work, "counter")
    cleave_build(opts, os.path.join(opts.examples, "counter", "counter.cpp"), out)
    with Runtime(cleave_run, out, opts.work) as rt:
        base = rt.wait_for_address()
        first = call(base, "POST", "/increment", {"by": 5, "who": "ann"}, "k1")
        expect("first increment", first, (200, {"total": 5, "mine": 5}))
        again = call(base, "POST", "/increment", {"by": 5, "who": "ann"}, "k1")
        expect("repeated increment", again, first)
        other = call(base, "POST", "/increment", {"by": 1, "who": "ann"}, "k2")
        expect("another key", other, (200, {"total": 6, "mine": 6}))
        plain = call(base, "POST", "/increment", {"by": 1, "who": "bob"})
        expect("no key", plain, (200, {"total": 7, "mine": 1}))
        bad = call(base, "POST", "/increment", {"by": 1, "who": "bob"}, "x" * 256)
        expect("too long a key", bad[0], 400)
        if "Idempotency-Key" not in bad[1].get("error", ""):
            raise Failure(f"unclear error for a bad key: {bad!r}")
        rt.stop()
    print("PASS idempotent-handler")
    if not os.path.exists(os.path.join(out, ".cleave", "state.db")):
        raise Failure("no state database in OUT/.cleave/state.db")
    with Runtime(cleave_run, out, opts.work) as rt:
        base = rt.wait_for_address()
        expect("total after restart", call(base, "GET", "/mine", {"who": "ann"}),
               (200, 6))
        expect("a key after restart",
               call(base, "POST", "/increment", {"by": 5, "who": "ann"}, "k1"),
               first)
        expect("unchanged by it", call(base, "GET", "/mine", {"who": "ann"}),
               (200, 6))
        rt.stop()
    print("PASS state-survives-restart")
    with Runtime(cleave_run, out, opts.work, ["--state", "memory"]) as rt:
        base = rt.wait_for_address()
        expect("memory state", call(base, "GET", "/mine", {"who": "ann"}), (200, 0))
        rt.stop()
    print("PASS memory-state")
    cleave = find_tool(opts.cleave, "cleave")
    dump = subprocess.run([cleave, "state", out, "dump"], capture_output=True,
                          text=True)
    expect("cleave state dump", (dump.returncode, json.loads(dump.stdout or "null")),
           (0, {"per_name": {"ann": 6, "bob": 1}, "total": 7}))
    get = subprocess.run([cleave, "state", out, "get", "total"],
                         capture_output=True, text=True)
    expect("cleave state get", (get.returncode, get.stdout.strip()), (0, "7"))
    missing = subprocess.run([cleave, "state", out, "get", "nope"],
                             capture_output=True, text=True)
    expect("cleave state get of nothing", missing.returncode, 1)
    if "no state 'nope'" not in missing.stderr:
        raise Failure(f"unclear error: {missing.stderr!r}")
    print("PASS state-command")


def pipeline(opts, cleave_run):
    out = os.path.join(opts.work, "pipeline")
    cleave_build(opts, os.path.join(opts.examples, "pipeline", "pipeline.cpp"), out)
    job = {"job": {"name": "alpha", "base": 1250, "factors": [100, 50, 200]},
           "rounds": 3}
    with Runtime(cleave_run, out, opts.work) as rt:
        base = rt.wait_for_address()
        before = call(base, "GET", "/counters")
        first = call(base, "POST", "/run", job, "r1")
        if first[0] != 200:
            raise Failure(f"run: {first!r}")
        mid = call(base, "GET", "/counters")
        again = call(base, "POST", "/run", job, "r1")
        expect("repeated run", again, first)
        expect("counters after the repeat", call(base, "GET", "/counters"), mid)
        if mid == before:
            raise Failure("the first run changed no state")
        rt.stop()
    with Runtime(cleave_run, out, opts.work) as rt:
        base = rt.wait_for_address()
        expect("counters after restart", call(base, "GET", "/counters"), mid)
        expect("a key after restart", call(base, "POST", "/run", job, "r1"), first)
        rt.stop()
    print("PASS idempotent-steps")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cleave")
    ap.add_argument("--cleave-run", dest="cleave_run")
    opts = ap.parse_args()
    os.makedirs(opts.work, exist_ok=True)
    try:
        cleave_run = find_tool(opts.cleave_run, "cleave-run")
        counter(opts, cleave_run)
        pipeline(opts, cleave_run)
    except Failure as e:
        print(f"durable: FAILED: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
