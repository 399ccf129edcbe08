#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (a handful of small files per
target). The first byte of a codec seed picks the type the target decodes
(see the switch in each target); run again after changing those."""
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
        "entry": b"""apiVersion: cleave/v1
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
        "empty": b"apiVersion: cleave/v1\nkind: Deployment\nname: x\nartifact: a.so\nfunctions: []\nstate: []\n",
    },
}

for target, seeds in SEEDS.items():
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
