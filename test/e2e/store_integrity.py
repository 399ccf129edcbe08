#!/usr/bin/env python3
"""The SQLite state store's integrity under an operator's mistakes.

Builds examples/counter, serves it with cleave-run on an SQLite file and
checks, with real processes and real files:
  - permissions: the folder cleave-run makes is 0700, the database and its
    WAL and shared-memory files are 0600, and an existing file that others
    could read is made 0600;
  - deleted: the database deleted under the running server makes every
    request 503 (with Retry-After and the reason in the log) rather than
    acknowledge writes that the next start would not see;
  - replaced: another file moved into its place, the same;
  - damaged: a file with a page overwritten is refused at startup (exit 1,
    naming the file), unless --skip-integrity-check;
  - flipped: one digit of a stored value changed in the file (valid JSON,
    valid SQLite) is refused at startup naming the row; with
    --skip-integrity-check, a request that reads it gets 500, never the
    changed value, and the log names the damage;
  - wal: after 50 commits and kill -9, the WAL holds them: a copy of the
    files serves all 50; a copy with one frame in the middle of the WAL
    damaged is refused at startup (SQLite would drop every commit after
    it without a word; with --skip-integrity-check it serves fewer than
    50); a copy whose last frame is torn, as a crash leaves it, is served;
  - expired-keys: 1000 requests with distinct Idempotency-Keys under
    --idempotency-ttl 2 add their records and dedup ids to the file; a
    repeat within the lifetime is answered from them; past it, the rows in
    the file go back to what they were before the 1000 (an attacker's
    distinct keys cannot grow the store for ever), and the key runs again.

Prints "PASS <check>" per check and exits 1 if any failed. Standard
library only.
"""

import argparse
import http.client
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import difftest  # noqa: E402
from difftest import Failure, http_call  # noqa: E402


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def increment(base, by=1):
    return http_call(base, "POST", "/increment", {"by": by, "who": "ann"})


def serve(opts, out, work, db, extra=()):
    return difftest.Runtime(opts.cleave_run, out, work,
                            extra=("--state", "sqlite:" + db, *extra))


def check_permissions(opts, out, work):
    folder = os.path.join(work, "perm", "store")
    db = os.path.join(folder, "state.db")
    with serve(opts, out, work, db) as rt:
        base = rt.wait_for_address()
        status, data, _ = increment(base)
        if status != 200:
            raise AssertionError(f"increment: {status} {data!r}")
        if mode(folder) != 0o700:
            raise AssertionError(f"folder mode {oct(mode(folder))}, expected 0o700")
        for f in (db, db + "-wal", db + "-shm"):
            if os.path.exists(f) and mode(f) != 0o600:
                raise AssertionError(f"{f} mode {oct(mode(f))}, expected 0o600")
        if not os.path.exists(db + "-wal"):
            raise AssertionError("no WAL file to check")
        rt.stop()
    # A file others could read is made private at the next start.
    os.chmod(db, 0o644)
    with serve(opts, out, work, db) as rt:
        rt.wait_for_address()
        if mode(db) != 0o600:
            raise AssertionError(f"existing file left {oct(mode(db))}")
        rt.stop()


def check_gone(opts, out, work, name, make_gone):
    db = os.path.join(work, name, "state.db")
    os.makedirs(os.path.dirname(db), exist_ok=True)
    with serve(opts, out, work, db) as rt:
        base = rt.wait_for_address()
        for _ in range(3):
            status, data, _ = increment(base)
            if status != 200:
                raise AssertionError(f"before: {status} {data!r}")
        make_gone(db)
        for _ in range(2):
            status, data, headers = increment(base)
            if status != 503:
                raise AssertionError(f"after: status {status}, expected 503: {data!r}")
            if headers.get("Retry-After") is None:
                raise AssertionError("503 without Retry-After")
        status, data, _ = http_call(base, "GET", "/count",
                                    {"with_names": "false", "at_least": "0"})
        if status != 503:
            raise AssertionError(f"a read after: status {status}, expected 503")
        log = rt.log()
        if f"was {name}" not in log:
            raise AssertionError(f"the log does not say the file was {name}: {log}")
        rt.stop()


def delete(db):
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)


def replace(db):
    other = db + ".other"
    with open(other, "wb") as f:
        f.write(b"")
    os.replace(other, db)


def refused_at_startup(opts, out, db, words):
    """cleave-run on the file exits 1 with an error naming it and WORDS."""
    proc = subprocess.run([opts.cleave_run, out, "--port", "0", "--state", "sqlite:" + db],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 1:
        raise AssertionError(f"exit {proc.returncode}, expected 1: {proc.stderr}")
    if words not in proc.stderr or db not in proc.stderr:
        raise AssertionError(f"the error does not name the damage: {proc.stderr}")


def check_damaged(opts, out, work):
    db = os.path.join(work, "damaged", "state.db")
    os.makedirs(os.path.dirname(db), exist_ok=True)
    with serve(opts, out, work, db) as rt:
        base = rt.wait_for_address()
        # Enough state for several pages.
        for i in range(40):
            who = f"user{i:03d}-" + "x" * 400
            status, data, _ = http_call(base, "POST", "/increment",
                                        {"by": i + 1, "who": who})
            if status != 200:
                raise AssertionError(f"fill: {status} {data!r}")
        rt.stop()  # a clean stop checkpoints the WAL into the file
    for f in (db + "-wal", db + "-shm"):
        if os.path.exists(f) and os.path.getsize(f) > 0:
            raise AssertionError(f"{f} still holds data after a clean stop")
    with open(db, "r+b") as f:
        header = f.read(100)
        page_size = int.from_bytes(header[16:18], "big")
        if page_size == 1:
            page_size = 65536
        pages = int.from_bytes(header[28:32], "big")
        if pages < 4:
            raise AssertionError(f"database only {pages} pages")
        # The header of every page after the first (the schema's): what
        # kind of b-tree page it is, and where its cells are.
        for page in range(1, pages):
            f.seek(page * page_size)
            f.write(b"\xa5" * 12)
    refused_at_startup(opts, out, db, "is damaged")
    with serve(opts, out, work, db, extra=("--skip-integrity-check",)) as rt:
        rt.wait_for_address()
        rt.stop()


def check_flipped(opts, out, work):
    db = os.path.join(work, "flipped", "state.db")
    os.makedirs(os.path.dirname(db), exist_ok=True)
    with serve(opts, out, work, db) as rt:
        base = rt.wait_for_address()
        for who, by in (("flipme", 424242), ("bob", 5)):
            status, data, _ = http_call(base, "POST", "/increment", {"by": by, "who": who})
            if status != 200:
                raise AssertionError(f"increment: {status} {data!r}")
        rt.stop()  # a clean stop checkpoints the WAL into the file
    with open(db, "r+b") as f:
        image = f.read()
        at = image.find(b"424242")
        if at < 0 or image.find(b"424242", at + 1) >= 0:
            raise AssertionError("the value 424242 is not in the file exactly once")
        f.seek(at + 5)
        f.write(b"3")  # 424243: still a number, still a valid page
    refused_at_startup(opts, out, db, "checksum")
    with serve(opts, out, work, db, extra=("--skip-integrity-check",)) as rt:
        base = rt.wait_for_address()
        status, data, _ = http_call(base, "GET", "/mine", {"who": "flipme"})
        if status != 500:
            raise AssertionError(f"GET /mine of the changed value: {status} {data!r}")
        if "424243" in str(data):
            raise AssertionError(f"the changed value was served: {data!r}")
        if "does not match its checksum" not in rt.log():
            raise AssertionError(f"the log does not name the damage:\n{rt.log()}")
        rt.stop()


def mine(base, who):
    status, data, _ = http_call(base, "GET", "/mine", {"who": who})
    if status != 200:
        raise AssertionError(f"GET /mine: {status} {data!r}")
    return json.loads(data)


def check_wal(opts, out, work):
    folder = os.path.join(work, "wal")
    db = os.path.join(folder, "live", "state.db")
    os.makedirs(os.path.dirname(db), exist_ok=True)
    with serve(opts, out, folder, db) as rt:
        base = rt.wait_for_address()
        for _ in range(50):
            status, data, _ = http_call(base, "POST", "/increment", {"by": 1, "who": "w"})
            if status != 200:
                raise AssertionError(f"increment: {status} {data!r}")
        rt.proc.kill()  # no checkpoint: the commits are in the WAL only
        rt.proc.wait()
    with open(db + "-wal", "rb") as f:
        wal = f.read()
    page_size = int.from_bytes(wal[8:12], "big")
    frames = (len(wal) - 32) // (24 + page_size)
    if frames < 10:
        raise AssertionError(f"the WAL holds {frames} frames after 50 commits")

    def copy(name, wal_bytes):
        target = os.path.join(folder, name, "state.db")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(db, target)
        with open(target + "-wal", "wb") as f:
            f.write(wal_bytes)
        return target

    whole = copy("whole", wal)
    with serve(opts, out, folder, whole) as rt:
        got = mine(rt.wait_for_address(), "w")
        if got != 50:
            raise AssertionError(f"the whole WAL gave {got} commits, not 50")
        rt.stop()

    damaged = bytearray(wal)
    middle = 32 + (frames // 2) * (24 + page_size) + 24 + page_size // 2
    damaged[middle] ^= 0x40
    broken = copy("damaged", bytes(damaged))
    refused_at_startup(opts, out, broken, "WAL")
    with serve(opts, out, folder, broken, extra=("--skip-integrity-check",)) as rt:
        got = mine(rt.wait_for_address(), "w")
        if got >= 50:
            raise AssertionError(f"the damaged WAL still gave {got} commits: the check "
                                 "refused a file SQLite would have read whole")
        rt.stop()

    torn = copy("torn", wal[:len(wal) - page_size // 2])
    with serve(opts, out, folder, torn) as rt:
        got = mine(rt.wait_for_address(), "w")
        if not 40 <= got < 50:
            raise AssertionError(f"a torn last frame gave {got} commits")
        rt.stop()


def bookkeeping_rows(db):
    """Rows of the records and dedup-id tables (the queue is empty between
    requests), read beside the running server as any SQLite reader can."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return (con.execute("SELECT count(*) FROM meta").fetchone()[0] +
                con.execute("SELECT count(*) FROM message").fetchone()[0])
    finally:
        con.close()


def check_expired_keys(opts, out, work):
    folder = os.path.join(work, "expiry")
    os.makedirs(folder, exist_ok=True)
    db = os.path.join(folder, "state.db")
    with serve(opts, out, folder, db, extra=("--idempotency-ttl", "2")) as rt:
        base = rt.wait_for_address()
        status, data, _ = increment(base)
        if status != 200:
            raise AssertionError(f"increment: {status} {data!r}")
        before = bookkeeping_rows(db)
        url = urllib.parse.urlsplit(base)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        body = json.dumps({"by": 1, "who": "keys"})
        for i in range(1000):
            conn.request("POST", "/increment", body,
                         {"Content-Type": "application/json",
                          "Idempotency-Key": f"key-{i}"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise AssertionError(f"keyed increment {i}: {resp.status}")
        conn.close()
        grown = bookkeeping_rows(db) - before
        if grown < 1000:
            raise AssertionError(f"1000 keys added only {grown} rows: the check "
                                 "counts the wrong tables")
        again = lambda: http_call(base, "POST", "/increment",  # noqa: E731
                                  {"by": 1, "who": "keys"},
                                  headers={"Idempotency-Key": "key-999"})
        status, data, _ = again()
        if status != 200 or mine(base, "keys") != 1000:
            raise AssertionError(f"a repeat within the lifetime ran again: "
                                 f"{status} {data!r}, {mine(base, 'keys')}")
        deadline = time.monotonic() + 15
        left = grown
        while time.monotonic() < deadline:
            left = bookkeeping_rows(db) - before
            if left <= 0:
                break
            time.sleep(0.25)
        if left > 0:
            raise AssertionError(f"{left} of the {grown} rows the keys added are "
                                 "still there 15 s after their 2 s lifetime")
        status, data, _ = again()
        if status != 200 or mine(base, "keys") != 1001:
            raise AssertionError("an expired key did not run again: "
                                 f"{status} {data!r}, {mine(base, 'keys')}")
        rt.stop()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example",
                        default=os.path.join(here, "..", "..", "examples", "counter"))
    parser.add_argument("--work", required=True)
    parser.add_argument("--cleave")
    parser.add_argument("--cleave-run")
    opts = parser.parse_args()
    opts.work = os.path.abspath(opts.work)
    if os.path.exists(opts.work):
        shutil.rmtree(opts.work)
    os.makedirs(opts.work)
    out = os.path.join(opts.work, "out")
    failed = []
    try:
        difftest.cleave_build(opts, os.path.join(opts.example, "counter.cpp"), out)
        opts.cleave_run = difftest.find_tool(opts.cleave_run, "cleave-run")
        checks = [
            ("permissions", lambda: check_permissions(opts, out, opts.work)),
            ("deleted", lambda: check_gone(opts, out, opts.work, "deleted", delete)),
            ("replaced", lambda: check_gone(opts, out, opts.work, "replaced", replace)),
            ("damaged", lambda: check_damaged(opts, out, opts.work)),
            ("flipped", lambda: check_flipped(opts, out, opts.work)),
            ("wal", lambda: check_wal(opts, out, opts.work)),
            ("expired-keys", lambda: check_expired_keys(opts, out, opts.work)),
        ]
        for name, fn in checks:
            try:
                fn()
                print(f"PASS {name}")
            except (AssertionError, OSError, Failure, subprocess.SubprocessError) as e:
                failed.append(name)
                print(f"FAIL {name}: {e}")
    except Failure as e:
        print(f"FAIL store_integrity: {e}")
        return 1
    if failed:
        print(f"store_integrity: {len(failed)} checks failed: {' '.join(failed)}")
        return 1
    print(f"store_integrity: all {len(checks)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
