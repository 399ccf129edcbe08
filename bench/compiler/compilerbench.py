#!/usr/bin/env python3
"""The compiler's own benchmark: how long `cleave build --no-build` takes.

Two tables, printed for `make bench` (scripts/bench.sh); nothing here fails
on timing.

1. A program of many units (manyunits.py, 100 by default): the time of
   `clang++-19 -fsyntax-only` on each unit, one after another, against
   `cleave build --no-build` on all of them with -j 1 and -j 2, with the
   ratios and cleave's peak memory (every unit's AST is kept until the
   whole program is planned). The target is a ratio of at most 1.25 at
   -j 1, and less at -j 2.
2. One function with K boundary calls in one statement
   (`return f(1) + f(2) + ... + f(K);`, f with another resource profile),
   for K = 100, 200, 400, 800: the time and the size of the output. Twice
   the calls should cost about twice the time; a quadratic step shows as a
   time that grows fourfold.

    compilerbench.py --cleave BUILD/bin/cleave [--work DIR] [--units N]
                     [--calls 100,200,400,800] [--runs R]

With --runs R, each figure is the best of R runs.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)


def run(cmd, **kw):
    """Runs cmd; its wall time and CPU time (user and system) in seconds,
    its peak RSS in MiB, and whether it exited 0."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kw)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(f"bench: {' '.join(cmd[:3])} ... failed:\n"
                         f"{err[-2000:]}\n")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024.0, proc.returncode == 0


def best(runs, fn):
    """The best of `runs` calls of fn (time, CPU time, memory, ok)."""
    results = [fn() for _ in range(runs)]
    return (min(r[0] for r in results), min(r[1] for r in results),
            max(r[2] for r in results), all(r[3] for r in results))


def find_clang():
    for name in ("clang++-19", "/usr/lib/llvm-19/bin/clang++"):
        path = shutil.which(name)
        if path:
            return path
    return None


def tree_size(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    return total


def many_units(args, clang, include):
    import manyunits

    src = os.path.join(args.work, "manyunits")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    units = manyunits.write_program(src, args.units)
    out = os.path.join(args.work, "manyunits-out")

    def sequential_clang():
        total, cpu, peak, ok = 0.0, 0.0, 0.0, True
        for u in units:
            t, c, m, good = run([clang, "-std=c++17", "-fsyntax-only",
                                 "-I" + include, u])
            total, cpu, peak = total + t, cpu + c, max(peak, m)
            ok = ok and good
        return total, cpu, peak, ok

    def cleave(jobs):
        def go():
            shutil.rmtree(out, ignore_errors=True)
            return run([args.cleave, "build", "--no-build", "-q",
                        "-j", str(jobs), "-o", out] + units +
                       ["--", "-std=c++17"])
        return go

    rows = [("clang++ -fsyntax-only, one unit after another",
             best(args.runs, sequential_clang))]
    for jobs in (1, 2):
        rows.append((f"cleave build --no-build -j {jobs}",
                     best(args.runs, cleave(jobs))))
    base, base_cpu = rows[0][1][0], rows[0][1][1]
    print(f"\n{args.units} units (bench/compiler/manyunits.py), "
          f"best of {args.runs}; the CPU time (user and system) is less "
          f"sensitive to other load on the machine:")
    print(f"  {'':48} {'time':>9} {'ratio':>7} {'CPU':>9} {'ratio':>7} "
          f"{'peak RSS':>10}")
    for name, (t, cpu, mem, ok) in rows:
        first = name.startswith("clang")
        ratio = "" if first else f"{t / base:6.2f}x"
        cpu_ratio = "" if first else f"{cpu / base_cpu:6.2f}x"
        note = "" if ok else "  (failed)"
        print(f"  {name:48} {t:8.2f}s {ratio:>7} {cpu:8.2f}s {cpu_ratio:>7} "
              f"{mem:8.0f}MiB{note}")
    ok = all(r[1][3] for r in rows)
    if ok:
        print(f"  target: cleave -j 1 at most 1.25x clang, -j 2 faster; "
              f"measured {rows[1][1][0] / base:.2f}x and "
              f"{rows[2][1][0] / base:.2f}x")
    return ok


def boundary_calls(args):
    print("\nOne statement with K boundary calls "
          "(return f(1) + ... + f(K); f has another profile):")
    print(f"  {'K':>5} {'time':>9} {'output':>12} {'time/K':>10}")
    ok = True
    for k in args.calls:
        src = os.path.join(args.work, f"calls{k}.cpp")
        with open(src, "w") as f:
            f.write("#include <cleave/cleave.h>\n\n"
                    'CLEAVE_FUNCTION("memory=2048") long f(long x) '
                    "{ return x * 2; }\n\n"
                    'CLEAVE_ENTRY("GET /sum") long sum() {\n  return ' +
                    " + ".join(f"f({i})" for i in range(1, k + 1)) +
                    ";\n}\n")
        out = os.path.join(args.work, f"calls{k}-out")

        def go():
            shutil.rmtree(out, ignore_errors=True)
            return run([args.cleave, "build", "--no-build", "-q", "-o", out,
                        src, "--", "-std=c++17"])

        t, _, _, good = best(args.runs, go)
        ok = ok and good
        size = tree_size(out) if good else 0
        note = "" if good else "  (failed)"
        print(f"  {k:5} {t:8.2f}s {size / 1024:10.0f}KiB "
              f"{t / k * 1000:8.2f}ms{note}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cleave", required=True, help="the cleave binary")
    ap.add_argument("--work", default=None,
                    help="scratch directory (default: a new one in /tmp)")
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--calls", default="100,200,400,800",
                    type=lambda s: [int(k) for k in s.split(",")])
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    args.cleave = os.path.abspath(args.cleave)
    if args.work is None:
        import tempfile
        args.work = tempfile.mkdtemp(prefix="cleave-compilerbench-")
    os.makedirs(args.work, exist_ok=True)
    args.work = os.path.abspath(args.work)

    clang = find_clang()
    if clang is None:
        print("bench: clang++-19 not found: no comparison with clang",
              file=sys.stderr)
        return 1
    include = os.path.join(ROOT, "runtime", "include")
    print(f"compiler: {args.cleave}, against {clang}, "
          f"{os.cpu_count()} cores")
    ok = many_units(args, clang, include)
    ok = boundary_calls(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
