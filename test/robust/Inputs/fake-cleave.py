#!/usr/bin/env python3
"""A stand-in for `cleave build` that breaks the contract on request, for
checker.test: the source's `// FAKE: WHAT` line says what it does."""
import os
import re
import signal
import sys
import time

INCLUDE = os.environ["FAKE_CLEAVE_INCLUDE"]  # the runtime's headers

if sys.argv[1:2] != ["build"]:
    sys.exit(0)  # --help
args = sys.argv[2:]
out = args[args.index("-o") + 1]
source = args[args.index("--") - 1]
with open(source) as f:
    what = re.search(r"// FAKE: (.*)", f.read()).group(1).strip()

if what == "crash":
    os.kill(os.getpid(), signal.SIGSEGV)
if what == "hang":
    time.sleep(600)
if what == "unlocated":
    print("cleave: error: cannot write the deployment", file=sys.stderr)
    sys.exit(1)
if what == "refused":
    print("%s:3:5: error: refused on purpose" % source, file=sys.stderr)
    sys.exit(1)
if what.startswith("exit "):
    sys.exit(int(what.split()[1]))
os.makedirs(os.path.join(out, "src"), exist_ok=True)
with open(os.path.join(out, "manifest.yaml"), "w") as f:
    f.write("apiVersion: cleave/v2\n")
with open(os.path.join(out, "CMakeLists.txt"), "w") as f:
    f.write('target_compile_definitions(cleave_handlers PRIVATE CLEAVE_HANDLER_LIBRARY)\n'
            'target_include_directories(cleave_handlers PRIVATE "%s")\n'
            'set_source_files_properties(src/unit.cpp PROPERTIES COMPILE_OPTIONS\n'
            '  "-std=c++17;-DFAKE_VALUE=2")\n' % INCLUDE)
body = {"built": "static_assert(FAKE_VALUE == 2);\n",
        "bad-output": "int broken = FAKE_VALUE +;\n",
        "twice-defined": "int cleave_handler_x(int) { return 0; }\n"}[what]
with open(os.path.join(out, "src", "unit.cpp"), "w") as f:
    f.write(body)
if what == "twice-defined":  # a second unit that defines the same symbol
    with open(os.path.join(out, "src", "unit2.cpp"), "w") as f:
        f.write(body)
