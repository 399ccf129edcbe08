"""examples/cmake-app against an installed Cleave, as a user builds it.

Installs Cleave (the build folder given) into a scratch prefix and moves the
prefix elsewhere (the tools find their headers beside themselves); then, for
each generator given, configures examples/cmake-app with find_package(Cleave),
builds it and checks the incremental behaviour (a no-op build runs nothing,
touching the library's header regenerates the deployment and recompiles its
units, touching a source recompiles no generated unit whose text did not
change). With Ninja it also runs the -inspect target, installs the app with
its deployment, serves the installed deployment with the installed
cleave-run and checks it answers a scenario exactly as the monolith does.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from difftest import Runtime, http_call  # noqa: E402

EXAMPLE = os.path.join(HERE, "..", "..", "examples", "cmake-app")

# The scenario: monolith commands and the HTTP calls they are.
SCENARIO = [
    ("add apple 3", "POST", "/add", {"name": "apple", "qty": 3}),
    ("add apple 2", "POST", "/add", {"name": "apple", "qty": 2}),
    ("add pear 7", "POST", "/add", {"name": "pear", "qty": 7}),
    ("item apple", "GET", "/item", {"name": "apple"}),
    ("item plum", "GET", "/item", {"name": "plum"}),
    ("add plum 0", "POST", "/add", {"name": "plum", "qty": 0}),
    ("add plum 1001", "POST", "/add", {"name": "plum", "qty": 1001}),
    ("items", "GET", "/items", {}),
]


class Failure(Exception):
    pass


def run(cmd, **kwargs):
    proc = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs
    )
    if proc.returncode != 0:
        raise Failure(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}")
    return proc.stdout


def build(folder):
    return run(["cmake", "--build", folder, "--parallel", "2"])


def ran_nothing(log):
    """What a build that should have run nothing did run, if anything."""
    return [
        line
        for line in log.splitlines()
        if any(w in line for w in ("Building", "Linking", "Cleaving"))
    ]


def touched(path):
    # Newer than every output so far, on a file system with coarse times.
    time.sleep(0.05)
    os.utime(path, None)


def monolith(exe):
    text = "\n".join(c for c, *_ in SCENARIO) + "\n"
    out = run([exe], input=text).splitlines()
    results, lines = [], iter(out)
    for command, *_ in SCENARIO:
        if command == "items":
            items = []
            for line in lines:
                if line == "end":
                    break
                items.append(line)
            results.append(("ok", items))
            continue
        line = next(lines)
        if line.startswith("error: "):
            results.append(("error", line[len("error: "):]))
        else:
            results.append(("ok", line))
    return results


def as_line(item):
    return f"{item['name']} {item['qty']} {item['label']} {item['tag']}"


def deployment(cleave_run, folder, work):
    results = []
    os.makedirs(work, exist_ok=True)
    with Runtime(cleave_run, folder, work, extra=["--state=memory"]) as rt:
        base = rt.wait_for_address()
        for command, method, path, args in SCENARIO:
            status, data, _ = http_call(base, method, path, args)
            body = json.loads(data) if data else None
            if status == 200:
                if isinstance(body, list):
                    results.append(("ok", [as_line(i) for i in body]))
                else:
                    results.append(("ok", as_line(body)))
            elif status == 500:
                # "exception in <function>: <what()>"
                results.append(("error", body["error"].split(": ", 1)[1]))
            else:
                raise Failure(f"{command}: unexpected {status} {data}\n{rt.log()}")
        rt.stop()
    return results


def check_generator(generator, prefix, work):
    tag = generator.split()[0].lower()
    folder = os.path.join(work, f"build-{tag}")
    src = os.path.join(work, f"src-{tag}")
    shutil.copytree(EXAMPLE, src)
    run(["cmake", "-S", src, "-B", folder, "-G", generator,
         f"-DCMAKE_PREFIX_PATH={prefix}"])
    log = build(folder)
    if "Cleaving inventory-deployment" not in log:
        raise Failure(f"{generator}: the first build did not run cleave:\n{log}")
    deployment_dir = os.path.join(folder, "inventory-deployment")
    library = os.path.join(deployment_dir, "build", "libcleave_handlers.so")
    if not os.path.isfile(library):
        raise Failure(f"{generator}: no handler library at {library}")

    # A no-op build runs nothing.
    extra = ran_nothing(build(folder))
    if extra:
        raise Failure(f"{generator}: a no-op build ran:\n" + "\n".join(extra))

    # Touching a source cleaves again, but the generated units keep their
    # text and time: nothing of the handler library is compiled again.
    touched(os.path.join(src, "app", "main.cpp"))
    log = build(folder)
    if "Cleaving" not in log:
        raise Failure(f"{generator}: touching main.cpp did not cleave:\n{log}")
    if any(
        ("Building" in line or "Linking" in line) and "handlers" in line
        or "libcleave_handlers" in line
        for line in log.splitlines()
    ):
        raise Failure(f"{generator}: an unchanged generated unit was "
                      f"compiled again:\n{log}")

    # Touching the library's header (cleave read it: the depfile) cleaves
    # again and recompiles the units that include it.
    touched(os.path.join(src, "include", "inventory", "catalog.h"))
    log = build(folder)
    for wanted in ("Cleaving", "entries.cpp.o", "libcleave_handlers.so"):
        if wanted not in log:
            raise Failure(f"{generator}: touching catalog.h did not "
                          f"rebuild the deployment ({wanted}):\n{log}")
    extra = ran_nothing(build(folder))
    if extra:
        raise Failure(f"{generator}: a second no-op build ran:\n"
                      + "\n".join(extra))

    if generator != "Ninja":
        return 0  # What follows does not depend on the generator.

    # <name>-inspect shows the deployment.
    shown = run(["cmake", "--build", folder, "--target",
                 "inventory-deployment-inspect"])
    for entry in ("POST /add", "GET /item", "GET /items", "priced"):
        if entry not in shown:
            raise Failure(f"{generator}: inventory-deployment-inspect does "
                          f"not show {entry}:\n{shown}")

    # The user's install() puts the app and the deployment in its prefix.
    app_prefix = os.path.join(work, f"app-{tag}")
    run(["cmake", "--install", folder, "--prefix", app_prefix])
    installed = os.path.join(app_prefix, "lib", "cleave", "inventory-deployment")
    for f in ("manifest.yaml", os.path.join("build", "libcleave_handlers.so")):
        if not os.path.isfile(os.path.join(installed, f)):
            raise Failure(f"{generator}: install() did not install {f}")

    expected = monolith(os.path.join(app_prefix, "bin", "inventory"))
    actual = deployment(os.path.join(prefix, "bin", "cleave-run"), installed,
                        os.path.join(work, f"serve-{tag}"))
    for (command, *_), a, b in zip(SCENARIO, expected, actual):
        if a != b:
            raise Failure(f"{generator}: {command}: monolith {a}, "
                          f"deployment {b}")
    return len(SCENARIO)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True, help="Cleave's build folder")
    parser.add_argument("--work", required=True, help="a scratch folder")
    parser.add_argument("generators", nargs="+")
    opts = parser.parse_args()
    work = os.path.abspath(opts.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        staged = os.path.join(work, "staged")
        run(["cmake", "--install", opts.build, "--prefix", staged])
        prefix = os.path.join(work, "moved", "cleave")
        os.makedirs(os.path.dirname(prefix))
        os.rename(staged, prefix)
        for generator in opts.generators:
            calls = check_generator(generator, prefix, work)
            agree = f"{calls} calls agree, " if calls else ""
            print(f"cmake-app ({generator}): {agree}incremental builds as "
                  "expected")
    except Failure as e:
        print(f"cmake-app: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
