#!/usr/bin/env python3
"""Exactly-once steps under crashes: examples/bank while cleave-run is
killed with SIGKILL at random moments, for each durable store.

Builds examples/bank (a transfer cut into three isolated steps: debit,
credit, audit_append), serves it, and lets a few client threads send
transfers between random accounts, each with a unique id that is also its
Idempotency-Key. Meanwhile cleave-run is killed (kill -9) again and again
and restarted on the same OUT and the same store, where it resumes the
chains that were cut off. A request that fails because of a kill
(connection refused or reset) is sent again with the same key until it gets
an answer. At the end the state, read over HTTP and with `cleave state OUT
dump`, must show that every step took effect exactly once:

  - the total is 20 x 1000: money is neither created nor lost;
  - every transfer answered ok has exactly one audit entry, matching it;
  - the audit log's sequence numbers are 0..n-1, without gaps or repeats;
  - every audit entry is of a transfer answered ok, or of one that never
    got an answer;
  - every balance is 1000 plus its credits minus its debits in the log.

Runs against SQLite (OUT/.cleave/state.db) and then against a private
redis-server with an append-only file, where only cleave-run is killed.
Prints one PASS line per store; exits 1 on the first failure.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from difftest import Failure, Runtime, cleave_build, find_tool, http_call  # noqa: E402

ACCOUNTS = [f"acct{i:02d}" for i in range(20)]
OPENING = 1000
CLIENTS = 4
MIN_KILLS = 10
ANSWER_TIMEOUT = 60  # seconds for the clients' last retries after the end
RETRY_PAUSE = 0.05  # seconds between two tries of a request
# What a kill does to a request in flight: refused, reset, cut short.
CUT_OFF = (OSError, http.client.HTTPException)
# Answers that ask for the same request again (a repeat that came while the
# first was running, a conflict): not an answer about the transfer.
RETRY_STATUSES = (409, 503)


class Server:
    """cleave-run on OUT, killed and restarted on demand; the clients read
    the current address from it."""

    def __init__(self, cleave_run, out, work, extra):
        self.cleave_run, self.out, self.work, self.extra = (
            cleave_run, out, work, list(extra))
        self.lock = threading.Lock()
        self.base = None
        self.rt = None
        self.starts = 0

    def start(self):
        log_dir = os.path.join(self.work, f"run{self.starts:03d}")
        os.makedirs(log_dir, exist_ok=True)
        self.starts += 1
        rt = Runtime(self.cleave_run, self.out, log_dir, self.extra)
        base = rt.wait_for_address()
        with self.lock:
            self.rt, self.base = rt, base

    def kill(self):
        with self.lock:
            rt, self.base = self.rt, None
        rt.proc.kill()
        rt.proc.wait()
        rt.__exit__(None, None, None)

    def current(self):
        with self.lock:
            return self.base

    def logs(self):
        """The stderr of every run, oldest first, without empty ones."""
        parts = []
        for n in range(self.starts):
            path = os.path.join(self.work, f"run{n:03d}", "cleave-run.stderr")
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            if text.strip():
                parts.append(f"--- cleave-run stderr, run {n}\n{text}")
        return "".join(parts) or "(cleave-run printed nothing on stderr)"


class Client(threading.Thread):
    """Sends transfers until told to stop; every request is sent again after
    a kill until it is answered."""

    def __init__(self, name, server, seed, stop, give_up):
        super().__init__(daemon=True)
        self.name_prefix = name
        self.server = server
        self.rng = random.Random(seed)
        self.stop = stop
        self.give_up = give_up
        self.sent = {}  # id -> args
        self.answers = {}  # id -> (status, body)
        self.retries = 0
        self.error = None

    def run(self):
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                tid = f"{self.name_prefix}-{n}"
                src, dst = self.rng.sample(ACCOUNTS, 2)
                args = {"id": tid, "from": src, "to": dst,
                        "amount": self.rng.randint(1, 400)}
                self.sent[tid] = args
                answer = self.send(tid, args)
                if answer is None:
                    return
                self.answers[tid] = answer
        except Exception as e:  # reported by the main thread
            self.error = f"{type(e).__name__}: {e}"

    def send(self, tid, args):
        """The answer to the transfer, or None when the test gave up."""
        while not self.give_up.is_set():
            base = self.server.current()
            if base is None:
                time.sleep(RETRY_PAUSE)
                continue
            try:
                status, data, _ = http_call(base, "POST", "/transfer", args,
                                            headers={"Idempotency-Key": tid})
            except CUT_OFF:
                self.retries += 1
                time.sleep(RETRY_PAUSE)
                continue
            if status in RETRY_STATUSES:
                self.retries += 1
                time.sleep(RETRY_PAUSE)
                continue
            body = json.loads(data) if data else None
            return status, body
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Redis:
    """A private redis-server on a free loopback port whose every write is
    in its append-only file before it answers; stopped on the way out."""

    def __init__(self, work):
        binary = shutil.which("redis-server")
        if not binary:
            raise Failure("redis-server is not installed (it is not on PATH); "
                          "install it with scripts/install-deps.sh")
        data = os.path.join(work, "redis")
        os.makedirs(data, exist_ok=True)
        self.log_path = os.path.join(data, "redis.log")
        for _ in range(5):  # the port may be taken before the server binds it
            self.port = free_port()
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                 "--daemonize", "no", "--dir", data, "--loglevel", "warning",
                 "--logfile", self.log_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if redis_ping(self.port):
                    return
                time.sleep(0.02)
            self.close()
        raise Failure(f"redis-server did not start; see {self.log_path}")

    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def on_each_store(work, stores, run):
    """Calls run(label, work dir, cleave-run's extra arguments, the store for
    `cleave state`) for each of `stores`: "sqlite" (cleave-run's default
    file under OUT), then "redis" (a private redis-server with an
    append-only file, started here and stopped after)."""
    if "sqlite" in stores:
        run("sqlite", os.path.join(work, "sqlite"), [], None)
    if "redis" in stores:
        redis_work = os.path.join(work, "redis")
        with Redis(redis_work) as redis:
            run("redis", redis_work, ["--state", redis.url()], redis.url())


def get_json(base, path):
    status, data, _ = http_call(base, "GET", path)
    if status != 200:
        raise Failure(f"GET {path}: status {status}: {data[:300]!r}")
    return json.loads(data)


def dump_state(cleave, out, store):
    cmd = [cleave, "state", out, "dump"] + (["--state", store] if store else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Failure(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
    return json.loads(proc.stdout)


def check(label, balances, log, sent, answers, unanswered):
    """The invariants of the module docstring; a list of what is broken."""
    problems = []
    accepted = {t for t, (s, b) in answers.items() if s == 200 and b["ok"]}
    total = sum(balances.values())
    if total != OPENING * len(ACCOUNTS):
        problems.append(f"total is {total}, not {OPENING * len(ACCOUNTS)}")
    if sorted(balances) != ACCOUNTS:
        problems.append(f"accounts are {sorted(balances)}")
    by_id = {}
    for i, entry in enumerate(log):
        if entry["seq"] != i:
            problems.append(f"audit entry {i} has seq {entry['seq']}: {entry}")
        by_id.setdefault(entry["id"], []).append(entry)
    for tid in sorted(accepted):
        entries = by_id.get(tid, [])
        if len(entries) != 1:
            problems.append(f"accepted transfer {tid} has {len(entries)} audit "
                            f"entries: {entries}")
            continue
        entry, args = entries[0], sent[tid]
        if (entry["from"], entry["to"], entry["amount"]) != (
                args["from"], args["to"], args["amount"]):
            problems.append(f"audit entry {entry} does not match {args}")
        if answers[tid][1]["seq"] != entry["seq"]:
            problems.append(f"transfer {tid} was answered with seq "
                            f"{answers[tid][1]['seq']}, its entry is {entry}")
    for tid, entries in sorted(by_id.items()):
        if tid not in accepted and tid not in unanswered:
            why = ("never sent" if tid not in sent else
                   f"answered {answers[tid]}")
            problems.append(f"audit entries {entries} of transfer {tid}, {why}")
        elif tid in unanswered and len(entries) != 1:
            problems.append(f"unanswered transfer {tid} has {len(entries)} "
                            f"audit entries: {entries}")
    expected = {a: OPENING for a in ACCOUNTS}
    for entry in log:
        expected[entry["from"]] = expected.get(entry["from"], 0) - entry["amount"]
        expected[entry["to"]] = expected.get(entry["to"], 0) + entry["amount"]
    for a in sorted(set(expected) | set(balances)):
        if balances.get(a) != expected.get(a):
            problems.append(f"{a} holds {balances.get(a)}, the audit log "
                            f"says {expected.get(a)}")
    return [f"{label}: {p}" for p in problems]


def settle(base, timeout=10):
    """The balances and log once two reads 0.3 s apart agree: chains that
    cleave-run resumed at its start have finished."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        now = (get_json(base, "/balances"), get_json(base, "/audit"))
        if now == last or time.monotonic() > deadline:
            return now
        last = now
        time.sleep(0.3)


def kill_while_clients_run(server, clients, rng, seconds, stop, give_up,
                           pauses):
    """Starts the server and the client threads, then kills the server
    (SIGKILL) after a random pause in the range `pauses` and restarts it,
    for `seconds` and at least MIN_KILLS times. The last start stays up
    while the clients finish what they were sending, which waits for the
    chains the kills cut off. Returns the number of kills."""
    kills = 0
    server.start()
    for c in clients:
        c.start()
    started = time.monotonic()
    while time.monotonic() - started < seconds or kills < MIN_KILLS:
        time.sleep(rng.uniform(*pauses))
        server.kill()
        kills += 1
        server.start()
        if any(not c.is_alive() for c in clients):
            break
    stop.set()
    deadline = time.monotonic() + ANSWER_TIMEOUT
    for c in clients:
        c.join(max(0, deadline - time.monotonic()))
    give_up.set()
    for c in clients:
        c.join(5)
    return kills


def torture(opts, label, out, work, extra, store):
    cleave = find_tool(opts.cleave, "cleave")
    cleave_run = find_tool(opts.cleave_run, "cleave-run")
    rng = random.Random(f"{opts.seed}-{label}")
    server = Server(cleave_run, out, work, extra)
    stop, give_up = threading.Event(), threading.Event()
    clients = [Client(f"{label}-c{i}", server, rng.random(), stop, give_up)
               for i in range(CLIENTS)]
    try:
        kills = kill_while_clients_run(server, clients, rng, opts.seconds,
                                       stop, give_up, (0.3, 1.0))
        errors = [f"client {c.name_prefix}: {c.error}" for c in clients if c.error]
        if errors:
            raise Failure("\n".join(errors))
        base = server.current()
        balances, log = settle(base)
        total = get_json(base, "/total")
        server.rt.stop()
    finally:
        give_up.set()
        if server.rt and server.rt.proc.poll() is None:
            server.kill()

    sent, answers = {}, {}
    for c in clients:
        sent.update(c.sent)
        answers.update(c.answers)
    unanswered = set(sent) - set(answers)
    dumped = dump_state(cleave, out, store)
    problems = []
    odd = {t: a for t, a in answers.items()
           if a[0] != 200 or not isinstance(a[1], dict) or "ok" not in a[1]}
    for tid, answer in sorted(odd.items()):
        problems.append(f"{label}: transfer {tid} {sent[tid]} was answered "
                        f"{answer}")
    for t in odd:
        del answers[t]
        unanswered.add(t)
    if total != sum(balances.values()):
        problems.append(f"{label}: GET /total says {total}, the balances add "
                        f"up to {sum(balances.values())}")
    if dumped.get("balances") != balances or dumped.get("audit_log") != log:
        problems.append(f"{label}: `cleave state dump` differs from what "
                        f"cleave-run serves")
    problems += check(f"{label} (served)", balances, log, sent, answers,
                      unanswered)
    problems += check(f"{label} (dump)", dumped.get("balances", {}),
                      dumped.get("audit_log", []), sent, answers, unanswered)
    if problems:
        dump_path = os.path.join(work, "state-dump.json")
        with open(dump_path, "w") as f:
            json.dump(dumped, f, indent=1, sort_keys=True)
        raise Failure("\n".join(problems) + f"\n(`cleave state dump` is in "
                      f"{dump_path})\n" + server.logs())
    accepted = sum(1 for s, b in answers.values() if b["ok"])
    retries = sum(c.retries for c in clients)
    print(f"PASS bank-{label}: {kills} kills, {len(sent)} transfers, "
          f"{accepted} accepted, {len(answers) - accepted} refused, "
          f"{len(unanswered)} unanswered, {retries} retries, "
          f"{len(log)} audit entries")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cleave")
    ap.add_argument("--cleave-run", dest="cleave_run")
    ap.add_argument("--seconds", type=float, default=25,
                    help="how long to kill and restart, per store")
    ap.add_argument("--seed", default=str(random.randrange(1 << 30)),
                    help="for the random accounts, amounts and kill times")
    ap.add_argument("--store", choices=["sqlite", "redis", "both"],
                    default="both")
    opts = ap.parse_args()
    opts.work = os.path.abspath(opts.work)
    os.makedirs(opts.work, exist_ok=True)
    try:
        out = os.path.join(opts.work, "out")
        cleave_build(opts, os.path.join(opts.examples, "bank", "bank.cpp"), out)
        stores = ("sqlite", "redis") if opts.store == "both" else (opts.store,)
        on_each_store(opts.work, stores,
                      lambda label, work, extra, store:
                      torture(opts, label, out, work, extra, store))
    except Failure as e:
        print(f"fault: FAILED (seed {opts.seed}): {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
