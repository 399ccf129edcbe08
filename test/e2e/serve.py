#!/usr/bin/env python3
"""Serves a compiled deployment and sends it a list of requests.

  serve.py --work DIR OUT 'METHOD /path {json args}' ...

Starts `cleave-run OUT --port 0`, sends each call in order (GET and DELETE
arguments go in the query string, others in a JSON body), prints one line
per response, "STATUS BODY", then stops the runtime with SIGTERM and
requires exit code 0. For lit tests that FileCheck a conversation with a
deployment. Python standard library only.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from difftest import Failure, Runtime, find_tool, http_call  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True, help="scratch directory")
    ap.add_argument("--cleave-run", default=None)
    ap.add_argument("out", help="the deployment (cleave build -o OUT)")
    ap.add_argument("calls", nargs="*", help="'METHOD /path {json args}'")
    opts = ap.parse_args()
    os.makedirs(opts.work, exist_ok=True)
    try:
        with Runtime(find_tool(opts.cleave_run, "cleave-run"), opts.out, opts.work) as rt:
            base = rt.wait_for_address()
            for call in opts.calls:
                parts = call.split(" ", 2)
                method, path = parts[0], parts[1]
                args = json.loads(parts[2]) if len(parts) > 2 else {}
                status, data, _ = http_call(base, method, path, args=args)
                print(status, data.decode("utf-8", "replace"), flush=True)
            rt.stop()
    except Failure as e:
        print(f"serve: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
