#!/usr/bin/env python3
"""Two cleave-run processes on one SQLite file: a chain taken over by the
other process is answered, never failed.

Builds test/e2e/Inputs/handover.cpp, where POST /run is cut into steps at a
call of `slow_double`, and serves it from one SQLite file:

  takeover       process A (with HANDOVER_LAG_MS, so that its `slow_double`
                 of an odd x sleeps longer) gets 8 POST /run at once, half
                 with an Idempotency-Key; 300 ms later process B starts on
                 the same file and resumes every queued step at its start.
                 For an odd x B commits the step first and finishes the
                 chain; for an even x A does. No answer of A is a 5xx; a
                 keyed request gets 200 with 2x+1 (A waits for the outcome
                 B records under the key); an unkeyed one gets 200 with
                 2x+1, or 202 with {"status": "running elsewhere", "detail":
                 "..."}. B resumed all 8 steps, and at least one answer is
                 such a 202: the takeover took place;
  exactly-once   every chain ran to its end exactly once, whichever process
                 finished it: done[id] is 1 for every request, read on A
                 and on B;
  keyed-retries  each keyed request sent again, to A and to B, gets 200 with
                 2x+1 at once and does not run again: done[id] stays 1;
  restart        both processes exit 0 on SIGTERM, and a fresh process on
                 the file finds no step left to resume and the same done.

Prints "PASS <check>: <figures>" or "FAIL <check>: <why>" per check, then a
summary; exits 1 if any check failed. Every wait is bounded. Python standard
library only.
"""

import contextlib
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from connections import (  # noqa: E402  (the raw HTTP client and plumbing)
    Closed,
    expect,
    fresh_call,
    get,
    log_tail,
    post,
    run_suite,
)
from difftest import Failure  # noqa: E402

# How long `slow_double` sleeps, and how much longer A sleeps for an odd x:
# B, started WAIT_B later, commits those steps long before A does.
SLEEP_MS = 1500
LAG_MS = 3000
WAIT_B = 0.3
REQUESTS = 8
ANSWER_TIMEOUT = 15  # seconds for A to answer a request of the race

# What the checks after `takeover` look at: the processes on the shared
# file, the requests and A's answers.
RACE = {}


def requests():
    """(id, x, Idempotency-Key or None) of each request: the first half
    keyed; x from 1, so that each half has odd and even values."""
    return [
        (f"r{i}", i + 1, f"key-{i}" if i < REQUESTS // 2 else None)
        for i in range(REQUESTS)
    ]


def run_request(id, x, key):
    headers = [("Idempotency-Key", key)] if key else []
    return post("/run", {"id": id, "x": x, "ms": SLEEP_MS}, headers)


@contextlib.contextmanager
def environment(name, value):
    """name=value in the environment of the processes started within."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def all_at_once(port, datas, timeout):
    """Sends each request on its own connection from its own thread; returns
    [(Response or the exception, seconds to the answer)] in order."""
    results = [(TimeoutError("no answer in time"), None)] * len(datas)

    def one(i):
        try:
            results[i] = fresh_call(port, datas[i], timeout)
        except (OSError, Closed, TimeoutError) as e:
            results[i] = (e, None)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(datas))]
    for t in threads:
        t.start()
    return threads, results


def resumed_steps(rt):
    """How many steps a process resumed at its start, from its log."""
    m = re.search(r"resuming (\d+) interrupted steps?", rt.log())
    return int(m.group(1)) if m else 0


def problem_with(r, x, keyed):
    """What is wrong with A's answer to a request of the race, or None."""
    if not hasattr(r, "status"):
        return f"no answer: {r!r}"
    if r.status >= 500:
        return f"a {r.status}: {r.body[:300]!r}"
    if r.status == 200:
        try:
            value = r.json()
        except ValueError:
            return f"a 200 that is not JSON: {r.body[:200]!r}"
        if value != 2 * x + 1:
            return f"200 with {value!r}, expected {2 * x + 1}"
        return None
    if r.status == 202 and not keyed:
        try:
            body = r.json()
        except ValueError:
            return f"a 202 that is not JSON: {r.body[:200]!r}"
        if (
            not isinstance(body, dict)
            or body.get("status") != "running elsewhere"
            or not isinstance(body.get("detail"), str)
            or not body["detail"]
        ):
            return f'a 202 without {{"status": "running elsewhere", "detail": ...}}: {body!r}'
        return None
    return f"a {r.status} ({'keyed' if keyed else 'unkeyed'}): {r.body[:300]!r}"


def takeover(ctx):
    state = "sqlite:" + os.path.join(ctx.opts.work, "state.db")
    stack = contextlib.ExitStack()
    RACE["stack"] = stack
    with environment("HANDOVER_LAG_MS", str(LAG_MS)):
        rt_a, port_a = stack.enter_context(ctx.serve("A", "--threads", "16", state=state))
    reqs = requests()
    sent = time.monotonic()
    threads, results = all_at_once(
        port_a, [run_request(*r) for r in reqs], ANSWER_TIMEOUT
    )
    time.sleep(max(0.0, sent + WAIT_B - time.monotonic()))
    rt_b, port_b = stack.enter_context(
        ctx.serve("B", "--threads", "16", "--step-workers", "16", state=state)
    )
    started_b = time.monotonic() - sent
    for t in threads:
        t.join(ANSWER_TIMEOUT + 5)
    RACE.update(a=(rt_a, port_a), b=(rt_b, port_b), reqs=reqs, answers=results)

    problems = []
    for (id, x, key), (r, _) in zip(reqs, results):
        problem = problem_with(r, x, key)
        if problem:
            problems.append(f"{id} (x={x}, {'keyed' if key else 'unkeyed'}): {problem}")
    if problems:
        raise AssertionError(
            "answers of A: " + "; ".join(problems)
            + f"\n--- A\n{log_tail(rt_a)}\n--- B\n{log_tail(rt_b)}"
        )
    resumed = resumed_steps(rt_b)
    expect(
        f"steps B resumed at its start (it started {started_b:.2f} s after the requests)"
        f"\n{log_tail(rt_b)}",
        resumed,
        REQUESTS,
    )
    statuses = [r.status for r, _ in results]
    elsewhere = statuses.count(202)
    if not elsewhere:
        raise AssertionError(
            f"no answer says the chain runs elsewhere ({statuses}): B took no chain "
            "over, so nothing was tested"
        )
    slowest = max(t for _, t in results)
    return (
        f"B resumed {resumed} steps; A answered {statuses.count(200)} x 200, "
        f"{elsewhere} x 202 running elsewhere, none 5xx; slowest after {slowest:.2f} s"
    )


def need_race():
    if "answers" not in RACE:
        raise AssertionError("no race to look at: takeover did not finish")


def dones(port, reqs):
    out = []
    for id, _, _ in reqs:
        r, _ = fresh_call(port, get("/done", id=id))
        expect(f"GET /done?id={id}", r.status, 200)
        out.append(r.json())
    return out


def exactly_once(ctx):
    need_race()
    reqs = RACE["reqs"]
    # A chain B took over may still be ending when A answers 202.
    deadline = time.monotonic() + 5
    while 0 in dones(RACE["b"][1], reqs) and time.monotonic() < deadline:
        time.sleep(0.1)
    on_a = dones(RACE["a"][1], reqs)
    on_b = dones(RACE["b"][1], reqs)
    expect("done per request, read on A", on_a, [1] * REQUESTS)
    expect("done per request, read on B", on_b, [1] * REQUESTS)
    return f"done is 1 for all {REQUESTS} requests, on A and on B"


def keyed_retries(ctx):
    need_race()
    reqs = RACE["reqs"]
    keyed = [r for r in reqs if r[2]]
    for name, (_, port) in (("A", RACE["a"]), ("B", RACE["b"])):
        for id, x, key in keyed:
            again, took = fresh_call(port, run_request(id, x, key))
            expect(
                f"{id} sent again to {name} with its key",
                (again.status, again.json() if again.status == 200 else again.body),
                (200, 2 * x + 1),
            )
            # Running again would sleep in `slow_double` first.
            if took >= SLEEP_MS / 1000:
                raise AssertionError(
                    f"{id} sent again to {name} was answered after {took:.2f} s: "
                    "it ran again, or waited"
                )
    expect("done per request after the retries", dones(RACE["b"][1], reqs), [1] * REQUESTS)
    return f"{len(keyed)} keyed requests sent again to A and to B: 200 with 2x+1 at once, done stays 1"


def restart(ctx):
    need_race()
    stack = RACE.pop("stack")
    with stack:
        for name, (rt, _) in (("A", RACE["a"]), ("B", RACE["b"])):
            try:
                rt.stop()
            except Failure as e:
                raise AssertionError(f"{name}: {e}")
    state = "sqlite:" + os.path.join(ctx.opts.work, "state.db")
    with ctx.serve("C", state=state) as (rt_c, port_c):
        resumed = resumed_steps(rt_c)
        expect(f"steps a fresh process resumed\n{log_tail(rt_c)}", resumed, 0)
        expect("done per request, read on a fresh process", dones(port_c, RACE["reqs"]),
               [1] * REQUESTS)
    return "A and B exit 0; a fresh process resumes nothing and reads done 1 for each"


CHECKS = [
    ("takeover", takeover, 25),
    ("exactly-once", exactly_once, 10),
    ("keyed-retries", keyed_retries, 10),
    ("restart", restart, 15),
]


if __name__ == "__main__":
    sys.exit(run_suite("handover", __doc__, CHECKS))
