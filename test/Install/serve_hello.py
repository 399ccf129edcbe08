"""Serves examples/hello's deployment with the given cleave-run and prints
one call's answer: serve_hello.py CLEAVE_RUN DEPLOYMENT WORK"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from difftest import Runtime, http_call  # noqa: E402

cleave_run, deployment, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
with Runtime(cleave_run, deployment, work, extra=["--state=memory"]) as rt:
    status, data, _ = http_call(rt.wait_for_address(), "GET", "/hello", {"name": "deb"})
    print(f"GET /hello?name=deb: {status} {data.decode() if isinstance(data, bytes) else data}")
    rt.stop()
