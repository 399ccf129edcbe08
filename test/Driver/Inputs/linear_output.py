"""Checks that cleave build's output grows linearly with the number of
boundary calls in one statement.

Writes programs whose entry returns the sum of N calls of a function of
another profile (a boundary each), for a small and a four times larger N,
runs `cleave build --no-build` on both and compares the sizes of the
generated sources and manifests: linear growth gives a ratio near 4, a
quadratic one near 16. Usage: linear_output.py WORK [N]
"""
import os
import subprocess
import sys


def program(n):
    terms = " + ".join(
        ("f(a + %d)" if i % 3 else "(long)g(a - %d).size()") % i for i in range(n))
    return ("#include <cleave/cleave.h>\n#include <string>\n"
            "CLEAVE_FUNCTION(\"memory=512\") long f(long x) { return x + 1; }\n"
            "CLEAVE_FUNCTION(\"memory=512\") std::string g(long x) "
            "{ return std::string(x %% 7 + 1, 'x'); }\n"
            "CLEAVE_ENTRY(\"GET /t\") long t(long a) {\n  return %s;\n}\n" % terms)


def size_of(work, n):
    src = os.path.join(work, "p%d.cpp" % n)
    out = os.path.join(work, "out%d" % n)
    with open(src, "w") as f:
        f.write(program(n))
    subprocess.run(["cleave", "build", "--no-build", "-q", "-o", out, src, "--",
                    "-std=c++17"], check=True)
    total = os.path.getsize(os.path.join(out, "manifest.yaml"))
    for name in os.listdir(os.path.join(out, "src")):
        if name.endswith(".cpp"):
            total += os.path.getsize(os.path.join(out, "src", name))
    return total


def main():
    work = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    os.makedirs(work, exist_ok=True)
    small, large = size_of(work, n), size_of(work, 4 * n)
    ratio = large / small
    print("output: %d bytes for %d calls, %d bytes for %d calls: ratio %.2f"
          % (small, n, large, 4 * n, ratio))
    if ratio > 6:
        print("FAIL: the output grows faster than the number of calls")
        return 1
    print("linear")
    return 0


if __name__ == "__main__":
    sys.exit(main())
