#!/usr/bin/env python3
"""Checks generated programs: each as a monolith against its deployment.

For every program (test/gen/cleavegen.py, one seed each):

  1. the monolith: the program with its own main(), built with $CXX, runs a
     scenario of calls (several per entry, varied and repeated arguments,
     GET /state in the middle and at the end) and prints one
     {"status", "body"} line per call;
  2. the deployment: `cleave build`, then `cleave-run` on a free loopback
     port with an in-memory store, the same calls over HTTP
     (test/e2e/difftest.py does the talking).

A program's units are independent (one entry each), so every verdict is per
unit, that is per generated function. A program given with --program may
leave out its tail (GET /state and main(), after `// tail begin`): the
harness writes it from the units, as reduced programs are kept. The
verdicts:

  agree    every answer of its entry and its share of GET /state match;
  refused  `cleave build` rejected it with a located `file:line:col: error:`
           (the unit is dropped and the rest built again);
  failed   a build failure of the generated library, a crash, a hang, or a
           differing answer. The program, its scenario and what went wrong
           are kept in --keep.

The last line is the summary:
  gen: N functions, N agree, N refused, N failed
and the exit status is 1 when anything failed.

Python standard library only.
"""

import argparse
import collections
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import cleavegen  # noqa: E402
import difftest  # noqa: E402

STEP_TIMEOUT = 300  # seconds for one compiler run (cleave build, $CXX)
RUN_TIMEOUT = 120  # seconds for the monolith to answer the whole scenario
difftest.REQUEST_TIMEOUT = 30  # seconds per HTTP request: a hang is a failure

UNIT_BEGIN = re.compile(r"^// unit (\d+) begin$")
UNIT_END = re.compile(r"^// unit (\d+) end$")
UNIT_TAG = re.compile(r"// unit (\d+)$")
ENTRY = re.compile(r'CLEAVE_ENTRY\("(GET|POST) /(f\d+)"\)')


# --- The program's text -------------------------------------------------------


def unit_of_lines(text):
    """{line number (1-based): unit index} for every line inside a unit or
    tagged with one."""
    owner, current = {}, None
    for number, line in enumerate(text.split("\n"), 1):
        m = UNIT_BEGIN.match(line)
        if m:
            current = int(m.group(1))
        if current is not None:
            owner[number] = current
        elif UNIT_TAG.search(line):
            owner[number] = int(UNIT_TAG.search(line).group(1))
        if UNIT_END.match(line):
            current = None
    return owner


def units_in(text):
    """{unit index: (method, entry name)} of the units the text holds."""
    units, current = {}, None
    for line in text.split("\n"):
        m = UNIT_BEGIN.match(line)
        if m:
            current = int(m.group(1))
        e = ENTRY.search(line)
        if e and current is not None:
            units[current] = (e.group(1), e.group(2))
        if UNIT_END.match(line):
            current = None
    return units


STATE_DECL = re.compile(r"^CLEAVE_STATE\([^)]*\) .*?(\w+)(?: = [^;]*)?;$")
COUNTERS = re.compile(r"^static long (u\d+_ctor) = 0, (u\d+_dtor) = 0, (u\d+_dsum) = 0;$")


def complete(text):
    """The program with its tail (GET /state, main) written after its units
    when it has none, as in a reduced program kept short: each unit's state
    checksum covers the state and the counters the unit declares."""
    if "\n// tail begin" in text:
        return text
    units, current = [], None
    for line in text.split("\n"):
        m = UNIT_BEGIN.match(line)
        if m:
            current = [int(m.group(1)), None, []]
            units.append(current)
        elif current is not None:
            e, st, c = ENTRY.search(line), STATE_DECL.match(line), COUNTERS.match(line)
            if e:
                current[1] = e.group(2)
            if st:
                current[2].append(st.group(1))
            if c:
                current[2] += list(c.groups())
        if UNIT_END.match(line):
            current = None
    tail = cleavegen.render_tail([(n, e, cleavegen.checksum(names)) for n, e, names in units if e])
    return text.rstrip("\n") + "\n\n" + tail + "\n"


def remove_units(text, gone):
    """The text without the units in gone (their code and tagged lines)."""
    owner = unit_of_lines(text)
    return "\n".join(
        line for number, line in enumerate(text.split("\n"), 1)
        if owner.get(number) not in gone
    )


# --- The scenario -------------------------------------------------------------


def make_scenario(text, rng, calls_per_entry):
    """Calls ({"name", "a", "b"}; name "state" for GET /state): each entry
    calls_per_entry times, one of them repeating another's arguments, in a
    random order, with GET /state halfway and at the end."""
    calls = []
    for _, (_, name) in sorted(units_in(text).items()):
        args = []
        for i in range(calls_per_entry):
            if i and rng.random() < 0.3:
                args.append(rng.choice(args))
            else:
                args.append((rng.randrange(1000), rng.randrange(1000)))
        calls += [{"name": name, "a": a, "b": b} for a, b in args]
    rng.shuffle(calls)
    state = {"name": "state", "a": 0, "b": 0}
    calls.insert(len(calls) // 2, dict(state))
    calls.append(dict(state))
    return calls


def read_scenario(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def write_scenario(path, calls):
    with open(path, "w") as f:
        for c in calls:
            f.write(json.dumps({k: c[k] for k in ("name", "a", "b")}) + "\n")


def unit_of_call(call):
    return None if call["name"] == "state" else int(call["name"][1:])


# --- Running things -------------------------------------------------------------


class Fail(Exception):
    """Something failed that is not attributable to one unit."""


def run(cmd, timeout, **kwargs):
    """(exit status or 'timeout', stdout + stderr)."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        if isinstance(out, bytes):
            out = out.decode("utf-8", "replace")
        return "timeout", out
    return p.returncode, p.stdout


def run_monolith(opts, work, source, calls):
    exe = os.path.join(work, "monolith")
    # A reduced program must not lose its return: that would be undefined.
    rc, out = run([opts.cxx, "-std=c++17", "-O1", "-Werror=return-type", f"-I{opts.include}",
                   f"-I{HERE}", "-o", exe, source], STEP_TIMEOUT)
    if rc != 0:
        raise Fail(f"the monolith does not build ({rc}):\n{out[-3000:]}")
    stdin = "".join(f"{c['name']} {c['a']} {c['b']}\n" for c in calls)
    try:
        p = subprocess.run([exe], input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Fail(f"the monolith did not finish within {RUN_TIMEOUT} s")
    lines = [l for l in p.stdout.split("\n") if l.strip()]
    if p.returncode != 0 or len(lines) != len(calls):
        raise Fail(f"the monolith exited {p.returncode} after {len(lines)} of "
                   f"{len(calls)} answers:\n{p.stderr[-2000:]}")
    return [json.loads(l) for l in lines]


LOCATED = re.compile(r"^(.*?):(\d+):(\d+): error: (.*)$")


def located_errors(output, source):
    """[(line, message)] of the `file:line:col: error:` lines about source."""
    found = []
    base = os.path.basename(source)
    for line in output.split("\n"):
        m = LOCATED.match(line)
        if m and os.path.basename(m.group(1)) == base:
            found.append((int(m.group(2)), m.group(4)))
    return found


MACHINE = re.compile(r"cleave_machine_\d+(?:f(\d+)|u(\d+)_)")


def errors_in_machines(output, out):
    """[(unit, message)] for the errors located in the generated sources
    (out/src) rather than in the program: each goes to the unit whose step
    machine (cleave_machine_<length>fN, cleave_machine_<length>uN_...)
    holds the line."""
    found = []
    for line in output.split("\n"):
        m = LOCATED.match(line)
        if not m or os.path.dirname(os.path.abspath(m.group(1))) != os.path.join(out, "src"):
            continue
        try:
            with open(m.group(1), errors="replace") as f:
                generated = f.read().split("\n")[: int(m.group(2))]
        except OSError:
            continue
        for text in reversed(generated):
            mm = MACHINE.search(text)
            if mm:
                found.append((int(mm.group(1) or mm.group(2)), m.group(4)))
                break
    return found


def normalize(message):
    """A refusal message without the names that differ between programs."""
    m = re.sub(r"'[^']*'", "'...'", message)
    return re.sub(r"\b[uvgiwekx]\d+\w*", "_", m)


def cleave_build(opts, source, out):
    """('ok' | 'refused' | 'library' | 'crash', output). A refusal is a
    compiler error located in source; 'library' a failed library build."""
    if os.path.exists(out):
        shutil.rmtree(out)
    env = dict(os.environ)
    if opts.library_build_type:
        # CMake (3.22 and later) takes the default build type from the
        # environment; the generated project only sets Release when none is.
        env["CMAKE_BUILD_TYPE"] = opts.library_build_type
    rc, text = run([opts.cleave, "build", "-q", "-o", out, source, "--", "-std=c++17",
                    f"-I{HERE}"], STEP_TIMEOUT, env=env)
    if rc == 0:
        return "ok", text
    if rc == "timeout":
        return "crash", f"cleave build did not finish within {STEP_TIMEOUT} s\n{text}"
    if "building the handler library failed" in text:
        log = os.path.join(out, "build", "cleave-build.log")
        try:
            with open(log, errors="replace") as f:
                text += f.read()
        except OSError:
            pass
        return "library", text
    if rc == 1 and located_errors(text, source):
        return "refused", text
    return "crash", f"cleave build exited {rc}:\n{text}"


def run_deployment(opts, work, out, calls):
    """The deployment's answers, one per call; a call that gets no answer
    (crash, hang) ends the run: (answers so far, index of that call, why)."""
    answers = []
    with difftest.Runtime(opts.cleave_run, out, work, extra=["--state", "memory"]) as rt:
        try:
            base = rt.wait_for_address()
        except difftest.Failure as e:
            return answers, 0, str(e)
        for i, c in enumerate(calls):
            if c["name"] == "state":
                method, path, args = "GET", "/state", {}
            else:
                method, path, args = c["method"], "/" + c["name"], {"a": c["a"], "b": c["b"]}
            try:
                status, data, _ = difftest.http_call(base, method, path, args)
            except OSError as e:
                return answers, i, f"no answer ({e})\n{rt.log()}"
            answers.append(difftest.record(status, data)[0])
        try:
            rt.stop()
        except difftest.Failure as e:
            return answers, len(calls), str(e)
    return answers, None, None


# --- One program ----------------------------------------------------------------


class Verdicts:
    def __init__(self):
        self.agree = []
        self.refused = collections.OrderedDict()  # unit -> message
        self.failed = collections.OrderedDict()  # unit -> description

    def count(self):
        return len(self.agree) + len(self.refused) + len(self.failed)


def check_program(opts, work, text, calls, log=print):
    """Checks one program; returns Verdicts. Raises Fail for what belongs to
    no unit (the monolith does not build, the library fails outside units)."""
    os.makedirs(work, exist_ok=True)
    text = complete(text)
    source = os.path.join(work, "prog.cpp")
    with open(source, "w") as f:
        f.write(text)
    units = units_in(text)
    methods = {name: m for m, name in units.values()}
    for c in calls:
        if c["name"] != "state":
            if c["name"] not in methods:
                raise Fail(f"the scenario calls {c['name']}, which the program does not define")
            c["method"] = methods[c["name"]]
    v = Verdicts()
    expected = run_monolith(opts, work, source, calls)

    gone = set()
    out = os.path.join(work, "out")
    for attempt in range(len(units) + 1):
        current = remove_units(text, gone)
        build_src = os.path.join(work, "build.cpp")
        with open(build_src, "w") as f:
            f.write(current)
        kind, output = cleave_build(opts, build_src, out)
        if kind == "ok":
            break
        if kind == "crash":
            raise Fail(output[-4000:])
        owner = unit_of_lines(current)
        errors = located_errors(output, build_src)
        hit = collections.OrderedDict()
        for line, message in errors:
            u = owner.get(line)
            if u is not None and u not in hit:
                hit[u] = message
        if not hit and kind == "library":
            for u, message in errors_in_machines(output, out):
                hit.setdefault(u, message)
        if not hit:
            where = "the library build" if kind == "library" else "cleave build"
            raise Fail(f"{where} failed outside any unit:\n{output[-4000:]}")
        for u, message in hit.items():
            if kind == "refused":
                v.refused[u] = message
            else:
                v.failed[u] = f"the generated library does not build: {message}"
            gone.add(u)
        if len(gone) == len(units):
            return v
    else:
        raise Fail("cleave build kept failing")

    # Send the calls of the units still in; a call without an answer fails
    # its unit, and the run starts again without it.
    while True:
        kept = [i for i, c in enumerate(calls) if unit_of_call(c) not in gone]
        answers, dead, why = run_deployment(opts, work, out, [calls[i] for i in kept])
        if dead is None:
            break
        if dead >= len(kept):
            raise Fail(why)
        call = calls[kept[dead]]
        u = unit_of_call(call)
        if u is None:
            raise Fail(f"GET /state got no answer: {why}")
        v.failed[u] = f"call {describe(call)} got no answer: {why[-3000:]}"
        gone.add(u)

    for i, got in zip(kept, answers):
        want, call = expected[i], calls[i]
        u = unit_of_call(call)
        if u is not None:
            if u not in v.failed and not difftest.same_json(want, got):
                v.failed[u] = (f"call {describe(call)}: monolith {json.dumps(want)}, "
                               f"deployment {json.dumps(got)}")
            continue
        for key in sorted(set(want.get("body") or {}) | set((got.get("body") or {}))):
            u = int(key[1:])
            if u in gone or u in v.failed:
                continue
            a = (want.get("body") or {}).get(key)
            b = (got.get("body") or {}).get(key) if isinstance(got.get("body"), dict) else None
            if got.get("status") != 200 or a != b:
                v.failed[u] = (f"GET /state after call {i + 1}: {key}: monolith {a}, "
                               f"deployment {json.dumps(got) if got.get('status') != 200 else b}")
    v.agree = [u for u in sorted(units) if u not in gone and u not in v.failed]
    return v


def describe(call):
    if call["name"] == "state":
        return "GET /state"
    return f"{call.get('method', '?')} /{call['name']} a={call['a']} b={call['b']}"


# --- Main -----------------------------------------------------------------------


def find_tool(given, name):
    path = given or shutil.which(name)
    if not path:
        sys.exit(f"harness: cannot find {name}: put it on PATH or pass --{name}")
    return path


def add_common_options(ap):
    ap.add_argument("--cleave", help="the cleave compiler (default: from PATH)")
    ap.add_argument("--cleave-run", help="the runtime (default: from PATH)")
    ap.add_argument("--include", default=os.path.join(HERE, "..", "..", "runtime", "include"),
                    help="where cleave/cleave.h is")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "c++"),
                    help="the C++ compiler of the monolith (default: $CXX or c++)")
    ap.add_argument("--library-build-type", default="",
                    help="CMAKE_BUILD_TYPE of the handler library (default: the "
                    "generated project's, Release); None builds it fastest, unoptimised")


def keep_failure(opts, seed, text, calls, problems):
    """Copies a failing program to --keep; returns its directory."""
    d = os.path.join(opts.keep, f"seed-{seed}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "prog.cpp"), "w") as f:
        f.write(text)
    write_scenario(os.path.join(d, "scenario.jsonl"), calls)
    with open(os.path.join(d, "failure.txt"), "w") as f:
        f.write("\n\n".join(problems) + "\n")
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1, help="seed of the first program")
    ap.add_argument("--programs", type=int, default=1, help="how many programs (seeds seed, seed+1, ...)")
    ap.add_argument("--seconds", type=float, default=0,
                    help="instead of --programs: random seeds until this many seconds are up")
    ap.add_argument("--units", type=int, default=10, help="generated functions (entries) per program")
    ap.add_argument("--size", type=int, default=12, help="statements per function (budget)")
    ap.add_argument("--calls", type=int, default=3, help="calls per entry")
    ap.add_argument("--no", default="", help="features or groups to leave out (comma-separated)")
    ap.add_argument("--only", default="", help="features or groups to use (default: all)")
    ap.add_argument("--program", help="check this program (a generated or reduced one) "
                    "instead of generating")
    ap.add_argument("--scenario", help="with --program: its calls (default: made from --seed)")
    ap.add_argument("--work", required=True, help="a scratch directory")
    ap.add_argument("--keep", help="where failing programs go (default: WORK/failures)")
    ap.add_argument("--keep-refused", action="store_true",
                    help="keep programs with refused functions in --keep too (to reduce them)")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per program")
    add_common_options(ap)
    opts = ap.parse_args()
    try:
        features = cleavegen.parse_features(opts.no, opts.only)
    except ValueError as e:
        ap.error(str(e))
    opts.work = os.path.abspath(opts.work)
    opts.keep = os.path.abspath(opts.keep or os.path.join(opts.work, "failures"))
    opts.cleave = find_tool(opts.cleave, "cleave")
    opts.cleave_run = find_tool(opts.cleave_run, "cleave-run")

    started = time.monotonic()
    totals = collections.Counter()
    refusals = collections.defaultdict(list)  # normalized message -> [(seed, unit, message)]
    failures = []
    if opts.seconds:
        seeds = iter(lambda: random.randrange(1, 1 << 31), None)
    else:
        seeds = iter(range(opts.seed, opts.seed + opts.programs))
    if opts.program:
        seeds = iter([opts.seed])
    for seed in seeds:
        if opts.seconds and time.monotonic() - started > opts.seconds:
            break
        if opts.program:
            with open(opts.program) as f:
                text = f.read()
            if opts.scenario:
                calls = read_scenario(opts.scenario)
            else:
                calls = make_scenario(text, random.Random(seed), opts.calls)
        else:
            text = cleavegen.generate(seed, features, opts.units, opts.size)
            calls = make_scenario(text, random.Random(seed), opts.calls)
        work = os.path.join(opts.work, f"seed-{seed}")
        t0 = time.monotonic()
        try:
            v = check_program(opts, work, text, calls)
        except Fail as e:
            totals["failed"] += len(units_in(text))
            totals["functions"] += len(units_in(text))
            d = keep_failure(opts, seed, text, calls, [str(e)])
            failures.append((seed, d, str(e)))
            print(f"gen: FAILURE: seed {seed}: {d}/prog.cpp: {str(e)[:3000]}", file=sys.stderr)
            continue
        totals["functions"] += v.count()
        totals["agree"] += len(v.agree)
        totals["refused"] += len(v.refused)
        totals["failed"] += len(v.failed)
        for u, message in v.refused.items():
            refusals[normalize(message)].append((seed, u, message))
        if v.refused and opts.keep_refused:
            keep_failure(opts, seed, text, calls,
                         [f"unit {u} (f{u}): refused: {m}" for u, m in v.refused.items()])
        if v.failed:
            problems = [f"unit {u} (f{u}): {p}" for u, p in v.failed.items()]
            d = keep_failure(opts, seed, text, calls, problems)
            for u, p in v.failed.items():
                failures.append((seed, d, f"unit {u}: {p}"))
                print(f"gen: FAILURE: seed {seed}: {d}/prog.cpp: unit {u} (f{u}): {p[:3000]}",
                      file=sys.stderr)
        if opts.verbose:
            print(f"gen: seed {seed}: {len(v.agree)} agree, {len(v.refused)} refused, "
                  f"{len(v.failed)} failed in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        if not v.failed:
            shutil.rmtree(work, ignore_errors=True)

    if refusals:
        print("gen: refusals, by message:", file=sys.stderr)
        for message, hits in sorted(refusals.items(), key=lambda kv: -len(kv[1])):
            seed, u, full = hits[0]
            print(f"  {len(hits):4} x {message}\n         e.g. seed {seed} unit {u}: {full}",
                  file=sys.stderr)
    if failures:
        print(f"gen: failing programs are in {opts.keep}", file=sys.stderr)
    print(f"gen: {totals['functions']} functions, {totals['agree']} agree, "
          f"{totals['refused']} refused, {totals['failed']} failed "
          f"in {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
