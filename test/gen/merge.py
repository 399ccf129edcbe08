#!/usr/bin/env python3
"""Merges reduced generated programs into one program (docs/testing.md).

Each input is a program of cleavegen.py units (`// unit N begin` ... `end`),
reduced by reduce.py and kept as a test. Unit numbers repeat between them,
so each input's units are renumbered (input i's unit N becomes unit
100 * (i + 1) + N, with its names and routes) and the bodies are joined
after one prelude: one cleave build and one library build check them all.

Python standard library only.
"""

import argparse
import os
import re
import sys

PRELUDE = '#include "cleavegen.h"'


def renumber(body, base):
    body = re.sub(r"\bu(\d+)_", lambda m: "u%d_" % (base + int(m.group(1))), body)
    body = re.sub(r"// unit (\d+)", lambda m: "// unit %d" % (base + int(m.group(1))), body)
    body = re.sub(r'/f(\d+)"', lambda m: '/f%d"' % (base + int(m.group(1))), body)
    return re.sub(r"\bf(\d+)\(", lambda m: "f%d(" % (base + int(m.group(1))), body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("programs", nargs="+")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    out = ["// Merged by test/gen/merge.py from " +
           ", ".join(os.path.basename(p) for p in args.programs) + ".",
           "#include <cleave/cleave.h>", "", PRELUDE, ""]
    for i, path in enumerate(sorted(args.programs)):
        text = open(path).read()
        if PRELUDE not in text:
            sys.exit("merge: %s: no '%s' line" % (path, PRELUDE))
        body = text[text.index(PRELUDE) + len(PRELUDE):]
        out.append("// From " + os.path.basename(path) + ":")
        out.append(renumber(body, 100 * (i + 1)))
    with open(args.output, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
