#!/usr/bin/env python3
"""Exactly-once steps on a map stored per key, while cleave-run is killed
with SIGKILL at random moments, for each durable store.

Builds test/e2e/Inputs/keyed, where `shelves` is stored per key
("shelves/<name>") and takes no lock, and lets client threads add to a few
hot shelves: POST /stock (one step) and POST /restock (two steps: +1, a
boundary, then +len(name)). Every request has its own Idempotency-Key and
is sent again after a kill until it is answered. Meanwhile cleave-run is
killed and restarted on the same store, where it resumes the chains that
were cut off. At the end, each shelf's count must be its initial count plus
exactly what the answered requests added, both as served and as `cleave
state OUT dump` shows it. Prints one PASS line per store; exits 1 on the
first failure.
"""

import argparse
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from difftest import Failure, cleave_build, find_tool, http_call  # noqa: E402
from fault import (CUT_OFF, RETRY_PAUSE, RETRY_STATUSES, Server,  # noqa: E402
                   dump_state, get_json, kill_while_clients_run, on_each_store)

SHELVES = ["apple", "kiwi", "fig"]  # apple starts at 5, from the initializer
INITIAL = {"apple": 5}
CLIENTS = 4


class Client(threading.Thread):
    def __init__(self, name, server, seed, stop, give_up):
        super().__init__(daemon=True)
        self.prefix, self.server = name, server
        self.rng = random.Random(seed)
        self.stop, self.give_up = stop, give_up
        self.added = {}  # shelf -> what answered requests added
        self.unanswered = 0
        self.error = None

    def run(self):
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                name = self.rng.choice(SHELVES)
                if self.rng.random() < 0.5:
                    path, args = "/stock", {"name": name, "n": self.rng.randint(1, 9),
                                            "aisle": ""}
                    adds = args["n"]
                else:
                    path, args, adds = "/restock", {"name": name}, 1 + len(name)
                if not self.send(f"{self.prefix}-{n}", path, args):
                    self.unanswered += 1
                    return
                self.added[name] = self.added.get(name, 0) + adds
        except Exception as e:  # reported by the main thread
            self.error = f"{type(e).__name__}: {e}"

    def send(self, key, path, args):
        while not self.give_up.is_set():
            base = self.server.current()
            if base is None:
                time.sleep(RETRY_PAUSE)
                continue
            try:
                status, data, _ = http_call(base, "POST", path, args,
                                            headers={"Idempotency-Key": key})
            except CUT_OFF:
                time.sleep(RETRY_PAUSE)
                continue
            if status in RETRY_STATUSES:
                time.sleep(RETRY_PAUSE)
                continue
            if status != 200:
                raise Failure(f"POST {path} {args}: {status} {data[:300]!r}")
            return True
        return False


def torture(opts, label, out, work, extra, store):
    cleave = find_tool(opts.cleave, "cleave")
    server = Server(find_tool(opts.cleave_run, "cleave-run"), out, work, extra)
    rng = random.Random(f"{opts.seed}-{label}")
    stop, give_up = threading.Event(), threading.Event()
    clients = [Client(f"{label}-c{i}", server, rng.random(), stop, give_up)
               for i in range(CLIENTS)]
    try:
        kills = kill_while_clients_run(server, clients, rng, opts.seconds,
                                       stop, give_up, (0.2, 0.7))
        errors = [f"client {c.prefix}: {c.error}" for c in clients if c.error]
        errors += [f"client {c.prefix}: a request was never answered"
                   for c in clients if c.unanswered]
        if errors:
            raise Failure("\n".join(errors) + "\n" + server.logs())
        base = server.current()
        served = {name: get_json(base, f"/shelf?name={name}")["count"]
                  for name in SHELVES}
        server.rt.stop()
    finally:
        give_up.set()
        if server.rt and server.rt.proc.poll() is None:
            server.kill()

    expected = {name: INITIAL.get(name, 0) for name in SHELVES}
    for c in clients:
        for name, n in c.added.items():
            expected[name] += n
    dumped = dump_state(cleave, out, store)
    stored = {name: dumped.get(f"shelves/{name}", {}).get("count") for name in SHELVES}
    problems = []
    if served != expected:
        problems.append(f"{label}: served counts {served}, expected {expected}")
    if stored != expected:
        problems.append(f"{label}: stored counts {stored}, expected {expected}")
    if problems:
        raise Failure("\n".join(problems) + "\n" + server.logs())
    print(f"PASS keyed-{label}: {kills} kills, counts {served}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--example", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cleave")
    ap.add_argument("--cleave-run", dest="cleave_run")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--seed", default=str(random.randrange(1 << 30)))
    opts = ap.parse_args()
    opts.work = os.path.abspath(opts.work)
    os.makedirs(opts.work, exist_ok=True)
    try:
        out = os.path.join(opts.work, "out")
        cleave_build(opts, os.path.join(opts.example, "keyed.cpp"), out)
        on_each_store(opts.work, ("sqlite", "redis"),
                      lambda label, work, extra, store:
                      torture(opts, label, out, work, extra, store))
    except Failure as e:
        print(f"fault_keyed: FAILED (seed {opts.seed}): {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
