#!/usr/bin/env python3
"""Concurrent writers of a map stored per key, against a real cleave-run.

Builds test/e2e/Inputs/keyed and sends, from many client threads at once,
increments of one hot key (every request races for it) and of one key per
thread (no request races), through an entry without boundaries and through
one cut at a boundary. Keys take no lock: a step that lost the race for a
key commits nothing and runs again. Checks that every request is answered
200 and that every increment landed exactly once. Prints one PASS line per
check; exits 1 on the first failure.
"""

import argparse
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from difftest import Failure, Runtime, cleave_build, find_tool, http_call  # noqa: E402

THREADS = 8
PER_THREAD = 40


def hammer(base, path, body_of):
    """Sends PER_THREAD requests from each of THREADS threads; returns the
    statuses other than 200, with their bodies."""
    bad = []
    lock = threading.Lock()

    def worker(t):
        for i in range(PER_THREAD):
            status, body, _ = http_call(base, "POST", path, body_of(t, i))
            if status != 200:
                with lock:
                    bad.append((status, body))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return bad


def count_of(base, name):
    status, body, _ = http_call(base, "GET", "/shelf", {"name": name})
    if status != 200:
        raise Failure(f"GET /shelf {name}: {status} {body}")
    return json.loads(body)["count"]


def check(what, bad, got, want):
    if bad:
        raise Failure(f"{what}: {len(bad)} requests failed, first: {bad[0]}")
    if got != want:
        raise Failure(f"{what}: count {got}, expected {want}")
    print(f"PASS {what}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--example", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cleave")
    ap.add_argument("--cleave-run", dest="cleave_run")
    opts = ap.parse_args()
    os.makedirs(opts.work, exist_ok=True)
    try:
        out = os.path.join(opts.work, "out")
        cleave_build(opts, os.path.join(opts.example, "keyed.cpp"), out)
        cleave_run = find_tool(opts.cleave_run, "cleave-run")
        with Runtime(cleave_run, out, opts.work) as rt:
            base = rt.wait_for_address()
            n = THREADS * PER_THREAD
            bad = hammer(base, "/stock", lambda t, i: {"name": "hot", "n": 1, "aisle": ""})
            check("one-hot-key", bad, count_of(base, "hot"), n)
            bad = hammer(base, "/stock", lambda t, i: {"name": f"k{t}", "n": 1, "aisle": ""})
            got = sum(count_of(base, f"k{t}") for t in range(THREADS))
            check("a-key-per-thread", bad, got, n)
            # restock adds 1, then len(name) after its boundary: two commits.
            bad = hammer(base, "/restock", lambda t, i: {"name": "hot"})
            check("one-hot-key-across-a-boundary", bad, count_of(base, "hot"), n + n * 4)
            rt.stop()
    except Failure as e:
        print(f"keyed_load: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
