#!/usr/bin/env python3
"""Chains cut by a Redis outage resume when Redis returns, without a restart.

Serves Inputs/handover.cpp (`run` is cut into steps at a call that sleeps)
on a private redis-server with an append-only file synced on every write.
While a chain's second step sleeps, redis-server is killed (SIGKILL); the
step's commit fails and the client is answered 500. redis-server is
started again on the same port and file: the step's message is still
queued there, and cleave-run, which was never restarted, must resume it:
the chain ends exactly once (`done` becomes 1), and a retry with the
request's Idempotency-Key gets the chain's answer without running it again.

Prints "PASS redis-outage: ..." or "FAIL redis-outage: why"; exits 1 on
failure. Python standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import difftest  # noqa: E402
from difftest import Failure, http_call  # noqa: E402
from fault import free_port, redis_ping  # noqa: E402


def start_redis(binary, port, data, log):
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes", "--appendfsync", "always", "--dir", data,
         "--daemonize", "no", "--loglevel", "warning", "--logfile", log],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        if redis_ping(port):
            return proc
        time.sleep(0.02)
    proc.kill()
    raise Failure(f"redis-server did not start on port {port}; see {log}")


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(opts):
    binary = shutil.which("redis-server")
    if not binary:
        raise Failure("redis-server is not installed; scripts/install-deps.sh")
    out = os.path.join(opts.work, "out")
    difftest.cleave_build(opts, opts.source, out)
    data = os.path.join(opts.work, "redis")
    os.makedirs(data, exist_ok=True)
    log = os.path.join(data, "redis.log")
    port = free_port()
    redis = start_redis(binary, port, data, log)
    cleave_run = difftest.find_tool(opts.cleave_run, "cleave-run")
    try:
        with difftest.Runtime(cleave_run, out, opts.work,
                              ["--state", f"redis://127.0.0.1:{port}"]) as rt:
            base = rt.wait_for_address()
            args = {"id": "cut", "x": 20, "ms": 2000}
            headers = {"Idempotency-Key": "outage-1"}
            answer = {}

            def call():
                try:
                    answer["first"] = http_call(base, "POST", "/run", args,
                                                headers=headers)
                except OSError as e:
                    answer["first"] = (None, str(e).encode(), {})

            first = threading.Thread(target=call)
            first.start()
            time.sleep(0.7)  # the chain is in slow_double's step now
            stop(redis, signal.SIGKILL)
            first.join(timeout=30)
            status, body, _ = answer.get("first", (None, b"", {}))
            if status is None or status < 500:
                raise Failure(f"the request cut by the outage answered "
                              f"{status}: {body!r}")
            time.sleep(0.5)
            redis = start_redis(binary, port, data, log)
            deadline = time.monotonic() + 20
            done = None
            while time.monotonic() < deadline:
                st, data_, _ = http_call(base, "GET", "/done", {"id": "cut"})
                if st == 200 and json.loads(data_) == 1:
                    done = time.monotonic()
                    break
                time.sleep(0.2)
            if done is None:
                raise Failure("the chain did not resume within 20 s of Redis "
                              "returning\n" + rt.log())
            st, data_, _ = http_call(base, "POST", "/run", args,
                                     headers=headers)
            if st != 200 or json.loads(data_) != 41:
                raise Failure(f"the retry answered {st}: {data_!r}")
            st, data_, _ = http_call(base, "GET", "/done", {"id": "cut"})
            if json.loads(data_) != 1:
                raise Failure(f"the retry ran the chain again: done={data_!r}")
            log_text = rt.log()
            rt.stop()
        if "resuming 1 step" not in log_text:
            raise Failure(f"cleave-run did not say it resumed:\n{log_text}")
        return f"first answer {status}; resumed, done=1, retry 200"
    finally:
        stop(redis)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=os.path.join(here, "Inputs",
                                                     "handover.cpp"))
    ap.add_argument("--work", required=True)
    ap.add_argument("--cleave")
    ap.add_argument("--cleave-run", dest="cleave_run")
    opts = ap.parse_args()
    opts.work = os.path.abspath(opts.work)
    opts.flag = []
    os.makedirs(opts.work, exist_ok=True)
    try:
        print(f"PASS redis-outage: {run(opts)}")
        return 0
    except (Failure, OSError, ValueError) as e:
        print(f"FAIL redis-outage: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
