#!/usr/bin/env python3
"""Throughput of cleave-run against a hand-written server (make bench).

Compiles bench/http/add.cpp (one entry, one step, one state variable) with
`cleave build`, then serves it two ways at once: with cleave-run, and with
BaselineServer, a thread-per-connection Boost.Beast server written by hand
around the same handler library that does the same work per request and
nothing more. HttpLoad drives each in turn with closed-loop keep-alive
clients (1, 8 and 64 of them), for the in-memory store and for SQLite.
Each pair of runs is repeated (--repeat, 3 by default), the two servers
taking turns, and the medians are printed: on a small machine that shares
its cores with the load generator, single runs vary by tens of percent.

Prints requests per second, p50 and p99 latency, and cleave-run's ratio to
the baseline; the target is at least 0.8 at every client count. Then
cleave-run on SQLite with --durability=fsync against the default mode; the
target is at least 0.5 at 8 clients. Prints
figures only: it never fails on timing.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# A key per client ("{client}" is its number, see HttpLoad.cpp).
KEYED = '{"key": "c{client}", "n": 1}'


def start(cmd, log):
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=log, text=True
    )
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        sys.exit(f"httpbench: {cmd[0]} did not start (exit {proc.returncode})")
    port = int(line.rstrip().rsplit(":", 1)[-1].split()[-1])
    return proc, port


def load(tool, port, clients, seconds, path="/add", body='{"n": 1}'):
    out = subprocess.run(
        [tool, "127.0.0.1", str(port), path, body, str(clients),
         str(seconds), "0.5"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def median(runs):
    """The run with the median throughput, failures summed over all."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    mid = dict(ordered[len(ordered) // 2])
    mid["errors"] = sum(r["errors"] for r in runs)
    mid["non2xx"] = sum(r["non2xx"] for r in runs)
    return mid


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build", help="the build folder")
    p.add_argument("--seconds", type=float, default=2.0,
                   help="measured seconds per run (default 2)")
    p.add_argument("--clients", default="1,8,64")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs per server and client count (default 3)")
    p.add_argument("--stores", default="memory,sqlite")
    opts = p.parse_args()
    build = os.path.abspath(opts.build)
    work = os.path.join(build, "bench", "http")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out = os.path.join(work, "out")
    subprocess.run(
        [os.path.join(build, "bin", "cleave"), "build", "-q", "-o", out,
         os.path.join(HERE, "add.cpp"), "--", "-std=c++17", "-O2"],
        check=True,
    )
    manifest = os.path.join(out, "manifest.yaml")
    loadgen = os.path.join(build, "bench", "HttpLoad")
    baseline = os.path.join(build, "bench", "BaselineServer")
    cleave_run = os.path.join(build, "bin", "cleave-run")
    clients = [int(c) for c in opts.clients.split(",")]
    log = open(os.path.join(work, "servers.log"), "w")

    print(f"one-step entry POST /add, {opts.seconds:g} s per run, median of "
          f"{opts.repeat}, {os.cpu_count()} cores; load generator on the "
          f"same machine")
    print(f"{'store':8} {'clients':>7} {'cleave-run rps':>15} {'p50/p99 us':>12}"
          f" {'baseline rps':>13} {'p50/p99 us':>12} {'ratio':>6}")
    worst = None
    for store in opts.stores.split(","):
        spec = {"memory": "memory",
                "sqlite": "sqlite:" + os.path.join(work, "cleave.db")}[store]
        base_spec = {"memory": "memory",
                     "sqlite": "sqlite:" + os.path.join(work, "base.db")}[store]
        cr, cr_port = start([cleave_run, out, "--port", "0", "--state", spec],
                            log)
        bs, bs_port = start([baseline, manifest, "0", base_spec, "add"], log)
        try:
            for n in clients:
                runs_a, runs_b = [], []
                for _ in range(opts.repeat):
                    runs_a.append(load(loadgen, cr_port, n, opts.seconds))
                    runs_b.append(load(loadgen, bs_port, n, opts.seconds))
                a, b = median(runs_a), median(runs_b)
                ratio = a["rps"] / b["rps"] if b["rps"] else float("nan")
                worst = ratio if worst is None else min(worst, ratio)
                bad = ""
                if a["errors"] or a["non2xx"] or b["errors"] or b["non2xx"]:
                    bad = (f"  (failures: cleave-run {a['errors']}+"
                           f"{a['non2xx']}, baseline {b['errors']}+"
                           f"{b['non2xx']})")
                print(f"{store:8} {n:>7} {a['rps']:>15.0f} "
                      f"{a['p50_us']:>5.0f}/{a['p99_us']:<6.0f}"
                      f" {b['rps']:>13.0f} {b['p50_us']:>5.0f}/{b['p99_us']:<6.0f}"
                      f" {ratio:>6.2f}{bad}")
        finally:
            for proc in (cr, bs):
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    if worst is not None:
        print(f"lowest ratio {worst:.2f} (target: at least 0.80)")

    # Durability: on SQLite with --durability=fsync (every answer waits for
    # a sync of the WAL covering its commit; one sync covers every commit
    # written meanwhile) against the default. Each client adds to its own
    # key of a map stored per key; a sync holds at most one commit per
    # client, as each waits for its answer before sending the next.
    print()
    print("cleave-run on SQLite, POST /add-to on a key per client: "
          f"--durability=fsync against the default (state in {work})")
    print(f"{'clients':>7} {'normal rps':>11} {'p50/p99 us':>12} "
          f"{'fsync rps':>10} {'p50/p99 us':>12} {'ratio':>6}")
    normal, n_port = start([cleave_run, out, "--port", "0", "--state",
                            "sqlite:" + os.path.join(work, "normal.db")], log)
    synced, s_port = start([cleave_run, out, "--port", "0", "--state",
                            "sqlite:" + os.path.join(work, "fsync.db"),
                            "--durability", "fsync"], log)
    try:
        for n in clients:
            runs_a, runs_b = [], []
            for _ in range(opts.repeat):
                runs_a.append(load(loadgen, n_port, n, opts.seconds,
                                   "/add-to", KEYED))
                runs_b.append(load(loadgen, s_port, n, opts.seconds,
                                   "/add-to", KEYED))
            a, b = median(runs_a), median(runs_b)
            ratio = b["rps"] / a["rps"] if a["rps"] else float("nan")
            print(f"{n:>7} {a['rps']:>11.0f} {a['p50_us']:>5.0f}/{a['p99_us']:<6.0f}"
                  f" {b['rps']:>10.0f} {b['p50_us']:>5.0f}/{b['p99_us']:<6.0f}"
                  f" {ratio:>6.2f}")
    finally:
        for proc in (normal, synced):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    print("target: fsync at least 0.50 of the default at 8 clients")


if __name__ == "__main__":
    main()
