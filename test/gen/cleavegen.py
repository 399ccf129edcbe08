#!/usr/bin/env python3
"""A random program generator for Cleave, in the spirit of Csmith.

It writes well-defined annotated C++17 programs (no undefined behaviour, no
dependence on unspecified evaluation order, bounded loops, every integer kept
in [0, 0xffff] by masking) whose entries cross boundaries at random points of
random structured control flow. Every entry returns a checksum of what it
computed: its locals, the counters of its RAII objects and its state.

A program is a prelude and a list of independent *units*. A unit owns one
entry (`fN`, POST or GET), its boundary functions, helpers, types, plain
counters and state, and shares nothing with the other units, so that a
refusal or a difference can be traced to one unit and the unit removed.
`GET /state` returns, per unit, a checksum of its state and counters.

The program also holds its own `main`: it reads calls (`NAME A B`, one a
line) from stdin and prints one {"status", "body"} line per call, as the
deployment answers over HTTP. `cleave build` drops that `main`.

Every feature can be switched off (FEATURES lists them); see
docs/testing.md. Python standard library only.
"""

import argparse
import random
import sys

# name -> what it generates. The order is the order of --help.
FEATURES = {
    # control flow
    "if": "if / else, nested",
    "for": "counted for loops",
    "while": "while loops",
    "do": "do-while loops",
    "switch": "switch with fallthrough and default",
    "range-vector": "range-for over a local std::vector",
    "range-map": "range-for over a local std::map (structured binding or pair)",
    "range-set": "range-for over a local std::set",
    "range-ref": "range-for over a vector with a const reference element",
    "break": "break out of loops",
    "continue": "continue in loops",
    "early-return": "return from inside nested blocks",
    # boundaries
    "b-decl": "a boundary call in a declaration: long r = f(x);",
    "b-assign": "a boundary call in an assignment",
    "b-compound": "a boundary call in a compound assignment",
    "b-return": "a boundary call in a return",
    "b-arg": "a boundary call as the argument of another call",
    "b-cond": "a boundary call in the condition of an if",
    "b-cond-decl": "a variable declared in an if's condition, initialized by a boundary call",
    "b-switch": "a boundary call in the condition of a switch",
    "b-loop": "a boundary call in a loop's condition or a for's increment",
    "b-operand": "a boundary call in an arm of ?: or the right operand of && or ||",
    "b-helper": "a plain helper that reaches a boundary",
    "b-nested": "a boundary function that calls another boundary",
    "parallel-map": "cleave::parallel_map over a one-parameter CLEAVE_FUNCTION",
    "b-try": "boundary functions that throw; try / catch around boundaries and in handlers",
    "b-inout": "helpers that reach a boundary taking long & and struct & (in-out) parameters",
    "b-member": "member functions that reach a boundary: non-const, const, static, on members and elements",
    "b-own": "exception classes of the program thrown across boundaries and caught by their classes",
    # locals
    "int": "int locals",
    "double": "double locals",
    "bool": "bool locals",
    "string": "std::string locals",
    "auto": "locals declared auto",
    "auto-parallel-map": "the result of parallel_map declared auto",
    "pair": "std::pair locals",
    "tuple": "std::tuple locals",
    "vector": "std::vector locals",
    "set": "std::set locals",
    "map": "std::map<std::string, long> locals",
    "bindings": "structured bindings of a pair or tuple",
    "struct": "locals of aggregate user structs",
    "nodefault": "locals of a user type without a default constructor",
    "raii": "RAII objects counting constructions and destructions in globals",
    # state
    "state-scalar": "a CLEAVE_STATE long",
    "state-map": "a CLEAVE_STATE std::map<std::string, long>",
    "state-vector": "a CLEAVE_STATE std::vector<long>",
    "state-helper": "state read and written through plain helpers",
    "state-template": "state read and written through function templates",
    "state-dtor": "state written in a destructor",
    "state-callee": "state written in a boundary function",
}

GROUPS = {
    "control": ["if", "for", "while", "do", "switch", "range-vector", "range-map",
                "range-set", "range-ref", "break", "continue", "early-return"],
    "boundaries": ["b-decl", "b-assign", "b-compound", "b-return", "b-arg",
                   "b-cond", "b-cond-decl", "b-switch", "b-loop", "b-operand", "b-helper",
                   "b-nested", "parallel-map", "b-try", "b-inout", "b-member", "b-own"],
    "locals": ["int", "double", "bool", "string", "auto", "auto-parallel-map", "pair", "tuple",
               "vector", "set", "map", "bindings", "struct", "nodefault", "raii"],
    "state": ["state-scalar", "state-map", "state-vector", "state-helper",
              "state-template", "state-dtor", "state-callee"],
}


def parse_features(no="", only=""):
    """The set of enabled features from comma-separated --only / --no lists
    (names or group names). Raises ValueError for an unknown name."""

    def expand(text):
        names = set()
        for item in filter(None, (s.strip() for s in text.split(","))):
            if item in GROUPS:
                names.update(GROUPS[item])
            elif item in FEATURES:
                names.add(item)
            else:
                raise ValueError(f"unknown feature '{item}'")
        return names

    enabled = expand(only) if only else set(FEATURES)
    return enabled - expand(no)


PRELUDE = """\
// Generated by test/gen/cleavegen.py{header}
#include <cleave/cleave.h>

#include "cleavegen.h"
"""


class Var:
    def __init__(self, name, kind, mutable=True):
        self.name = name
        self.kind = kind  # int long double bool string pair tuple vector set map struct nodefault nodefault-vec raii exc R C D Tvec
        self.mutable = mutable
        self.frozen = 0  # > 0 while a range-for walks it
        self.minsize = 0  # a vector (or a struct's vector) never has fewer elements


class Unit:
    """One entry with everything it owns; generates its C++ text."""

    MEMORIES = [512, 1024, 2048, 4096]

    def __init__(self, index, rng, features, size):
        self.n = index
        self.rng = rng
        self.f = features
        self.size = size  # statement budget of the entry
        self.p = f"u{index}_"
        self.entry = f"f{index}"
        self.method = rng.choice(["POST", "GET"])
        self.counter = 0
        self.budget = size
        self.bfuncs = []  # names of boundary functions of one parameter
        self.helpers = []  # plain helpers that reach a boundary
        self.decls = []  # top-level declarations (before the entry)
        self.state = []  # (name, kind)
        self.uses_struct = False
        self.uses_nodefault = False
        self.uses_raii = False
        self.uses_raii_state = False
        self.loop_depth = 0
        self.in_switch = 0
        self.force_call = False  # the next maybe_call_expr makes a call
        self.scopes = []
        # b-try: boundary function -> (modulus, residue) of the arguments it
        # throws for; and per boundary function whether it may throw and
        # whether it writes state (itself or through its callee).
        self.throwers = {}
        self.bthrows = {}
        self.bwrites = {}
        self.in_try = 0  # > 0 inside a try block
        self.tags = 0  # handlers so far, to tell them apart in the checksum
        # b-inout: in-out helpers, (name, kind of the reference parameter:
        # "long" or "R").
        self.inouts = []
        self.pull = False  # b-member and b-inout: C has pull(long &)
        self.members = False  # b-member: the unit has its classes

    # --- helpers ----------------------------------------------------------

    def on(self, feature):
        return feature in self.f

    def fresh(self, stem):
        self.counter += 1
        return f"{stem}{self.counter}"

    def chance(self, p):
        return self.rng.random() < p

    def howmany(self, most):
        """How many elements a container starts with: rarely none, so that
        the loops over it run."""
        return 0 if self.chance(0.1) else self.rng.randint(1, most)

    def visible(self, pred=lambda v: True):
        return [v for s in self.scopes for v in s if pred(v)]

    def declare(self, var):
        self.scopes[-1].append(var)
        return var

    # --- top level --------------------------------------------------------

    def build_globals(self):
        p, rng = self.p, self.rng
        out = []
        if self.on("state-scalar"):
            self.state.append((p + "s", "long"))
            out.append(f"CLEAVE_STATE() long {p}s = {rng.randrange(100)};")
        if self.on("state-map"):
            self.state.append((p + "m", "map"))
            out.append(f"CLEAVE_STATE() std::map<std::string, long> {p}m;")
        if self.on("state-vector"):
            self.state.append((p + "v", "vector"))
            out.append(f"CLEAVE_STATE() std::vector<long> {p}v;")
        out.append(f"static long {p}ctor = 0, {p}dtor = 0, {p}dsum = 0;")
        if self.on("struct"):
            out.append(f"struct {p}S {{ long x = 0; long y = 0; std::string z; }};")
            out.append(f"static long ck(const {p}S &s) {{ return (s.x * 3 + s.y + ck(s.z)) & 0xffff; }}")
        if self.on("nodefault"):
            out.append(f"struct {p}N {{ long v; explicit {p}N(long x) : v(x & 0xffff) {{}} }};")
            out.append(f"static long ck(const {p}N &n) {{ return n.v; }}")
            out.append(f"static long ck(const std::vector<{p}N> &ns) {{\n"
                       f"  long s = 0;\n  for (const auto &n : ns)\n    s = (s * 7 + n.v) & 0xffff;\n"
                       f"  return s;\n}}")
        if self.on("raii"):
            dtor_state = ""
            if self.on("state-dtor") and self.on("state-scalar"):
                dtor_state = f" {p}s = ({p}s + tag) & 0xffff;"
            out.append(
                f"struct {p}G {{\n"
                f"  long tag;\n"
                f"  explicit {p}G(long t) : tag(t & 0xffff) {{ ++{p}ctor; }}\n"
                f"  {p}G(const {p}G &o) : tag(o.tag) {{ ++{p}ctor; }}\n"
                f"  {p}G &operator=(const {p}G &o) {{ tag = o.tag; return *this; }}\n"
                f"  ~{p}G() {{ ++{p}dtor; {p}dsum = ({p}dsum + tag) & 0xffff;{dtor_state} }}\n"
                f"}};")
            out.append(f"static long ck(const {p}G &g) {{ return g.tag; }}")
        if self.on("b-try"):
            # Thrown by the boundary functions and the entry: a class derived
            # from a standard one (it crosses a boundary as std::runtime_error)
            # and one that is no std::exception at all.
            out.append(f"struct {p}E : std::runtime_error {{\n"
                       f"  explicit {p}E(long c) : std::runtime_error(\"{p}E \" + std::to_string(c)) {{}}\n"
                       f"}};")
            out.append(f"struct {p}X {{ long v; }};")
        if self.on("b-try") and self.on("b-own"):
            # Classes of the program that handlers around boundaries catch:
            # they cross as themselves (a subclass of a standard exception
            # made from its message, one derived from it, plain data).
            out.append(f"struct {p}Own : std::runtime_error {{\n"
                       f"  using std::runtime_error::runtime_error;\n"
                       f"}};")
            out.append(f"struct {p}OwnSub : {p}Own {{\n"
                       f"  explicit {p}OwnSub(const std::string &m) : {p}Own(m) {{}}\n"
                       f"}};")
            out.append(f"struct {p}OwnData {{\n"
                       f"  long v;\n"
                       f"  std::string note;\n"
                       f"  const char *what() const {{ return note.c_str(); }}\n"
                       f"}};")
            out.append(f"static long ck(const {p}OwnData &d) {{ return (ck(d.note) + d.v) & 0xffff; }}")
        # Boundary functions: a different memory profile from the entry's.
        count = rng.randint(1, 3)
        for i in range(count):
            name = f"{p}b{i}"
            mem = rng.choice(self.MEMORIES)
            if i == 0:
                self.mem0 = mem
            elif self.on("b-nested") and mem == self.mem0:
                mem = 8192
            k1, k2 = rng.randrange(3, 40), rng.randrange(100)
            body = f"  long r = (x * {k1} + {k2}) & 0xffff;\n"
            throws = writes = False
            if i > 0 and self.on("b-nested") and self.chance(0.5):
                # Its own profile differs from the callee's: a boundary too.
                nested = f"r = (r + {self.bfuncs[0]}(x ^ {k2})) & 0xffff;"
                if self.on("b-try") and self.chance(0.4):
                    nested = self.callee_try(nested)
                body += "".join(f"  {t}\n" for t in nested.split("\n"))
                throws, writes = self.bthrows[self.bfuncs[0]], self.bwrites[self.bfuncs[0]]
            if self.on("state-callee") and self.on("state-scalar") and self.chance(0.5):
                body += f"  {p}s = ({p}s + r) & 0xffff;\n"
                writes = True
            if self.on("b-try"):
                # Rarely, by its argument; before or after its state write.
                m = self.rng.choice([13, 17, 19, 23, 29])
                res = self.rng.randrange(m)
                self.throwers[name] = (m, res)
                throw = f"  if (x % {m} == {res})\n    throw {self.thrown(name, 'x')};\n"
                body = throw + body if self.chance(0.5) else body + throw
                throws = True
            self.bthrows[name], self.bwrites[name] = throws, writes
            out.append(f'CLEAVE_FUNCTION("memory={mem}") long {name}(long x) {{\n{body}  return r;\n}}')
            self.bfuncs.append(name)
        if self.on("b-helper"):
            for i in range(rng.randint(1, 2)):
                name = f"{p}h{i}"
                b = rng.choice(self.bfuncs)
                k = rng.randrange(1, 50)
                if self.chance(0.5):
                    body = (f"  long t = {b}(x ^ {k});\n"
                            f"  return (t + x) & 0xffff;\n")
                else:
                    body = (f"  if (x % 3 == {rng.randrange(3)})\n"
                            f"    return {b}(x + {k});\n"
                            f"  return (x * {k}) & 0xffff;\n")
                if self.on("b-try") and self.chance(0.3):
                    # A function-try-block: its handlers see the parameter,
                    # and each returns or throws again.
                    handlers = self.handler_clauses(
                        0.2, lambda e: f"return (ck({e}.what()) + x * {rng.randrange(1, 9)}) & 0xffff;",
                        lambda: f"return (x + {rng.randrange(1000)}) & 0xffff;")
                    out.append(f"static long {name}(long x) try {{\n{body}}}{handlers}")
                else:
                    out.append(f"static long {name}(long x) {{\n{body}}}")
                self.helpers.append(name)
        if self.on("state-helper"):
            for name, kind in self.state:
                if kind == "long":
                    out.append(f"static void {p}add(long d) {{ {name} = ({name} + d) & 0xffff; }}")
                    out.append(f"static long {p}get() {{ return {name}; }}")
                elif kind == "map":
                    out.append(f"static void {p}put(long k, long v) {{ {name}[std::to_string(k % 8)] = v & 0xffff; }}")
                    out.append(f"static long {p}at(long k) {{ auto it = {name}.find(std::to_string(k % 8)); return it == {name}.end() ? 0 : it->second; }}")
                elif kind == "vector":
                    out.append(f"static void {p}push(long v) {{ if ({name}.size() < 12) {name}.push_back(v & 0xffff); else {name}[v % {name}.size()] = v & 0xffff; }}")
        if self.on("state-template"):
            for name, kind in self.state:
                if kind == "long":
                    out.append(f"template <class T> void {p}tadd(T d) {{ {name} = ({name} + static_cast<long>(d)) & 0xffff; }}")
                elif kind == "map":
                    out.append(f"template <class K, class V> void {p}tput(K k, V v) {{ {name}[std::to_string(static_cast<long>(k) % 8)] = static_cast<long>(v) & 0xffff; }}")
                    out.append(f"template <class K> long {p}tat(K k) {{ auto it = {name}.find(std::to_string(static_cast<long>(k) % 8)); return it == {name}.end() ? 0 : it->second; }}")
                elif kind == "vector":
                    out.append(f"template <class T> long {p}tsum(const T &c) {{ long h = 0; for (long e : c) h = (h + e) & 0xffff; return h; }}")
        # b-inout and b-member in about half of the units each, to keep
        # programs (and the batch) small.
        if self.on("b-inout") and self.chance(0.5):
            out += self.build_inout()
        if self.on("b-member") and self.chance(0.5):
            out += self.build_member()
        return out

    # What may be thrown (b-try), weighted: standard classes, a class derived
    # from one, std::exception itself, and things that are no std::exception.
    THROWN = ["out_of_range"] * 3 + ["invalid_argument"] * 2 + ["runtime_error"] * 2 + [
        "logic_error", "domain_error", "length_error", "range_error", "overflow_error",
        "E", "exception", "bad_alloc", "int", "X"]

    # Handlers around boundaries: the class, its rank (a handler never
    # follows one of a lower rank that would hide it: `...` last).
    HANDLERS = [("std::out_of_range", 0), ("std::invalid_argument", 0),
                ("std::logic_error", 1), ("std::runtime_error", 1),
                ("std::exception", 2), ("...", 3)]

    def thrown(self, who, value):
        """The operand of a throw of a random kind, with value in its message."""
        kinds = self.THROWN + (["Own", "Own", "OwnSub", "OwnSub", "OwnData", "OwnData"]
                               if self.on("b-own") else [])
        kind = self.rng.choice(kinds)
        if kind in ("Own", "OwnSub"):
            return f'{self.p}{kind}("{who} {kind} " + std::to_string({value}))'
        if kind == "OwnData":
            return f'{self.p}OwnData{{{value}, "{who} OwnData"}}'
        if kind == "E":
            return f"{self.p}E({value})"
        if kind == "X":
            return f"{self.p}X{{{value}}}"
        if kind == "int":
            return f"static_cast<int>({value})"
        if kind in ("exception", "bad_alloc"):
            return f"std::{kind}()"
        return f'std::{kind}("{who} {kind} " + std::to_string({value}))'

    def handler_decls(self):
        """1 to 3 handlers, in an order where none hides a later one:
        [(the declaration in catch (...), the exception's name or None)]."""
        handlers, weights = list(self.HANDLERS), [3, 1, 3, 3, 3, 3]
        if self.on("b-own"):
            handlers += [(f"{self.p}OwnSub", 0), (f"{self.p}Own", 0.5), (f"{self.p}OwnData", 0)]
            weights += [2, 3, 2]
        chosen = []
        for _ in range(self.rng.randint(1, 3)):
            h = self.rng.choices(handlers, weights)[0]
            if h not in chosen:
                chosen.append(h)
        if self.chance(0.4):
            # Mostly a handler that takes whatever comes, last.
            h = self.rng.choice(self.HANDLERS[-2:])
            if h not in chosen:
                chosen.append(h)
        chosen.sort(key=lambda h: h[1])
        out = []
        for cls, _ in chosen:
            if cls == "...":
                out.append(("...", None))
                continue
            e = self.fresh("e")
            if cls not in ("std::exception", f"{self.p}Own") and self.chance(0.1):
                out.append((f"{cls} {e}", e))  # by value: a copy of the class
            else:
                out.append((f"const {cls} &{e}", e))
        return out

    def callee_try(self, stmt):
        """stmt (a boundary call in a boundary function, assigning r) in a
        try statement whose handlers fold the exception into r."""
        return f"try {{\n  {stmt}\n}}" + self.handler_clauses(
            0.15, lambda e: f"r = (r + ck({e}.what())) & 0xffff;",
            lambda: f"r = (r + {self.rng.randrange(1000)}) & 0xffff;")

    def handler_clauses(self, rethrow, with_exc, without):
        """` catch (...) {...}` clauses from handler_decls(): each throws
        again (with probability rethrow), or runs with_exc(e) when it names
        the exception, otherwise without()."""
        text = ""
        for decl, e in self.handler_decls():
            if self.chance(rethrow):
                what = "throw;"
            elif e:
                what = with_exc(e)
            else:
                what = without()
            text += f" catch ({decl}) {{\n  {what}\n}}"
        return text

    def state_checksum(self):
        """An expression of this unit's state and counters."""
        p = self.p
        return checksum([name for name, _ in self.state] + [p + "ctor", p + "dtor", p + "dsum"])

    # --- in-out parameters and member functions (b-inout, b-member) -------

    def boundary_callee(self):
        """A function of one long that reaches a boundary: a boundary
        function or (b-helper) a plain helper that reaches one."""
        return self.rng.choice(self.bfuncs + [h for h in self.helpers if "::" not in h])

    def inout_throw(self, who, cond_value, indent="  "):
        """b-try: at times a throw after the parameter was changed, so that
        the caller sees the change through its handler."""
        if not self.on("b-try") or not self.chance(0.4):
            return ""
        m = self.rng.choice([7, 11, 13])
        return (f"{indent}if ({cond_value} % {m} == {self.rng.randrange(m)})\n"
                f"{indent}  throw {self.thrown(who, cond_value)};\n")

    def build_inout(self):
        """A struct R (two longs and a vector that is never empty) and
        helpers that reach a boundary taking a long & or an R & parameter,
        change it before and after their boundary calls, pass it (or a
        member or element of it) on to earlier in-out helpers, and at times
        throw after changing it."""
        p, rng = self.p, self.rng
        out = [f"struct {p}R {{ long a = 0; long b = 0; std::vector<long> v; }};",
               f"static long ck(const {p}R &r) {{ return (r.a * 5 + r.b * 3 + ck(r.v)) & 0xffff; }}"]
        for i in range(rng.randint(2, 4)):
            name = f"{p}io{i}"
            kind = "long" if i == 0 else "R" if i == 1 else rng.choice(["long", "R"])
            earlier = list(self.inouts)
            body = "  long t = y;\n"
            if kind == "long":
                sig = f"long &x, long y"
                places = ["x"]
                body += f"  x = (x * {rng.randrange(2, 9)} + y) & 0xffff;\n"
            else:
                sig = f"{p}R &r, long y"
                places = ["r.a", "r.b", "r.v[y % r.v.size()]", "r.v.at(y % r.v.size())"]
                body += f"  r.a = (r.a + y * {rng.randrange(1, 9)}) & 0xffff;\n"
                body += "  if (r.v.size() < 6)\n    r.v.push_back((r.a + t) & 0xffff);\n"
            for _ in range(rng.randint(1, 3)):
                # A boundary call (reading the parameter), or the parameter
                # passed on to an earlier in-out helper.
                passes = [(f, k) for f, k in earlier if k == "long" or kind == "R"]
                if passes and self.chance(0.5):
                    f, k = rng.choice(passes)
                    place = "r" if k == "R" else rng.choice(places)
                    body += f"  t = (t + {f}({place}, t)) & 0xffff;\n"
                else:
                    place = rng.choice(places[:2])
                    body += f"  t = (t + {self.boundary_callee()}({place} ^ {rng.randrange(100)})) & 0xffff;\n"
                # Changed again after the call.
                place = rng.choice(places)
                body += f"  {place} = ({place} + t * {rng.randrange(1, 9)}) & 0xffff;\n"
                body += self.inout_throw(name, places[0])
            body += f"  return (t ^ {places[0]}) & 0xffff;\n"
            if i > 0 and self.chance(0.25):
                # A boundary function of its own, with an in-out parameter.
                head = f'CLEAVE_FUNCTION("memory={rng.choice(self.MEMORIES)}") long'
            else:
                head = "static long"
            out.append(f"{head} {name}({sig}) {{\n{body}}}")
            self.inouts.append((name, kind))
        return out

    def build_member(self):
        """A class C with private data, a private alias and constant, a
        constructor and at times a destructor that count, whose non-const,
        const and static member functions reach boundaries (and the unit's
        state), one calling another on its own object; a plain struct T
        with a member function that reaches one; and a class D that holds a
        C and a vector of T and calls them as members and elements."""
        p, rng = self.p, self.rng
        C, D, T = p + "C", p + "D", p + "T"
        kk = rng.randrange(2, 9)
        state = [n for n, k in self.state if k == "long"]
        dtor = self.chance(0.6)
        # add: non-const, reaches a boundary, changes the object around it.
        add = (f"  Num t = (x + base_ * kK) & 0xffff;\n"
               f"  if (hist_.size() < 6)\n    hist_.push_back(t);\n"
               f"  t = (t + {self.boundary_callee()}(t ^ {rng.randrange(100)})) & 0xffff;\n"
               f"  base_ = (base_ ^ t) & 0xffff;\n")
        if self.inouts and self.chance(0.5):
            # A member of its own object passed to an in-out helper.
            f, k = rng.choice(self.inouts)
            if k == "long":
                place = rng.choice(["base_", "hist_[x % hist_.size()]"])
                add += f"  t = (t + {f}({place}, x)) & 0xffff;\n"
        if state and self.chance(0.5):
            add += f"  {state[0]} = ({state[0]} + t) & 0xffff;\n"
        add += self.inout_throw(C + "::add", "base_")
        add += "  return t;\n"
        # run: calls add on its own object, twice.
        this1 = rng.choice(["", "this->"])
        this2 = rng.choice(["", "this->"])
        run = (f"    Num r = {this1}add(x);\n"
               f"    r = (r + {this2}add((x + r) & 0xffff)) & 0xffff;\n"
               f"    return (r + static_cast<Num>(hist_.size())) & 0xffff;\n")
        peek = f"    return ({self.boundary_callee()}(x ^ base_) + kK + static_cast<Num>(hist_.size())) & 0xffff;\n"
        fee = f"    return ({self.boundary_callee()}(x) * kK) & 0xffff;\n"
        outside = self.chance(0.5)
        self.pull = self.on("b-inout") and self.chance(0.7)
        lines = [f"class {C} {{",
                 "public:",
                 f"  explicit {C}(long s) : base_(s & 0xffff), hist_{{(s * 3) & 0xffff}} {{ ++{p}ctor; }}"]
        if dtor:
            lines.append(f"  ~{C}() {{ ++{p}dtor; {p}dsum = ({p}dsum + base_) & 0xffff; }}")
        if outside:
            lines.append("  long add(long x);")
        else:
            lines.append(f"  long add(long x) {{\n" + "".join("  " + t + "\n" for t in add.rstrip("\n").split("\n")) + "  }")
        if self.pull:
            # b-inout: an in-out parameter beside the object.
            lines.append(f"  long pull(long &x) {{\n"
                         f"    x = (x + base_) & 0xffff;\n"
                         f"    Num t = {self.boundary_callee()}(x);\n"
                         f"    hist_.push_back(t);\n    hist_.erase(hist_.begin());\n"
                         f"    x = (x ^ t) & 0xffff;\n"
                         + self.inout_throw(C + "::pull", "x", "    ") +
                         f"    return (t + kK) & 0xffff;\n  }}")
        lines += [f"  long run(long x) {{\n{run}  }}",
                  f"  long peek(long x) const {{\n{peek}  }}",
                  f"  static long fee(long x) {{\n{fee}  }}",
                  "  long sum() const {\n    long h = base_;\n    for (Num e : hist_)\n"
                  "      h = (h * 5 + e) & 0xffff;\n    return h;\n  }",
                  "",
                  "private:",
                  "  using Num = long;",
                  f"  static constexpr Num kK = {kk};",
                  "  Num base_;",
                  "  std::vector<Num> hist_;",
                  "};"]
        out = ["\n".join(lines)]
        if outside:
            out.append(f"long {C}::add(long x) {{\n{add}}}")
        out.append(f"static long ck(const {C} &c) {{ return c.sum(); }}")
        out.append(f"struct {T} {{\n"
                   f"  long cash = 0;\n"
                   f"  long take(long x) {{\n"
                   f"    cash = (cash + {self.boundary_callee()}(x ^ cash)) & 0xffff;\n"
                   f"    return cash;\n  }}\n}};")
        out.append(f"static long ck(const std::vector<{T}> &v) {{\n"
                   f"  long h = static_cast<long>(v.size());\n"
                   f"  for (const {T} &t : v)\n    h = (h * 3 + t.cash) & 0xffff;\n  return h;\n}}")
        n = rng.randint(1, 3)
        out.append(f"class {D} {{\n"
                   f"public:\n"
                   f"  explicit {D}(long s) : main_(s ^ {rng.randrange(100)}), items_({n}) {{}}\n"
                   f"  long work(long x) {{\n"
                   f"    long r = main_.add(x);\n"
                   f"    for (long i = 0; i < {n}; ++i)\n"
                   f"      r = (r + items_[i].take((x + i) & 0xffff)) & 0xffff;\n"
                   f"    return (r + main_.{rng.choice(['peek', 'run'])}(x)) & 0xffff;\n"
                   f"  }}\n"
                   f"  long look(long x) const {{ return (main_.peek(x) + items_[x % {n}].cash) & 0xffff; }}\n"
                   f"  long sum() const {{ return (ck(main_) * 7 + ck(items_)) & 0xffff; }}\n\n"
                   f"private:\n"
                   f"  {C} main_;\n"
                   f"  std::vector<{T}> items_;\n"
                   f"}};")
        out.append(f"static long ck(const {D} &d) {{ return d.sum(); }}")
        self.helpers.append(f"{C}::fee")
        self.members = True
        return out

    def place_index(self, size, avoid=()):
        """An index below size, free of side effects, reading no variable
        in avoid."""
        opts = [str(self.rng.randrange(1000)), "a", "b"]
        opts += [v.name for v in self.visible(lambda v: v.kind == "int" and not v.mutable)]
        opts = [o for o in opts if o not in avoid]
        return f"{self.rng.choice(opts)} % {size}"

    def long_places(self):
        """Where a long & argument may point: (text, the variable)."""
        places = [("a", "a"), ("b", "b")]
        for v in self.visible(lambda v: v.mutable and not v.frozen):
            if v.kind == "long":
                places.append((v.name, v.name))
            elif v.kind == "struct":
                places.append((f"{v.name}.{self.rng.choice(['x', 'y'])}", v.name))
            elif v.kind == "pair":
                places.append((f"{v.name}.{self.rng.choice(['first', 'second'])}", v.name))
            elif v.kind == "vector" and v.minsize:
                i = self.place_index(v.minsize)
                places.append((self.rng.choice([f"{v.name}[{i}]", f"{v.name}.at({i})"]), v.name))
            elif v.kind == "R":
                i = self.place_index(v.minsize)
                places.append((self.rng.choice([f"{v.name}.a", f"{v.name}.b", f"{v.name}.v[{i}]",
                                                f"{v.name}.v.at({i})"]), v.name))
        return places

    def inout_call_stmt(self, lines, indent, call, root):
        """A statement of call (which changes root), then root folded into
        acc. Only constants and locals the call does not change beside it."""
        form = self.rng.randrange(4 if self.on("b-operand") else 3)
        if form == 3:
            # Made only sometimes: the object comes back only then.
            c = self.expr(1, pure=True)
            other = self.expr(1, pure=True)
            if self.chance(0.5):
                self.emit(lines, indent, f"acc = mix(acc, ({c} % 2 == 0 ? {call} : {other}));")
            else:
                self.emit(lines, indent, f"acc = mix(acc, ({c} % 3 != 0 && {call} % 2 == 1) ? {other} : 5);")
        elif form == 0:
            self.emit(lines, indent, f"acc = mix(acc, {call});")
        elif form == 1:
            name = self.fresh("v")
            self.emit(lines, indent, f"long {name} = {call};")
            self.declare(Var(name, "long"))
        else:
            self.emit(lines, indent, f"{call};")
        self.emit(lines, indent, f"acc = mix(acc, ck({root}));")

    def st_inout(self, depth, lines, indent):
        """A call of an in-out helper on a local, a parameter, a member or
        an element of one."""
        f, kind = self.rng.choice(self.inouts)
        if kind == "R":
            rs = self.visible(lambda v: v.kind == "R" and v.mutable)
            if not rs or self.chance(0.3):
                name = self.fresh("r")
                k = self.rng.randint(1, 3)
                items = ", ".join(self.expr(1) for _ in range(k))
                self.emit(lines, indent, f"{self.p}R {name}{{{self.expr(1)}, {self.expr(1)}, {{{items}}}}};")
                r = self.declare(Var(name, "R"))
                r.minsize = k
            else:
                r = self.rng.choice(rs)
            place, root = r.name, r.name
        else:
            place, root = self.rng.choice(self.long_places())
        arg = self.expr(1, pure=True)
        self.inout_call_stmt(lines, indent, f"{f}({place}, {arg})", root)

    def st_member(self, depth, lines, indent):
        """A local object of the unit's classes (or a vector of T) and a
        call of a member function of it, or of the static one."""
        p = self.p
        objs = self.visible(lambda v: v.kind in ("C", "D", "Tvec"))
        if not objs or self.chance(0.3):
            kind = self.rng.choice(["C", "C", "D", "Tvec"])
            name = self.fresh("o")
            if kind == "Tvec":
                k = self.rng.randint(1, 3)
                self.emit(lines, indent, f"std::vector<{p}T> {name}({k});")
            else:
                self.emit(lines, indent, f"{p}{kind} {name}({self.expr(1)});")
            o = self.declare(Var(name, kind))
            if kind == "Tvec":
                o.minsize = k
        else:
            o = self.rng.choice(objs)
        arg = self.expr(1, pure=True)
        if o.kind == "C":
            m = self.rng.choice(["add", "add", "run", "peek", "fee"] + (["pull", "pull"] if self.pull else []))
            call = f"{p}C::fee({arg})" if m == "fee" else f"{o.name}.{m}({arg})"
            if m == "pull":
                places = [(t, r) for t, r in self.long_places() if r != o.name]
                place, root = self.rng.choice(places)
                call = f"{o.name}.pull({place})"
                self.inout_call_stmt(lines, indent, call, o.name)
                self.emit(lines, indent, f"acc = mix(acc, ck({root}));")
                return
        elif o.kind == "D":
            call = f"{o.name}.{self.rng.choice(['work', 'work', 'look'])}({arg})"
        else:
            call = f"{o.name}[{self.place_index(o.minsize)}].take({arg})"
        self.inout_call_stmt(lines, indent, call, o.name)

    # --- expressions ------------------------------------------------------

    def leaf(self, pure):
        """A value in [0, 0xffff]. Returns (text, reads_globals)."""
        rng = self.rng
        choices = ["const", "param", "param", "var", "var", "var"]
        if not pure and self.state:
            choices.append("state")
        if not pure and self.uses_raii:
            choices.append("counter")
        c = rng.choice(choices)
        if c == "var":
            vs = self.visible()
            if vs:
                v = rng.choice(vs)
                return f"ck({v.name})", False
            c = "param"
        if c == "const":
            return str(rng.randrange(1000)), False
        if c == "param":
            return rng.choice(["a", "b"]), False
        if c == "counter":
            return f"ck({self.p}{rng.choice(['ctor', 'dtor', 'dsum'])})", True
        name, kind = rng.choice(self.state)
        p = self.p
        if kind == "long":
            opts = [f"ck({name})"]
            if self.on("state-helper"):
                opts.append(f"{p}get()")
        elif kind == "map":
            k = rng.randrange(8)
            opts = [f"ck({name})", f"({name}.count(\"{k}\") ? {name}[\"{k}\"] : 0)"]
            if self.on("state-helper"):
                opts.append(f"{p}at({k})")
            if self.on("state-template"):
                opts.append(f"{p}tat({k})")
        else:
            opts = [f"ck({name})", f"({name}.empty() ? 7 : {name}.back())"]
            if self.on("state-template"):
                opts.append(f"{p}tsum({name})")
        return rng.choice(opts), True

    def expr(self, depth=2, pure=False):
        """A side-effect-free expression in [0, 0xffff]; with pure=False it
        may read globals. Returns the text."""
        if depth <= 0 or self.chance(0.35):
            return self.leaf(pure)[0]
        a = self.expr(depth - 1, pure)
        b = self.expr(depth - 1, pure)
        op = self.rng.choice(["+", "*", "^", "|", "%"])
        if op == "%":
            return f"({a} % ({b} % 13 + 1))"
        return f"(({a} {op} {b}) & 0xffff)"

    def call(self, arg=None):
        """A call that reaches a boundary, with a pure argument: a boundary
        function, a helper that reaches one, or (b-arg) a call of a call.
        Its value is in [0, 0xffff]."""
        if arg is None:
            arg = self.expr(1, pure=True)
        opts = list(self.bfuncs)
        if self.helpers:
            opts += self.helpers
        f = self.rng.choice(opts)
        if self.on("b-arg") and self.chance(0.25):
            inner = self.rng.choice(self.bfuncs)
            return f"{f}({inner}({self.steer(inner, arg)}))"
        return f"{f}({self.steer(f, arg)})"

    def steer(self, f, arg):
        """In a try block (b-try), at times an argument that makes boundary
        function f throw one time in two, so that handlers run often.
        Outside, a constant argument never makes it throw: the entry would
        answer every call with 500."""
        if f not in self.throwers:
            return arg
        m, r = self.throwers[f]
        if not self.in_try:
            return str(int(arg) + 1) if arg.isdigit() and int(arg) % m == r else arg
        if not self.chance(0.7):
            return arg
        return f"({arg} % 2 == 0 ? {m * self.rng.randrange(20) + r} : {arg})"

    def maybe_call_expr(self, feature):
        """For a statement whose form is `feature`: an expression that holds
        a boundary call when the feature is on (and the dice say so),
        otherwise a plain expression. Only pure leaves beside a call, so that
        the order of evaluation never matters."""
        if self.on(feature) and (self.force_call or self.chance(0.5)):
            self.force_call = False
            c = self.call()
            if self.on("b-operand") and self.chance(0.3):
                # Evaluated only sometimes: the deployment must call exactly
                # when the plain program does.
                p = self.expr(1, pure=True)
                other = self.expr(1, pure=True)
                form = self.rng.randrange(4)
                if form == 0:
                    return f"({p} % 2 == 0 ? {c} : {other})", True
                if form == 1:
                    return f"({p} % 2 == 0 ? {other} : {c})", True
                if form == 2:
                    return f"(({p} % 3 != 0 && {c} % 2 == 1) ? {other} : 7)", True
                return f"(({p} % 3 == 0 || {c} % 2 == 1) ? {other} : 9)", True
            if self.chance(0.4):
                other = self.expr(1, pure=True)
                return f"(({c} + {other}) & 0xffff)", True
            return c, True
        return self.expr(), False

    # --- statements -------------------------------------------------------

    def block(self, depth, lines, indent):
        """Generates statements into lines until the budget is spent."""
        n = self.rng.randint(1, 4)
        for _ in range(n):
            if self.budget <= 0:
                break
            self.statement(depth, lines, indent)

    def emit(self, lines, indent, text):
        for t in text.split("\n"):
            lines.append("  " * indent + t)

    def scoped(self, depth, lines, indent, head, tail="}"):
        self.emit(lines, indent, head)
        self.scopes.append([])
        self.block(depth + 1, lines, indent + 1)
        self.scopes.pop()
        self.emit(lines, indent, tail)

    def mutable_vars(self, kinds):
        return self.visible(lambda v: v.mutable and not v.frozen and v.kind in kinds)

    def statement(self, depth, lines, indent):
        self.budget -= 1
        rng = self.rng
        kinds = ["decl", "decl", "assign", "acc", "acc", "container"]
        if self.state:
            kinds += ["state", "state"]
        if depth < 3:
            for f, k in [("if", "if"), ("for", "for"), ("while", "while"),
                         ("do", "do"), ("switch", "switch"),
                         ("range-vector", "rvec"), ("range-map", "rmap"),
                         ("range-set", "rset"), ("raii", "raiiblock")]:
                if self.on(f):
                    kinds.append(k)
        if self.loop_depth and (self.on("break") or self.on("continue")):
            kinds.append("jump")
        if self.on("early-return") and depth > 0:
            kinds.append("return")
        if self.on("parallel-map"):
            kinds.append("pmap")
        if self.on("b-compound"):
            kinds.append("compound")
        if any(self.on(f) for f in ("b-decl", "b-assign", "b-arg")):
            kinds += ["bcall", "bcall"]
        if self.on("b-try"):
            if depth < 3:
                kinds += ["try", "try"]
            if self.in_try:
                kinds += ["throw", "throw"]
            if self.visible(lambda v: v.kind == "exc"):
                kinds.append("what")
        if self.inouts:
            kinds += ["inout"] * 3
        if self.members:
            kinds += ["member"] * 3
        kind = rng.choice(kinds)
        getattr(self, "st_" + kind)(depth, lines, indent)

    def st_acc(self, depth, lines, indent):
        if self.on("b-arg") and self.chance(0.3):
            # The boundary as an argument of mix().
            self.emit(lines, indent, f"acc = mix(acc, {self.call()});")
        else:
            self.emit(lines, indent, f"acc = mix(acc, {self.expr()});")

    def st_bcall(self, depth, lines, indent):
        """A statement that surely reaches a boundary."""
        forms = [f for f in ("b-decl", "b-assign", "b-arg") if self.on(f)]
        if not forms:
            self.emit(lines, indent, f"acc = mix(acc, {self.call()});")
            return
        form = self.rng.choice(forms)
        if form == "b-arg":
            self.emit(lines, indent, f"acc = mix(acc, {self.call()});")
            return
        self.force_call = True
        if form == "b-decl":
            name = self.fresh("v")
            e, _ = self.maybe_call_expr("b-decl")
            self.emit(lines, indent, f"long {name} = {e};")
            self.declare(Var(name, "long"))
        else:
            self.st_assign(depth, lines, indent)
        self.force_call = False

    def st_assign(self, depth, lines, indent, compound=False):
        vs = self.mutable_vars(["long", "int"])
        if not vs:
            return self.st_acc(depth, lines, indent)
        v = self.rng.choice(vs)
        if not compound:
            e, _ = self.maybe_call_expr("b-assign")
            self.emit(lines, indent, f"{v.name} = {e};")
            return
        op = self.rng.choice(["+=", "^=", "|="])
        self.emit(lines, indent, f"{v.name} {op} {self.call()};")
        if op == "+=":
            self.emit(lines, indent, f"{v.name} &= 0xffff;")

    def st_compound(self, depth, lines, indent):
        self.st_assign(depth, lines, indent, compound=True)

    def decl_kinds(self):
        ks = ["long", "long"]
        for f in ["int", "double", "bool", "string", "pair", "tuple", "vector",
                  "set", "map", "struct", "nodefault", "raii"]:
            if self.on(f):
                ks.append(f)
        return ks

    def st_decl(self, depth, lines, indent):
        rng = self.rng
        kind = rng.choice(self.decl_kinds())
        name = self.fresh("v")
        e = self.expr()
        p = self.p
        use_auto = self.on("auto") and self.chance(0.3)
        if kind in ("long", "int"):
            e, _ = self.maybe_call_expr("b-decl")
            ty = "auto" if use_auto else kind
            if use_auto and kind == "int":
                e = f"static_cast<int>({e})"
            self.emit(lines, indent, f"{ty} {name} = {e};")
        elif kind == "double":
            self.emit(lines, indent, f"{'auto' if use_auto else 'double'} {name} = static_cast<double>({e} & 0xff) * 0.25;")
        elif kind == "bool":
            self.emit(lines, indent, f"{'auto' if use_auto else 'bool'} {name} = ({e} & 1) != 0;")
        elif kind == "string":
            init = f"std::to_string({e})"
            self.emit(lines, indent, f"{'auto' if use_auto else 'std::string'} {name} = {init};")
        elif kind == "pair":
            e2 = self.expr()
            if use_auto:
                self.emit(lines, indent, f"auto {name} = std::make_pair(static_cast<long>({e}), static_cast<long>({e2}));")
            else:
                self.emit(lines, indent, f"std::pair<long, long> {name}({e}, {e2});")
            self.declare(Var(name, "pair"))
            if self.on("bindings") and self.chance(0.5):
                x, y = self.fresh("v"), self.fresh("v")
                self.emit(lines, indent, f"auto [{x}, {y}] = {name};")
                self.declare(Var(x, "long", mutable=False))
                self.declare(Var(y, "long", mutable=False))
            return
        elif kind == "tuple":
            e2, e3 = self.expr(), self.expr()
            self.emit(lines, indent, f"std::tuple<long, long, long> {name}({e}, {e2}, {e3});")
            self.declare(Var(name, "tuple"))
            if self.on("bindings") and self.chance(0.5):
                xs = [self.fresh("v") for _ in range(3)]
                self.emit(lines, indent, f"auto [{', '.join(xs)}] = {name};")
                for x in xs:
                    self.declare(Var(x, "long", mutable=False))
            return
        elif kind == "vector":
            count = self.howmany(4)
            items = ", ".join(self.expr(1) for _ in range(count))
            self.emit(lines, indent, f"std::vector<long> {name}{{{items}}};")
            self.declare(Var(name, kind)).minsize = count
            return
        elif kind == "set":
            items = ", ".join(self.expr(1) for _ in range(self.howmany(4)))
            self.emit(lines, indent, f"std::set<long> {name}{{{items}}};")
        elif kind == "map":
            items = ", ".join(f"{{std::to_string({self.expr(1)} % 8), {self.expr(1)}}}" for _ in range(self.howmany(3)))
            self.emit(lines, indent, f"std::map<std::string, long> {name}{{{items}}};")
        elif kind == "struct":
            self.emit(lines, indent, f"{p}S {name}{{{e}, {self.expr()}, std::to_string({self.expr(1)})}};")
        elif kind == "nodefault":
            e, _ = self.maybe_call_expr("b-decl")
            if self.chance(0.3):
                # Elements without a default constructor, in a container.
                self.emit(lines, indent, f"std::vector<{p}N> {name}{{{p}N({e}), {p}N({self.expr(1)})}};")
                self.declare(Var(name, "nodefault-vec"))
                return
            self.emit(lines, indent, f"{p}N {name}({e});")
        elif kind == "raii":
            self.uses_raii = True
            self.emit(lines, indent, f"{p}G {name}({e});")
        self.declare(Var(name, kind))

    # How each kind of local is changed in place: n the variable, e and e2
    # values, f a member, p the unit's prefix.
    MUTATIONS = {
        "vector": "if ({n}.size() < 6)\n  {n}.push_back({e});",
        "set": "{n}.insert({e} % 16);",
        "map": "{n}[std::to_string({e} % 8)] = {e2};",
        "struct": "{n}.{f} = {e};",
        "string": "if ({n}.size() < 24)\n  {n} += std::to_string({e} % 10);",
        "nodefault": "{n} = {p}N({e});",
        "nodefault-vec": "if ({n}.size() < 6)\n  {n}.push_back({p}N({e}));",
        "double": "{n} = static_cast<double>({e} & 0xff) * 0.5;",
        "bool": "{n} = !{n};",
    }

    def st_container(self, depth, lines, indent):
        vs = self.mutable_vars(list(self.MUTATIONS))
        if not vs:
            return self.st_decl(depth, lines, indent)
        v = self.rng.choice(vs)
        self.emit(lines, indent, self.MUTATIONS[v.kind].format(
            n=v.name, e=self.expr(), e2=self.expr(1), f=self.rng.choice(["x", "y"]), p=self.p))

    def st_state(self, depth, lines, indent):
        rng = self.rng
        name, kind = rng.choice(self.state)
        p = self.p
        e = self.expr()
        how = ["direct"]
        if self.on("state-helper"):
            how.append("helper")
        if self.on("state-template"):
            how.append("template")
        h = rng.choice(how)
        if kind == "long":
            if h == "helper":
                self.emit(lines, indent, f"{p}add({e});")
            elif h == "template":
                self.emit(lines, indent, f"{p}tadd({e});")
            else:
                self.emit(lines, indent, f"{name} = ({name} + {e}) & 0xffff;")
        elif kind == "map":
            k = self.expr(1)
            if h == "helper":
                self.emit(lines, indent, f"{p}put({k}, {e});")
            elif h == "template":
                self.emit(lines, indent, f"{p}tput({k}, {e});")
            elif self.chance(0.2):
                self.emit(lines, indent, f"{name}.erase(std::to_string({k} % 8));")
            else:
                self.emit(lines, indent, f"{name}[std::to_string({k} % 8)] = {e};")
        else:
            if h == "helper":
                self.emit(lines, indent, f"{p}push({e});")
            else:
                self.emit(lines, indent, f"if ({name}.size() < 12)\n  {name}.push_back({e});\nelse\n  {name}[{e} % {name}.size()] = {self.expr(1)};")

    def cond(self, feature):
        e, has_call = self.maybe_call_expr(feature)
        return f"{e} % {self.rng.randint(2, 4)} == {self.rng.randrange(2)}"

    def st_if(self, depth, lines, indent):
        if self.on("b-cond-decl") and self.chance(0.25):
            # `if (long c = e)` or `if (init; long c = e)`: c, initialized by
            # a boundary call, is seen in both branches.
            c = self.fresh("c")
            e, _ = self.maybe_call_expr("b-cond-decl")
            init = f"long {self.fresh('k')} = {self.expr(1)}; " if self.chance(0.3) else ""
            self.emit(lines, indent, f"if ({init}long {c} = {e} % {self.rng.randint(2, 4)}) {{")
            for head in (None, "} else {") if self.chance(0.5) else (None,):
                if head:
                    self.emit(lines, indent, head)
                self.scopes.append([Var(c, "long", mutable=False)])
                self.emit(lines, indent + 1, f"acc = mix(acc, ck({c}));")
                self.block(depth + 1, lines, indent + 1)
                self.scopes.pop()
            self.emit(lines, indent, "}")
            return
        self.scoped(depth, lines, indent, f"if ({self.cond('b-cond')}) {{")
        if self.chance(0.5):
            lines.pop()
            self.scoped(depth, lines, indent, "} else {")

    def loop_body(self, depth, lines, indent, loop_vars=()):
        """The body of a loop, with its own scope holding loop_vars; a break
        in it leaves the loop, not an enclosing switch."""
        self.loop_depth += 1
        saved_switch, self.in_switch = self.in_switch, 0
        self.scopes.append(list(loop_vars))
        self.block(depth + 1, lines, indent + 1)
        self.scopes.pop()
        self.in_switch = saved_switch
        self.loop_depth -= 1

    def loop_counter(self, lines, indent, stem):
        """A loop counter declared before its loop: (name, bound)."""
        w = self.fresh(stem)
        self.emit(lines, indent, f"int {w} = 0;")
        self.declare(Var(w, "int", mutable=False))
        return w, self.rng.randint(1, 3)

    def loop_test(self, counter, bound):
        """A loop's condition: the counter's bound, and with b-loop at times
        a boundary call that may end the loop early."""
        if self.on("b-loop") and self.chance(0.4):
            c = self.call()
            return f"{counter} < {bound} && {c} % 5 != 4"
        return f"{counter} < {bound}"

    def st_for(self, depth, lines, indent):
        i = self.fresh("i")
        k = self.rng.randint(1, 3)
        inc = f"++{i}"
        if self.on("b-loop") and self.chance(0.3):
            inc = f"{i} += 1 + {self.call()} % 2"
        self.emit(lines, indent,
                  f"for (int {i} = 0; {self.loop_test(i, k)}; {inc}) {{")
        self.loop_body(depth, lines, indent, [Var(i, "int", mutable=False)])
        self.emit(lines, indent, "}")

    def st_while(self, depth, lines, indent):
        w, k = self.loop_counter(lines, indent, "w")
        self.emit(lines, indent, f"while ({self.loop_test(w, k)}) {{\n  ++{w};")
        self.loop_body(depth, lines, indent)
        self.emit(lines, indent, "}")

    def st_do(self, depth, lines, indent):
        w, k = self.loop_counter(lines, indent, "w")
        self.emit(lines, indent, f"do {{\n  ++{w};")
        self.loop_body(depth, lines, indent)
        self.emit(lines, indent, f"}} while ({self.loop_test(w, k)});")

    def st_switch(self, depth, lines, indent):
        e, _ = self.maybe_call_expr("b-switch")
        n = self.rng.randint(2, 4)
        self.emit(lines, indent, f"switch ({e} % {n}) {{")
        self.in_switch += 1
        cases = list(range(n))
        self.rng.shuffle(cases)
        chosen = cases[: self.rng.randint(1, n)]
        for j, c in enumerate(chosen):
            label = "default" if c == 0 and self.chance(0.5) else f"case {c}"
            self.emit(lines, indent, f"{label}: {{")
            self.scopes.append([])
            self.block(depth + 1, lines, indent + 1)
            self.scopes.pop()
            if j == len(chosen) - 1 or self.chance(0.8):
                self.emit(lines, indent + 1, "break;")
                self.emit(lines, indent, "}")
            else:
                self.emit(lines, indent, "}")
                self.emit(lines, indent + 1, "[[fallthrough]];")
        self.emit(lines, indent, "}")
        self.in_switch -= 1

    def range_for(self, depth, lines, indent, kinds, make):
        vs = self.visible(lambda v: v.kind in kinds)
        if not vs or self.chance(0.3):
            # A fresh container to walk.
            name = self.fresh("v")
            kind = kinds[0]
            items = ", ".join(self.expr(1) for _ in range(self.howmany(3)))
            if kind == "map":
                items = ", ".join(f"{{std::to_string({self.expr(1)} % 8), {self.expr(1)}}}" for _ in range(self.howmany(3)))
                self.emit(lines, indent, f"std::map<std::string, long> {name}{{{items}}};")
            else:
                self.emit(lines, indent, f"std::{kind}<long> {name}{{{items}}};")
            v = self.declare(Var(name, kind))
        else:
            v = self.rng.choice(vs)
        head, loopvars = make(v.name)
        v.frozen += 1
        self.emit(lines, indent, head)
        self.loop_body(depth, lines, indent,
                       [Var(x, "string" if x.startswith("k") else "long", mutable=False)
                        for x in loopvars])
        v.frozen -= 1
        self.emit(lines, indent, "}")

    def st_rvec(self, depth, lines, indent):
        def make(c):
            e = self.fresh("e")
            ref = self.rng.choice(["long", "auto"] + (["const long &"] if self.on("range-ref") else []))
            return f"for ({ref} {e} : {c}) {{", [e]
        self.range_for(depth, lines, indent, ["vector"], make)

    def st_rset(self, depth, lines, indent):
        def make(c):
            e = self.fresh("e")
            return f"for (long {e} : {c}) {{", [e]
        self.range_for(depth, lines, indent, ["set"], make)

    def st_rmap(self, depth, lines, indent):
        def make(c):
            k, v = self.fresh("k"), self.fresh("x")
            if self.on("bindings") and self.chance(0.5):
                return f"for (const auto &[{k}, {v}] : {c}) {{", [k, v]
            kv = self.fresh("kv")
            return (f"for (const std::pair<const std::string, long> &{kv} : {c}) {{\n"
                    f"  std::string {k} = {kv}.first;\n  long {v} = {kv}.second;"), [k, v]
        self.range_for(depth, lines, indent, ["map"], make)

    def st_raiiblock(self, depth, lines, indent):
        self.uses_raii = True
        g = self.fresh("g")
        self.emit(lines, indent, "{")
        self.scopes.append([])
        self.emit(lines, indent + 1, f"{self.p}G {g}({self.expr()});")
        self.declare(Var(g, "raii", mutable=False))
        self.block(depth + 1, lines, indent + 1)
        self.scopes.pop()
        self.emit(lines, indent, "}")

    def st_jump(self, depth, lines, indent):
        opts = [f for f in ["break", "continue"] if self.on(f)]
        j = self.rng.choice(opts)
        if j == "break" and self.in_switch:
            j = "continue" if self.on("continue") else None
        if j is None:
            return self.st_acc(depth, lines, indent)
        self.emit(lines, indent, f"if ({self.expr(1)} % 3 == 0)\n  {j};")

    def st_return(self, depth, lines, indent):
        e, _ = self.maybe_call_expr("b-return")
        self.emit(lines, indent, f"if ({self.expr(1)} % 4 == 1)\n  return mix(acc, {e});")

    def st_pmap(self, depth, lines, indent):
        vs = self.visible(lambda v: v.kind == "vector")
        fs = self.bfuncs
        if self.on("b-try"):
            # The elements after the one that throws run in the deployment
            # but not in the plain loop: only if they leave no trace.
            fs = [f for f in fs if not (self.bthrows[f] and self.bwrites[f])]
            if not fs:
                return self.st_decl(depth, lines, indent)
        f = self.rng.choice(fs)
        if vs and self.chance(0.6):
            src = self.rng.choice(vs).name
        else:
            src = self.fresh("v")
            items = ", ".join(self.expr(1) for _ in range(self.howmany(3)))
            self.emit(lines, indent, f"std::vector<long> {src}{{{items}}};")
            self.declare(Var(src, "vector"))
        name = self.fresh("v")
        ty = "auto" if self.on("auto-parallel-map") and self.chance(0.3) else "std::vector<long>"
        self.emit(lines, indent, f"{ty} {name} = cleave::parallel_map({src}, {f});")
        self.declare(Var(name, "vector"))

    def call_block(self, depth, lines, indent, with_call):
        """1 to 4 statements while the budget lasts; with_call: one of them,
        at a random place, surely reaches a boundary."""
        n = self.rng.randint(1, 4)
        at = self.rng.randrange(n) if with_call else -1
        for j in range(n):
            if j == at:
                self.st_bcall(depth, lines, indent)
            elif self.budget > 0:
                self.budget -= 1
                self.statement(depth, lines, indent)

    def fold_scope(self, lines, indent):
        """Folds the locals of the innermost scope into acc."""
        for v in self.scopes[-1]:
            if v.kind != "exc":
                self.emit(lines, indent, f"acc = mix(acc, ck({v.name}));")

    def st_try(self, depth, lines, indent):
        """A try statement, mostly around a boundary, with 1 to 3 handlers
        that fold the exception into acc, may reach boundaries themselves
        (with locals before and after), and may throw it again."""
        rng = self.rng
        self.emit(lines, indent, "try {")
        self.in_try += 1
        self.scopes.append([])
        self.call_block(depth + 1, lines, indent + 1, self.chance(0.8))
        self.fold_scope(lines, indent + 1)
        self.scopes.pop()
        self.in_try -= 1
        for decl, e in self.handler_decls():
            self.tags += 1
            self.emit(lines, indent, f"}} catch ({decl}) {{")
            self.scopes.append([Var(e, "exc", mutable=False)] if e else [])
            self.emit(lines, indent + 1, f"acc = mix(acc, {100 + self.tags});")
            if e:
                self.emit(lines, indent + 1, f"acc = mix(acc, ck({e}.what()));")
            if self.chance(0.3):
                # Locals on both sides of a boundary in the handler.
                self.st_decl(depth + 1, lines, indent + 1)
                self.st_bcall(depth + 1, lines, indent + 1)
                self.st_decl(depth + 1, lines, indent + 1)
            elif self.chance(0.6):
                self.call_block(depth + 1, lines, indent + 1, self.chance(0.5))
            if e and self.chance(0.5):
                self.emit(lines, indent + 1, f"acc = mix(acc, ck({e}.what()) + 1);")
            self.fold_scope(lines, indent + 1)
            if self.chance(0.25):
                self.emit(lines, indent + 1, f"if (acc % 3 == {rng.randrange(3)})\n  throw;")
            self.scopes.pop()
        self.emit(lines, indent, "}")

    def st_throw(self, depth, lines, indent):
        """Inside a try block: a throw of the entry's own, at times."""
        self.emit(lines, indent, f"if ({self.expr(1)} % 5 == {self.rng.randrange(5)})\n"
                  f"  throw {self.thrown(self.entry, self.expr(1))};")

    def st_what(self, depth, lines, indent):
        """In a handler: the what() of a caught exception, again."""
        e = self.rng.choice(self.visible(lambda v: v.kind == "exc")).name
        self.emit(lines, indent, f"acc = mix(acc, ck({e}.what()) ^ {self.rng.randrange(100)});")

    # --- the entry --------------------------------------------------------

    def render(self):
        out = [f"// unit {self.n} begin"]
        out += self.build_globals()
        lines = []
        self.scopes = [[]]
        self.budget = self.size
        while self.budget > 0:
            self.statement(0, lines, 1)
        # The result depends on everything still in scope and the counters.
        tail = ["acc = mix(acc, ck(" + v.name + "));" for v in self.scopes[0]]
        self.scopes = []
        tail.append(f"acc = mix(acc, {self.state_checksum()});")
        # b-try: at times the entry is a function-try-block, whose handlers
        # see the parameters and may reach a boundary.
        handlers = self.on("b-try") and self.chance(0.15)
        head = "try " if handlers else ""
        out.append(f'CLEAVE_ENTRY("{self.method} /{self.entry}") long {self.entry}(long a, long b) {head}{{')
        out.append("  long acc = 17;")
        out += lines
        out += ["  " + t for t in tail]
        out.append("  return acc;")
        if handlers:
            for decl, e in self.handler_decls():
                self.tags += 1
                value = self.call() if self.chance(0.5) else self.expr(1)
                if e:
                    value = f"mix(ck({e}.what()), {value})"
                out.append(f"}} catch ({decl}) {{")
                out.append(f"  return mix({100 + self.tags}, {value});")
        out.append("}")
        out.append(f"// unit {self.n} end")
        return "\n".join(out)


def generate(seed, features, units=10, size=12, header=""):
    """Returns the source text of one program."""
    rng = random.Random(seed)
    if not header:
        flags = ",".join(sorted(set(FEATURES) - set(features)))
        header = f" --seed {seed} --units {units} --size {size}"
        if flags:
            header += f" --no {flags}"
    parts = [PRELUDE.replace("{header}", header)]
    made = []
    for i in range(units):
        u = Unit(i, random.Random(rng.randrange(1 << 62)), features, size)
        parts.append(u.render())
        made.append(u)
    parts.append(render_tail([(u.n, u.entry, u.state_checksum()) for u in made]))
    return "\n\n".join(parts) + "\n"


def checksum(names):
    """mix() over ck() of every name."""
    e = "0"
    for name in names:
        e = f"mix({e}, ck({name}))"
    return e


def render_tail(units):
    """GET /state and the monolith's main() for units, a list of (index,
    entry name, checksum expression of the unit's state and counters)."""
    out = ["// tail begin",
           'CLEAVE_ENTRY("GET /state") std::map<std::string, long> state_sums() {',
           "  std::map<std::string, long> r;"]
    for n, entry, state in units:
        out.append(f'  r["{entry}"] = {state}; // unit {n}')
    out += ["  return r;", "}", "",
            "static long call_entry(const std::string &name, long a, long b) {"]
    for n, entry, _ in units:
        out.append(f'  if (name == "{entry}") return {entry}(a, b); // unit {n}')
    out += ["  return -1;", "}", "",
            "int main() { return runCalls(state_sums, call_entry); }",
            "// tail end"]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--units", type=int, default=10, help="entries in the program")
    ap.add_argument("--size", type=int, default=12, help="statements per entry (budget)")
    ap.add_argument("--no", default="", help="comma-separated features or groups to leave out")
    ap.add_argument("--only", default="", help="comma-separated features or groups to use (default all)")
    ap.add_argument("--list", action="store_true", help="list the features and exit")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    opts = ap.parse_args()
    if opts.list:
        for g, names in GROUPS.items():
            print(f"{g}:")
            for n in names:
                print(f"  {n:18} {FEATURES[n]}")
        return 0
    try:
        features = parse_features(opts.no, opts.only)
    except ValueError as e:
        ap.error(str(e))
    text = generate(opts.seed, features, opts.units, opts.size)
    if opts.output:
        with open(opts.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
