#!/usr/bin/env python3
"""Bearer-token authentication of cleave-run, with real processes.

Builds test/e2e/Inputs/guarded.cpp with `cleave build` (POST /add with no
auth option, GET /health with auth=none, GET /total with auth=token) and
serves it with `cleave-run`, once per check:

  manifest           the manifest says `auth: none` on health and
                     `auth: token` on read_total, and has no auth key on add;
  needs-tokens       without --auth-token-file cleave-run exits 1 before
                     serving, naming the auth=token entry and the option;
  bearer             with a token file (a named token and a bare one): no
                     Authorization is 401 with `Bearer realm="cleave"` and a
                     JSON error, a wrong token 401 with error="invalid_token",
                     a Basic header or two Authorization headers 400; both
                     tokens (the scheme in any case) are served; the
                     auth=none entry answers anyone; no refused call changed
                     the state;
  idempotency-scope  the same Idempotency-Key from two callers runs once for
                     each, and each caller's retry gets its own first answer
                     without running again;
  token-file         a token file others may read gives a warning naming
                     chmod 600 and the server starts; a short token is
                     refused as FILE:LINE, a file without tokens as listing
                     none, both with exit 1;
  public-bind        on 0.0.0.0 with an entry open and no token file, a
                     warning (and the server starts); with a token file, or
                     on loopback, none.

How long a token comparison takes is not measured.

Prints "PASS <check>: <figures>" or "FAIL <check>: <why>" per check, then a
summary; exits 1 if any check failed. Python standard library only.
"""

import contextlib
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import difftest  # noqa: E402  (process plumbing)
from connections import (  # noqa: E402  (the raw HTTP client and plumbing)
    error_body,
    expect,
    fresh_call,
    get,
    log_tail,
    post,
    run_suite,
)

# A token for the caller "alice", and one without a caller name.
ALICE = "alice-0123456789abcdef0123"
BARE = "Bare.token_0123456789+/=~"
WRONG = "wrong-0123456789abcdef0123"
TOKENS = f"# callers of the test deployment\nalice {ALICE}\n\n  {BARE}  \n"

CHALLENGE = 'Bearer realm="cleave"'

# What cleave-run prints about a public bind without tokens.
PUBLIC_WARNING = "without authentication"


def bearer(token):
    return [("Authorization", f"Bearer {token}")]


def token_file(ctx, name, text, mode=0o600):
    """WORK/name holding text, with the given mode; returns its path."""
    path = os.path.join(ctx.opts.work, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


@contextlib.contextmanager
def serve(ctx, name, *extra, out=None):
    """cleave-run on out (the built deployment unless given) with an
    in-memory store, its log in WORK/name; yields (Runtime, port)."""
    work = os.path.join(ctx.opts.work, name)
    os.makedirs(work, exist_ok=True)
    rt = difftest.Runtime(
        ctx.cleave_run, out or ctx.out, work, ["--state", "memory", *extra]
    )
    ctx.live.append(rt)
    with rt:
        base = rt.wait_for_address()
        yield rt, int(base.rsplit(":", 1)[1])


def refused_start(ctx, *extra):
    """Runs cleave-run, which must exit 1 without serving; returns its
    stderr."""
    cmd = [ctx.cleave_run, ctx.out, "--port", "0", "--state", "memory", *extra]
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"cleave-run did not exit within 15 s: {' '.join(cmd)}")
    if proc.returncode != 1 or proc.stdout:
        raise AssertionError(
            f"expected exit 1 without serving, got exit {proc.returncode}: "
            f"{' '.join(cmd)}\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
        )
    return proc.stderr


def stderr_of(rt):
    rt.stderr.flush()
    with open(rt.stderr_path, errors="replace") as f:
        return f.read()


def call(port, data, want, what):
    """One request on a connection of its own; the answer must have status
    want (and a JSON "error" body if it is an error)."""
    r, _ = fresh_call(port, data, timeout=5)
    expect(f"status for {what}", r.status, want)
    if want >= 400:
        error_body(r)
    return r


def total(port):
    """The total, read with alice's token."""
    return call(port, get("/total", headers=bearer(ALICE)), 200, "GET /total").json()


def manifest_functions(path):
    """{function name: {key: value}} for the top-level keys of each entry
    under `functions:` in the manifest cleave writes (block style, two
    spaces an indent level)."""
    functions, current, inside = {}, None, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith(" "):
                inside = line == "functions:"
                continue
            if not inside:
                continue
            m = re.fullmatch(r"  - name: (\S+)", line)
            if m:
                current = functions.setdefault(m.group(1), {})
                continue
            m = re.fullmatch(r"    ([A-Za-z_]+):(?: (.*))?", line)
            if m and current is not None:
                current[m.group(1)] = m.group(2)
    return functions


# --- Checks ------------------------------------------------------------------


def manifest(ctx):
    path = os.path.join(ctx.out, "manifest.yaml")
    functions = manifest_functions(path)
    expect("functions in the manifest", sorted(functions), ["add", "health", "read_total"])
    for name, want in [("add", None), ("health", "none"), ("read_total", "token")]:
        expect(f"auth of {name} in {path}", functions[name].get("auth"), want)
    # The reader saw the entry's other keys, so a missing auth is not a
    # parsing accident.
    expect("kind of add", functions["add"].get("kind"), "entry")
    return "health auth: none, read_total auth: token, add without auth"


def needs_tokens(ctx):
    text = refused_start(ctx)
    for want in ["'read_total'", "auth=token", "--auth-token-file"]:
        if want not in text:
            raise AssertionError(f"the refusal does not mention {want}: {text!r}")
    return "exit 1: " + text.strip().splitlines()[-1]


def bearer_auth(ctx):
    tokens = token_file(ctx, "tokens", TOKENS)
    with serve(ctx, "bearer", "--auth-token-file", tokens) as (rt, port):
        if "warning" in stderr_of(rt):
            raise AssertionError(f"a warning for a 0600 token file on loopback\n{log_tail(rt)}")
        before = total(port)
        refused = post("/add", {"by": 100})

        # No credentials: 401 with the bare challenge, on both guarded kinds.
        for data, what in [(refused, "POST /add"), (get("/total"), "GET /total")]:
            r = call(port, data, 401, f"{what} without Authorization")
            expect(
                f"WWW-Authenticate of {what} without a token",
                r.header("WWW-Authenticate"),
                CHALLENGE,
            )

        # A well-formed but unknown token.
        r = call(port, post("/add", {"by": 100}, bearer(WRONG)), 401, "a wrong token")
        challenge = r.header("WWW-Authenticate") or ""
        if not challenge.startswith(CHALLENGE) or 'error="invalid_token"' not in challenge:
            raise AssertionError(f"WWW-Authenticate for a wrong token: {challenge!r}")
        # A token that is a prefix of a right one is as wrong.
        call(port, post("/add", {"by": 100}, bearer(ALICE[:-1])), 401, "a prefix of a token")

        # Malformed credentials: 400.
        malformed = [
            ([("Authorization", "Basic YWxpY2U6c2VjcmV0")], "a Basic header"),
            (bearer(ALICE) + bearer(ALICE), "two Authorization headers"),
            (bearer(ALICE) + bearer(WRONG), "a right and a wrong Authorization header"),
            ([("Authorization", "Bearer")], "a Bearer header without a token"),
        ]
        for headers, what in malformed:
            r = call(port, post("/add", {"by": 100}, headers), 400, what)
            challenge = r.header("WWW-Authenticate") or ""
            if 'error="invalid_request"' not in challenge:
                raise AssertionError(f"WWW-Authenticate for {what}: {challenge!r}")

        expect("the total after refused calls", total(port), before)

        # The right tokens, the scheme in any case.
        r = call(port, post("/add", {"by": 1}, bearer(ALICE)), 200, "alice's token")
        expect("POST /add with alice's token", r.json(), before + 1)
        lower = [("Authorization", f"bearer {BARE}")]
        r = call(port, post("/add", {"by": 2}, lower), 200, "the bare token")
        expect("POST /add with the bare token", r.json(), before + 3)
        r = call(port, get("/total", headers=bearer(BARE)), 200, "GET /total with the bare token")
        expect("GET /total with the bare token", r.json(), before + 3)

        # auth=none answers anyone, whatever Authorization says.
        for headers, what in [([], "no token"), (bearer(WRONG), "a wrong token")]:
            r = call(port, get("/health", headers=headers), 200, f"GET /health with {what}")
            expect(f"GET /health with {what}", r.json(), "ok")

        expect("the total at the end", total(port), before + 3)
        return (
            f"{2 + 2 + len(malformed)} calls refused (401/400) and none ran; "
            f"2 tokens served; /health open"
        )


def idempotency_scope(ctx):
    tokens = token_file(ctx, "tokens", TOKENS)
    with serve(ctx, "idempotency-scope", "--auth-token-file", tokens) as (rt, port):
        before = total(port)
        key = [("Idempotency-Key", "same-key-1")]

        def add(token, what):
            r = call(port, post("/add", {"by": 10}, bearer(token) + key), 200, what)
            return r.json()

        first_alice = add(ALICE, "alice's first call")
        first_bare = add(BARE, "the bare caller's first call with alice's key")
        expect("alice's first answer", first_alice, before + 10)
        expect("the bare caller's first answer (it ran too)", first_bare, before + 20)
        expect("alice's retry", add(ALICE, "alice's retry"), first_alice)
        expect("the bare caller's retry", add(BARE, "the bare caller's retry"), first_bare)
        expect("the total (two runs, no rerun)", total(port), before + 20)
        return (
            f"one run per caller ({first_alice}, {first_bare}); "
            f"each retry got its caller's first answer"
        )


def token_file_checks(ctx):
    open_file = token_file(ctx, "tokens-0644", TOKENS, 0o644)
    with serve(ctx, "token-file", "--auth-token-file", open_file) as (rt, port):
        text = stderr_of(rt)
        if "warning" not in text or "chmod 600" not in text or open_file not in text:
            raise AssertionError(
                f"no warning naming {open_file} and chmod 600 for mode 0644\n{text}"
            )
        call(port, get("/total", headers=bearer(ALICE)), 200, "a token from a 0644 file")
        call(port, get("/total"), 401, "no token with a 0644 file")

    short = token_file(ctx, "tokens-short", f"alice {ALICE}\nbob 0123456789abcde\n")
    text = refused_start(ctx, "--auth-token-file", short)
    if f"{short}:2:" not in text or "15 characters" not in text:
        raise AssertionError(
            f"the refusal of a 15-character token does not say {short}:2 and 15: {text!r}"
        )

    empty = token_file(ctx, "tokens-empty", "# no callers yet\n\n   \n")
    text = refused_start(ctx, "--auth-token-file", empty)
    if empty not in text or "lists no token" not in text:
        raise AssertionError(f"the refusal of a file without tokens: {text!r}")
    return "0644 warned and served; short token refused at :2; empty file refused"


def public_bind(ctx):
    # The program's auth=token entry stops cleave-run without tokens, so for
    # an open deployment the same one is served with that option taken out
    # of its manifest (the manifest beside the original, for the artifact's
    # relative path).
    with open(os.path.join(ctx.out, "manifest.yaml"), encoding="utf-8") as f:
        lines = f.readlines()
    kept = [l for l in lines if l.strip() != "auth: token"]
    expect("lines dropped from the manifest", len(lines) - len(kept), 1)
    open_manifest = os.path.join(ctx.out, "open-manifest.yaml")
    with open(open_manifest, "w", encoding="utf-8") as f:
        f.writelines(kept)

    with serve(ctx, "public-open", "--host", "0.0.0.0", out=open_manifest) as (rt, port):
        text = stderr_of(rt)
        if PUBLIC_WARNING not in text or "--auth-token-file" not in text:
            raise AssertionError(f"no warning for 0.0.0.0 without tokens\n{text}")
        r = call(port, get("/total"), 200, "GET /total on the open deployment")
        expect("GET /total on the open deployment", r.json(), 0)

    with serve(ctx, "public-loopback", "--host", "127.0.0.1", out=open_manifest) as (rt, port):
        text = stderr_of(rt)
        if "warning" in text:
            raise AssertionError(f"a warning on loopback without tokens\n{text}")

    tokens = token_file(ctx, "tokens", TOKENS)
    with serve(
        ctx, "public-tokens", "--host", "0.0.0.0", "--auth-token-file", tokens
    ) as (rt, port):
        call(port, get("/total"), 401, "GET /total on 0.0.0.0 without a token")
        text = stderr_of(rt)
        if "warning" in text:
            raise AssertionError(f"a warning on 0.0.0.0 with a token file\n{text}")
    return "warned on 0.0.0.0 without tokens; silent on loopback and with tokens"


CHECKS = [
    ("manifest", manifest, 5),
    ("needs-tokens", needs_tokens, 20),
    ("bearer", bearer_auth, 20),
    ("idempotency-scope", idempotency_scope, 20),
    ("token-file", token_file_checks, 20),
    ("public-bind", public_bind, 20),
]


if __name__ == "__main__":
    sys.exit(run_suite("auth", __doc__, CHECKS))
