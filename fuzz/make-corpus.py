#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (a handful of small files per
target). The first byte of a codec seed picks the type the target decodes
(see the switch in each target), as the first byte of a request-parts seed
picks the part; run again after changing those."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string(s):
    s = s.encode()
    return varint(len(s)) + s


def frame(payload):
    return b"CLF\x01" + struct.pack("<Q", len(payload)) + payload


def line(item, qty, price, gift, side, note, tags, counts):
    out = string(item) + struct.pack("<q", qty) + struct.pack("<d", price)
    out += bytes([gift]) + struct.pack("<i", side)
    out += b"\x00" if note is None else b"\x01" + string(note)
    out += varint(len(tags)) + b"".join(string(t) for t in tags)
    out += varint(len(counts))
    for k in sorted(counts):
        out += string(k) + struct.pack("<q", counts[k])
    return out


LINE = line("tea", 3, 2.5, 1, 1, "gift wrap", ["green", "loose"], {"a": 1, "b": -2})

SEEDS = {
    "frame-decode": {
        "long": b"\x00" + frame(struct.pack("<q", -42)),
        "string": b"\x01" + frame(string("hello")),
        "strings": b"\x02" + frame(varint(2) + string("a") + string("bc")),
        "map": b"\x03" + frame(varint(2) + string("x") + struct.pack("<q", 1)
                               + string("y") + struct.pack("<q", 2)),
        "optional": b"\x04" + frame(b"\x01" + string("n") + b"\x01"),
        "line": b"\x05" + frame(LINE),
        "lines": b"\x06" + frame(struct.pack("<i", 7) + varint(1) + LINE + b"\x01" + LINE),
        "mixed": b"\x07" + frame(varint(2) + struct.pack("<dd", 1.5, -0.0)
                                 + varint(2) + struct.pack("<qq", 1, 5)
                                 + varint(1) + string("v")),
        "rebuild": b"\x08" + LINE,
    },
    "json-codec": {
        "long": b"\x00-9223372036854775808",
        "int8": b"\x01" b"1.0e2",
        "double": b"\x03" b"[1.5e308]"[1:-1],
        "nan": b"\x04" b'"NaN"',
        "side": b"\x06" b'"Sell"',
        "strings": b"\x08" b'["a", "\\u00e9", ""]',
        "map": b"\x09" b'{"a": 1, "b": -2}',
        "intkeys": b"\x0a" b'{"7": "x", "-3": "y"}',
        "line": b"\x0c" b'{"item": "tea", "qty": 3, "price": 2.5, "gift": true, '
                b'"side": "Buy", "note": null, "tags": ["g"], "counts": {"a": 1}}',
        "variant": b"\x0e" b'{"index": 1, "value": "s"}',
        "tuple": b"\x0f" b'[[1, 2], {"x": 0.5}, {"Buy": true}]',
    },
    "text-params": {
        "long": b"\x00-123",
        "int": b"\x01" b"2147483648",
        "ushort": b"\x02" b"65535",
        "double": b"\x05" b"1e-320",
        "float": b"\x06" b"-Infinity",
        "bool": b"\x07" b"true",
        "enum": b"\x08" b"Sell",
        "string": b"\x09" b"a b&c",
        "vector": b"\x0b" b"[1, 2, 3]",
    },
    "manifest": {
        "entry": b"""apiVersion: cleave/v2
kind: Deployment
name: shop
artifact: build/libcleave_handlers.so
functions:
  - name: echo
    kind: entry
    handler: echo
    trigger: {method: POST, path: /line}
    params:
      - {name: l, type: Line}
    returns: Line
    resources: {memoryMiB: 256, timeoutSeconds: 30, gpus: 0, concurrency: 0}
    isolate: false
    source: types.cpp:21:33
    machine: echo
    steps:
      - {id: 0, source: "types.cpp:21:40"}
      - {id: 1, source: "types.cpp:22:5"}
    edges:
      - from: [0]
        callee: price
        placement: boundary
        resume: 1
        source: types.cpp:22:5
        carried:
          - {name: l, type: Line, bytes: 64}
    calls:
      - {callee: price, placement: boundary, reason: memory, source: "types.cpp:22:5"}
  - name: price
    kind: function
    resources: {memoryMiB: 2048}
    source: types.cpp:5:1
    state:
      - {name: counts, access: readwrite}
state:
  - name: counts
    type: std::map<std::string, long>
    consistency: linearizable
    granularity: key
    source: types.cpp:3:1
    readers: [price]
    writers: [price]
""",
        # The same in the previous format, which cleave-run still reads.
        "entry-v1": b"""apiVersion: cleave/v1
kind: Deployment
name: shop
artifact: build/libcleave_handlers.so
functions:
  - name: echo
    kind: entry
    handler: echo
    trigger: {method: POST, path: /line}
    params:
      - {name: l, type: Line}
    returns: Line
    resources: {memory: 256, timeout: 30, gpu: 0, concurrency: 0}
    isolate: false
    source: types.cpp:21:33
    machine: echo
    steps:
      - {id: 0, source: "types.cpp:21:40"}
      - {id: 1, source: "types.cpp:22:5"}
    edges:
      - from: [0]
        callee: price
        placement: boundary
        resume: 1
        source: types.cpp:22:5
        carried:
          - {name: l, type: Line, bytes: 64}
    calls:
      - {callee: price, placement: boundary, reason: memory, source: "types.cpp:22:5"}
  - name: price
    kind: function
    resources: {memory: 2048}
    source: types.cpp:5:1
    state:
      - {name: counts, access: readwrite}
state:
  - name: counts
    type: std::map<std::string, long>
    consistency: linearizable
    granularity: key
    source: types.cpp:3:1
    readers: [price]
    writers: [price]
""",
        "empty": b"apiVersion: cleave/v2\nkind: Deployment\nname: x\nartifact: a.so\nfunctions: []\nstate: []\n",
    },
}



def request(head, body=b"", host=b"a"):
    """A request: HEAD is the request line and any fields, one a line."""
    lines = head.split(b"\n")
    if host is not None:
        lines.insert(1, b"Host: " + host)
    return b"".join(l + b"\r\n" for l in lines) + b"\r\n" + body


def post(target, body, extra=b""):
    head = b"POST " + target + b" HTTP/1.1\nContent-Length: %d" % len(body)
    return request(head + (b"\n" + extra if extra else b""), body)


def chunked(*chunks, trailer=b""):
    out = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks)
    return out + b"0\r\n" + trailer + b"\r\n"


def fields(total):
    """Header fields that take TOTAL bytes with the empty line ending them."""
    value = b"v" * (total - len(b"X-Pad: \r\n\r\n"))
    return b"X-Pad: " + value


# The handler answers as the query's "answer" says (fuzz/http-request.cpp).
ANSWERS = [b"inline", b"thread", b"defer", b"close", b"empty", b"throw", b"drop"]

HTTP = {
    "empty": b"",
    "get": request(b"GET / HTTP/1.1"),
    "get-query": request(b"GET /orders?id=3&name=a%20b+c&&flag HTTP/1.1", host=b"shop:8080"),
    "head": request(b"HEAD /h?answer=inline HTTP/1.1"),
    "head-bad-target": request(b"HEAD /%zz HTTP/1.1"),
    "post": post(b"/line", b'{"item": "tea", "qty": 3}', b"Content-Type: application/json"),
    "post-empty": post(b"/line", b""),
    "post-near-limit": post(b"/big?answer=thread", b"x" * 3900),
    "put": request(b"PUT /p HTTP/1.1\nContent-Length: 2", b"{}"),
    "delete": request(b"DELETE /d?id=1 HTTP/1.1"),
    "chunked": request(b"POST /c HTTP/1.1\nTransfer-Encoding: chunked",
                       chunked(b"hello", b" world")),
    "chunked-ext-trailer": request(b"PATCH /c HTTP/1.1\nTransfer-Encoding: chunked",
                                   b"5;name=v\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"),
    "chunked-long-size-line": request(b"POST /c HTTP/1.1\nTransfer-Encoding: chunked",
                                      b"1;" + b"e" * 2100 + b"\r\nx\r\n0\r\n\r\n"),
    "chunked-framing-only": request(b"POST /c HTTP/1.1\nTransfer-Encoding: chunked",
                                    b"1;x=yyyyyyyy\r\na\r\n" * 200 + b"0\r\n\r\n"),
    "chunked-too-large": request(b"POST /c HTTP/1.1\nTransfer-Encoding: chunked",
                                 b"ffffffff\r\nabc"),
    "pipelined": request(b"GET /1?answer=inline HTTP/1.1")
    + request(b"GET /2?answer=thread HTTP/1.1")
    + request(b"GET /3?answer=defer HTTP/1.1"),
    "pipelined-mixed": post(b"/a?answer=inline", b"12345")
    + request(b"HEAD /b?answer=thread HTTP/1.1")
    + request(b"GET /%41?answer=empty HTTP/1.1")
    + request(b"GET /c?answer=close HTTP/1.1")
    + request(b"GET /never HTTP/1.1"),
    "pipelined-bad-target": request(b"GET /ok?answer=inline HTTP/1.1")
    + request(b"GET /bad%00 HTTP/1.1")
    + request(b"GET nopath HTTP/1.1")
    + request(b"GET /again?answer=defer HTTP/1.1"),
    "pipelined-over-limit": b"".join(
        request(b"GET /n%d?answer=inline HTTP/1.1" % i) for i in range(10)),
    "pipelined-then-partial": request(b"GET /x HTTP/1.1") + b"GET /y HTTP/1.1\r\nHo",
    "pipelined-then-garbage": request(b"GET /x?answer=inline HTTP/1.1") + b"\x00\xff garbage\r\n\r\n",
    "http10": request(b"GET /old HTTP/1.0", host=None),
    "http10-keep-alive": request(b"GET /k1?answer=inline HTTP/1.0\nConnection: keep-alive", host=None)
    + request(b"GET /k2 HTTP/1.0", host=None),
    "http10-chunked": request(b"POST /c HTTP/1.0\nTransfer-Encoding: chunked", chunked(b"ab"), host=None),
    "connection-close": request(b"GET /c HTTP/1.1\nConnection: close") + request(b"GET /after HTTP/1.1"),
    "expect-continue": post(b"/e", b"body", b"Expect: 100-continue"),
    "expect-continue-too-large": request(b"POST /e HTTP/1.1\nContent-Length: 5000\nExpect: 100-continue"),
    "expect-other": request(b"GET /e HTTP/1.1\nExpect: 200-ok"),
    "fields-at-limit": request(b"GET /f HTTP/1.1\n" + fields(2048 - len(b"Host: a\r\n"))),
    "fields-over-limit": request(b"GET /f HTTP/1.1\n" + fields(2049 - len(b"Host: a\r\n"))),
    "target-at-limit": request(b"GET /" + b"t" * 1023 + b" HTTP/1.1"),
    "target-over-limit": request(b"GET /" + b"t" * 1024 + b" HTTP/1.1"),
    "content-length-huge": request(b"POST /h HTTP/1.1\nContent-Length: 99999999999", b"x"),
    "content-length-twice": request(b"POST /h HTTP/1.1\nContent-Length: 1\nContent-Length: 2", b"ab"),
    "content-length-and-chunked": request(
        b"POST /h HTTP/1.1\nContent-Length: 3\nTransfer-Encoding: chunked", chunked(b"abc")),
    "transfer-encoding-gzip": request(b"POST /h HTTP/1.1\nTransfer-Encoding: gzip, chunked", chunked(b"a")),
    "get-with-body": request(b"GET /g HTTP/1.1\nContent-Length: 3", b"abc"),
    "no-host": request(b"GET / HTTP/1.1", host=None),
    "two-hosts": request(b"GET / HTTP/1.1\nHost: b"),
    "bad-host": request(b"GET / HTTP/1.1", host=b"a b/c"),
    "folded-field": request(b"GET / HTTP/1.1\nX-A: one\n two"),
    "bare-lf": b"GET / HTTP/1.1\nHost: a\n\n",
    "version-2": request(b"GET / HTTP/2.0"),
    "version-1.2": request(b"GET / HTTP/1.2"),
    "bad-version": request(b"GET / HTTQ/1.1"),
    "lowercase-method": request(b"get / HTTP/1.1"),
    "unknown-method": request(b"BREW /pot?answer=thread HTTP/1.1"),
    "options-star": request(b"OPTIONS * HTTP/1.1"),
    "get-star": request(b"GET * HTTP/1.1"),
    "absolute-form": request(b"GET http://a/x/y?z=1&answer=defer HTTP/1.1"),
    "absolute-form-no-path": request(b"GET HTTPS://a?x HTTP/1.1"),
    "fragment": request(b"GET /a#b HTTP/1.1"),
    "percent-escapes": request(b"GET /a%2Fb%2fc/%C3%A9?k%3D=v%26w&%2B=+ HTTP/1.1"),
    "percent-bad": request(b"GET /a%2 HTTP/1.1"),
    "query-no-name": request(b"GET /q?=v HTTP/1.1"),
    "query-not-utf8": request(b"GET /q?k=%FF%FE HTTP/1.1"),
    "blank-lines-first": b"\r\n\r\n" + request(b"GET /b HTTP/1.1"),
    "throw": request(b"GET /t?answer=throw HTTP/1.1") + request(b"GET /u?answer=inline HTTP/1.1"),
    "drop": request(b"HEAD /d?answer=drop HTTP/1.1") + request(b"GET /e?answer=drop HTTP/1.1"),
    "partial-head": b"GET /slow HTTP/1.1\r\nHost: a\r\n",
    "partial-body": request(b"POST /p HTTP/1.1\nContent-Length: 10", b"abc"),
}
for answer in ANSWERS:
    HTTP["answer-" + answer.decode()] = request(b"GET /a?answer=" + answer + b" HTTP/1.1")
SEEDS["http-request"] = HTTP

# The first byte picks the part (fuzz/request-parts.cpp): 0 a target,
# 1 an Idempotency-Key, 2 keys one a line, 3 length-prefixed query pairs.
TARGETS = [b"/", b"/orders?id=3", b"/a%2Fb?x=%2F", b"/%2f%2F%252F", b"/q?a=1&&b=&c",
           b"/q?a+b=c+d&e=%20", b"/q?k=%C3%A9&v=%E2%82%AC", b"/q?k=%FF", b"/p%00",
           b"/q?%00=1", b"/p%zz", b"/p%4", b"/p%", b"*", b"**", b"", b"orders",
           b"/a#frag", b"/q?=v", b"/q?a=1&a=2", b"/q?a=%3D%26&b==", b"http://host/x?y=1",
           b"HTTP://host", b"https://host?x", b"https://h:80/p%2Fq", b"/%3F?%3F=%3F",
           b"/a?b?c=d?e", b"/\x80\xff?\x80=\xff"]
PAIRS = [[(b"a", b"1"), (b"b", b"2")], [(b"a", b"1"), (b"a", b"2")],
         [(b"k\x00", b"v\x00")], [(b"\xc3\xa9", b"\xe2\x82\xac")], [(b"k", b"\xed\xa0\x80")],
         [(b"k", b"\xc0\xaf")], [(b"\xf4\x90\x80\x80", b"")], [(b"x", b"\"\\\n")]]


def pairs(ps):
    return b"".join(bytes([len(k)]) + k + bytes([len(v)]) + v for k, v in ps)


PARTS = {}
for i, t in enumerate(TARGETS):
    PARTS["target-%02d" % i] = b"\x00" + t
for name, key in [("key", b"3f1c-order-42"), ("key-max", b"k" * 255), ("key-long", b"k" * 256),
                  ("key-space", b"a b"), ("key-empty", b""), ("key-tilde", b"!~"),
                  ("key-del", b"a\x7f")]:
    PARTS[name] = b"\x01" + key
PARTS["keys-two"] = b"\x02" + b"a\nb"
PARTS["keys-one"] = b"\x02" + b"abc"
for i, ps in enumerate(PAIRS):
    PARTS["pairs-%02d" % i] = b"\x03" + pairs(ps)
SEEDS["request-parts"] = PARTS

for target, seeds in SEEDS.items():
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
