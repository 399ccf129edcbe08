#!/usr/bin/env python3
"""exit-code.py STATUS COMMAND...: runs COMMAND, passes its output on, and
exits 0 exactly when COMMAND exited with STATUS (lit's `not` only tells
zero from non-zero)."""
import subprocess
import sys

want = int(sys.argv[1])
got = subprocess.run(sys.argv[2:]).returncode
if got != want:
    print(f"exit-code.py: {sys.argv[2]} exited with {got}, not {want}",
          file=sys.stderr)
sys.exit(0 if got == want else 1)
