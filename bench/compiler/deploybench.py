#!/usr/bin/env python3
"""Edit to deploy: what a deployment costs beside the monolith's own build.

Printed for `make bench` (scripts/bench.sh); nothing here fails on timing.
Each figure is the best of --runs runs, in wall time and in CPU time (user
and system, of every process the step runs), each beside its baseline:

1. examples/shop, fresh: `cleave build` into an empty folder, handler
   library included (CMake configure and build inside), against
   `g++ -std=c++17 -O2 -c shop.cpp`, the monolith's own compile. Target:
   at most 2.0. Then the same steps one by one (the analysis, the CMake
   configure, the CMake build) and, from the build's .ninja_log, the
   compile of each generated unit and the link: where the time goes.
2. examples/cmake-app against an installed Cleave (cmake --install into a
   scratch prefix): after a one-line change of app/entries.cpp (a string
   literal that differs each run), `cmake --build` (the monolith, then
   cleave, then the handler library) against `cmake --build --target
   inventory` after the same kind of change (the monolith alone). Target:
   at most 1.5. The build's .ninja_log says what the change rebuilt.
3. examples/shop, analysis alone: `cleave build --no-build` against
   `clang++-19 -fsyntax-only` on the same file. Target: at most 1.25.
4. A program of --units units and --entries entries (manyunits.py), at
   -j 1 and -j 2: the fresh `cleave build` (handler library included; -j
   also sets its build jobs) against `g++ -O2 -c` of the same units one
   after another (-j 1) and two at a time (-j 2); and `cleave build
   --no-build` against `clang++-19 -fsyntax-only` the same way. Target for
   the analysis: at most 1.25 (as in compilerbench.py). The full build of
   this program takes minutes: it is the best of --large-runs runs (1).

    deploybench.py --build BUILD_DIR [--prefix DIR] [--work DIR] [--runs R]
                   [--units 50 --entries 500] [--large-runs N] [--skip-large]

The cleave of parts 1, 3 and 4 is BUILD_DIR/bin/cleave; part 2 installs
BUILD_DIR into WORK/prefix. --prefix names an installed Cleave to use for
every part instead. Exits 1 if a step fails to run, never for a time.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from compilerbench import best, find_clang, run  # noqa: E402

SHOP = os.path.join(ROOT, "examples", "shop", "shop.cpp")
CMAKE_APP = os.path.join(ROOT, "examples", "cmake-app")
# The line of examples/cmake-app that part 2 changes, and how.
EDIT_FILE = os.path.join("app", "entries.cpp")
EDIT_LITERAL = re.compile(r'"quantity out of range[^"]*"')


class StepFailed(Exception):
    pass


def run_all(cmds, jobs):
    """Runs cmds, `jobs` at a time; as run(): the wall time, the CPU time of
    all of them, the largest peak RSS in MiB, and whether all exited 0."""
    start = time.perf_counter()
    pending = list(cmds)
    running = {}
    cpu, peak, ok = 0.0, 0.0, True
    while pending or running:
        while pending and len(running) < jobs:
            cmd = pending.pop(0)
            err = tempfile.TemporaryFile()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            running[proc.pid] = (proc, cmd, err)
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        proc, cmd, err = running.pop(pid)
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        peak = max(peak, usage.ru_maxrss / 1024.0)
        if proc.returncode != 0:
            err.seek(0)
            text = err.read().decode(errors="replace")
            sys.stderr.write(f"bench: {' '.join(cmd[:3])} ... failed:\n"
                             f"{text[-2000:]}\n")
            ok = False
        err.close()
    return time.perf_counter() - start, cpu, peak, ok


def must(result, what):
    if not result[3]:
        raise StepFailed(what)
    return result


def quiet(cmd, what, **kw):
    """Runs an untimed preparation step; raises StepFailed if it fails."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, **kw)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout.decode(errors="replace")[-4000:] + "\n")
        raise StepFailed(what)
    return proc.stdout.decode(errors="replace")


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


def ninja_log(path, skip=0):
    """The commands of a .ninja_log after its first `skip` lines: a list of
    (first output, start, end) in seconds from the start of the build, one
    per command (ninja writes a line for each output of a command, with the
    same times and hash)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = f.read().splitlines()[skip:]
    steps, seen = [], set()
    for line in lines:
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 5:
            continue
        key = (fields[0], fields[1], fields[4])
        if key not in seen:
            seen.add(key)
            steps.append((fields[3], int(fields[0]) / 1000.0,
                          int(fields[1]) / 1000.0))
    return steps


def line_count(path):
    with open(path) as f:
        return sum(1 for _ in f)


class Logged:
    """Runs of a build step, each with the commands its .ninja_log shows;
    the commands of the fastest run are the ones printed."""

    def __init__(self):
        self.runs = []

    def add(self, result, steps):
        self.runs.append((result, steps))
        return result

    def steps(self):
        ok = [r for r in self.runs if r[0][3]]
        return min(ok, key=lambda r: r[0][0])[1] if ok else []

    def best(self):
        return best_of([r[0] for r in self.runs])


def unit_flags(build_ninja):
    """The compile flags build.ninja gives the first generated unit that is
    not cleave_module.cpp."""
    in_unit = False
    with open(build_ninja) as f:
        for line in f:
            if line.startswith("build "):
                in_unit = (".o:" in line and "cleave_module" not in line
                           and "/src/" in line)
            elif in_unit and line.strip().startswith("FLAGS ="):
                return line.split("=", 1)[1].strip()
    return ""


def cache_value(build, name):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    return ""


def fmt_row(name, result):
    return f"  {name:58} {result[0]:8.2f}s {result[1]:8.2f}s"


def print_steps(steps, indent="      "):
    """The commands of a build, one a line in the order they started, with
    when each started and ended; many generated units as their sum and
    spread."""
    units = [s for s in steps if generated(s[0])
             and not s[0].endswith("cleave_module.cpp.o")]
    print(f"{indent}{'command (.ninja_log)':52} {'from':>7} {'to':>8} "
          f"{'takes':>8}")
    shown = steps if len(units) <= 4 else [s for s in steps
                                            if s not in units]
    for name, start, end in sorted(shown, key=lambda s: s[1]):
        print(f"{indent}{describe(name):52} {start:6.2f}s {end:7.2f}s "
              f"{end - start:7.2f}s")
    if len(units) > 4:
        times = sorted(end - start for _, start, end in units)
        print(f"{indent}{f'compile {len(units)} generated units':52} "
              f"{min(s for _, s, _ in units):6.2f}s "
              f"{max(e for _, _, e in units):7.2f}s {sum(times):7.2f}s "
              "in all")
        print(f"{indent}{'  each: shortest, median, longest':52} "
              f"{times[0]:6.2f}s {times[len(times) // 2]:7.2f}s "
              f"{times[-1]:7.2f}s")


def generated(output):
    """Whether a .ninja_log output is the object of a generated unit: the
    handler library's target is cleave_handlers in the folder cleave
    writes, <name>-handlers with cleave_add_deployment."""
    return output.endswith(".o") and "handlers.dir/" in output


def describe(output):
    if output.endswith(".o"):
        # CMakeFiles/<target>.dir/<source>.o
        unit = output[:-2].split(".dir/", 1)[-1]
        if generated(output):
            return f"compile src/{unit.split('src/', 1)[-1]} (generated)"
        return f"compile {unit} (the monolith)"
    if output.endswith(".so"):
        return f"link {os.path.basename(output)}"
    if output.endswith("manifest.yaml"):
        return "cleave build --no-build (the custom command)"
    if output.endswith(".a"):
        return f"archive {os.path.basename(output)}"
    return f"link {output}"


class Bench:
    def __init__(self, args):
        self.args = args
        self.runs = args.runs
        self.work = args.work
        self.cleave = args.cleave
        self.clang = args.clang
        # The headers cleave gives the units, for the baselines too.
        self.include = (os.path.join(args.prefix, "include") if args.prefix
                        else os.path.join(ROOT, "runtime", "include"))
        self.rows = []  # (name, cleave result, baseline result, target)
        self.shop_analysis = None

    def measure(self, fn, what, runs=None):
        return must(best(runs or self.runs, fn), what)

    def heading(self, title):
        print(f"\n{title:60} {'wall':>9} {'CPU':>9}")

    # 1: examples/shop, fresh.
    def shop(self):
        out = os.path.join(self.work, "shop")
        steps_out = os.path.join(self.work, "shop-steps")
        build = os.path.join(steps_out, "build")
        obj = os.path.join(self.work, "shop.o")

        def full():
            return run([self.cleave, "build", "-q", "-o", fresh(out), SHOP,
                        "--", "-std=c++17"])

        def monolith():
            return run(["g++", "-std=c++17", "-O2", "-c", SHOP,
                        "-I" + self.include, "-o", obj])

        def analysis():
            return run([self.cleave, "build", "--no-build", "-q", "-o",
                        fresh(steps_out), SHOP, "--", "-std=c++17"])

        r_full = self.measure(full, "cleave build examples/shop")
        r_mono = self.measure(monolith, "g++ -c examples/shop/shop.cpp")
        r_analysis = self.measure(analysis, "cleave build --no-build shop")
        # cleave builds the library with `cmake -S OUT -B OUT/build [-G
        # Ninja]` and `cmake --build OUT/build --parallel <cores>`: the same
        # two commands, timed apart, on the output of the last analysis.
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        if os.environ.get("CMAKE_CXX_COMPILER"):
            generator.append("-DCMAKE_CXX_COMPILER=" +
                             os.environ["CMAKE_CXX_COMPILER"])
        jobs = str(os.cpu_count() or 1)
        configures, builds = [], Logged()
        for _ in range(self.runs):
            configures.append(run(["cmake", "-S", steps_out, "-B",
                                   fresh(build)] + generator))
            builds.add(run(["cmake", "--build", build, "--parallel", jobs]),
                       ninja_log(os.path.join(build, ".ninja_log")))
        r_configure = must(best_of(configures), "cmake -S OUT (shop)")
        r_build = must(builds.best(), "cmake --build OUT/build (shop)")

        self.heading("1. examples/shop, fresh")
        print(fmt_row("cleave build -o OUT shop.cpp (handler library "
                      "included)", r_full))
        print(fmt_row("g++ -std=c++17 -O2 -c shop.cpp (the monolith)",
                      r_mono))
        print("  the steps of cleave build, each run alone:")
        print(fmt_row("  analysis: cleave build --no-build", r_analysis))
        print(fmt_row("  cmake -S OUT -B OUT/build (an empty folder)",
                      r_configure))
        print(fmt_row(f"  cmake --build OUT/build --parallel {jobs}",
                      r_build))
        print_steps(builds.steps())
        print(fmt_row("  the three steps together",
                      (r_analysis[0] + r_configure[0] + r_build[0],
                       r_analysis[1] + r_configure[1] + r_build[1])))
        print(f"  the generated units compile with "
              f"{cache_value(build, 'CMAKE_CXX_COMPILER')} "
              f"{unit_flags(os.path.join(build, 'build.ninja'))}")
        self.rows.append(("1 shop, fresh: cleave build / g++ -O2 -c",
                          r_full, r_mono, 2.0))
        self.shop_analysis = r_analysis

    # 2: examples/cmake-app, a one-line change.
    def cmake_app(self):
        prefix = self.args.prefix
        if prefix is None:
            prefix = os.path.join(self.work, "prefix")
            quiet(["cmake", "--install", self.args.build, "--prefix",
                   fresh(prefix)], "cmake --install " + self.args.build)
        if not shutil.which("ninja"):
            raise StepFailed("finding ninja on PATH (part 2 uses -G Ninja)")
        src = os.path.join(self.work, "cmake-app")
        build = os.path.join(self.work, "cmake-app-build")
        shutil.copytree(CMAKE_APP, fresh(src))
        quiet(["cmake", "-S", src, "-B", fresh(build), "-G", "Ninja",
               "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_BUILD_TYPE=Release"],
              "configuring examples/cmake-app")
        quiet(["cmake", "--build", build], "building examples/cmake-app")

        edited = os.path.join(src, EDIT_FILE)
        with open(edited) as f:
            original = f.read()
        if len(EDIT_LITERAL.findall(original)) != 1:
            raise StepFailed(f"finding the one {EDIT_LITERAL.pattern} of "
                             f"{EDIT_FILE} that part 2 changes")
        count = [0]

        def edit():
            # A new text each time, so that the program (and the rewritten
            # unit cleave writes from it) differs from every earlier build.
            count[0] += 1
            tag = f"quantity out of range (edit {os.getpid()}.{count[0]})"
            with open(edited, "w") as f:
                f.write(EDIT_LITERAL.sub(f'"{tag}"', original))

        log = os.path.join(build, ".ninja_log")
        fulls, monoliths = Logged(), []
        try:
            for _ in range(self.runs):
                edit()
                skip = line_count(log)
                fulls.add(run(["cmake", "--build", build]),
                          ninja_log(log, skip))
                edit()
                monoliths.append(run(["cmake", "--build", build,
                                      "--target", "inventory"]))
                quiet(["cmake", "--build", build], "the build that brings "
                      "the deployment up to date after the monolith's")
        finally:
            with open(edited, "w") as f:
                f.write(original)
        r_full = must(fulls.best(), "cmake --build (cmake-app)")
        r_mono = must(best_of(monoliths), "cmake --build --target inventory")

        self.heading(f"2. examples/cmake-app, one line of {EDIT_FILE} "
                     "changed")
        print(fmt_row("cmake --build (the monolith and the deployment)",
                      r_full))
        print(fmt_row("cmake --build --target inventory (the monolith)",
                      r_mono))
        print(f"  what cmake --build ran (ninja, up to "
              f"{(os.cpu_count() or 1) + 2} commands at a time):")
        print_steps(fulls.steps())
        self.rows.append(("2 cmake-app, one line: build / monolith's",
                          r_full, r_mono, 1.5))

    # 3: examples/shop, the analysis alone (measured in part 1).
    def shop_syntax(self):
        if self.shop_analysis is None:
            raise StepFailed("part 1 (part 3 compares its analysis)")

        def syntax():
            return run([self.clang, "-fsyntax-only", "-std=c++17",
                        "-I" + self.include, SHOP])

        r_syntax = self.measure(syntax, "clang++ -fsyntax-only shop.cpp")
        self.heading("3. examples/shop, analysis alone")
        print(fmt_row("cleave build --no-build (as in 1)",
                      self.shop_analysis))
        print(fmt_row("clang++-19 -fsyntax-only", r_syntax))
        self.rows.append(("3 shop: cleave --no-build / clang -fsyntax-only",
                          self.shop_analysis, r_syntax, 1.25))

    # 4: a program of many units.
    def large(self):
        import manyunits

        units_n, entries = self.args.units, self.args.entries
        src = os.path.join(self.work, "manyunits")
        shutil.rmtree(src, ignore_errors=True)
        units = manyunits.write_program(src, units_n, entries // units_n)
        out = os.path.join(self.work, "manyunits-out")
        objs = os.path.join(self.work, "manyunits-obj")
        os.makedirs(objs, exist_ok=True)
        self.heading(f"4. {units_n} units, {entries} entries (manyunits.py), "
                     "fresh")

        for jobs in (1, 2):
            way = "one after another" if jobs == 1 else f"{jobs} at a time"
            fulls = Logged()

            def full():
                return fulls.add(
                    run([self.cleave, "build", "-q", "-j", str(jobs), "-o",
                         fresh(out)] + units + ["--", "-std=c++17"]),
                    ninja_log(os.path.join(out, "build", ".ninja_log")))

            def monolith():
                return run_all(
                    [["g++", "-std=c++17", "-O2", "-c", u,
                      "-I" + self.include, "-o",
                      os.path.join(objs, os.path.basename(u) + ".o")]
                     for u in units], jobs)

            def analysis():
                return run([self.cleave, "build", "--no-build", "-q", "-j",
                            str(jobs), "-o", fresh(out)] + units +
                           ["--", "-std=c++17"])

            def syntax():
                return run_all([[self.clang, "-fsyntax-only", "-std=c++17",
                                 "-I" + self.include, u] for u in units],
                               jobs)

            # About ten minutes a run at -j 1: --large-runs of them.
            r_full = self.measure(full, f"cleave build -j {jobs} "
                                  f"({units_n} units)", self.args.large_runs)
            r_mono = self.measure(monolith, f"g++ -c, {way}")
            r_analysis = self.measure(analysis, f"cleave build --no-build "
                                      f"-j {jobs} ({units_n} units)")
            r_syntax = self.measure(syntax, f"clang -fsyntax-only, {way}")
            print(fmt_row(f"-j {jobs}: cleave build (handler library "
                          "included)", r_full))
            print_steps(fulls.steps())
            print(fmt_row(f"-j {jobs}: g++ -std=c++17 -O2 -c, {way}",
                          r_mono))
            print(fmt_row(f"-j {jobs}: cleave build --no-build", r_analysis))
            print(fmt_row(f"-j {jobs}: clang++-19 -fsyntax-only, {way}",
                          r_syntax))
            self.rows.append((f"4 {units_n} units, -j {jobs}: cleave build "
                              "/ g++ -O2 -c", r_full, r_mono, None))
            self.rows.append((f"4 {units_n} units, -j {jobs}: --no-build "
                              "/ -fsyntax-only", r_analysis, r_syntax, 1.25))

    def table(self):
        print(f"\nEdit to deploy ({plural(self.runs)}): wall time, and "
              "CPU time (user and system of every process; less sensitive "
              "to other load)")
        print(f"  {'':50} {'cleave':^17}  {'baseline':^17}  {'ratio':^15}")
        print(f"  {'':50} {'wall':>8} {'CPU':>8}  {'wall':>8} {'CPU':>8}  "
              f"{'wall':>7} {'CPU':>7}  target")
        for name, mine, base, target in self.rows:
            ratio = mine[0] / base[0] if base[0] else float("inf")
            cpu_ratio = mine[1] / base[1] if base[1] else float("inf")
            goal = "-" if target is None else (
                f"<= {target:.2f}, {'met' if ratio <= target else 'missed'}")
            print(f"  {name:50} {mine[0]:7.2f}s {mine[1]:7.2f}s  "
                  f"{base[0]:7.2f}s {base[1]:7.2f}s  {ratio:6.2f}x "
                  f"{cpu_ratio:6.2f}x  {goal}")


def plural(runs):
    return f"best of {runs} runs" if runs > 1 else "one run"


def best_of(results):
    return (min(r[0] for r in results), min(r[1] for r in results),
            max(r[2] for r in results), all(r[3] for r in results))


def load():
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", help="Cleave's build folder")
    ap.add_argument("--prefix", help="an installed Cleave to use instead of "
                    "BUILD_DIR (for every part)")
    ap.add_argument("--work", default=None,
                    help="scratch directory (default: a new one in /tmp)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--large-runs", type=int, default=1,
                    help="runs of the full build of the large program")
    ap.add_argument("--units", type=int, default=50)
    ap.add_argument("--entries", type=int, default=500)
    ap.add_argument("--skip-large", action="store_true",
                    help="leave out part 4, the program of many units")
    args = ap.parse_args()
    if not args.build and not args.prefix:
        ap.error("give --build BUILD_DIR (or --prefix DIR)")
    if args.runs < 1:
        ap.error("--runs: at least 1")
    if (args.units < 1 or args.entries % args.units
            or args.entries // args.units < 2):
        ap.error("--entries must be a multiple of --units, at least 2 per "
                 "unit")
    if args.prefix:
        args.prefix = os.path.abspath(args.prefix)
        args.cleave = os.path.join(args.prefix, "bin", "cleave")
    else:
        args.build = os.path.abspath(args.build)
        args.cleave = os.path.join(args.build, "bin", "cleave")
    if not os.access(args.cleave, os.X_OK):
        print(f"bench: {args.cleave} not found: build Cleave first",
              file=sys.stderr)
        return 1
    if args.work is None:
        args.work = tempfile.mkdtemp(prefix="cleave-deploybench-")
    os.makedirs(args.work, exist_ok=True)
    args.work = os.path.abspath(args.work)
    args.clang = find_clang()
    missing = [t for t, p in (("clang++-19", args.clang),
                              ("g++", shutil.which("g++")),
                              ("cmake", shutil.which("cmake"))) if not p]
    if missing:
        print(f"bench: not found: {', '.join(missing)}", file=sys.stderr)
        return 1

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0))
    gxx = subprocess.run(["g++", "-dumpfullversion"], capture_output=True,
                         text=True).stdout.strip()
    print(f"cleave: {args.cleave}; baselines: g++ {gxx}, {args.clang}")
    print(f"{cores} cores ({usable} usable), {load()}: other load on the "
          "machine lengthens the wall times")
    print(f"each figure: {plural(args.runs)}")
    bench = Bench(args)
    ok = True
    parts = [bench.shop, bench.cmake_app, bench.shop_syntax]
    if not args.skip_large:
        parts.append(bench.large)
    for part in parts:
        try:
            part()
        except StepFailed as e:
            print(f"bench: {e} failed; the figures of that part are left "
                  "out", file=sys.stderr)
            ok = False
    bench.table()
    print(f"at the end: {load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
