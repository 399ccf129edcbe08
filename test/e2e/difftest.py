#!/usr/bin/env python3
"""Differential end-to-end test of one example (DESIGN.md, section 6).

The example directory EXAMPLE holds NAME.cpp (the annotated program),
driver.cpp (which includes NAME.cpp and calls its entries directly) and
scenario.jsonl (one call a line: {"method", "path", "args"}).

  A: the driver, built as an ordinary program, runs the scenario: the
     monolith's answers, one {"status", "body"} line per call.
  B: `cleave build` compiles NAME.cpp, `cleave-run` serves it, and the same
     calls are sent over HTTP.

A and B must be equal call by call, compared as JSON values (a boolean is
not a number, an integer is not a double). Error responses are compared by
status only, but every one must carry a JSON object with an "error" string.

Python standard library only.
"""

import argparse
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))

# Methods whose arguments travel in the query string (DESIGN.md, section 1;
# the runtime reads DELETE arguments from the query string too).
QUERY_METHODS = ("GET", "DELETE")

STARTUP_TIMEOUT = 60  # seconds for cleave-run to print its address
REQUEST_TIMEOUT = 60  # seconds per HTTP request
STOP_TIMEOUT = 10  # seconds for cleave-run to exit after SIGTERM


class Failure(Exception):
    """A step of the test failed; the message says which and why."""


def run(cmd, what, **kwargs):
    """Runs cmd to completion; raises Failure with its output if it fails."""
    try:
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
        )
    except OSError as e:
        raise Failure(f"{what}: cannot run {cmd[0]}: {e}")
    except subprocess.TimeoutExpired as e:
        raise Failure(f"{what} did not finish within {e.timeout} s: {' '.join(cmd)}")
    if proc.returncode != 0:
        raise Failure(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
        )
    return proc


def find_tool(given, name):
    path = given or shutil.which(name)
    if not path:
        raise Failure(f"cannot find {name}: put it on PATH or pass --{name}")
    return path


def read_scenario(path):
    calls = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                call = json.loads(line)
            except json.JSONDecodeError as e:
                raise Failure(f"{path}:{number}: not JSON: {e}")
            if not isinstance(call, dict) or "method" not in call or "path" not in call:
                raise Failure(f"{path}:{number}: needs \"method\" and \"path\"")
            call.setdefault("args", {})
            calls.append(call)
    if not calls:
        raise Failure(f"{path}: no calls")
    return calls


def describe(call):
    args = json.dumps(call["args"], ensure_ascii=False)
    if len(args) > 200:
        args = args[:200] + "..."
    return f"{call['method']} {call['path']} {args}"


# --- A: the monolith ---------------------------------------------------------


def run_monolith(opts, name, calls, scenario_path):
    exe = os.path.join(opts.work, f"{name}-monolith")
    run(
        [
            opts.cxx,
            "-std=c++17",
            # The reference: its answers do not depend on optimization, and
            # unoptimized it compiles sooner.
            "-O0",
            f"-I{opts.include}",
            *getattr(opts, "flag", []),
            "-o",
            exe,
            os.path.join(opts.example, "driver.cpp"),
        ],
        "building the monolith driver",
    )
    with open(scenario_path, encoding="utf-8") as scenario:
        proc = run([exe], "running the monolith driver", stdin=scenario, timeout=300)
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    if len(lines) != len(calls):
        raise Failure(
            f"the monolith driver printed {len(lines)} results for "
            f"{len(calls)} calls:\n{proc.stdout}{proc.stderr}"
        )
    results = []
    for number, line in enumerate(lines, 1):
        try:
            results.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise Failure(f"monolith result {number} is not JSON ({e}): {line}")
    return results


# --- B: the deployment -------------------------------------------------------


def query_text(value):
    """A scenario argument as query-string text: strings as they are,
    anything else (numbers, booleans, structs, vectors) as JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


# The runtime is on loopback: never go through a proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_call(base, method, path, args=None, body=None, headers=None):
    """Sends one request; returns (status, body bytes, headers). Never raises
    for an HTTP error status."""
    url = base + path
    if method in QUERY_METHODS:
        if args:
            url += "?" + urllib.parse.urlencode(
                [(k, query_text(v)) for k, v in args.items()]
            )
    elif body is None:
        body = json.dumps(args or {}, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with OPENER.open(req, timeout=REQUEST_TIMEOUT) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def error_body_problem(status, data):
    """What is wrong with the body of an error response, or None."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"status {status} with a body that is not JSON: {data[:200]!r}"
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return f'status {status} without an "error" string: {data[:200]!r}'
    return None


def record(status, data):
    """The {"status", "body"} line for one response, and what is wrong with
    the response (None if nothing). Non-2xx responses keep only their
    status."""
    if not 200 <= status < 300:
        return {"status": status, "body": None}, error_body_problem(status, data)
    if status == 204:
        problem = f"status 204 with a body: {data[:200]!r}" if data else None
        return {"status": status, "body": None}, problem
    try:
        return {"status": status, "body": json.loads(data.decode("utf-8"))}, None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        # Still recorded, so that the comparison shows the call too.
        return {"status": status, "body": data.decode("utf-8", "replace")}, (
            f"status {status} with a body that is not JSON ({e}): {data[:200]!r}"
        )


class Runtime:
    """A cleave-run process serving OUT on a free port. Use as a context
    manager: the process is killed on the way out unless it was stopped."""

    def __init__(self, cleave_run, out, work, extra=()):
        self.stderr_path = os.path.join(work, "cleave-run.stderr")
        self.stderr = open(self.stderr_path, "w")
        self.proc = None
        self.lines = queue.Queue()
        try:
            self.proc = subprocess.Popen(
                [cleave_run, out, "--port", "0", *extra],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                text=True,
            )
        except OSError as e:
            self.stderr.close()
            raise Failure(f"cannot start {cleave_run}: {e}")
        # Reads stdout on a thread so that waiting for the first line can
        # time out, and so that later output can never block the runtime.
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        return False

    def log(self):
        self.stderr.flush()
        with open(self.stderr_path, errors="replace") as f:
            text = f.read()
        if not text:
            return "(cleave-run printed nothing on stderr)"
        return f"--- cleave-run stderr\n{text}"

    def wait_for_address(self):
        """Returns the http://host:port base URL from the first stdout line."""
        try:
            line = self.lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            raise Failure(
                f"cleave-run printed no address within {STARTUP_TIMEOUT} s\n"
                + self.log()
            )
        if line is None:
            self.proc.wait()
            raise Failure(
                f"cleave-run exited ({self.proc.returncode}) before serving\n"
                + self.log()
            )
        line = line.rstrip("\n")
        m = re.fullmatch(r"cleave-run: serving \d+ (?:entry|entries) on (\S+)", line)
        if not m:
            raise Failure(f"unexpected first line from cleave-run: {line!r}")
        base = m.group(1)
        port = base.rsplit(":", 1)[-1]
        if not base.startswith("http://") or not port.isdigit() or int(port) == 0:
            raise Failure(f"no usable address in {line!r}")
        return base

    def stop(self):
        """SIGTERM; the runtime must exit 0 within STOP_TIMEOUT seconds."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure(f"cleave-run did not exit within {STOP_TIMEOUT} s of SIGTERM")
        if code != 0:
            raise Failure(f"cleave-run exited with {code} after SIGTERM\n{self.log()}")


def cleave_build(opts, source, out):
    """`cleave build` of SOURCE into OUT. With CLEAVE_TEST_BUILD_CACHE set
    (lit sets it), a deployment another test built from the same inputs is
    copied instead of built again (see BuildCache)."""
    cleave = find_tool(opts.cleave, "cleave")
    if os.path.exists(out):
        shutil.rmtree(out)
    cmd = [cleave, "build", "-q", "-o", out, source, "--", "-std=c++17",
           *getattr(opts, "flag", [])]
    cache = os.environ.get("CLEAVE_TEST_BUILD_CACHE")
    if not cache:
        run(cmd, "cleave build", timeout=900)
        return
    BuildCache(cache).build(cmd, cleave, source, out)


class BuildCache:
    """Deployments built by `cleave build`, shared between the tests of one
    `make check` as a compiler cache would: several tests serve the same
    example, and a build is most of their time.

    An entry is keyed by the command (output folder aside), the working
    folder, the environment the build reads, the cleave binary (path, size,
    time) and every file under the source's folder (contents). It records
    every file the library's compilation read (ninja's dependency log), and
    is used only while each still has the size and time it had: a changed
    runtime header or included file rebuilds. Tests that build the same
    entry at once take turns on a lock; the first builds, the rest copy."""

    ENV = ("CXX", "CC", "CXXFLAGS", "LDFLAGS", "CMAKE_BUILD_TYPE",
           "CMAKE_GENERATOR", "PATH")

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    @staticmethod
    def stamp(path):
        st = os.stat(path)
        return [path, st.st_size, st.st_mtime_ns]

    def key(self, cmd, cleave, source, out):
        import hashlib
        h = hashlib.sha256()
        words = [w for w in cmd if w != out]
        h.update(json.dumps([words, os.getcwd(),
                             [os.environ.get(v) for v in self.ENV],
                             self.stamp(os.path.realpath(cleave))]).encode())
        top = os.path.dirname(os.path.abspath(source))
        for folder, dirs, files in sorted(os.walk(top)):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                h.update(path.encode() + b"\0")
                with open(path, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
        return h.hexdigest()[:32]

    @staticmethod
    def dependencies(out):
        """Every file the library's objects were compiled from, or None."""
        try:
            proc = subprocess.run(["ninja", "-C", os.path.join(out, "build"),
                                   "-t", "deps"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True,
                                  timeout=60)
        except (OSError, subprocess.SubprocessError):
            return None
        # The generated sources are cleave's output for the key's inputs:
        # only what they include counts.
        inside = os.path.abspath(out) + os.sep
        deps = sorted({line.strip() for line in proc.stdout.splitlines()
                       if line.startswith("    ") and line.strip()})
        if proc.returncode != 0 or not deps or \
                not all(os.path.isabs(d) for d in deps):
            return None
        return [d for d in deps if not d.startswith(inside)]

    def fresh(self, entry):
        try:
            with open(entry + ".deps.json", encoding="utf-8") as f:
                deps = json.load(f)
            return all(self.stamp(d[0]) == d for d in deps)
        except (OSError, ValueError, TypeError, IndexError):
            return False

    def build(self, cmd, cleave, source, out):
        import fcntl
        entry = os.path.join(self.folder, self.key(cmd, cleave, source, out))
        keep = shutil.ignore_patterns("CMakeFiles", "*.o")
        with open(entry + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.isdir(entry) and self.fresh(entry):
                shutil.copytree(entry, out, symlinks=True)
                return
            run(cmd, "cleave build", timeout=900)
            deps = self.dependencies(out)
            if deps is None:
                return
            try:
                stamps = [self.stamp(d) for d in deps]
            except OSError:
                return
            shutil.rmtree(entry, ignore_errors=True)
            shutil.rmtree(entry + ".new", ignore_errors=True)
            shutil.copytree(out, entry + ".new", symlinks=True, ignore=keep)
            with open(entry + ".deps.json", "w", encoding="utf-8") as f:
                json.dump(stamps, f)
            os.rename(entry + ".new", entry)


def run_deployment(opts, name, calls):
    out = os.path.join(opts.work, "out")
    cleave_build(opts, os.path.join(opts.example, f"{name}.cpp"), out)
    results, problems = [], []
    with Runtime(find_tool(opts.cleave_run, "cleave-run"), out, opts.work) as rt:
        base = rt.wait_for_address()
        for number, call in enumerate(calls, 1):
            try:
                status, data, _ = http_call(
                    base, call["method"], call["path"], call["args"]
                )
            except OSError as e:
                raise Failure(f"call {number} ({describe(call)}): {e}\n{rt.log()}")
            result, problem = record(status, data)
            results.append(result)
            if problem:
                problems.append(f"call {number} ({describe(call)}): {problem}")
        rt.stop()
    return results, problems


# --- Comparison --------------------------------------------------------------


def same_json(a, b):
    """Equality of parsed JSON values where, unlike Python's ==, True is not
    1 and 1 is not 1.0: a client in a typed language would tell them apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b


def show(value):
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 2000 else text[:2000] + "..."


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example", required=True, help="the example directory")
    parser.add_argument("--work", required=True, help="a scratch directory")
    parser.add_argument("--cleave", help="the cleave compiler (default: from PATH)")
    parser.add_argument("--cleave-run", help="the runtime (default: from PATH)")
    parser.add_argument(
        "--include",
        default=os.path.join(HERE, "..", "..", "runtime", "include"),
        help="where cleave/cleave.h is",
    )
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        help="a compiler flag for both builds, such as -I<dir> (repeatable)",
    )
    parser.add_argument(
        "--cxx",
        default=os.environ.get("CXX", "c++"),
        help="the C++ compiler for the monolith (default: $CXX or c++)",
    )
    opts = parser.parse_args()
    opts.example = os.path.abspath(opts.example)
    opts.work = os.path.abspath(opts.work)
    name = os.path.basename(opts.example.rstrip(os.sep))
    os.makedirs(opts.work, exist_ok=True)

    try:
        scenario_path = os.path.join(opts.example, "scenario.jsonl")
        calls = read_scenario(scenario_path)
        started = time.monotonic()
        expected = run_monolith(opts, name, calls, scenario_path)
        actual, problems = run_deployment(opts, name, calls)
    except Failure as e:
        print(f"difftest {name}: {e}", file=sys.stderr)
        return 1

    mismatches = [
        (number, call, a, b)
        for number, (call, a, b) in enumerate(zip(calls, expected, actual), 1)
        if not same_json(a, b)
    ]
    for number, call, a, b in mismatches:
        print(f"difftest {name}: call {number}: {describe(call)}", file=sys.stderr)
        print(f"  monolith:   {show(a)}", file=sys.stderr)
        print(f"  deployment: {show(b)}", file=sys.stderr)
    for problem in problems:
        print(f"difftest {name}: bad response: {problem}", file=sys.stderr)
    if mismatches or problems:
        print(
            f"difftest {name}: FAILED: {len(mismatches)} of {len(calls)} calls differ, "
            f"{len(problems)} bad responses",
            file=sys.stderr,
        )
        return 1

    statuses = {}
    for r in expected:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    summary = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))
    print(
        f"difftest {name}: {len(calls)} calls agree ({summary}) "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
