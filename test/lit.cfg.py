# -*- Python -*- Policy for the Cleave lit suite.
import os
import shutil

import lit.formats

config.name = "Cleave"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".cpp", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.cleave_obj_root, "test")

# cleave and cleave-run first, then FileCheck, not and count from LLVM.
config.environment["PATH"] = os.path.pathsep.join(
    [config.cleave_tools_dir, config.llvm_tools_dir, config.environment["PATH"]]
)
# The end-to-end tests build handler libraries with CMake, which wants these.
for var in ["HOME", "TMPDIR", "CXX", "CC"]:
    if var in os.environ:
        config.environment[var] = os.environ[var]

# Tests that serve the same example share its build (test/e2e/difftest.py,
# BuildCache); the cache lives beside the tests' outputs.
config.environment["CLEAVE_TEST_BUILD_CACHE"] = os.path.join(
    config.test_exec_root, "deployment-cache"
)

config.substitutions.append(("%cleave_include", config.cleave_runtime_include))
config.substitutions.append(("%cleave_obj_root", config.cleave_obj_root))
# What a handler library links besides generated code (JSON parsing and
# printing), for tests that link generated code themselves.
config.substitutions.append(("%cleave_support", config.cleave_support_library))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(
    ("%examples", os.path.join(config.cleave_src_root, "examples"))
)
config.substitutions.append(
    ("%e2e", os.path.join(config.cleave_src_root, "test", "e2e", "Inputs"))
)
config.substitutions.append(
    (
        "%manifest_schema",
        os.path.join(
            config.cleave_src_root, "runtime", "schema", "manifest.schema.json"
        ),
    )
)

# Graphviz, to check that `cleave inspect --format=dot` draws (graphviz in
# scripts/install-deps.sh).
if shutil.which("dot"):
    config.available_features.add("dot")
