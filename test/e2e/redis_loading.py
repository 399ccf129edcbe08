#!/usr/bin/env python3
"""cleave-run waits for a Redis that is still loading its data.

Fills a private redis-server with a few million keys (DEBUG POPULATE),
saves them, and starts the server again on that file: while it loads, it
answers every command with LOADING. cleave-run, started during the load,
must say it is waiting, then serve once the load is over (a request
answers 200), instead of exiting at once.

Prints "PASS redis-loading: ..." or "FAIL redis-loading: why"; exits 1 on
failure. Python standard library only.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import difftest  # noqa: E402
from difftest import Failure, http_call  # noqa: E402
from fault import free_port  # noqa: E402
from redis_outage import stop  # noqa: E402


def redis_command(port, *args, timeout=30):
    """Sends one command (RESP), returns the first line of the reply."""
    wire = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        wire += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(wire)
        reply = b""
        while b"\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n", 1)[0].decode(errors="replace")


def start_redis(binary, port, data, log):
    return subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dbfilename", "dump.rdb", "--dir", data,
         "--enable-debug-command", "yes", "--daemonize", "no",
         "--loglevel", "warning", "--logfile", log],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def wait_for(port, ok, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ok(redis_command(port, "PING", timeout=2)):
                return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


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

    # A data set that takes a while to load, saved to dump.rdb.
    redis = start_redis(binary, port, data, log)
    try:
        if not wait_for(port, lambda r: r == "+PONG", 10):
            raise Failure(f"redis-server did not start; see {log}")
        reply = redis_command(port, "DEBUG", "POPULATE", str(opts.keys),
                              "filler", "64", timeout=120)
        if reply != "+OK":
            raise Failure(f"DEBUG POPULATE answered {reply}")
        if redis_command(port, "SAVE", timeout=120) != "+OK":
            raise Failure("SAVE failed")
    finally:
        stop(redis)

    # Started again, it loads the file; cleave-run starts meanwhile.
    redis = start_redis(binary, port, data, log)
    try:
        if not wait_for(port, lambda r: r.startswith("-LOADING"), 10):
            raise Failure("redis-server was never seen loading: use more keys "
                          "(--keys)")
        cleave_run = difftest.find_tool(opts.cleave_run, "cleave-run")
        started = time.monotonic()
        with difftest.Runtime(cleave_run, out, opts.work,
                              ["--state", f"redis://127.0.0.1:{port}"]) as rt:
            base = rt.wait_for_address()
            waited = time.monotonic() - started
            status, body, _ = http_call(base, "GET", "/hello", {"name": "ann"})
            log_text = rt.log()
            rt.stop()
        if status != 200:
            raise Failure(f"GET /hello answered {status}: {body!r}")
        if "is loading its data; waiting" not in log_text:
            raise Failure(f"cleave-run did not say it waited:\n{log_text}")
        if redis_command(port, "PING") != "+PONG":
            raise Failure("redis-server is not serving after the load")
        return f"waited {waited:.1f} s for the load, then served"
    finally:
        stop(redis)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=os.path.join(
        here, "..", "..", "examples", "hello", "hello.cpp"))
    ap.add_argument("--work", required=True)
    ap.add_argument("--cleave")
    ap.add_argument("--cleave-run", dest="cleave_run")
    ap.add_argument("--keys", type=int, default=1500000,
                    help="keys to load (default 1,500,000)")
    opts = ap.parse_args()
    opts.work = os.path.abspath(opts.work)
    opts.flag = []
    os.makedirs(opts.work, exist_ok=True)
    try:
        print(f"PASS redis-loading: {run(opts)}")
        return 0
    except (Failure, OSError) as e:
        print(f"FAIL redis-loading: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
