#!/usr/bin/env python3
"""Admission limits and deadlines of cleave-run, with real processes.

Builds test/e2e/Inputs/slow.cpp with `cleave build` and serves it with
`cleave-run`, once per check:

  deadline           the `timeout=1` entry sleeping 2.5 s is answered 504
                     after about 1 s and its write is never committed; the
                     same entry sleeping 0.1 s answers 200 and commits;
  deadline-queued    the deadline runs from admission: a request waiting
                     for a thread past it gets 504 and never commits;
  concurrency        the `concurrency=2` entry runs two calls at once; with
                     --max-function-queue 3, of 10 at once 5 are served
                     (2 + 3 waiting) and 5 get 429 with Retry-After at once;
  global-queue       with --threads 2 --max-queue 2, of 10 slow requests at
                     once the excess gets 503 with Retry-After at once, and
                     a refused request never runs;
  error-bodies       every error status (400, 404, 405, 408, 413, 414, 417,
                     431, and the 429, 503 and 504 of the checks above) has
                     a JSON object with an "error" string;
  body-limit         a body of exactly --max-body bytes is taken, one more
                     byte gets 413;
  header-limit       header fields within --max-header are taken; more get
                     431 (not 414), however short the request line and
                     however the bytes arrive;
  http-version       HTTP/2.0 gets 505 (HTTP/1.0 is served);
  held-loops         with as many 3 s calls running as there are event
                     loops (a core each), so that every loop's own thread
                     is held, 8 requests on new connections (a call and a
                     404 each) are still answered within 1.5 s, long
                     before the slow calls end, which then answer 200.

Prints "PASS <check>: <figures>" or "FAIL <check>: <why>" per check, then a
summary; exits 1 if any check failed. Python standard library only.
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from connections import (  # noqa: E402  (the raw HTTP client and plumbing)
    Closed,
    Conn,
    Context,
    error_body,
    expect,
    get,
    log_tail,
    mark_of,
    post,
    run_suite,
)

# Error answers seen by the checks, by status, for error-bodies.
SEEN = {}


def seen(r):
    SEEN.setdefault(r.status, r)
    return r


def timed_call(port, data, timeout=10):
    """(Response, seconds from sending to the answer) on a new connection."""
    c = Conn(port, timeout)
    try:
        start = time.monotonic()
        r = c.call(data, timeout)
        return r, r.at - start
    finally:
        c.close()


def at_once(port, requests, timeout=15):
    """Sends each request on its own connection, all at the same moment
    (connected first, then released together). Returns [(Response, seconds
    from the release to the answer)] in the order given."""
    conns = [Conn(port, timeout) for _ in requests]
    gate = threading.Barrier(len(requests) + 1)
    results = [None] * len(requests)
    started = [0.0]

    def one(i):
        gate.wait()
        try:
            conns[i].send(requests[i])
            r = conns[i].read(timeout)
            results[i] = (r, r.at - started[0])
        except (OSError, Closed, TimeoutError) as e:
            results[i] = (e, time.monotonic() - started[0])

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(requests))]
    for t in threads:
        t.start()
    started[0] = time.monotonic()
    gate.wait()
    for t in threads:
        t.join(timeout + 5)
    for c in conns:
        c.close()
    for i, (r, _) in enumerate(results):
        if not hasattr(r, "status"):
            raise AssertionError(f"request {i} got no answer: {r}")
    return results


def expect_busy(r, took, status):
    """A refusal for load: the status, at once, with Retry-After and a JSON
    error."""
    expect("status", r.status, status)
    error_body(seen(r))
    if r.header("Retry-After") is None:
        raise AssertionError(f"a {status} without Retry-After: {r.headers}")
    if took > 0.5:
        raise AssertionError(f"a {status} came after {took:.2f} s, not at once")


def deadline(ctx):
    with ctx.serve("deadline") as (rt, port):
        sent = time.monotonic()
        r, took = timed_call(port, post("/deadline", {"id": "late", "ms": 2500}))
        expect(f"status of a call past its timeout\n{log_tail(rt)}", r.status, 504)
        text = error_body(seen(r))
        if "timeout" not in text:
            raise AssertionError(f"the 504 does not mention the timeout: {text!r}")
        if not 0.8 <= took <= 2.2:
            raise AssertionError(f"504 after {took:.2f} s; the timeout is 1 s")
        # The handler goes on sleeping; once it has returned, its write must
        # not be there.
        time.sleep(max(0.0, sent + 3.5 - time.monotonic()))
        expect("the late call's mark", mark_of(port, "late"), 0)
        r, quick = timed_call(port, post("/deadline", {"id": "quick", "ms": 100}))
        expect("a call within its timeout", (r.status, r.json()), (200, 1))
        expect("the quick call's mark", mark_of(port, "quick"), 1)
        return f"504 after {took:.2f} s, nothing committed; 200 after {quick:.2f} s, committed"


def deadline_queued(ctx):
    with ctx.serve("deadline-queued", "--threads", "1") as (rt, port):
        blocker = Conn(port)
        blocker.send(post("/sleep", {"id": "blocker", "ms": 2500}))
        time.sleep(0.2)  # the only thread is taken
        r, took = timed_call(port, post("/deadline", {"id": "queued", "ms": 0}))
        expect(f"status of a call queued past its timeout\n{log_tail(rt)}", r.status, 504)
        error_body(seen(r))
        if not 0.8 <= took <= 2.2:
            raise AssertionError(f"504 after {took:.2f} s in the queue; the timeout is 1 s")
        b = blocker.read(5)
        blocker.close()
        expect("the blocking call", (b.status, b.json()), (200, 1))
        expect("the queued call's mark", mark_of(port, "queued"), 0)
        return f"504 after {took:.2f} s waiting for a thread; it never committed"


def max_overlap(spans):
    """The most spans open at one moment; an end at the same instant as a
    start counts first."""
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    now = most = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def concurrency(ctx):
    calls, sleep_ms, queue = 10, 1000, 3
    with ctx.serve("concurrency", "--max-function-queue", str(queue)) as (rt, port):
        results = at_once(port, [post("/pair", {"ms": sleep_ms})] * calls)
        ok = [(r, t) for r, t in results if r.status == 200]
        busy = [(r, t) for r, t in results if r.status == 429]
        other = [r for r, _ in results if r.status not in (200, 429)]
        if other:
            raise AssertionError(f"unexpected answers: {other}\n{log_tail(rt)}")
        expect("calls served (2 running + 3 waiting)", len(ok), 2 + queue)
        expect("calls refused with 429", len(busy), calls - 2 - queue)
        for r, took in busy:
            expect_busy(r, took, 429)
        spans = [(r.json()["started_us"], r.json()["ended_us"]) for r, _ in ok]
        overlap = max_overlap(spans)
        expect("calls running at once", overlap, 2)
        # Five calls of one second, two at a time: three rounds.
        last = max(t for _, t in ok)
        if not 2.8 <= last <= 5:
            raise AssertionError(
                f"the last call was answered after {last:.2f} s, not after 3 rounds"
            )
        return (
            f"{len(ok)} served, at most {overlap} at once, last after {last:.2f} s; "
            f"{len(busy)} got 429 within {max(t for _, t in busy) * 1000:.0f} ms"
        )


def global_queue(ctx):
    calls, sleep_ms = 10, 1000
    with ctx.serve("global-queue", "--threads", "2", "--max-queue", "2") as (rt, port):
        results = at_once(
            port, [post("/sleep", {"id": f"g{i}", "ms": sleep_ms}) for i in range(calls)]
        )
        ok = [i for i, (r, _) in enumerate(results) if r.status == 200]
        busy = [i for i, (r, _) in enumerate(results) if r.status == 503]
        other = [r for r, _ in results if r.status not in (200, 503)]
        if other:
            raise AssertionError(f"unexpected answers: {other}\n{log_tail(rt)}")
        # 2 threads and 2 places in the queue: 4 admitted, fewer when the
        # queue filled before a thread took a request from it.
        if not 2 <= len(ok) <= 4:
            raise AssertionError(f"{len(ok)} admitted with 2 threads and a queue of 2")
        expect("answers", len(ok) + len(busy), calls)
        for i in busy:
            expect_busy(*results[i], 503)
        for i in ok:
            expect(f"answer {i}", results[i][0].json(), 1)
        marks = [mark_of(port, f"g{i}") for i in range(calls)]
        want = [1 if i in ok else 0 for i in range(calls)]
        expect("marks (only admitted calls ran)", marks, want)
        return f"{len(ok)} admitted, {len(busy)} got 503 at once and never ran"


# Small limits, so that each can be reached with a short request.
SMALL_LIMITS = [
    "--max-body", "64",
    "--max-url", "128",
    "--max-header", "256",
    "--header-timeout", "1000",
]


def raw_call(port, data, want, what):
    """Sends data on a new connection; the answer must have status want,
    and a JSON "error" body if it is an error."""
    c = Conn(port)
    try:
        r = c.call(data, 5)
    finally:
        c.close()
    expect(f"status for {what}", r.status, want)
    if want >= 400:
        error_body(seen(r))
    return r


def error_bodies(ctx):
    with ctx.serve("error-bodies", *SMALL_LIMITS) as (_, port):
        raw_call(port, get("/nowhere"), 404, "an unknown route")
        raw_call(port, b"DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n", 405, "a wrong method")
        bad_length = b"POST /sleep HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n"
        raw_call(port, bad_length, 400, "a bad Content-Length")
        raw_call(port, b"GET /echo?text=a HTTP/1.1\r\n\r\n", 400, "no Host")
        raw_call(port, post("/sleep", {"id": 5}), 400, "a mistyped argument")
        expect_magic = b"GET /echo?text=a HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n"
        raw_call(port, expect_magic, 417, "an unknown Expect")
        big = post("/sleep", {"id": "big", "ms": 0, "pad": "x" * 100})
        raw_call(port, big, 413, "a large body")
        raw_call(port, get("/echo", text="u" * 200), 414, "a long request target")
        raw_call(
            port,
            b"GET /echo?text=a HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-F%03d: " % i + b"h" * 30 + b"\r\n" for i in range(50))
            + b"\r\n",
            431,
            "2000 bytes of header fields",
        )
        c = Conn(port)
        c.send(b"GET /echo?text=a HTTP/1.1\r\nHost: x\r\n")
        r = seen(c.read(5))
        c.close()
        expect("status for a header that never ends", r.status, 408)
        error_body(r)
    # The checks before checked theirs as they came.
    for r in SEEN.values():
        error_body(r)
    return "statuses " + " ".join(str(s) for s in sorted(SEEN))


def body_limit(ctx):
    with ctx.serve("body-limit", *SMALL_LIMITS) as (_, port):

        def body_of(size):
            # {"id": "edge", "ms": 0, "pad": "xx..."}, exactly size bytes.
            base = len(json.dumps({"id": "edge", "ms": 0, "pad": ""}).encode())
            return {"id": "edge", "ms": 0, "pad": "x" * (size - base)}

        ok = raw_call(port, post("/sleep", body_of(64)), 200, "a body of exactly --max-body bytes")
        expect("the answer at the edge", ok.json(), 1)
        raw_call(port, post("/sleep", body_of(65)), 413, "a body one byte over --max-body")
        expect("the mark (the refused body never ran)", mark_of(port, "edge"), 1)
        return "64 bytes taken, 65 refused with 413"


def header_limit(ctx):
    """Every case is tried, and every one that fails is reported."""

    def head(fields_size, field_size=40):
        # A short request line, then header fields of fields_size bytes in
        # all (the blank line included), each about field_size bytes.
        line = b"GET /echo?text=a HTTP/1.1\r\n"
        fields = b"Host: x\r\n"
        i = 0
        # Room is left for a last field of at least "X: \r\n".
        while len(fields) + field_size + 2 + 5 <= fields_size:
            name = b"X-F%05d: " % i
            fields += name + b"h" * (field_size - len(name) - 2) + b"\r\n"
            i += 1
        pad = fields_size - len(fields) - 2
        fields += b"X: " + b"h" * (pad - 5) + b"\r\n\r\n"
        assert len(fields) == fields_size, (len(fields), fields_size)
        return line + fields

    problems = []

    def case(port, data, want, what):
        try:
            raw_call(port, data, want, what)
        except (AssertionError, OSError, Closed, TimeoutError) as e:
            problems.append(str(e))

    with ctx.serve("header-limit", *SMALL_LIMITS) as (_, port):
        case(port, head(200), 200, "200 bytes of header fields")
        case(port, head(300), 431, "300 bytes of header fields, over --max-header 256")
        case(port, head(1000, field_size=1000), 431, "one header field of 1000 bytes")
        case(port, head(2000), 431, "2000 bytes of header fields")
    with ctx.serve("header-limit-default") as (_, port):
        case(port, head(16000), 200, "16000 bytes of header fields")
        case(
            port,
            head(40000, field_size=100),
            431,
            "40000 bytes of header fields in one write, over --max-header 16384",
        )
    if problems:
        raise AssertionError("; ".join(problems))
    return "within the limit taken, over it 431"


def http_version(ctx):
    with ctx.serve("http-version") as (_, port):
        raw_call(port, b"GET /echo?text=a HTTP/1.0\r\n\r\n", 200, "HTTP/1.0")
        raw_call(port, b"GET /echo?text=a HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0")
        return "HTTP/2.0 refused with 505"


def held_loops(ctx):
    loops = os.cpu_count() or 1
    with ctx.serve("held-loops") as (rt, port):
        slow = []
        for i in range(loops):  # connections join the loops in turn
            c = Conn(port, 15)
            c.send(post("/sleep", {"id": f"slow{i}", "ms": 3000}))
            slow.append(c)
        started = time.monotonic()
        time.sleep(0.3)  # each loop's thread is in a slow call now
        worst = 0.0
        for i in range(8):
            r, took = timed_call(port, post("/sleep", {"id": f"quick{i}", "ms": 0}), 5)
            expect(f"a call while every loop is held\n{log_tail(rt)}", (r.status, r.json()), (200, 1))
            r2, took2 = timed_call(port, get("/no-such-entry"), 5)
            expect("a 404 while every loop is held", r2.status, 404)
            worst = max(worst, took, took2)
        if worst > 1.5:
            raise AssertionError(f"a request took {worst:.2f} s while slow calls held the loops")
        if time.monotonic() - started > 2.8:
            raise AssertionError("the slow calls ended before the quick ones were all answered; "
                                 "the check measured nothing")
        for i, c in enumerate(slow):
            r = c.read(10)
            c.close()
            expect(f"slow call {i}", (r.status, r.json()), (200, 1))
        return f"{loops} loops held for 3 s; 16 requests answered meanwhile, the slowest in {worst:.3f} s"


CHECKS = [
    ("deadline", deadline, 20),
    ("deadline-queued", deadline_queued, 20),
    ("concurrency", concurrency, 20),
    ("global-queue", global_queue, 20),
    ("error-bodies", error_bodies, 20),
    ("body-limit", body_limit, 20),
    ("header-limit", header_limit, 20),
    ("http-version", http_version, 20),
    ("held-loops", held_loops, 20),
]


if __name__ == "__main__":
    sys.exit(run_suite("limits", __doc__, CHECKS))
