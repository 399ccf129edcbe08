#!/usr/bin/env python3
"""Bad requests against a deployment, byte by byte (DESIGN.md, section 1).

Compiles examples/shop with `cleave build`, serves it once with `cleave-run`
(small limits, short timeouts) and sends a few hundred requests as raw bytes,
each on a connection of its own: broken request lines, header fields,
framing (Content-Length, Transfer-Encoding, chunks), Expect, bodies that are
too large or not the JSON an entry takes, targets that route nowhere or do
not decode, bad Idempotency-Keys, and pipelined sequences. Each case names
the status it must get, whether the connection must close after it (framing
errors, 408, 413 before the body, 414, 417, 431) or stay open (errors the
application gives: the next request on it is answered), and every error
answer must be a JSON object with an "error" string. After each case a
valid request (GET /stock?item=apple) must still be answered with the same
apple stock: no refused request may change state.

Cases listed in KNOWN_BUGS are expected to fail (the server misbehaves on
them; the comment says how); they print as XFAIL and do not fail the suite,
but one that passes prints XPASS and does, so the list stays true.

Prints "PASS <case>", "XFAIL <case>: ..." and "FAIL <case>: ..." lines in
case order, then a summary; exits 1 if any case failed. Python standard
library only.
"""

import argparse
import concurrent.futures
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import difftest  # noqa: E402  (shares the build and process plumbing)
from difftest import Failure  # noqa: E402

# The limits cleave-run is started with, small so that the edges are cheap
# to reach. The header and request line limits are cleave-run's defaults.
MAX_BODY = 65536
MAX_TARGET = 8192
MAX_HEADER = 16384
HEADER_TIMEOUT_MS = 2000
BODY_TIMEOUT_MS = 2000
IDLE_TIMEOUT_MS = 3000
RUN_OPTIONS = [
    "--state", "memory",
    "--max-body", str(MAX_BODY),
    "--header-timeout", str(HEADER_TIMEOUT_MS),
    "--body-timeout", str(BODY_TIMEOUT_MS),
    "--idle-timeout", str(IDLE_TIMEOUT_MS),
]

# Seconds a client waits for any one answer; above every server timeout.
IO_TIMEOUT = 6
# Seconds a closing server has to close after its answer; below the idle
# timeout, which would close a connection left open.
CLOSE_TIMEOUT = 1.5
# The suite is meant to cover this much; fewer cases is a broken generator.
MIN_CASES = 300

# Known misbehaviours of the server: the cases named here fail today. Each
# entry says what the case expects and what the server does instead.
KNOWN_BUGS = {
}

CRLF = b"\r\n"
HOST = b"Host: shop.test"
APPLE = object()  # stands for the apple stock in an expected body


class Pause:
    """A step of a case: wait before the next write."""

    def __init__(self, seconds):
        self.seconds = seconds


class AwaitContinue:
    """A step of a case: read a "100 Continue" before the next write."""


class Case:
    """One request (or pipelined sequence) and what must come back.

    steps: bytes to write, one write each, with Pause / AwaitContinue.
    status: the status of each answer in order (an int, or a tuple of
      acceptable ints); an empty list means no answer at all: the server
      must close the connection without one.
    close: True if the connection must close after the last answer, False
      if it must stay open (checked by a follow-up request), None if either.
    shut: half-close the connection after the last write.
    interim: how many "100 Continue" answers come with the final ones,
      besides those AwaitContinue reads.
    bodies: the exact body of each answer (None: not checked; APPLE: the
      apple stock).
    allow: the methods the Allow header of a 405 must list.
    slow: waits for a server timeout; run beside the others.
    head: the answers are to HEAD, without a body.
    """

    def __init__(self, name, steps, status, close, shut=False, interim=0,
                 bodies=None, allow=None, slow=False, head=False):
        self.name = name
        self.steps = [steps] if isinstance(steps, bytes) else list(steps)
        self.status = status if isinstance(status, list) else [status]
        self.close = close
        self.shut = shut
        self.interim = interim
        self.bodies = bodies
        self.allow = allow
        self.slow = slow
        self.head = head


# --- Request builders ----------------------------------------------------------


def message(line, headers=(HOST,), body=b""):
    return line + CRLF + b"".join(h + CRLF for h in headers) + CRLF + body


def get(target, extra=(), version=b"HTTP/1.1", method=b"GET"):
    return message(method + b" " + target + b" " + version, (HOST, *extra))


def post(target, body, extra=(), method=b"POST"):
    headers = [HOST, *extra, b"Content-Length: %d" % len(body)]
    return message(method + b" " + target + b" HTTP/1.1", headers, body)


def chunks(body, size=None, ext=b"", trailer=b""):
    """body in chunks of size bytes (one chunk when None), then the last
    chunk and trailer fields."""
    size = size or max(len(body), 1)
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x" % len(part) + ext + CRLF + part + CRLF
    return out + b"0" + CRLF + trailer + CRLF


def post_chunked(target, encoded):
    headers = [HOST, b"Transfer-Encoding: chunked"]
    return message(b"POST " + target + b" HTTP/1.1", headers, encoded)


EMPTY_BATCH = b'{"orders": []}'  # valid, and changes nothing


def order_body(qty=b"1", item=b'"apple"', customer=b'"ann"'):
    """An order of apples as JSON text, members given as raw text."""
    return (b'{"o": {"item": ' + item + b', "qty": ' + qty +
            b', "customer": ' + customer + b"}}")


def json_body(value):
    return json.dumps(value).encode()


def apple_order(**changes):
    """An order of one apple, members changed (Ellipsis drops one)."""
    o = {"item": "apple", "qty": 1, "customer": "ann"}
    o.update(changes)
    return {"o": {k: v for k, v in o.items() if v is not Ellipsis}}


def slug(data, limit=40):
    """A readable name part for bytes: ASCII letters, digits and "-_." as
    they are, other bytes percent-encoded, long ones cut."""
    text = ""
    for b in data:
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-_."):
            text += c
        else:
            text += "%%%02X" % b
    if len(text) > limit:
        text = text[:limit] + "..%dB" % len(data)
    return text or "empty"


# --- The cases -----------------------------------------------------------------


def request_line_cases():
    cases = []
    stock = b"/stock?item=apple"
    # Methods are case-sensitive tokens: an unknown one routes to 405 (the
    # path exists) or 404, and the connection stays open.
    for m in [b"get", b"Get", b"gET", b"FOO", b"PURGE", b"BREW", b"G-ET",
              b"GET!", b"GET2", b"CONNECT", b"TRACE", b"OPTIONS", b"PRI"]:
        cases.append(Case("method/unknown-" + slug(m),
                          get(stock, method=m), 405, False, allow=["GET"]))
    for m in [b"get", b"FOO"]:
        cases.append(Case("method/unknown-on-unknown-path-" + slug(m),
                          get(b"/nope", method=m), 404, False))
    # Not a token: the request line is malformed; 400 and close.
    for m in [b"G\x00ET", b"G\x01ET", b"GE\x7fT", b"\x1bGET", b"GE(T",
              b"GE/T", b"GE@T", b'G"ET', b"G{T", b"GE:T", b"GE,T",
              b"G\xc3\x89T", b"G\xffT", b"GE\tT"]:
        cases.append(Case("method/not-a-token-" + slug(m),
                          get(stock, method=m), 400, True))
    cases.append(Case("method/empty", message(b" /stock HTTP/1.1"), 400, True))
    cases.append(Case("method/leading-space",
                      message(b" GET /stock HTTP/1.1"), 400, True))
    cases.append(Case("method/tab-separator",
                      message(b"GET\t/stock HTTP/1.1"), 400, True))
    cases.append(Case("method/two-spaces",
                      message(b"GET  /stock HTTP/1.1"), 400, True))
    cases.append(Case("request-line/leading-crlf",
                      CRLF + get(stock), 200, False, bodies=[APPLE]))
    cases.append(Case("request-line/leading-garbage",
                      b"\x16\x03\x01\x02\x00\x01\x00" + get(stock), 400, True))

    # Targets the parser takes but that are not origin-form: 400 from the
    # application, connection open.
    for t in [b"stock?item=apple", b"*", b"?item=apple", b".", b"..",
              b"stock", b"ftp://shop.test/stock", b"http:/stock",
              b"http://shop.test?item=apple", b"mailto:a@b", b"%2Fstock",
              b"\\stock"]:
        cases.append(Case("target/not-origin-form-" + slug(t),
                          get(t), 400, False))
    # asterisk-form is OPTIONS's only: it names no route (404).
    cases.append(Case("target/options-asterisk", get(b"*", method=b"OPTIONS"),
                      404, False))
    # absolute-form must be accepted and routed by its path.
    for t in [b"http://shop.test/stock?item=apple",
              b"HTTP://SHOP.TEST/stock?item=apple",
              b"https://shop.test:443/stock?item=apple",
              b"http://user@shop.test/stock?item=apple",
              b"http://other.example/stock?item=apple"]:
        cases.append(Case("target/absolute-form-" + slug(t), get(t), 200,
                          False, bodies=[APPLE]))
    cases.append(Case("target/absolute-form-no-path",
                      get(b"http://shop.test"), 404, False))
    cases.append(Case("target/absolute-form-unknown-path",
                      get(b"http://shop.test/nope"), 404, False))
    cases.append(Case("target/absolute-form-wrong-method",
                      get(b"http://shop.test/orders"), 405, False,
                      allow=["POST"]))
    cases.append(Case("target/absolute-form-without-host",
                      message(b"GET http://shop.test/stock?item=apple HTTP/1.1",
                              ()), 400, True))
    # Spaces and control bytes end or break the request line: 400, close.
    for t in [b"/st ock", b"/stock?item=app le", b"/stock\x00",
              b"/stock\x01", b"/stock\x1f", b"/stock\x7f", b"/stock\t",
              b"/stock?item=\x00", b"/st\rock", b"/st\nock"]:
        cases.append(Case("target/control-or-space-" + slug(t), get(t), 400,
                          True))
    cases.append(Case("target/empty", message(b"GET  HTTP/1.1"), 400, True))

    # Versions.
    # Well-formed versions other than 1.0 and 1.1 (a minor version of 1
    # above 1 included): 505. Anything else in that place: 400.
    for v in [b"HTTP/2.0", b"HTTP/3.0", b"HTTP/9.9", b"HTTP/1.2", b"HTTP/0.9"]:
        cases.append(Case("version/" + v.decode().replace("/", "-"),
                          get(stock, version=v), 505, True))
    for v in [b"HTTP/1.10", b"HTTP/1", b"HTTP/11",
              b"http/1.1", b"HTTP/1.1 ", b"HTTP/1.x", b"HTTP/", b"HTTPS/1.1",
              b"HTTP/a.b", b"HTTP\\1.1", b"HTTP/1,1", b"HTTP/1.1.1", b"HTTP",
              b"XTTP/1.1", b"HTTP/+1.1", b"HTTP/ 1.1", b"HTTP/1.1\x00",
              b"HTTP/\xd9\xa1.1"]:
        cases.append(Case("version/bad-" + slug(v), get(stock, version=v),
                          400, True))
    cases.append(Case("version/h2-prior-knowledge-preface",
                      b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, True))
    cases.append(Case("version/missing",
                      message(b"GET /stock?item=apple"), 400, True))
    cases.append(Case("version/http10-without-host",
                      message(b"GET /stock?item=apple HTTP/1.0", ()), 200,
                      True, bodies=[APPLE]))
    cases.append(Case("version/http10-keep-alive-404",
                      message(b"GET /nope HTTP/1.0", [b"Connection: keep-alive"]),
                      404, False))

    # Request line length: the target limit, at its edge, and past it.
    edge = b"/" + b"a" * (MAX_TARGET - 1)
    cases.append(Case("request-line/target-at-limit", get(edge), 404, False))
    cases.append(Case("request-line/target-over-limit", get(edge + b"a"),
                      414, True))
    cases.append(Case("request-line/target-20000",
                      get(b"/stock?item=" + b"a" * 20000), 414, True))
    cases.append(Case("request-line/no-end-30000",
                      b"GET /" + b"a" * 30000, 414, True))
    cases.append(Case("request-line/method-30000",
                      b"G" * 30000, 414, True))
    # Line endings.
    lf = get(stock).replace(CRLF, b"\n")
    cases.append(Case("line-ending/bare-lf-everywhere", lf, 400, True))
    cases.append(Case("line-ending/bare-lf-request-line",
                      b"GET /stock?item=apple HTTP/1.1\nHost: x\r\n\r\n",
                      400, True))
    cases.append(Case("line-ending/bare-lf-header",
                      b"GET /stock?item=apple HTTP/1.1\r\nHost: x\n\r\n",
                      400, True))
    # A lone LF after the last field may be the start of a CR LF: the
    # server waits for more, then times out; what follows it decides.
    cases.append(Case("line-ending/bare-lf-end-of-head-wait",
                      b"GET /stock?item=apple HTTP/1.1\r\nHost: x\r\n\n",
                      408, True, slow=True))
    cases.append(Case("line-ending/bare-lf-end-of-head-then-more",
                      b"GET /stock?item=apple HTTP/1.1\r\nHost: x\r\n\n" +
                      get(stock), 400, True))
    cases.append(Case("line-ending/bare-cr-request-line",
                      b"GET /stock?item=apple HTTP/1.1\rHost: x\r\n\r\n",
                      400, True))
    cases.append(Case("line-ending/bare-cr-header",
                      b"GET /stock?item=apple HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",
                      400, True))
    cases.append(Case("line-ending/cr-cr-lf",
                      b"GET /stock?item=apple HTTP/1.1\r\r\nHost: x\r\n\r\n",
                      400, True))
    # A head that never ends: refused after the header timeout, or, when
    # the client gives up first, the connection is closed without answer.
    head = b"GET /stock?item=apple HTTP/1.1\r\nHost: x\r\n"
    cases.append(Case("incomplete-head/no-blank-line-wait", head, 408, True,
                      slow=True))
    cases.append(Case("incomplete-head/half-request-line-wait", b"GET /st",
                      408, True, slow=True))
    cases.append(Case("incomplete-head/no-blank-line-client-closes", head, [],
                      None, shut=True))
    cases.append(Case("incomplete-head/half-line-client-closes", b"GET /st",
                      [], None, shut=True))
    cases.append(Case("incomplete-head/trickled-past-timeout",
                      [b"GET /stock?item=apple HTTP/1.1\r\n", Pause(1.2),
                       b"Host: x\r\n", Pause(1.2), b"X: y\r\n", Pause(0.5)],
                      408, True, slow=True))
    cases.append(Case("idle/connection-closed-without-answer", [Pause(0)], [],
                      None, slow=True))
    return cases


def header_cases():
    cases = []
    line = b"GET /stock?item=apple HTTP/1.1"
    ok = dict(status=200, close=False, bodies=[APPLE])

    def head(name, headers, status=400, close=True, **kw):
        cases.append(Case(name, message(line, headers), status, close, **kw))

    head("host/missing", [])
    head("host/missing-with-other-fields", [b"Accept: */*"])
    head("host/twice", [HOST, HOST])
    head("host/twice-different", [b"Host: a", b"host: b"])
    head("host/twice-one-empty", [b"Host:", HOST])
    head("host/empty", [b"Host:"], **ok)
    head("host/invalid-space", [b"Host: shop test"])
    head("host/invalid-slash", [b"Host: shop.test/x"])
    head("host/invalid-at", [b"Host: a@shop.test"])

    # Field names: a token, then a colon, nothing in between.
    for n in [b"X Foo", b"X-Foo ", b"X-Foo\t", b"X\x00", b"X\x01", b"X\x7f",
              b"X\xc3\xa9", b"X\xff", b"X(", b"X)", b'X"Y', b"[X]", b"X@Y",
              b"X,Y", b"X/Y", b"X;Y", b"X=Y", b"X?Y", b"X{Y}", b"X\\Y",
              b"X<Y>", b"", b"\x00"]:
        head("field-name/bad-" + slug(n), [HOST, n + b": 1"])
    head("field-name/no-colon", [HOST, b"X-Foo"])
    head("field-name/leading-space-first-field", [b" X-Foo: 1", HOST])
    head("field-name/colon-in-value-is-fine", [HOST, b"X-Foo: a:b:c"], **ok)
    head("field-name/underscore-is-fine", [HOST, b"X_Foo: 1"], **ok)
    # Field values: visible characters, spaces, tabs and obs-text only.
    for v in [b"a\x00b", b"\x00", b"a\x01b", b"a\x7fb", b"a\x1bb", b"a\rb",
              b"a\x0bb", b"a\x0cb"]:
        head("field-value/bad-" + slug(v), [HOST, b"X-Foo: " + v])
    head("field-value/host-with-nul", [b"Host: shop\x00.test"])
    head("field-value/tab-is-fine", [HOST, b"X-Foo: a\tb"], **ok)
    head("field-value/obs-text-is-fine", [HOST, b"X-Foo: caf\xc3\xa9 \xff"],
         **ok)
    head("field-value/empty-is-fine", [HOST, b"X-Foo:"], **ok)
    # Connection is a list of tokens.
    for v in [b"a b", b'"close"', b"close;x", b"close, a b", b"\xff"]:
        head("connection/bad-" + slug(v), [HOST, b"Connection: " + v])
    for v in [b"", b",,,", b"keep-alive", b"Upgrade"]:
        head("connection/fine-" + slug(v), [HOST, b"Connection: " + v], **ok)
    head("connection/close-wins", [HOST, b"Connection: keep-alive, close"],
         200, True, bodies=[APPLE])
    head("connection/upgrade-ignored",
         [HOST, b"Connection: Upgrade", b"Upgrade: websocket"], **ok)
    cases.append(Case("connection/h2c-upgrade-ignored",
                      post(b"/orders/batch", EMPTY_BATCH,
                           [b"Connection: Upgrade, HTTP2-Settings",
                            b"Upgrade: h2c", b"HTTP2-Settings: AAMAAABkAAQAAP__"]),
                      200, False, bodies=[b"[]"]))
    # obs-fold (RFC 9112 5.2).
    head("obs-fold/x-header", [HOST, b"X-Foo: a", b" b"])
    head("obs-fold/x-header-tab", [HOST, b"X-Foo: a", b"\tb"])
    head("obs-fold/host", [b"Host:", b" shop.test"])
    cases.append(Case("obs-fold/content-length",
                      message(b"POST /orders/batch HTTP/1.1",
                              [HOST, b"Content-Length:", b" %d" % len(EMPTY_BATCH)],
                              EMPTY_BATCH), 400, True))
    cases.append(Case("obs-fold/transfer-encoding",
                      message(b"POST /orders/batch HTTP/1.1",
                              [HOST, b"Transfer-Encoding:", b" chunked"],
                              chunks(EMPTY_BATCH)), 400, True))

    # Sizes: the fields after the request line, with their line ends and
    # the blank line, at most MAX_HEADER bytes.
    def padded(total):
        fixed = len(HOST) + 2 + len(b"X-Pad: ") + 2 + 2
        return [HOST, b"X-Pad: " + b"p" * (total - fixed)]

    head("header-size/fields-at-limit", padded(MAX_HEADER), **ok)
    head("header-size/fields-one-over-limit", padded(MAX_HEADER + 1), 431,
         True)
    # Many small fields within the limit are fine.
    head("header-count/100-fields", [HOST] + [b"X-%d: v" % i for i in range(100)],
         **ok)
    head("header-count/1000-fields",
         [HOST] + [b"X-%d: v" % i for i in range(1000)], **ok)
    head("header-size/one-field-17000", [HOST, b"X-Big: " + b"a" * 17000],
         431, True)
    head("header-size/many-fields-17000",
         [HOST] + [b"X-%03d: " % i + b"a" * 92 for i in range(170)], 431, True)
    head("header-size/one-field-60000", [HOST, b"X-Big: " + b"a" * 60000],
         431, True)
    head("header-size/many-fields-60000",
         [HOST] + [b"X-%03d: " % i + b"a" * 92 for i in range(600)], 431, True)
    # Fed one field per write, each write ending just past a line end.
    steps = [line + CRLF + HOST + CRLF + b"X"]
    for i in range(1000):
        steps += [b"-%04d: " % i + b"a" * 90 + CRLF + b"X", Pause(0.001)]
    steps.append(b"-End: 1" + CRLF + CRLF)
    cases.append(Case("header-size/many-fields-fed-slowly-100000", steps, 431,
                      True))

    # Idempotency-Key: 1 to 255 visible ASCII characters, given once. The
    # body is a valid order of an apple: it must not be placed.
    order = json_body(apple_order())
    for name, values in [
            ("empty", [b""]),
            ("spaces-only", [b"   "]),
            ("256-chars", [b"k" * 256]),
            ("1000-chars", [b"k" * 1000]),
            ("inner-space", [b"a b"]),
            ("inner-tab", [b"a\tb"]),
            ("utf8", [b"caf\xc3\xa9"]),
            ("obs-text", [b"k\xff"]),
            ("twice", [b"k1", b"k2"]),
            ("twice-same", [b"k1", b"k1"]),
            ("twice-one-empty", [b"", b"k1"])]:
        extra = [b"Idempotency-Key: " + v for v in values]
        cases.append(Case("idempotency-key/" + name,
                          post(b"/orders", order, extra), 400, False))
    cases.append(Case("idempotency-key/bad-on-get",
                      get(b"/stock?item=apple", [b"Idempotency-Key: a b"]),
                      400, False))
    cases.append(Case("idempotency-key/bad-on-unknown-path-is-404",
                      get(b"/nope", [b"Idempotency-Key: a b"]), 404, False))
    cases.append(Case("idempotency-key/bad-on-wrong-method-is-405",
                      get(b"/orders", [b"Idempotency-Key: a b"]), 405, False,
                      allow=["POST"]))
    cases.append(Case("idempotency-key/255-chars-is-fine",
                      get(b"/stock?item=apple",
                          [b"Idempotency-Key: bad-requests-" + b"k" * 242]),
                      200, False, bodies=[APPLE]))
    cases.append(Case("idempotency-key/lowercase-name-checked",
                      get(b"/stock?item=apple", [b"idempotency-key:"]), 400,
                      False))
    return cases


def framing_cases():
    cases = []
    batch = b"/orders/batch"
    n = len(EMPTY_BATCH)
    line = b"POST /orders/batch HTTP/1.1"

    def framed(name, headers, body=EMPTY_BATCH, status=400, close=True, **kw):
        cases.append(Case(name, message(line, [HOST] + headers, body), status,
                          close, **kw))

    accepted = dict(status=200, close=False, bodies=[b"[]"])
    framed("content-length/exact", [b"Content-Length: %d" % n], **accepted)
    framed("content-length/twice-same",
           [b"Content-Length: %d" % n, b"Content-Length: %d" % n], **accepted)
    framed("content-length/list-same", [b"Content-Length: %d, %d" % (n, n)],
           **accepted)
    framed("content-length/leading-zeros", [b"Content-Length: 000%d" % n],
           **accepted)
    framed("content-length/surrounding-spaces",
           [b"Content-Length:   %d  " % n], **accepted)
    framed("content-length/twice-different",
           [b"Content-Length: %d" % n, b"Content-Length: %d" % (n + 1)])
    framed("content-length/list-different",
           [b"Content-Length: %d, %d" % (n, n + 1)])
    for v in [b"+%d" % n, b"-%d" % n, b"0x%x" % n, b"%d %d" % (n // 10, n % 10),
              b"", b"%da" % n, b"%d.0" % n, b"%d;" % n, b",%d" % n,
              b"%d," % n, b"%d,,%d" % (n, n), b"99999999999999999999999",
              b"18446744073709551616", b"1e1", b"\xd9\xa1\xd9\xa4", b"abc",
              b"-0", b"%d\x00" % n]:
        framed("content-length/malformed-" + slug(v),
               [b"Content-Length: " + v])
    framed("content-length/then-transfer-encoding",
           [b"Content-Length: %d" % n, b"Transfer-Encoding: chunked"],
           chunks(EMPTY_BATCH))
    framed("content-length/after-transfer-encoding",
           [b"Transfer-Encoding: chunked", b"Content-Length: %d" % n],
           chunks(EMPTY_BATCH))
    framed("content-length/after-transfer-encoding-gzip",
           [b"Transfer-Encoding: gzip", b"Content-Length: %d" % n])
    framed("content-length/zero-with-chunked",
           [b"Transfer-Encoding: chunked", b"Content-Length: 0"],
           chunks(EMPTY_BATCH))

    # Transfer-Encoding: "chunked" alone, once.
    framed("transfer-encoding/chunked", [b"Transfer-Encoding: chunked"],
           chunks(EMPTY_BATCH), **accepted)
    # Empty list elements are ignored (RFC 9110 5.6.1).
    framed("transfer-encoding/chunked-empty-element-after",
           [b"Transfer-Encoding: chunked, "], chunks(EMPTY_BATCH), **accepted)
    framed("transfer-encoding/chunked-empty-element-before",
           [b"Transfer-Encoding: , chunked"], chunks(EMPTY_BATCH), **accepted)
    framed("transfer-encoding/chunked-any-case",
           [b"Transfer-Encoding: ChUnKeD"], chunks(EMPTY_BATCH), **accepted)
    for v in [b"gzip, chunked", b"chunked, gzip", b"identity", b"gzip",
              b"deflate", b"chunked, chunked", b"identity, chunked",
              b"x-chunked", b"chunked;q=1", b"", b"chunk", b"\"chunked\"",
              b"chunked\x0b", b"chunked;", b"chunked ;x", b",", b"gzip,"]:
        framed("transfer-encoding/not-chunked-alone-" + slug(v),
               [b"Transfer-Encoding: " + v], chunks(EMPTY_BATCH))
    framed("transfer-encoding/chunked-twice",
           [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"],
           chunks(EMPTY_BATCH))
    framed("transfer-encoding/gzip-then-chunked",
           [b"Transfer-Encoding: gzip", b"Transfer-Encoding: chunked"],
           chunks(EMPTY_BATCH))
    framed("transfer-encoding/chunked-then-gzip",
           [b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip"],
           chunks(EMPTY_BATCH))
    cases.append(Case("framing/http10-chunked-keep-alive",
                      message(b"POST /orders/batch HTTP/1.0",
                              [b"Transfer-Encoding: chunked",
                               b"Connection: keep-alive"],
                              chunks(EMPTY_BATCH)), 200, True))

    # Chunks.
    def chunked(name, encoded, status=400, close=True, **kw):
        cases.append(Case(name, post_chunked(batch, encoded), status, close,
                          **kw))

    body = EMPTY_BATCH
    hexn = b"%x" % n
    chunked("chunk/many-small", chunks(body, 1), **accepted)
    chunked("chunk/size-leading-zeros",
            b"000000" + hexn + CRLF + body + CRLF + b"0\r\n\r\n", **accepted)
    chunked("chunk/size-uppercase-hex",
            hexn.upper() + CRLF + body + CRLF + b"0\r\n\r\n", **accepted)
    chunked("chunk/last-chunk-zeros", chunks(body)[:-5] + b"000\r\n\r\n",
            **accepted)
    for size in [b"zz", b"-e", b"+e", b" e", b"0x" + hexn, b"e e", b"",
                 b"ffffffffffffffffff", b"1_0", b"\xd9\xa1", b"e\x00",
                 b"g"]:
        chunked("chunk/bad-size-" + slug(size),
                size + CRLF + body + CRLF + b"0\r\n\r\n")
    chunked("chunk/size-beyond-every-limit", b"fffffffffffffff\r\n", 413,
            True)
    chunked("chunk/data-longer-than-size",
            b"%x" % (n - 2) + CRLF + body + CRLF + b"0\r\n\r\n")
    chunked("chunk/data-shorter-than-size",
            b"%x" % (n + 2) + CRLF + body + CRLF + b"0\r\n\r\n")
    chunked("chunk/no-crlf-after-data",
            hexn + CRLF + body + b"0\r\n\r\n")
    chunked("chunk/lf-after-data", hexn + CRLF + body + b"\n0\r\n\r\n")
    chunked("chunk/lf-after-size", hexn + b"\n" + body + CRLF + b"0\r\n\r\n")
    chunked("chunk/garbage-after-last-chunk",
            chunks(body)[:-2] + b"XX\r\n\r\n")
    for ext in [b";a", b";a=b", b';a="b c"', b" ;a", b";a=b;c", b";a = b",
                b'; a="\\"q\\""']:
        chunked("chunk/extension-valid-" + slug(ext), chunks(body, ext=ext),
                **accepted)
    for ext in [b";", b";;", b";=b", b";a b", b";a=b c", b";\x01",
                b";a=\x01", b";a=", b"x", b";a=b,c", b";a=\xff", b" "]:
        chunked("chunk/extension-garbage-" + slug(ext), chunks(body, ext=ext))
    chunked("chunked/extension-200000-bytes",
            hexn + b";a=" + b"b" * 200000 + CRLF + body + CRLF + b"0\r\n\r\n",
            (400, 413, 431), True)
    # Trailers are fields after the last chunk; never part of the header.
    chunked("trailer/valid-ignored", chunks(body, trailer=b"X-T: 1\r\n"),
            **accepted)
    chunked("trailer/bad-field-name", chunks(body, trailer=b"X T: 1\r\n"))
    chunked("trailer/nul-in-value", chunks(body, trailer=b"X-T: a\x00\r\n"))
    chunked("trailer/content-length",
            chunks(body, trailer=b"Content-Length: 5\r\n"))
    chunked("trailer/transfer-encoding",
            chunks(body, trailer=b"Transfer-Encoding: chunked\r\n"))
    chunked("trailer/bare-lf", chunks(body, trailer=b"X-T: 1\nY: 2\r\n"))
    chunked("trailer/content-type-multipart",
            chunks(body, trailer=b"Content-Type: multipart/form-data\r\n"),
            **accepted)
    chunked("trailer/idempotency-key-invalid",
            chunks(body, trailer=b"Idempotency-Key: a b\r\n"), **accepted)
    chunked("chunked/trailer-200000-bytes",
            chunks(body, trailer=b"".join(b"X-%05d: " % i + b"v" * 90 + CRLF
                                          for i in range(2000))),
            (400, 413, 431), True)
    # A chunked body that never ends: 408, or no answer if the client
    # gives up first.
    unfinished = hexn + CRLF + body + CRLF
    chunked("chunk/no-last-chunk-wait", unfinished, 408, True, slow=True)
    chunked("chunk/no-last-chunk-client-closes", unfinished, [], None,
            shut=True)
    chunked("chunk/no-trailer-end-client-closes", unfinished + b"0\r\n", [],
            None, shut=True)
    chunked("chunk/half-size-line-client-closes", b"e", [], None, shut=True)
    chunked("chunk/unterminated-quoted-extension",
            hexn + b';a="b' + CRLF + body + CRLF + b"0\r\n\r\n")

    # Bodies where none belongs: 400 and close (the bytes might be a
    # request of their own).
    for method, target in [(b"GET", b"/stock?item=apple"), (b"GET", b"/nope"),
                           (b"HEAD", b"/stock?item=apple"),
                           (b"OPTIONS", b"/stock"), (b"TRACE", b"/stock"),
                           (b"get", b"/stock?item=apple")]:
        name = slug(method) + "-" + slug(target.split(b"?")[0])
        cases.append(Case("body-on/" + name + "-content-length",
                          message(method + b" " + target + b" HTTP/1.1",
                                  [HOST, b"Content-Length: 5"], b"hello"),
                          400, True))
        cases.append(Case("body-on/" + name + "-chunked",
                          message(method + b" " + target + b" HTTP/1.1",
                                  [HOST, b"Transfer-Encoding: chunked"],
                                  chunks(b"hello")), 400, True))
    cases.append(Case("body-on/get-content-length-zero-is-fine",
                      get(b"/stock?item=apple", [b"Content-Length: 0"]), 200,
                      False, bodies=[APPLE]))
    return cases


def expect_cases():
    cases = []
    body = EMPTY_BATCH
    n = len(body)
    head = message(b"POST /orders/batch HTTP/1.1",
                   [HOST, b"Content-Length: %d" % n,
                    b"Expect: 100-continue"])
    cases.append(Case("expect/100-continue-waits-for-100",
                      [head, AwaitContinue(), body], 200, False,
                      bodies=[b"[]"]))
    cases.append(Case("expect/100-continue-body-at-once", head + body, 200,
                      False, interim=1, bodies=[b"[]"]))
    cases.append(Case("expect/100-continue-any-case",
                      head.replace(b"100-continue", b"100-Continue") + body,
                      200, False, interim=1))
    cases.append(Case("expect/100-continue-chunked",
                      [message(b"POST /orders/batch HTTP/1.1",
                               [HOST, b"Transfer-Encoding: chunked",
                                b"Expect: 100-continue"]),
                       AwaitContinue(), chunks(body)], 200, False))
    cases.append(Case("expect/100-continue-then-bad-json",
                      [message(b"POST /orders HTTP/1.1",
                               [HOST, b"Content-Length: 6",
                                b"Expect: 100-continue"]),
                       AwaitContinue(), b'{"o": '], 400, False))
    cases.append(Case("expect/100-continue-unknown-path",
                      [message(b"POST /nope HTTP/1.1",
                               [HOST, b"Content-Length: 2",
                                b"Expect: 100-continue"]),
                       AwaitContinue(), b"{}"], 404, False))
    cases.append(Case("expect/100-continue-without-body",
                      get(b"/stock?item=apple", [b"Expect: 100-continue"]),
                      200, False, bodies=[APPLE]))
    cases.append(Case("expect/100-continue-http10-no-interim",
                      message(b"POST /orders/batch HTTP/1.0",
                              [b"Content-Length: %d" % n,
                               b"Expect: 100-continue"], body), 200, True))
    cases.append(Case("expect/100-continue-too-large",
                      message(b"POST /orders/batch HTTP/1.1",
                              [HOST, b"Content-Length: %d" % (MAX_BODY + 1),
                               b"Expect: 100-continue"]), 413, True))
    cases.append(Case("expect/100-continue-body-never-sent",
                      [head, AwaitContinue()], 408, True, slow=True))
    for v in [b"foo", b"100-continue, foo", b"200-ok", b"", b"100",
              b"100-continue;x=1", b"continue"]:
        cases.append(Case("expect/unsupported-" + slug(v),
                          post(b"/orders/batch", body, [b"Expect: " + v]),
                          417, True))
    cases.append(Case("expect/twice",
                      post(b"/orders/batch", body,
                           [b"Expect: 100-continue", b"Expect: 100-continue"]),
                      417, True))
    cases.append(Case("expect/unsupported-on-get",
                      get(b"/stock?item=apple", [b"Expect: foo"]), 417, True))
    return cases


def body_cases():
    cases = []

    def orders(name, body, status=400, close=False, target=b"/orders",
               **kw):
        cases.append(Case(name, post(target, body), status, close, **kw))

    # Size: the limit at its edge; past it, drained and answered on an open
    # connection, or refused at the header and closed.
    pad = MAX_BODY - len(EMPTY_BATCH)
    orders("body-size/at-limit", EMPTY_BATCH + b" " * pad, 200,
           target=b"/orders/batch", bodies=[b"[]"])
    orders("body-size/one-over-limit-drained",
           EMPTY_BATCH + b" " * (pad + 1), 413, target=b"/orders/batch")
    orders("body-size/order-over-limit-drained",
           json_body(apple_order(note="x" * MAX_BODY)), 413)
    cases.append(Case("body-size/chunked-over-limit-drained",
                      post_chunked(b"/orders/batch",
                                   chunks(EMPTY_BATCH + b" " * (pad + 1),
                                          8192)), 413, False))
    cases.append(Case("body-size/one-chunk-over-limit-drained",
                      post_chunked(b"/orders/batch",
                                   chunks(EMPTY_BATCH + b" " * (pad + 1))),
                      413, False))
    cases.append(Case("body-size/content-length-beyond-draining",
                      message(b"POST /orders HTTP/1.1",
                              [HOST, b"Content-Length: 100000000"]), 413,
                      True))
    cases.append(Case("body-size/content-length-max-uint64",
                      message(b"POST /orders HTTP/1.1",
                              [HOST, b"Content-Length: 18446744073709551615"]),
                      413, True))
    # A body shorter than its Content-Length: no answer when the client
    # closes, 408 when it waits.
    short = message(b"POST /orders HTTP/1.1", [HOST, b"Content-Length: 100"],
                    b'{"o": {}}')
    cases.append(Case("body-short/client-closes", short, [], None, shut=True))
    cases.append(Case("body-short/client-waits", short, 408, True, slow=True))

    # Malformed JSON: every strict prefix of a valid order is refused.
    full = json_body(apple_order(note="n\u00e9", ship_to={
        "street": "1 Orchard Rd", "city": "Pomona", "zip": 91766}))
    cuts = sorted(set(range(1, len(full), max(1, len(full) // 24))) |
                  {len(full) - 1})
    for cut in cuts:
        orders("json-truncated/at-%d" % cut, full[:cut])
    for name, tail in [("space-x", b" x"), ("brace", b"}"), ("comma", b","),
                       ("object", b"{}"), ("null", b" null"),
                       ("bracket", b"]"), ("second-order", b" " + full)]:
        orders("json-trailing/" + name, full + tail)
    # What follows a NUL is not looked at (on a route that changes nothing
    # if it is taken).
    for name, tail in [("nul", b"\x00"), ("nul-then-garbage", b"\x00 }x"),
                       ("nul-then-order", b"\x00" + full)]:
        orders("json-trailing/" + name, EMPTY_BATCH + tail,
               target=b"/orders/batch")
    orders("json-leading/comma", b"," + full)
    orders("json-leading/nul", b"\x00" + full)
    for name, text in [("backslash-x", b"\\x"), ("short-u", b"\\u12"),
                       ("non-hex-u", b"\\uZZZZ"), ("capital-u", b"\\U0041"),
                       ("backslash-a", b"\\a"), ("backslash-0", b"\\0"),
                       ("backslash-quote", b"\\'"),
                       ("backslash-space", b"\\ ")]:
        orders("json-escape/" + name,
               order_body(customer=b'"a' + text + b'"'))
    for name, text in [("lone-high", b"\\ud800"), ("lone-low", b"\\udc00"),
                       ("high-then-letter", b"\\ud800\\u0041"),
                       ("high-high", b"\\udbff\\ud800"),
                       ("low-high", b"\\udc00\\ud800"),
                       ("high-at-end", b"a\\ud83d")]:
        orders("json-surrogate/" + name,
               order_body(customer=b'"' + text + b'"'))
    for name, raw in [("ff", b"\xff"), ("overlong-slash", b"\xc0\xaf"),
                      ("encoded-surrogate", b"\xed\xa0\x80"),
                      ("truncated-3-byte", b"\xe2\x82"),
                      ("lone-continuation", b"\x80"),
                      ("5-byte", b"\xf8\x88\x80\x80\x80"),
                      ("above-u10ffff", b"\xf4\x90\x80\x80"),
                      ("latin1", b"caf\xe9")]:
        orders("json-utf8/" + name, order_body(customer=b'"' + raw + b'"'))
        orders("json-utf8/key-" + name,
               b'{"o": {"item": "apple", "qty": 1, "customer": "ann", "'
               + raw + b'": 1}}')
    for name, raw in [("nul", b"\x00"), ("newline", b"\n"), ("tab", b"\t"),
                      ("escape", b"\x1b"), ("cr", b"\r")]:
        orders("json-control/" + name,
               order_body(customer=b'"a' + raw + b'b"'))
    # Numbers that are not JSON, or not an int.
    for text in [b"1e400", b"-1e400", b"1" * 400, b"1" * 30, b"1.5", b"1e-400",
                 b"-0.0", b"2147483648", b"-2147483649", b"1e20", b"NaN",
                 b"nan", b"Infinity", b"-Infinity", b"01", b"00", b"-01",
                 b"1.", b".5", b"+1", b"0x10", b"1e", b"1e+", b"-", b"--1",
                 b"1_000", b'"1"', b"true", b"null", b"[1]", b'{"n": 1}',
                 b"1 2", b"\xd9\xa1"]:
        orders("json-number/qty-" + slug(text), order_body(qty=text))
    # -0 is the integer 0, which quote() refuses by throwing: a 500.
    orders("json-number/qty-minus-zero-is-zero", order_body(qty=b"-0"), 500)
    # Literals.
    for text in [b"tru", b"True", b"nul", b"NULL", b"falsey", b"undefined",
                 b"'apple'"]:
        orders("json-literal/item-" + slug(text), order_body(item=text))
    # Nesting: the limit is 512 levels, counting the outer object.
    for depth, status in [(511, 200), (512, 400), (30000, 400)]:
        nested = b"[" * depth + b"]" * depth
        body = b'{"orders": [], "junk": ' + nested + b"}"
        orders("json-depth/%d-levels-inside" % depth, body, status,
               target=b"/orders/batch")
    orders("json-depth/unbalanced-deep", b'{"o": ' + b"[" * 600)
    orders("json-depth/deep-objects",
           b'{"o": ' + b'{"a": ' * 600 + b"1" + b"}" * 600 + b"}")
    # Not an object.
    for text in [b"[]", b"[1]", b'"o"', b"1", b"-1", b"1.5", b"null", b"true",
                 b"false", b'""', b"   ", b"\n", b"[" + full + b"]"]:
        orders("json-not-object/" + slug(text), text)
    orders("json-not-object/restock-array", b'["apple", 5]',
           target=b"/restock")
    orders("json-empty/orders-missing-o", b"")
    orders("json-empty/object-missing-o", b"{}")

    # Wrong types for shop's parameters (Order, Address, restock's).
    for name, value in [("string", "apple"), ("number", 1), ("array", []),
                        ("null", None), ("bool", True)]:
        orders("type/o-" + name, json_body({"o": value}))
    for member, values in [
            ("item", [1, None, [], {}, True]),
            ("qty", ["1", 1.5, True, None, [], {}, 2**31, -2**31 - 1, 1e20,
                     "one"]),
            ("customer", [1, None, [], {}, False]),
            ("note", [1, [], {}, True]),
            ("ship_to", ["home", 1, [], True])]:
        for value in values:
            orders("type/o.%s-%s" % (member, slug(json.dumps(value).encode())),
                   json_body(apple_order(**{member: value})))
    for member in ["item", "qty", "customer"]:
        orders("type/o.%s-missing" % member,
               json_body(apple_order(**{member: ...})))
    address = {"street": "1 Orchard Rd", "city": "Pomona", "zip": 91766}
    for member, value in [("zip", "91766"), ("zip", 1.5), ("zip", None),
                          ("street", 1), ("city", None), ("city", []),
                          ("zip", ...)]:
        a = dict(address)
        a[member] = value
        a = {k: v for k, v in a.items() if v is not Ellipsis}
        orders("type/o.ship_to.%s-%s" % (
            member, "missing" if value is ... else
            slug(json.dumps(value).encode())),
            json_body(apple_order(ship_to=a)))
    for name, args in [("item-number", {"item": 5, "qty": 5}),
                       ("qty-string", {"item": "apple", "qty": "5"}),
                       ("qty-float", {"item": "apple", "qty": 5.5}),
                       ("qty-missing", {"item": "apple"}),
                       ("item-missing", {"qty": 5}),
                       ("item-null", {"item": None, "qty": 5}),
                       ("qty-huge", {"item": "apple", "qty": 10**30})]:
        orders("type/restock-" + name, json_body(args), target=b"/restock")
    for name, args in [("object", {"orders": {}}), ("string", {"orders": "x"}),
                       ("null", {"orders": None}), ("numbers", {"orders": [1]}),
                       ("nested-array", {"orders": [[]]}),
                       ("missing", {}),
                       ("second-bad", {"orders": [apple_order()["o"],
                                                  {"item": "apple"}]}),
                       ("qty-float", {"orders": [apple_order(qty=0.5)["o"]]})]:
        orders("type/batch-" + name, json_body(args), target=b"/orders/batch")

    # multipart/form-data is never the JSON object an entry takes.
    form = (b"--x\r\nContent-Disposition: form-data; name=\"o\"\r\n\r\n"
            + json_body(apple_order()["o"]) + b"\r\n--x--\r\n")
    for ctype in [b"multipart/form-data; boundary=x", b"multipart/form-data",
                  b"multipart/form-data;boundary=\"x\""]:
        cases.append(Case("content-type/" + slug(ctype.split(b";")[0]) + "-"
                          + str(len(ctype)),
                          post(b"/orders", form, [b"Content-Type: " + ctype]),
                          415, False))
    cases.append(Case("content-type/multipart-with-json-body",
                      post(b"/orders", json_body(apple_order()),
                           [b"Content-Type: multipart/form-data; boundary=x"]),
                      415, False))
    cases.append(Case("content-type/multipart-on-get",
                      get(b"/stock?item=apple",
                          [b"Content-Type: multipart/form-data"]), 415, False))
    cases.append(Case("content-type/multipart-unknown-path-is-404",
                      post(b"/nope", form,
                           [b"Content-Type: multipart/form-data"]), 404, False))
    cases.append(Case("content-type/multipart-uppercase",
                      post(b"/orders/batch", EMPTY_BATCH,
                           [b"Content-Type: Multipart/Form-Data; boundary=x"]),
                      415, False))
    cases.append(Case("content-type/text-plain-json-is-fine",
                      post(b"/orders/batch", EMPTY_BATCH,
                           [b"Content-Type: text/plain"]), 200, False,
                      bodies=[b"[]"]))
    return cases


def target_cases():
    cases = []

    def at(name, target, status, method=b"GET", allow=None, **kw):
        if method in (b"GET", b"HEAD"):
            data = get(target, method=method)
        else:
            data = post(target, b"{}", method=method)
        cases.append(Case(name, data, status, False, allow=allow,
                          head=method == b"HEAD", **kw))

    for t in [b"/", b"/nope", b"/stock/", b"/Stock", b"/STOCK", b"/stock/x",
              b"/orders/", b"//orders", b"/orders/batch/", b"/stock;x",
              b"/stock%20", b"/stock.json", b"/./stock", b"/x/../stock",
              b"/stock%2F", b"/stock%3Fitem=apple", b"/stock%3fitem=apple",
              b"/stock%23", b"/stock\xff?item=apple",
              b"/%E2%82%AC"]:
        at("path/unknown-" + slug(t), t, 404)
    for t in [b"/nope", b"/orders/x", b"/"]:
        at("path/unknown-post-" + slug(t), t, 404, method=b"POST")
    # A client never sends a fragment: 400, wherever it is.
    for t in [b"/stock#frag", b"/stock?item=apple#frag", b"/#"]:
        at("path/fragment-" + slug(t), t, 400)
    # An encoded "/" is not the "/" that separates segments (RFC 3986 2.2).
    cases.append(Case("path/encoded-slash-is-not-a-separator",
                      post(b"/orders%2Fbatch", EMPTY_BATCH), 404, False))
    # Decoding unreserved characters gives the same route.
    at("path/encoded-letter-routes", b"/sto%63k?item=apple", 200,
       bodies=[APPLE])
    at("path/encoded-query-letters", b"/stock?%69tem=%61pple", 200,
       bodies=[APPLE])
    # Wrong methods: 405 with the allowed ones.
    for method, target, allow in [
            (b"GET", b"/orders", "POST"), (b"PUT", b"/orders", "POST"),
            (b"PATCH", b"/orders", "POST"), (b"DELETE", b"/orders", "POST"),
            (b"GET", b"/orders/batch", "POST"),
            (b"PUT", b"/orders/batch", "POST"),
            (b"GET", b"/restock", "POST"), (b"DELETE", b"/restock", "POST"),
            (b"POST", b"/stock", "GET"), (b"PUT", b"/stock", "GET"),
            (b"DELETE", b"/stock?item=apple", "GET"),
            (b"HEAD", b"/stock?item=apple", "GET"),
            (b"POST", b"/quote", "GET"), (b"POST", b"/catalog", "GET"),
            (b"HEAD", b"/catalog", "GET"), (b"PATCH", b"/catalog", "GET")]:
        at("method/not-allowed-%s-%s" % (slug(method),
                                          slug(target.split(b"?")[0])),
           target, 405, method=method, allow=[allow])
    # Percent escapes.
    for t in [b"/stock%", b"/stock%4", b"/stock%zz", b"/stock%g1",
              b"/st%ock", b"/%", b"/stock%%", b"/stock%-1", b"/%zz/stock"]:
        at("percent/bad-in-path-" + slug(t), t, 400)
    for q in [b"item=%", b"item=%4", b"item=%zz", b"%=apple", b"it%em=apple",
              b"item=apple%2", b"item=%%", b"item=apple&x=%G0"]:
        at("percent/bad-in-query-" + slug(q), b"/stock?" + q, 400)
    for t in [b"/stock%00", b"/%00", b"/stock?item=a%00", b"/stock?%00=a",
              b"/stock?item=%00apple", b"/nope%00"]:
        at("percent/encoded-nul-" + slug(t), t, 400)
    # Query parameters.
    for q in [b"item=apple&item=pear", b"item=apple&item=apple",
              b"item=apple&item", b"item&item=apple", b"item=apple&it%65m=x",
              b"item=apple&item="]:
        at("query/repeated-" + slug(q), b"/stock?" + q, 400)
    for q in [b"=apple", b"item=apple&=x", b"=", b"&=&", b"item=apple&=",
              b"=%3D"]:
        at("query/no-name-" + slug(q), b"/stock?" + q, 400)
    at("query/empty-pairs-are-skipped", b"/stock?&&item=apple&&", 200,
       bodies=[APPLE])
    at("query/fragment", b"/stock?item=apple#x", 400)
    at("query/not-utf8-encoded", b"/stock?item=%ff", 400)
    at("query/not-utf8-raw", b"/stock?item=\xff", 400)
    at("query/not-utf8-key", b"/stock?%c3=apple", 400)
    at("query/overlong-utf8", b"/stock?item=%c0%af", 400)
    for q in [b"item=apple", b"item=apple&qty=abc", b"item=apple&qty=1.5",
              b"item=apple&qty=", b"item=apple&qty=%201", b"item=apple&qty=+1",
              b"item=apple&qty=1%20", b"item=apple&qty=0x1",
              b"item=apple&qty=99999999999", b"item=apple&qty=1e3",
              b"item=apple&qty=-", b"qty=1"]:
        at("query/quote-bad-" + slug(q), b"/quote?" + q, 400)
    return cases


def pipeline_cases():
    cases = []
    a = get(b"/stock?item=apple")
    pear = get(b"/stock?item=pear")
    cases.append(Case("pipeline/two-valid-then-bad-version",
                      a + pear + get(b"/stock", version=b"HTTP/2.0"),
                      [200, 200, 505], True, bodies=[APPLE, None, None]))
    cases.append(Case("pipeline/two-valid-then-bad-framing",
                      a + pear + message(b"POST /orders/batch HTTP/1.1",
                                         [HOST, b"Content-Length: 1",
                                          b"Content-Length: 2"], b"{}"),
                      [200, 200, 400], True, bodies=[APPLE, None, None]))
    cases.append(Case("pipeline/two-valid-then-no-host",
                      a + pear + message(b"GET /stock HTTP/1.1", ()),
                      [200, 200, 400], True))
    cases.append(Case("pipeline/two-valid-then-header-garbage",
                      a + pear + b"GET / HTTP/1.1\r\nX Y: 1\r\n\r\n" + a,
                      [200, 200, 400], True))
    cases.append(Case("pipeline/valid-404-valid",
                      a + get(b"/nope") + a, [200, 404, 200], False,
                      bodies=[APPLE, None, APPLE]))
    cases.append(Case("pipeline/valid-bad-query-valid",
                      a + get(b"/stock?item=%zz") + a, [200, 400, 200], False))
    cases.append(Case("pipeline/valid-bad-json-valid",
                      a + post(b"/orders", b'{"o":') + a, [200, 400, 200],
                      False))
    cases.append(Case("pipeline/valid-413-drained-valid",
                      a + post(b"/orders/batch", b" " * (MAX_BODY + 1)) + a,
                      [200, 413, 200], False))
    cases.append(Case("pipeline/valid-then-body-on-get",
                      a + message(b"GET /stock?item=apple HTTP/1.1",
                                  [HOST, b"Content-Length: 5"], b"hello") + a,
                      [200, 400], True))
    cases.append(Case("pipeline/bytes-past-content-length-are-a-request",
                      post(b"/orders/batch", EMPTY_BATCH) + b"xx\r\n\r\n",
                      [200, 400], True, bodies=[b"[]", None]))
    cases.append(Case("pipeline/chunked-body-smuggles-nothing",
                      post_chunked(b"/orders/batch",
                                   chunks(EMPTY_BATCH)) + a,
                      [200, 200], False, bodies=[b"[]", APPLE]))
    cases.append(Case("pipeline/valid-then-partial-client-closes",
                      a + pear + b"GET /stock?item=apple HTTP/1.1\r\nHo",
                      [200, 200], None, shut=True))
    cases.append(Case("pipeline/connection-close-ends-it",
                      get(b"/stock?item=apple", [b"Connection: close"]) + a,
                      [200], True))
    return cases


def all_cases():
    cases = (request_line_cases() + header_cases() + framing_cases() +
             expect_cases() + body_cases() + target_cases() +
             pipeline_cases())
    names = [c.name for c in cases]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise Failure("cases with the same name: " + ", ".join(dupes))
    unknown = sorted(set(KNOWN_BUGS) - set(names))
    if unknown:
        raise Failure("KNOWN_BUGS names no case: " + ", ".join(unknown))
    return cases


# --- Running a case ------------------------------------------------------------


class Answer:
    def __init__(self, version, status, headers, body):
        self.version = version
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


class Connection:
    """A client connection reading HTTP/1.1 answers."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    def close(self):
        self.sock.close()

    def send(self, data):
        """False if the server closed its end before taking it all (it may
        have answered already)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def fill(self):
        if self.eof:
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            raise AssertionError(f"no answer within {IO_TIMEOUT} s")
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read(self, head=False):
        """The next answer, or None if the connection closed first."""
        while b"\r\n\r\n" not in self.buf:
            if not self.fill():
                if self.buf:
                    raise AssertionError(f"cut-off answer: {self.buf[:200]!r}")
                return None
        text, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = text.split(b"\r\n")
        m = re.fullmatch(rb"HTTP/(1\.[01]) (\d{3}) [^\r\n]*", lines[0])
        if not m:
            raise AssertionError(f"bad status line: {lines[0][:200]!r}")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise AssertionError(f"bad header line: {line[:200]!r}")
            headers.append((name.decode("latin-1"),
                            value.strip().decode("latin-1")))
        answer = Answer(m.group(1).decode(), int(m.group(2)), headers, b"")
        if answer.status < 200 or answer.status in (204, 304) or head:
            return answer
        length = answer.header("Content-Length")
        if length is None or not length.isdigit():
            raise AssertionError(f"answer without a Content-Length: {text!r}")
        while len(self.buf) < int(length):
            if not self.fill():
                raise AssertionError("connection closed inside an answer")
        answer.body, self.buf = self.buf[:int(length)], self.buf[int(length):]
        return answer

    def closed_now(self, timeout=CLOSE_TIMEOUT):
        """True if the server closed the connection within timeout seconds
        with nothing more sent; raises if it sent more or left the
        connection open."""
        self.sock.settimeout(timeout)
        try:
            while self.fill():
                pass
        except AssertionError:
            raise AssertionError(f"still open {timeout} s after the answer")
        if self.buf:
            raise AssertionError(f"bytes after the answer: {self.buf[:200]!r}")
        return True


class Suite:
    def __init__(self, port):
        self.port = port
        self.apples = None

    def stock_request(self, conn):
        conn.send(get(b"/stock?item=apple"))
        answer = conn.read()
        if answer is None:
            raise AssertionError("closed instead of answering GET /stock")
        if answer.status != 200:
            raise AssertionError(
                f"GET /stock answered {answer.status}: {answer.body[:200]!r}")
        return answer.body

    def still_serving(self):
        conn = Connection(self.port)
        try:
            apples = self.stock_request(conn)
        finally:
            conn.close()
        if self.apples is None:
            self.apples = apples
        elif apples != self.apples:
            # Judged against the new stock from now on, so that one case
            # that changes it does not fail every later one.
            before, self.apples = self.apples, apples
            raise AssertionError(
                f"apple stock changed from {before!r} to {apples!r}")

    def check_answer(self, case, i, answer):
        want = case.status[i]
        ok = answer.status in want if isinstance(want, tuple) \
            else answer.status == want
        if not ok:
            raise AssertionError(
                f"answer {i + 1}: status {answer.status}, expected {want}: "
                f"{answer.body[:200]!r}")
        if answer.status >= 400 and not case.head:
            problem = difftest.error_body_problem(answer.status, answer.body)
            if problem:
                raise AssertionError(f"answer {i + 1}: {problem}")
        if case.bodies and case.bodies[i] is not None:
            expected = self.apples if case.bodies[i] is APPLE else case.bodies[i]
            if answer.body != expected:
                raise AssertionError(
                    f"answer {i + 1}: body {answer.body[:200]!r}, expected "
                    f"{expected!r}")
        if answer.status == 405:
            allow = [m.strip() for m in (answer.header("Allow") or "").split(",")]
            if sorted(allow) != sorted(case.allow or []):
                raise AssertionError(
                    f"Allow is {answer.header('Allow')!r}, expected "
                    f"{', '.join(case.allow or [])!r}")

    def run(self, case):
        conn = Connection(self.port)
        try:
            self.exchange(case, conn)
        finally:
            conn.close()
        self.still_serving()

    def exchange(self, case, conn):
        interim = 0
        for step in case.steps:
            if isinstance(step, Pause):
                time.sleep(step.seconds)
            elif isinstance(step, AwaitContinue):
                answer = conn.read()
                if answer is None or answer.status != 100:
                    got = "the connection closed" if answer is None else \
                        f"status {answer.status}"
                    raise AssertionError(f"expected 100 Continue, got {got}")
                interim += 1
            elif not conn.send(step):
                break
        if case.shut:
            try:
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        answers = []
        while len(answers) < len(case.status):
            answer = conn.read(head=case.head)
            if answer is None:
                break
            if answer.status == 100:
                interim += 1
                continue
            self.check_answer(case, len(answers), answer)
            answers.append(answer)
        if len(answers) < len(case.status):
            raise AssertionError(
                f"the connection closed after {len(answers)} of "
                f"{len(case.status)} answers")
        if not case.status:  # no answer at all
            conn.closed_now(IO_TIMEOUT if case.slow else CLOSE_TIMEOUT)
        expected_interim = case.interim + sum(
            isinstance(s, AwaitContinue) for s in case.steps)
        if interim != expected_interim:
            raise AssertionError(
                f"{interim} interim 100 answers, expected {expected_interim}")
        if case.close is True:
            last = answers[-1] if answers else None
            # HTTP/1.0 closes unless told otherwise; 1.1 must say it.
            if last and last.version == "1.1" and \
                    "close" not in (last.header("Connection") or "").lower():
                raise AssertionError("the answer does not say Connection: close")
            try:
                conn.closed_now()
            except AssertionError as e:
                raise AssertionError(f"the connection must close: {e}")
        elif case.close is False:
            conn.send(get(b"/stock?item=apple"))
            try:
                follow = conn.read()
            except AssertionError as e:
                raise AssertionError(f"the connection must stay open: {e}")
            if follow is None:
                raise AssertionError("the connection closed; it must stay open")
            if follow.status != 200 or follow.body != self.apples:
                raise AssertionError(
                    f"a follow-up on the connection got {follow.status}: "
                    f"{follow.body[:200]!r}")


def run_case(suite, case):
    """(verdict, detail) for one case: PASS, FAIL, XFAIL or XPASS."""
    bug = KNOWN_BUGS.get(case.name)
    try:
        suite.run(case)
    except (AssertionError, OSError) as e:
        if bug:
            return "XFAIL", f"{e} [known: {bug}]"
        return "FAIL", str(e)
    if bug:
        return "XPASS", f"passes; remove it from KNOWN_BUGS ({bug})"
    return "PASS", ""


def run_all(suite, cases):
    """Runs the cases that wait for a server timeout on threads of their
    own, the others one at a time; returns the verdicts in case order."""
    verdicts = [None] * len(cases)
    slow = [i for i, c in enumerate(cases) if c.slow]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(slow) or 1) as pool:
        futures = {pool.submit(run_case, suite, cases[i]): i for i in slow}
        for i, case in enumerate(cases):
            if not case.slow:
                verdicts[i] = run_case(suite, case)
        for future, i in futures.items():
            verdicts[i] = future.result()
    return verdicts


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--example",
        default=os.path.join(here, "..", "..", "examples", "shop"),
        help="the shop example directory",
    )
    parser.add_argument("--work", required=True, help="a scratch directory")
    parser.add_argument("--cleave", help="the cleave compiler (default: from PATH)")
    parser.add_argument("--cleave-run", help="the runtime (default: from PATH)")
    parser.add_argument("--only", help="run only the cases whose name has this")
    opts = parser.parse_args()
    opts.work = os.path.abspath(opts.work)
    os.makedirs(opts.work, exist_ok=True)
    out = os.path.join(opts.work, "out")

    started = time.monotonic()
    try:
        cases = all_cases()
        if opts.only:
            cases = [c for c in cases if opts.only in c.name]
        elif len(cases) < MIN_CASES:
            raise Failure(f"only {len(cases)} cases, expected {MIN_CASES}")
        source = os.path.join(os.path.abspath(opts.example), "shop.cpp")
        difftest.cleave_build(opts, source, out)
        cleave_run = difftest.find_tool(opts.cleave_run, "cleave-run")
        with difftest.Runtime(cleave_run, out, opts.work, RUN_OPTIONS) as rt:
            base = rt.wait_for_address()
            suite = Suite(int(base.rsplit(":", 1)[1]))
            try:
                suite.still_serving()
            except (AssertionError, OSError) as e:
                raise Failure(f"the server does not answer: {e}\n{rt.log()}")
            verdicts = run_all(suite, cases)
            for case, (verdict, detail) in zip(cases, verdicts):
                print(f"{verdict} {case.name}" + (f": {detail}" if detail else ""))
            failed = [c.name for c, (v, _) in zip(cases, verdicts)
                      if v in ("FAIL", "XPASS")]
            if failed:
                print(rt.log())
            rt.stop()
    except Failure as e:
        print(f"FAIL bad_requests: {e}")
        return 1

    xfail = sum(v == "XFAIL" for v, _ in verdicts)
    seconds = time.monotonic() - started
    if failed:
        print(f"bad_requests: {len(failed)} of {len(cases)} cases failed "
              f"({xfail} known bugs) in {seconds:.1f} s: {', '.join(failed)}")
        return 1
    print(f"bad_requests: all {len(cases)} cases as expected, {xfail} of "
          f"them known bugs (XFAIL), in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
