#!/usr/bin/env python3
"""Connection handling of cleave-run, with real sockets and real signals.

Builds test/e2e/Inputs/slow.cpp with `cleave build` and serves it with
`cleave-run`, once per check, with the limits the check is about:

  pipelining         requests sent in one write are answered in order;
  slowloris          clients that send a header byte every 0.5 s get 408
                     at --header-timeout, while others are served at once;
  idle-1000          1000 idle connections leave ordinary requests answered
                     (p50/p99 latency with and without them is printed);
  max-connections    past --max-connections, connections wait in the
                     backlog and are all served, none refused;
  max-requests       the last answer --max-requests-per-connection allows
                     says Connection: close, and the server closes;
  idle-timeout       an idle keep-alive connection is closed after
                     --idle-timeout, one in use is not;
  sigterm-drain      on SIGTERM requests in flight are answered (and
                     committed), idle connections close at once, new ones
                     are refused, and the process exits 0;
  sigterm-overrun    a request longer than --drain-timeout makes the process
                     exit 1 after about that time, and its write is lost.

Prints "PASS <check>: <figures>" or "FAIL <check>: <why>" per check, then a
summary; exits 1 if any check failed. Every wait is bounded. Python standard
library only.
"""

import argparse
import contextlib
import json
import os
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import difftest  # noqa: E402  (process plumbing)
from difftest import Failure, find_tool  # noqa: E402

HOST = "127.0.0.1"


# --- A raw HTTP/1.1 client ---------------------------------------------------


class Closed(Exception):
    """The server closed the connection (or reset it) before a full answer."""


def request(method, target, body=None, headers=()):
    """The bytes of one HTTP/1.1 request; a body is sent as JSON."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}"]
    data = b""
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def get(path, headers=(), **query):
    target = path + ("?" + urllib.parse.urlencode(query) if query else "")
    return request("GET", target, headers=headers)


def post(path, body, headers=()):
    return request("POST", path, body, headers)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # [(name, value)] as sent
        self.body = body
        self.at = time.monotonic()  # when it was complete

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def closes(self):
        value = self.header("Connection") or ""
        return "close" in [t.strip().lower() for t in value.split(",")]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<{self.status} {self.body[:120]!r}>"


def parse_response(buf):
    """(Response, rest of buf) when buf starts with a whole response, else
    None. Every answer of cleave-run has a Content-Length."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise AssertionError(f"not an HTTP response: {buf[:200]!r}")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    length = 0
    for k, v in headers:
        if k.lower() == "content-length":
            length = int(v)
    rest = buf[end + 4 :]
    if len(rest) < length:
        return None
    return Response(int(parts[1]), headers, rest[:length]), rest[length:]


class Conn:
    """One client connection with a read buffer; every wait has a limit."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete answer in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            raise TimeoutError("no complete answer in time")
        if not data:
            raise Closed(
                "closed by the server"
                + (f" after a partial answer {self.buf[:100]!r}" if self.buf else "")
            )
        self.buf += data

    def read(self, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            got = parse_response(self.buf)
            if got:
                response, self.buf = got
                return response
            self._fill(deadline)

    def call(self, data, timeout=10):
        self.send(data)
        return self.read(timeout)

    def wait_closed(self, timeout):
        """The time the server's close was seen, or None if the connection
        is still open after timeout seconds. Data is an error."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._fill(deadline)
                raise AssertionError(f"unexpected bytes from the server: {self.buf[:200]!r}")
        except Closed:
            return time.monotonic()
        except TimeoutError:
            return None

    def close(self):
        self.sock.close()


def error_body(r):
    """The "error" text of an error answer; fails unless the body is a JSON
    object with an "error" string."""
    problem = difftest.error_body_problem(r.status, r.body)
    if problem:
        raise AssertionError(problem)
    return r.json()["error"]


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, expected {want!r}")


def fresh_call(port, data, timeout=10):
    """One request on a connection of its own, closed after the answer;
    returns (Response, seconds from connect to answer)."""
    start = time.monotonic()
    c = Conn(port, timeout)
    try:
        r = c.call(data, timeout)
    finally:
        c.close()
    return r, time.monotonic() - start


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < want:
        raise AssertionError(f"cannot raise the descriptor limit to {want} (hard limit {hard})")


# --- Running cleave-run ------------------------------------------------------


class Context:
    def __init__(self, opts, out):
        self.opts = opts
        self.out = out
        self.cleave_run = find_tool(opts.cleave_run, "cleave-run")
        self.live = []  # every Runtime started, killed at exit

    @contextlib.contextmanager
    def serve(self, name, *extra, state="memory"):
        """cleave-run on the deployment, its log in WORK/name; yields
        (Runtime, port)."""
        work = os.path.join(self.opts.work, name)
        os.makedirs(work, exist_ok=True)
        rt = difftest.Runtime(self.cleave_run, self.out, work, ["--state", state, *extra])
        self.live.append(rt)
        with rt:
            base = rt.wait_for_address()
            yield rt, int(base.rsplit(":", 1)[1])

    def kill_all(self):
        for rt in self.live:
            if rt.proc.poll() is None:
                rt.proc.kill()


def log_tail(rt, lines=15):
    text = rt.log().splitlines()
    return "\n".join(text[-lines:])


def mark_of(port, id):
    r, _ = fresh_call(port, get("/done", id=id))
    expect(f"GET /done?id={id}", r.status, 200)
    return r.json()


# --- Checks ------------------------------------------------------------------


def pipelining(ctx):
    with ctx.serve("pipelining") as (_, port):
        c = Conn(port)
        # The first takes longest: the answers must still come in order.
        c.send(
            post("/sleep", {"id": "p1", "ms": 300})
            + post("/sleep", {"id": "p2", "ms": 50})
            + get("/echo", text="third")
        )
        got = [c.read() for _ in range(3)]
        expect("statuses of 3 pipelined", [r.status for r in got], [200] * 3)
        expect("bodies of 3 pipelined", [r.json() for r in got], [1, 1, "third"])
        c.send(b"".join(get("/echo", text=f"n{i}") for i in range(20)))
        got = [c.read() for _ in range(20)]
        expect("statuses of 20 pipelined", [r.status for r in got], [200] * 20)
        expect("bodies of 20 pipelined", [r.json() for r in got], [f"n{i}" for i in range(20)])
        if any(r.closes() for r in got):
            raise AssertionError("a pipelined answer closed the connection")
        # Still in step: one more request on the same connection.
        expect("after the pipeline", c.call(get("/echo", text="after")).json(), "after")
        c.close()
        return "3 and 20 in order"


def slowloris(ctx):
    slow, timeout = 200, 2.0
    with ctx.serve("slowloris", "--header-timeout", "2000") as (rt, port):
        head = b"GET /echo?text=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
        conns = [socket.create_connection((HOST, port), timeout=5) for _ in range(slow)]
        for s in conns:
            s.setblocking(False)
        sel = selectors.DefaultSelector()
        state = {}
        for i, s in enumerate(conns):
            sel.register(s, selectors.EVENT_READ, i)
            state[i] = {"buf": b"", "first": None, "answer": None, "closed": None}

        probes, probe_errors, stop = [], [], threading.Event()

        def probe():
            while not stop.is_set():
                try:
                    r, took = fresh_call(port, get("/echo", text="probe"), timeout=5)
                    if r.status != 200 or r.json() != "probe":
                        probe_errors.append(repr(r))
                    probes.append(took)
                except (OSError, Closed, TimeoutError, AssertionError) as e:
                    probe_errors.append(str(e))
                time.sleep(0.1)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        start = time.monotonic()
        sent = 0
        next_tick = start
        while time.monotonic() - start < 10:
            now = time.monotonic()
            if now >= next_tick:
                for i, s in enumerate(conns):
                    st = state[i]
                    if st["answer"] or st["closed"]:
                        continue
                    try:
                        s.send(head[sent : sent + 1])
                        if st["first"] is None:
                            st["first"] = time.monotonic()
                    except OSError:
                        st["closed"] = time.monotonic()
                sent += 1
                next_tick += 0.5
            for key, _ in sel.select(timeout=0.05):
                i, st = key.data, state[key.data]
                try:
                    data = key.fileobj.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    st["closed"] = st["closed"] or time.monotonic()
                    sel.unregister(key.fileobj)
                    continue
                st["buf"] += data
                got = parse_response(st["buf"])
                if got and not st["answer"]:
                    st["answer"] = got[0]
            if all(st["answer"] or st["closed"] for st in state.values()):
                break
        stop.set()
        prober.join(10)
        for s in conns:
            s.close()

        late = [i for i, st in state.items() if not (st["answer"] or st["closed"])]
        if late:
            raise AssertionError(
                f"{len(late)} of {slow} slow connections neither answered nor "
                f"closed within 10 s\n{log_tail(rt)}"
            )
        answered = 0
        for i, st in state.items():
            if st["answer"]:
                r = st["answer"]
                expect(f"status of slow connection {i}", r.status, 408)
                if "not received in time" not in error_body(r):
                    raise AssertionError(f"unexpected 408 text: {r.body!r}")
                if not r.closes():
                    raise AssertionError("a 408 does not say Connection: close")
                answered += 1
            when = (st["answer"].at if st["answer"] else st["closed"]) - st["first"]
            if not timeout - 0.5 <= when <= timeout + 3:
                raise AssertionError(
                    f"slow connection {i} ended {when:.2f} s after its first "
                    f"byte; the header timeout is {timeout} s"
                )
        if probe_errors:
            raise AssertionError(f"ordinary requests failed meanwhile: {probe_errors[:5]}")
        if len(probes) < 5:
            raise AssertionError(f"only {len(probes)} ordinary requests were made meanwhile")
        if max(probes) > 2.0:
            raise AssertionError(
                f"an ordinary request took {max(probes):.2f} s while slow clients were connected"
            )
        return (
            f"{answered} of {slow} got 408, the rest closed; {len(probes)} "
            f"ordinary requests meanwhile, slowest {max(probes) * 1000:.0f} ms"
        )


def idle_1000(ctx):
    idle, samples = 1000, 200
    raise_fd_limit(idle + 512)
    with ctx.serve("idle-1000") as (rt, port):

        def latencies():
            out = []
            for i in range(samples):
                r, took = fresh_call(port, get("/echo", text=f"m{i}"))
                expect("ordinary request", (r.status, r.json()), (200, f"m{i}"))
                out.append(took)
            return out

        before = latencies()
        conns = [Conn(port) for _ in range(idle)]
        # One request on each makes sure the server holds all of them; then
        # they sit idle.
        for c in conns:
            c.send(get("/echo", text="idle"))
        for c in conns:
            expect("first request on an idle connection", c.read().status, 200)
        during = latencies()
        if max(during) > 2.0:
            raise AssertionError(
                f"an ordinary request took {max(during):.2f} s beside {idle} idle connections"
            )
        # They are all still open and usable.
        for c in conns:
            c.send(get("/echo", text="again"))
        for i, c in enumerate(conns):
            try:
                r = c.read()
            except (Closed, TimeoutError) as e:
                raise AssertionError(f"idle connection {i}: {e}\n{log_tail(rt)}")
            expect("request on an idle connection", (r.status, r.json()), (200, "again"))
        for c in conns:
            c.close()

        def ms(v):
            return f"{v * 1000:.2f} ms"

        return (
            f"{samples} requests: p50 {ms(statistics.median(before))}, p99 "
            f"{ms(percentile(before, 99))} alone; p50 {ms(statistics.median(during))}, "
            f"p99 {ms(percentile(during, 99))} beside {idle} idle connections"
        )


def max_connections(ctx):
    limit, total, sleep_ms = 20, 40, 500
    with ctx.serve(
        "max-connections", "--max-connections", str(limit), "--threads", "64"
    ) as (rt, port):
        sel = selectors.DefaultSelector()
        state = {}
        start = time.monotonic()
        for i in range(total):
            # A refused connection raises here.
            s = socket.create_connection((HOST, port), timeout=5)
            s.sendall(post("/sleep", {"id": f"mc{i}", "ms": sleep_ms}, [("Connection", "close")]))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, i)
            state[i] = {"buf": b"", "answer": None, "closed": False}
        while time.monotonic() - start < 15 and len(sel.get_map()):
            for key, _ in sel.select(timeout=0.1):
                st = state[key.data]
                try:
                    data = key.fileobj.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    st["buf"] += data
                    got = parse_response(st["buf"])
                    if got:
                        st["answer"] = got[0]
                if st["answer"] or not data:
                    st["closed"] = not st["answer"]
                    sel.unregister(key.fileobj)
                    key.fileobj.close()  # frees the server's slot
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        missing = [i for i, st in state.items() if not st["answer"]]
        if missing:
            closed = sum(state[i]["closed"] for i in missing)
            raise AssertionError(
                f"{len(missing)} of {total} connections got no answer "
                f"({closed} closed by the server)\n{log_tail(rt)}"
            )
        bad = [(i, st["answer"]) for i, st in state.items() if st["answer"].status != 200]
        if bad:
            raise AssertionError(f"refused: {bad[:5]}")
        times = sorted(st["answer"].at - start for st in state.values())
        # At most `limit` are served at once: the others wait for a slot, so
        # the answers come in two rounds of one sleep each.
        first_round = sum(t < 1.8 * sleep_ms / 1000 for t in times)
        if first_round > limit:
            raise AssertionError(
                f"{first_round} answers within the first round; the limit is {limit}"
            )
        if times[-1] < 1.8 * sleep_ms / 1000:
            raise AssertionError(f"all {total} answered in {times[-1]:.2f} s: no one waited")
        return (
            f"{total} answered 200, {first_round} in the first round, last "
            f"after {times[-1]:.2f} s"
        )


def max_requests(ctx):
    with ctx.serve("max-requests", "--max-requests-per-connection", "3") as (_, port):
        c = Conn(port)
        for n in (1, 2):
            r = c.call(get("/echo", text=f"r{n}"))
            expect(f"answer {n}", (r.status, r.json()), (200, f"r{n}"))
            if r.closes():
                raise AssertionError(f"answer {n} of 3 says Connection: close")
        r = c.call(get("/echo", text="r3"))
        expect("answer 3", (r.status, r.json()), (200, "r3"))
        if not r.closes():
            raise AssertionError(f"answer 3 of 3 does not say Connection: close: {r.headers}")
        if c.wait_closed(3) is None:
            raise AssertionError("the connection is still open 3 s after its last answer")
        c.close()
        # Pipelined past the limit: three answers, then the close.
        c = Conn(port)
        c.send(b"".join(get("/echo", text=f"q{i}") for i in range(5)))
        got = [c.read() for _ in range(3)]
        expect("pipelined answers", [r.json() for r in got], ["q0", "q1", "q2"])
        expect("Connection: close", [r.closes() for r in got], [False, False, True])
        if c.wait_closed(3) is None:
            raise AssertionError(
                "a fourth pipelined request was answered or the connection stayed open"
            )
        c.close()
        return "answer 3 closes, a 4th is never answered"


def idle_timeout(ctx):
    with ctx.serve("idle-timeout", "--idle-timeout", "1000") as (_, port):
        used = Conn(port)
        expect("request", used.call(get("/echo", text="x")).status, 200)
        used_at = time.monotonic()
        silent = Conn(port)
        silent_at = time.monotonic()
        # The second wait starts late, so it can only overstate its time.
        used_closed = used.wait_closed(5)
        silent_closed = silent.wait_closed(5)
        used.close()
        silent.close()
        if used_closed is None or silent_closed is None:
            raise AssertionError("an idle connection is still open 5 s later")
        for what, took in (
            ("after a request", used_closed - used_at),
            ("never used", silent_closed - silent_at),
        ):
            if not 0.7 <= took <= 2.5:
                raise AssertionError(
                    f"idle connection {what} closed after {took:.2f} s, not about 1 s"
                )
        # A request every 0.5 s keeps a connection open past the timeout.
        busy = Conn(port)
        for i in range(6):
            if i:
                time.sleep(0.5)
            try:
                r = busy.call(get("/echo", text="b"))
            except Closed:
                raise AssertionError(f"a connection in use was closed after {i * 0.5:.1f} s")
            expect(f"request {i} on a busy connection", r.status, 200)
        busy.close()
        return (
            f"closed after {used_closed - used_at:.2f} s (used) and "
            f"{silent_closed - silent_at:.2f} s (never used); one in use for 2.5 s stayed open"
        )


def sigterm_drain(ctx):
    inflight, idle, sleep_ms, drain = 8, 50, 1500, 5000
    state = "sqlite:" + os.path.join(ctx.opts.work, "sigterm-drain.db")
    with ctx.serve(
        "sigterm-drain", "--threads", "16", "--drain-timeout", str(drain), state=state
    ) as (rt, port):
        idlers = [Conn(port) for _ in range(idle)]
        for c in idlers:
            expect("request before going idle", c.call(get("/echo", text="i")).status, 200)
        workers = [Conn(port) for _ in range(inflight)]
        for i, c in enumerate(workers):
            c.send(post("/sleep", {"id": f"d{i}", "ms": sleep_ms}))
        time.sleep(0.3)  # read and running
        signalled = time.monotonic()
        rt.proc.send_signal(signal.SIGTERM)

        closed = [c.wait_closed(3) for c in idlers]
        if None in closed:
            raise AssertionError(
                f"{closed.count(None)} of {idle} idle connections still open 3 s after SIGTERM"
            )
        idle_closed = max(closed) - signalled
        refused = False
        try:
            socket.create_connection((HOST, port), timeout=2).close()
        except ConnectionRefusedError:
            refused = True
        answers = []
        for c in workers:
            try:
                answers.append(c.read(sleep_ms / 1000 + 5))
            except (Closed, TimeoutError) as e:
                answers.append(e)
            c.close()
        try:
            code = rt.proc.wait(timeout=drain / 1000 + 5)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"cleave-run still running {drain / 1000 + 5:.0f} s after SIGTERM"
            )
        exited = time.monotonic() - signalled
        for c in idlers:
            c.close()

        oks = [i for i, r in enumerate(answers) if isinstance(r, Response) and r.status == 200]
        if len(oks) != inflight:
            raise AssertionError(
                f"{len(oks)} of {inflight} requests in flight at SIGTERM were answered "
                f"200: {answers}\n{log_tail(rt)}"
            )
        for r in answers:
            expect("an in-flight answer", r.json(), 1)
            if not r.closes():
                raise AssertionError(
                    f"an answer during the drain lacks Connection: close: {r.headers}"
                )
        first_answer = min(r.at for r in answers) - signalled
        if idle_closed > 0.5 or idle_closed > first_answer - 0.5:
            raise AssertionError(
                f"idle connections closed {idle_closed:.2f} s after SIGTERM, the first "
                f"in-flight answer came at {first_answer:.2f} s"
            )
        if not refused:
            raise AssertionError("a new connection was accepted after SIGTERM")
        expect(f"exit code after SIGTERM\n{log_tail(rt)}", code, 0)
        if exited > drain / 1000:
            raise AssertionError(
                f"exited {exited:.2f} s after SIGTERM; the drain time is {drain / 1000} s"
            )
    with ctx.serve("sigterm-drain-restart", state=state) as (_, port):
        marks = [mark_of(port, f"d{i}") for i in range(inflight)]
    committed = sum(1 for m in marks if m == 1)
    expect("marks committed after the drain (one per 200)", marks, [1] * len(oks))
    return (
        f"{len(oks)} in flight answered 200 and {committed} committed; {idle} idle "
        f"closed within {idle_closed * 1000:.0f} ms; exit 0 after {exited:.2f} s"
    )


def sigterm_overrun(ctx):
    drain, sleep_ms = 1000, 4000
    state = "sqlite:" + os.path.join(ctx.opts.work, "sigterm-overrun.db")
    with ctx.serve("sigterm-overrun", "--drain-timeout", str(drain), state=state) as (rt, port):
        c = Conn(port)
        c.send(post("/sleep", {"id": "long", "ms": sleep_ms}))
        time.sleep(0.3)
        signalled = time.monotonic()
        rt.proc.send_signal(signal.SIGTERM)
        try:
            code = rt.proc.wait(timeout=drain / 1000 + 5)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"cleave-run still running {drain / 1000 + 5:.0f} s after SIGTERM"
            )
        exited = time.monotonic() - signalled
        try:
            r = c.read(2)
            raise AssertionError(f"the overrunning request was answered: {r}")
        except (Closed, TimeoutError):
            pass
        c.close()
        expect("exit code when a request outlives the drain", code, 1)
        if not drain / 1000 - 0.2 <= exited <= drain / 1000 + 5:
            raise AssertionError(
                f"exited {exited:.2f} s after SIGTERM; the drain time is {drain / 1000} s"
            )
        log = rt.log()
        if "still running" not in log:
            raise AssertionError(f"no log line about the request still running\n{log}")
    with ctx.serve("sigterm-overrun-restart", state=state) as (_, port):
        expect("the overrunning request's mark after a restart", mark_of(port, "long"), 0)
    return f"exit 1 after {exited:.2f} s, its write not committed"


CHECKS = [
    ("pipelining", pipelining, 30),
    ("slowloris", slowloris, 30),
    ("idle-1000", idle_1000, 40),
    ("max-connections", max_connections, 30),
    ("max-requests", max_requests, 20),
    ("idle-timeout", idle_timeout, 30),
    ("sigterm-drain", sigterm_drain, 40),
    ("sigterm-overrun", sigterm_overrun, 30),
]


def run_check(ctx, name, fn, limit):
    """Runs one check on a thread so that a hang is a failure, not a stuck
    test."""
    outcome = {}

    def body():
        try:
            outcome["pass"] = fn(ctx)
        except (AssertionError, OSError, Closed, TimeoutError, ValueError, Failure) as e:
            outcome["fail"] = str(e) or type(e).__name__

    t = threading.Thread(target=body, daemon=True)
    started = time.monotonic()
    t.start()
    t.join(limit)
    if t.is_alive():
        outcome = {"fail": f"did not finish within {limit} s"}
        ctx.kill_all()
    took = time.monotonic() - started
    if "fail" in outcome:
        print(f"FAIL {name}: {outcome['fail']}", flush=True)
        return False
    print(f"PASS {name}: {outcome['pass']} ({took:.1f} s)", flush=True)
    return True


def run_suite(title, doc, checks):
    """Builds the program, runs \p checks (name, function, seconds) each in
    its own time limit, prints one line per check and a summary; returns
    the exit code."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--source", required=True, help="test/e2e/Inputs/slow.cpp")
    ap.add_argument("--work", required=True, help="a scratch directory")
    ap.add_argument("--cleave", help="the compiler (default: from PATH)")
    ap.add_argument("--cleave-run", dest="cleave_run", help="the runtime (default: from PATH)")
    ap.add_argument("--only", action="append", help="run only this check (repeatable)")
    opts = ap.parse_args()
    opts.work = os.path.abspath(opts.work)
    opts.flag = []
    os.makedirs(opts.work, exist_ok=True)
    out = os.path.join(opts.work, "out")
    try:
        difftest.cleave_build(opts, opts.source, out)
        ctx = Context(opts, out)
    except Failure as e:
        print(f"{title}: {e}")
        return 1
    failed = 0
    try:
        for name, fn, limit in checks:
            if opts.only and name not in opts.only:
                continue
            failed += not run_check(ctx, name, fn, limit)
    finally:
        ctx.kill_all()
    ran = sum(1 for n, _, _ in checks if not opts.only or n in opts.only)
    if failed:
        print(f"{title}: {failed} of {ran} checks failed")
        return 1
    print(f"{title}: all {ran} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(run_suite("connections", __doc__, CHECKS))
