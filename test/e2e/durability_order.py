#!/usr/bin/env python3
"""--durability=fsync answers only after the WAL is synced: seen in the
system calls of a real cleave-run.

Builds a program with `cleave build`, serves it with cleave-run on SQLite
under strace (-f: every thread; -y: the file behind each descriptor), sends
requests that write state, stops the server, and reads the trace:

  fsync-order    with --durability=fsync, before each answer is sent
                 (sendmsg of "HTTP/1.1 2..") the last write to the WAL
                 that ended before it is followed by an fdatasync of the
                 WAL, finished before the answer left;
  normal-order   the same check on the default durability fails for most
                 answers (nothing syncs the WAL there): the check can fail;
  fsync-clients  with 8 clients at once, every answer follows a sync of
                 the WAL that started after its request was read (which
                 write is whose cannot be told from the trace when several
                 clients commit). How many commits a sync covers depends on
                 the disk and on strace's own cost; make bench measures
                 group commit.

Prints "PASS <check>: <figures>" or "FAIL <check>: <why>" per check, then a
summary; exits 1 if any check failed. Python standard library only.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault import free_port  # noqa: E402
from connections import Conn, post, run_suite  # noqa: E402

STRACE = shutil.which("strace")

# "PID TIME SYSCALL(ARGS" with the rest of the call, finished or not.
CALL = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(\w+)\((.*)$")
RESUMED = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+<\.\.\. (\w+) resumed>(.*)$")
FD_PATH = re.compile(r"^\d+<([^>]*)>")


def parse_trace(path):
    """[(name, target, start, end, args)] of the traced calls, where target
    is the file or socket behind the first argument."""
    calls = []
    open_calls = {}  # pid -> index into calls of its unfinished call
    with open(path, errors="replace") as f:
        for line in f:
            m = RESUMED.match(line)
            if m:
                pid, t = m.group(1), float(m.group(2))
                i = open_calls.pop(pid, None)
                if i is not None:
                    calls[i][3] = t
                    calls[i][4] += m.group(4)  # a read's data comes here
                continue
            m = CALL.match(line)
            if not m:
                continue
            pid, t, name, args = m.group(1), float(m.group(2)), m.group(3), m.group(4)
            target = FD_PATH.match(args)
            entry = [name, target.group(1) if target else "", t, t, args]
            calls.append(entry)
            if args.rstrip().endswith("<unfinished ...>"):
                open_calls[pid] = len(calls) - 1
    return calls


def order_report(calls):
    """(answers, answers that followed a WAL sync, syncs of the WAL)."""
    wal_writes = [c for c in calls if c[0].startswith("pwrite") and c[1].endswith("-wal")]
    syncs = [c for c in calls if c[0] in ("fdatasync", "fsync") and c[1].endswith("-wal")]
    answers = [
        c for c in calls
        if c[0] in ("sendmsg", "sendto", "writev", "write") and ("socket" in c[1] or "TCP" in c[1])
        and re.search(r'"HTTP/1\.1 2\d\d', c[4])
    ]
    good = 0
    for a in answers:
        before = [w for w in wal_writes if w[3] <= a[2]]
        if not before:
            good += 1  # nothing written yet: nothing to sync
            continue
        last = max(w[3] for w in before)
        if any(s[2] >= last and s[3] <= a[2] for s in syncs):
            good += 1
    return len(answers), good, len(syncs)


def per_request_report(calls):
    """(answers, answers that followed a WAL sync started after their
    request was read, syncs of the WAL)."""
    syncs = [c for c in calls if c[0] in ("fdatasync", "fsync") and c[1].endswith("-wal")]
    last_read = {}
    answers = good = 0
    for c in sorted(calls, key=lambda c: c[2]):
        if "socket" not in c[1]:
            continue
        if c[0] in ("recvfrom", "read") and '"POST ' in c[4]:
            last_read[c[1]] = c[3]
        elif c[0] in ("sendmsg", "sendto", "writev", "write") and re.search(r'"HTTP/1\.1 2\d\d', c[4]):
            answers += 1
            read_at = last_read.get(c[1])
            if read_at is not None and any(s[2] >= read_at and s[3] <= c[2] for s in syncs):
                good += 1
    return answers, good, len(syncs)


class Traced:
    """cleave-run under strace, serving the deployment on SQLite; stopped
    by stop()."""

    def __init__(self, ctx, name, durability):
        work = ctx.opts.work
        if not STRACE:
            raise AssertionError("strace is not installed (scripts/install-deps.sh installs it)")
        self.trace = os.path.join(work, f"{name}.trace")
        self.port = free_port()
        self.stderr = open(os.path.join(work, f"{name}.stderr"), "w")
        self.proc = subprocess.Popen(
            [STRACE, "-f", "--seccomp-bpf", "-qq", "-ttt", "-y", "-s", "24",
             "-e", "trace=pwrite64,fdatasync,fsync,sendmsg,sendto,write,writev,recvfrom,read",
             "-o", self.trace,
             ctx.cleave_run, ctx.out, "--port", str(self.port),
             "--state", "sqlite:" + os.path.join(work, f"{name}.db"),
             "--durability", durability],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
        )
        ctx.live.append(self)  # killed if the check runs out of time
        deadline = time.monotonic() + 30
        while True:
            try:
                Conn(self.port, 1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"cleave-run under strace did not start:\n{self.log()}")
                time.sleep(0.05)

    def log(self):
        self.stderr.flush()
        with open(self.stderr.name, errors="replace") as f:
            return f.read()[-2000:]

    def stop(self):
        if self.proc.poll() is None:
            # strace itself holds fatal signals while it traces a command
            # (-o FILE): stop cleave-run, and strace ends with it.
            try:
                with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                children = []
            for child in children:
                try:
                    os.kill(child, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        return parse_trace(self.trace)


def increments(port, who, count):
    c = Conn(port, 20)
    try:
        for i in range(count):
            c.send(post("/increment", {"by": 1, "who": who}))
            r = c.read(20)
            if r.status != 200:
                raise AssertionError(f"POST /increment answered {r.status}: {r.body[:200]!r}")
    finally:
        c.close()


def sequential(ctx, name, durability):
    rt = Traced(ctx, name, durability)
    try:
        increments(rt.port, "solo", 30)
    finally:
        calls = rt.stop()
    return order_report(calls)


def fsync_order(ctx):
    answers, good, syncs = sequential(ctx, "fsync", "fsync")
    if answers < 30:
        raise AssertionError(f"the trace shows {answers} answers, not 30")
    if good != answers:
        raise AssertionError(f"{answers - good} of {answers} answers left before the WAL was synced")
    return f"{answers} answers, each after a sync of the WAL ({syncs} syncs)"


def normal_order(ctx):
    answers, good, syncs = sequential(ctx, "normal", "normal")
    if answers < 30:
        raise AssertionError(f"the trace shows {answers} answers, not 30")
    if good * 2 >= answers:
        raise AssertionError(f"{good} of {answers} answers followed a WAL sync without "
                             "--durability=fsync: the check cannot tell the modes apart")
    return f"{answers - good} of {answers} answers left with the WAL unsynced ({syncs} syncs)"


def fsync_clients(ctx):
    rt = Traced(ctx, "clients", "fsync")
    errors = []

    def client(i):
        try:
            increments(rt.port, f"c{i}", 25)
        except Exception as e:  # reported below
            errors.append(e)

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        calls = rt.stop()
    if errors:
        raise AssertionError(f"a client failed: {errors[0]}")
    answers, good, syncs = per_request_report(calls)
    if answers < 200:
        raise AssertionError(f"the trace shows {answers} answers, not 200")
    if good != answers:
        raise AssertionError(f"{answers - good} of {answers} answers left before the WAL was synced")
    return f"{answers} answers after {syncs} syncs of the WAL"


CHECKS = [
    ("fsync-order", fsync_order, 120),
    ("normal-order", normal_order, 120),
    ("fsync-clients", fsync_clients, 240),
]


if __name__ == "__main__":
    sys.exit(run_suite("durability-order", __doc__, CHECKS))
