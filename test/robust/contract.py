#!/usr/bin/env python3
"""Checks the compiler's contract on a corpus of hostile inputs.

The contract of `cleave build`:

  exit 0  the deployment builds: every generated source compiles;
  exit 1  at least one located `file:line:col: error:` was printed;
  exit 2  a usage error (never for the command lines used here);

and it never crashes (a signal, another exit code, an LLVM fatal error)
and never hangs.

The corpus is made from a seed, deterministically (input N of seed S is
the same whatever the count or the number of jobs):

  mutants    the annotated programs under examples/ and test/ (their
             `// expected-...` lines stripped), with one to four mutations:
             identifiers renamed to hostile names (generated glue names,
             `S`, `Step`, `Reply`, `a__b`, standard macros, ...), user
             macros named like glue identifiers after the includes, the
             code wrapped in namespaces (also `cleave::rt`), parameter and
             state types changed, annotations duplicated, dropped or added,
             a boundary call moved into a constructor, a destructor, a
             default argument, a lambda, `if constexpr`, a statement
             expression, `decltype`, `sizeof`, a template argument, ...,
             many boundary calls in one statement, a UTF-8 byte order mark,
             damage (cut short, a token dropped, doubled or swapped);
  generated  small annotated programs written here, with the same
             features: hostile names and types for parameters, results,
             state and locals live across a boundary, deeply nested and
             exponentially long template types, names that meet in the glue
             (`a::b` beside `a__b`), declarations in namespace cleave.

Each input runs `cleave build --no-build -q -o OUT SOURCES -- -std=c++17
FLAGS` under a timeout (a hang). When it exits 0, every OUT/src/*.cpp must
pass `clang++-19 -fsyntax-only` with the flags of the handler library's
build (OUT/CMakeLists.txt: -std=gnu++17, CLEAVE_HANDLER_LIBRARY, the
runtime's include directory, each unit's own options), with a precompiled
header of cleave/handler.h built once per run. Every contract failure is
printed with the input, its class and the first lines of its errors, and
the input is kept in --keep with a README holding the command. The last
line is the summary:

  contract: N inputs (M mutants, G generated): B built, R refused, F failures
  in T s (C s of CPU)

and the exit status is 1 when anything failed. `make fuzz-compiler` runs
it on fresh seeds for a while; docs/testing.md says how to turn a kept
failure into a test.

Python standard library only.
"""

import argparse
import collections
import concurrent.futures
import glob
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

TIMEOUT = 30  # seconds for one compiler run: longer is a hang
MEMORY_KIB = 6 * 1024 * 1024  # address space of one compiler run
ERROR_LINES = 12  # lines of errors shown per failure
# Generated sources larger than OUTPUT_RATIO times the input, and than
# MAX_OUTPUT_MIB, are a failure of their own: output that grows out of
# proportion (exponentially in a type's depth, quadratically in calls)
# makes a library build that does not finish. A unit is ten to fifty
# times its source.
MAX_OUTPUT_MIB = 4
OUTPUT_RATIO = 200

LOCATED_ERROR = re.compile(r"^.+?:\d+:\d+: (?:fatal )?error: ", re.M)
# Errors that say the precompiled header did not fit the unit's flags.
PCH_TROUBLE = re.compile(r"precompiled header|PCH file|AST file|was compiled with|"
                         r"differs between the precompiled")
CRASH_TEXT = re.compile(r"PLEASE submit a bug report|Stack dump:|LLVM ERROR:|"
                        r"terminate called|Segmentation fault|Assertion .* failed")


# --- Lexing -------------------------------------------------------------------

TOKEN = re.compile(r"""
  (?P<ws>[ \t\r\f\v]+|\n)
| (?P<comment>//[^\n]*|/\*.*?\*/)
| (?P<str>(?:u8|u|U|L)?R"(?P<delim>[^()\\\s]{0,16})\(.*?\)(?P=delim)"
         |(?:u8|u|U|L)?"(?:\\.|[^"\\\n])*")
| (?P<chr>(?:u8|u|U|L)?'(?:\\.|[^'\\\n])+')
| (?P<num>\.?\d(?:[eEpP][+-]|[\w.'])*)
| (?P<id>[A-Za-z_$][\w$]*)
| (?P<punct>::|->|\.\.\.|&&|\|\||\+\+|--|[-+*/%&|^!=]=|<=|.)
""", re.S | re.X)
DIRECTIVE = re.compile(r"#(?:\\\n|[^\n])*")

KEYWORDS = set("""
alignas alignof asm auto bool break case catch char char16_t char32_t char8_t
class const const_cast constexpr continue decltype default delete do double
dynamic_cast else enum explicit export extern false float for friend goto if
inline int long mutable namespace new noexcept nullptr operator private
protected public register reinterpret_cast return short signed sizeof static
static_assert static_cast struct switch template this thread_local throw true
try typedef typeid typename union unsigned using virtual void volatile wchar_t
while final override _Float16 __int128 __attribute__ __extension__
""".split())
TYPE_WORDS = set("auto bool char char16_t char32_t char8_t double float int long "
                 "short signed unsigned void wchar_t const volatile".split())
BUILTIN_RUN = set("bool char double float int long short signed unsigned".split())
# Names a program uses from the libraries: renaming them breaks the program
# for a reason that says nothing about the compiler.
LIBRARY_NAMES = set("""
std cleave nlohmann main size push_back emplace_back begin end first second
insert find count at erase emplace value what c_str empty clear reserve back
front substr to_string move get reset release data append pop_back length
parallel_map x y key type value_type iterator const_iterator size_type
""".split())


def lex(text):
    """[kind, text] tokens that join back to text. A directive (with its
    continuation lines) is one token of kind 'pp'."""
    tokens, pos, line_start = [], 0, True
    while pos < len(text):
        if line_start and text[pos] == "#":
            m = DIRECTIVE.match(text, pos)
            tokens.append(["pp", m.group(0)])
            pos = m.end()
            continue
        m = TOKEN.match(text, pos)
        kind = "str" if m.group("str") is not None else m.lastgroup
        tokens.append([kind, m.group(0)])
        if kind == "ws":
            line_start = line_start or m.group(0) == "\n"
        elif kind != "comment" or "\n" in m.group(0):
            line_start = kind == "comment"
        pos = m.end()
    return tokens


def join(tokens):
    return "".join(t[1] for t in tokens)


def significant(tokens):
    return [i for i, t in enumerate(tokens) if t[0] not in ("ws", "comment", "pp")]


# --- A rough model of one file -------------------------------------------------


class Function:
    """A function defined at namespace scope."""

    def __init__(self, name, namespaces, start, params, body_end, annotations,
                 templated, qualified):
        self.name = name
        self.namespaces = namespaces  # enclosing named namespaces, outermost first
        self.start = start  # token index where its declaration starts
        self.params = params  # [(type text, is non-const reference)]
        self.body_end = body_end  # token index of the closing brace
        self.annotations = annotations  # {"CLEAVE_ENTRY", ...}
        self.templated = templated
        self.qualified = qualified  # defined as A::f (a member, out of class)

    def spelled(self):
        return "::" + "::".join(self.namespaces + [self.name])


class Model:
    """What the mutations need to know of a file, read from its tokens with
    the heuristics of a code editor: functions defined at namespace scope,
    annotations, state variables, declared names, where includes end."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.sig = significant(tokens)
        self.functions = []
        self.globals = []  # token index of namespace-scope variable declarations
        self.annotations = []  # (start, end) token index spans of CLEAVE_X(...)
        self.states = []  # names of CLEAVE_STATE variables
        self.declared = collections.Counter()
        self._read()

    def text(self, i):
        return self.tokens[i][1]

    def _matching(self, k, open_, close):
        """Index in self.sig of the token closing the one at sig index k."""
        depth = 0
        for j in range(k, len(self.sig)):
            t = self.text(self.sig[j])
            if t == open_:
                depth += 1
            elif t == close:
                depth -= 1
                if depth == 0:
                    return j
        return len(self.sig) - 1

    def _read(self):
        sig, text = self.sig, self.text
        # (kind, namespace names, where the declaration around an
        # initializer's braces started) of every open brace.
        stack = []
        head_start = 0  # sig index where the current declaration starts
        k = 0
        while k < len(sig):
            t = text(sig[k])
            if t in ("CLEAVE_ENTRY", "CLEAVE_FUNCTION", "CLEAVE_STATE") and \
                    k + 1 < len(sig) and text(sig[k + 1]) == "(":
                self.annotations.append((sig[k], sig[self._matching(k + 1, "(", ")")]))
            if t == "{":
                head = [text(sig[j]) for j in range(head_start, k)]
                kind, names = self._brace_kind(head, stack)
                if kind == "func" and all(s[0] == "ns" for s in stack):
                    self._function(head_start, k, stack)
                if kind == "init":
                    stack.append((kind, [], head_start))
                else:
                    stack.append((kind, names or [], None))
                    head_start = k + 1
            elif t == "}":
                saved = stack.pop()[2] if stack else None
                head_start = saved if saved is not None else k + 1
            elif t == ";":
                if all(s[0] == "ns" for s in stack):
                    self._declaration(head_start, k)
                head_start = k + 1
            elif t == "(" and (not stack or stack[-1][0] in ("ns", "class")):
                # A parenthesized part of a declaration (parameters, an
                # annotation) is read as a whole; braces inside it are
                # default arguments.
                end = self._matching(k, "(", ")")
                for j in range(k + 1, end):
                    self._declares(j)
                k = max(end, k + 1)  # a damaged file may end in "("
                continue
            self._declares(k)
            k += 1

    @staticmethod
    def _brace_kind(head, stack):
        if "namespace" in head:
            names = [w for w in head[head.index("namespace") + 1:]
                     if re.match(r"[A-Za-z_]", w)]
            return "ns", names
        if head[:2] == ["extern", '"C"'] or head[:2] == ["extern", '"C++"']:
            return "ns", []
        if "=" in head or (head and head[-1] in ("return", ",", "(")):
            return "init", None
        if any(w in ("struct", "class", "union", "enum") for w in head) and "(" not in head:
            return "class", None
        if head and (head[-1] in (")", "const", "noexcept", "override", "final",
                                  "mutable", "try", "&", "&&")
                     or (")" in head and "->" in head)):
            return "func", None
        if stack and stack[-1][0] in ("func", "block"):
            return "block", None
        return "init", None

    def _function(self, hs, k, stack):
        sig, text = self.sig, self.text
        words = [text(sig[j]) for j in range(hs, k)]
        # The declarator's parenthesis: the first one not after an
        # annotation, an attribute or a decltype.
        j, open_ = hs, None
        while j < k:
            w = text(sig[j])
            if w == "(":
                prev = text(sig[j - 1]) if j > hs else ""
                if re.match(r"[A-Za-z_]", prev) and prev not in (
                        "CLEAVE_ENTRY", "CLEAVE_FUNCTION", "CLEAVE_STATE", "decltype",
                        "alignas", "__attribute__", "noexcept", "sizeof", "annotate"):
                    open_ = j
                    break
                j = self._matching(j, "(", ")")
            elif w == "[" and j + 1 < k and text(sig[j + 1]) == "[":
                j = self._matching(j, "[", "]")
            j += 1
        if open_ is None:
            return
        name = text(sig[open_ - 1])
        close = self._matching(open_, "(", ")")
        params, cur, depth = [], [], 0
        for j in range(open_ + 1, close):
            w = text(sig[j])
            depth += w in ("<", "(", "[", "{") and 1 or 0
            depth -= w in (">", ")", "]", "}") and 1 or 0
            if w == "," and depth == 0:
                params.append(cur)
                cur = []
            else:
                cur.append(w)
        if cur:
            params.append(cur)
        if params == [["void"]]:
            params = []
        read = []
        for p in params:
            if "=" in p:
                p = p[:p.index("=")]
            if "..." in p:
                return
            if len(p) > 1 and re.match(r"[A-Za-z_]\w*$", p[-1]) and p[-1] not in KEYWORDS \
                    and p[-2] != "::":
                p = p[:-1]
            read.append((" ".join(p), "&" in p and "const" not in p))
        end = self._matching(k, "{", "}")
        # A function-try-block ends after its last handler.
        while end + 2 < len(sig) and text(sig[end + 1]) == "catch":
            end = self._matching(self._matching(end + 2, "(", ")") + 1, "{", "}")
        self.functions.append(Function(
            name, [n for s in stack for n in s[1]], sig[hs], read, sig[end],
            {w for w in words if w.startswith("CLEAVE_")}, "template" in words,
            open_ - 2 >= hs and text(sig[open_ - 2]) == "::"))

    def _declaration(self, hs, k):
        words = [self.text(self.sig[j]) for j in range(hs, k)]
        if not words or words[0] in ("using", "typedef", "template", "namespace", "extern",
                                     "static_assert", "friend", "struct", "class", "enum"):
            return
        if "CLEAVE_STATE" in words:
            names = [w for w in words[:words.index("=")] if re.match(r"[A-Za-z_]\w*$", w)] \
                if "=" in words else [w for w in words if re.match(r"[A-Za-z_]\w*$", w)]
            if names:
                self.states.append(names[-1])
        elif "(" not in words and len(words) >= 2:
            self.globals.append(self.sig[hs])

    def _declares(self, k):
        """Counts the identifier at sig index k if it looks declared here."""
        sig, text = self.sig, self.text
        w = text(sig[k])
        if not re.match(r"[A-Za-z_]\w*$", w) or w in KEYWORDS or w in LIBRARY_NAMES \
                or w.startswith("CLEAVE_") or w.startswith("__"):
            return
        prev = text(sig[k - 1]) if k else ""
        nxt = text(sig[k + 1]) if k + 1 < len(sig) else ""
        if prev in ("struct", "class", "union", "enum", "namespace") or \
                (prev == "using" and nxt == "="):
            self.declared[w] += 1
        elif nxt in ("(", "=", ";", "{", ",", ")", "[", ":") and prev not in ("::", ".", "->") and (
                prev in (">", "*", "&", "&&") or prev in TYPE_WORDS
                or (re.match(r"[A-Za-z_]\w*$", prev) and prev not in KEYWORDS)):
            self.declared[w] += 1

    def include_end(self):
        """Token index after the last #include before the first definition."""
        first_code = self.sig[0] if self.sig else len(self.tokens)
        best = 0
        for i, (kind, t) in enumerate(self.tokens):
            if kind == "pp" and re.match(r"#\s*include", t):
                if i < first_code or best == 0:
                    best = i + 1
        return best


# --- Programs -------------------------------------------------------------------


class Program:
    """Files (relative path: tokens), which of them are sources, the main
    one the structural mutations change, extra compiler flags, and what was
    done to it."""

    def __init__(self, origin, files, sources, main, flags):
        self.origin = origin
        self.files = files
        self.sources = sources
        self.main = main
        self.flags = flags
        self.mutations = []
        self.needs = set()  # standard headers the mutations need

    def model(self):
        return Model(self.files[self.main])

    def insert(self, index, text):
        self.files[self.main].insert(index, ["raw", text])

    def write(self, directory):
        for rel, tokens in self.files.items():
            path = os.path.join(directory, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(join(tokens))


INCLUDE = re.compile(r'#\s*include\s*([<"])([^>"]+)[>"]')
RUN_BUILD = re.compile(r"RUN:.*\bcleave build\b(.*)")


def run_line(path):
    """(extra sources, flags) of the first `cleave build` RUN line of a test."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = RUN_BUILD.search(line)
            if not m:
                continue
            words = m.group(1).split()
            here = os.path.dirname(path)
            words = [w.replace("%S", here) for w in words]
            cut = words.index("--") if "--" in words else len(words)
            sources = [w for w in words[:cut] if re.search(r"\.(cpp|cc|cxx)$", w)
                       and os.path.isfile(w)]
            flags = [w for w in words[cut + 1:] if re.match(r"-[ID]\S+$", w)]
            return sources, flags
    return [], []


def strip_expectations(text):
    """Removes -verify comments (`// expected-error {{...}}`), keeping lines."""
    text = re.sub(r"/\*\s*expected-[^*]*\*/", "", text)
    return re.sub(r"//\s*expected-[^\n]*", "", text)


def load_program(origin, main_path, other_sources, flags):
    """Reads a program, copying the headers it includes from the source
    tree, so that renames reach them too."""
    files, where = {}, {}
    include_dirs = [f[2:] for f in flags if f.startswith("-I")]
    out_flags = ["-I" + "%IN%"] + [f for f in flags if f.startswith("-D")]
    seen_dirs = set()

    def add(path, rel):
        if rel in files:
            return
        with open(path, encoding="utf-8", errors="replace") as f:
            text = strip_expectations(f.read())
        files[rel] = lex(text)
        where[rel] = path
        d = os.path.dirname(path)
        if d not in seen_dirs:
            seen_dirs.add(d)
            out_flags.append("-I" + d)
        for m in INCLUDE.finditer(text):
            quote, spelling = m.group(1), m.group(2)
            candidates = ([os.path.join(d, spelling)] if quote == '"' else []) + \
                [os.path.join(i, spelling) for i in include_dirs]
            for c in candidates:
                c = os.path.normpath(c)
                if os.path.isfile(c) and c.startswith(ROOT + os.sep) and \
                        os.sep + "runtime" + os.sep not in c and ".." not in spelling:
                    if quote == '"' and c == os.path.normpath(os.path.join(d, spelling)):
                        add(c, os.path.normpath(os.path.join(os.path.dirname(rel), spelling)))
                    else:
                        add(c, os.path.normpath(spelling))
                    break

    main_rel = os.path.basename(main_path)
    add(main_path, main_rel)
    sources = [main_rel]
    for s in other_sources:
        rel = os.path.basename(s)
        if rel in files and where[rel] != s:
            rel = "other_" + rel
        add(s, rel)
        if rel not in sources:
            sources.append(rel)
    out_flags += [f for f in flags if f.startswith("-I")]
    return Program(origin, files, sources, main_rel, out_flags)


def seed_programs(root):
    """(origin, loader) of every annotated program under examples/ and test/."""
    out = []
    rel = lambda p: os.path.relpath(p, root)  # noqa: E731
    for path in sorted(glob.glob(os.path.join(root, "examples", "*", "*.cpp"))):
        if os.path.basename(path) != "driver.cpp":
            out.append((rel(path), lambda p=path: load_program(rel(p), p, [], [])))
    for d in sorted(glob.glob(os.path.join(root, "test", "e2e", "Inputs", "*"))):
        cpps = sorted(p for p in glob.glob(os.path.join(d, "*.cpp"))
                      if os.path.basename(p) != "driver.cpp")
        if cpps:
            out.append((rel(d), lambda c=cpps: load_program(rel(os.path.dirname(c[0])), c[0], c[1:], [])))
    tests = []
    for area in ("Frontend", "Lowering", "Analysis", "Emit", "Driver"):
        tests += sorted(glob.glob(os.path.join(root, "test", area, "*.cpp")))
    for path in tests:
        with open(path, encoding="utf-8", errors="replace") as f:
            if "cleave/cleave.h" not in f.read():
                continue
        sources, flags = run_line(path)
        out.append((rel(path), lambda p=path, s=sources, f=flags:
                    load_program(rel(p), p, [x for x in s if os.path.abspath(x) != p], f)))
    gen = os.path.join(root, "test", "gen")
    for path in sorted(glob.glob(os.path.join(gen, "Inputs", "known", "*.cpp"))):
        out.append((rel(path), lambda p=path: load_program(rel(p), p, [], ["-I" + gen])))
    return out


# --- Hostile names and types ----------------------------------------------------

# Names of the generated glue and of the runtime's headers. The compiler
# reserves the cleave_ prefix, so those mostly check one refusal; the
# others (locals and parameters of the glue, names of cleave::rt) must
# simply work.
CLEAVE_NAMES = """
cleave_ cleave_x cleave_handler_x cleave_r cleave_s cleave_p0 cleave_a0 cleave_l0
cleave_layouts cleave_self cleave_next cleave_range cleave_enter cleave_lr cleave_c0
cleave_module_v1 cleave_call_v1 cleave_reply_v1 cleave_T cleave_Tr cleave_unnamed
""".split()
GLUE_NAMES = """
S Step Call Reply Frame Inv A0 a0 a1 Value Len Body Name Module Handlers Machines
States FunctionStates release Invocation Resume Local Json rt frame codec detail
access registerModuleState findStateOps
""".split()
MACRO_NAMES = """
errno EOF stdin stdout assert NULL INT_MAX SIZE_MAX CHAR_BIT EXIT_SUCCESS offsetof
linux unix signal log exp abs index time rand free strlen div y0 j1 isnan
""".split()
ODD_NAMES = ["a__b", "x__", "ns__f", "_Upper", "l\u00e9a", "a$b", "L" + "o" * 300 + "ng"]


def hostile_word(rng):
    """A name the glue, the runtime's headers or the C library use too, or
    an odd one."""
    kind = rng.randrange(10)
    if kind < 1:
        return rng.choice(CLEAVE_NAMES)
    if kind < 6:
        return rng.choice(GLUE_NAMES)
    if kind < 7:
        return rng.choice(MACRO_NAMES)
    return rng.choice(ODD_NAMES)


def hostile_name(rng, model):
    """A hostile name, or the name of a glue symbol of one of the
    program's own functions or state variables."""
    if rng.randrange(10) == 0:
        fns = [f.name for f in model.functions if f.annotations] or ["f"]
        prefix = rng.choice(["cleave_handler_", "cleave_step_", "cleave_args_", "cleave_value_",
                             "cleave_machine_", "cleave_state_"])
        return prefix + rng.choice(fns + model.states)
    return hostile_word(rng)


# Declarations whose names meet in the glue: a::b beside a__b, for entries,
# functions, static members and state. {id} makes routes unique.
TWINS = [
    'namespace cm{id} {{ CLEAVE_ENTRY("POST /t{id}a") long b(long x) {{ return x; }} }}\n'
    'CLEAVE_ENTRY("POST /t{id}b") long cm{id}__b(long x) {{ return x + 1; }}',
    'struct cm{id} {{ CLEAVE_ENTRY("GET /t{id}a") static long b(long x) {{ return x; }} }};\n'
    'CLEAVE_ENTRY("GET /t{id}b") long cm{id}__b(long x) {{ return x + 1; }}',
    'namespace cm{id} {{ CLEAVE_FUNCTION("memory=7") long b(long x) {{ return x; }} }}\n'
    'CLEAVE_FUNCTION("memory=7") long cm{id}__b(long x) {{ return x + 1; }}\n'
    'CLEAVE_ENTRY("POST /t{id}") long cm{id}_e(long x) {{ return cm{id}::b(x) + cm{id}__b(x); }}',
    'namespace cm{id} {{ CLEAVE_STATE() long s = 0; }}\nCLEAVE_STATE() long cm{id}__s = 0;\n'
    'CLEAVE_ENTRY("POST /t{id}") long cm{id}_e(long x) {{ cm{id}::s += x; cm{id}__s -= x; '
    'return cm{id}::s; }}',
    'namespace cm{id} {{ namespace b {{ CLEAVE_ENTRY("POST /t{id}a") long c(long x) {{ return x; }} }} }}\n'
    'namespace cm{id}__b {{ CLEAVE_ENTRY("POST /t{id}b") long c(long x) {{ return x; }} }}\n'
    'namespace cm{id} {{ CLEAVE_ENTRY("POST /t{id}c") long b__c(long x) {{ return x; }} }}',
    'CLEAVE_ENTRY("POST /t{id}a") long cm{id}(long x) {{ return x; }}\n'
    'CLEAVE_STATE() long cleave_handler_cm{id} = 0;',
    'CLEAVE_FUNCTION("memory=9") long cm{id}(long x) {{ return x; }}\n'
    'CLEAVE_ENTRY("POST /t{id}") long cleave_step_cm{id}(long x) {{ return cm{id}(x); }}',
]


# Annotations on odd targets and with odd texts: the frontend's error
# paths. {id} makes names and routes unique.
ODDITIES = [
    "CLEAVE_STATE() auto [cm{id}a, cm{id}b] = std::pair<long, long>(1, 2);",
    'extern "C" {{ CLEAVE_STATE() long cm{id}c = 0; }}',
    "struct CmBits{id} {{ int b : 3; }};\nCLEAVE_STATE() CmBits{id} cm{id}bits{{}};",
    "CLEAVE_STATE() inline long cm{id}i = 0;",
    "template <class T> CLEAVE_STATE() T cm{id}vt = T();\ninline long cm{id}use = cm{id}vt<long>;",
    "CLEAVE_STATE() auto cm{id}l = [] {{ return 1; }};",
    "CLEAVE_STATE() long cm{id}s1 = 0, cm{id}s2 = 0;",
    "CLEAVE_STATE() static const long cm{id}k = 0;",
    "CLEAVE_STATE() long cm{id}arr[3] = {{}};",
    'CLEAVE_STATE() std::string cm{id}str = std::string("a\\0b", 3);',
    "inline long cm{id}o = 0;\nCLEAVE_STATE() long &cm{id}ref = cm{id}o;",
    'CLEAVE_ENTRY("POST /x{id}") CLEAVE_STATE() long cm{id}both = 0;',
    'struct CmOp{id} {{ long v; }};\n'
    'CLEAVE_ENTRY("POST /op{id}") long operator+(CmOp{id} a, long b) {{ return a.v + b; }}',
    'CLEAVE_ENTRY("POST /e{id}") long cm{id}e(long x);',
    'CLEAVE_ENTRY("GET " "/cat{id}") long cm{id}cat() {{ return 1; }}',
    'CLEAVE_ENTRY(R"(GET /raw{id})") long cm{id}raw() {{ return 1; }}',
    'CLEAVE_ENTRY(u8"GET /u8{id}") long cm{id}u8() {{ return 1; }}',
    '#define CM_ROUTE{id} "GET /m{id}"\nCLEAVE_ENTRY(CM_ROUTE{id}) long cm{id}m() {{ return 1; }}',
    'CLEAVE_ENTRY("GET /\\0{id}") long cm{id}nul() {{ return 1; }}',
    'CLEAVE_ENTRY("GET /\u00e9{id}") long cm{id}uni() {{ return 1; }}',
    'CLEAVE_ENTRY("GET /' + "x" * 5000 + '{id}") long cm{id}long() {{ return 1; }}',
    'CLEAVE_FUNCTION("memory=99999999999999999999999") long cm{id}big(long x) {{ return x; }}',
    'CLEAVE_FUNCTION("memory=-1,timeout=0,gpu=1e3") long cm{id}neg(long x) {{ return x; }}',
    'CLEAVE_ENTRY("POST /v{id}") long cm{id}v(long x, ...) {{ return x; }}',
    'template <class... T> CLEAVE_ENTRY("POST /p{id}") long cm{id}p(T... x) {{ return sizeof...(x); }}\n'
    "template long cm{id}p<long>(long);",
    'CLEAVE_ENTRY("POST /k{id}") long cm{id}k(long x) = delete;',
    'struct CmCtor{id} {{ CLEAVE_ENTRY("POST /c{id}") CmCtor{id}() {{}} }};',
    'CLEAVE_ENTRY("POST /a{id}") long cm{id}arr(const long (&a)[3]) {{ return a[0]; }}',
    'CLEAVE_ENTRY("POST /f{id}") long cm{id}fp(long (*f)(long)) {{ return f(1); }}',
    'CLEAVE_ENTRY("POST /r{id}") long cm{id}rv(long &&x) {{ return x; }}',
    'CLEAVE_ENTRY("POST /d{id}") decltype(auto) cm{id}d(long x) {{ return x + 0; }}',
    'CLEAVE_ENTRY("POST /t{id}") std::pair<long, long> cm{id}t(std::pair<long, long> p) {{ return p; }}',
    'CLEAVE_ENTRY("POST /w{id}") long cm{id}w(long) {{ return 1; }}',
    'CLEAVE_FUNCTION("isolate") CLEAVE_ENTRY("POST /g{id}") long cm{id}g(long x) '
    '{{ return x ? cm{id}g(x - 1) : 0; }}',
    "[[clang::annotate(\"cleave.entry\", \"POST /ann{id}\")]] long cm{id}ann(long x) {{ return x; }}",
    "[[clang::annotate(\"cleave.entry\")]] long cm{id}ann0(long x) {{ return x; }}",
    "[[clang::annotate(\"cleave.state\", 3)]] long cm{id}ann3 = 0;",
    "[[clang::annotate(\"cleave.function\", \"memory=7\", \"x\")]] long cm{id}ann2(long x) "
    "{{ return x; }}",
]


def mutate_oddity(rng, prog):
    """Adds an annotation on an odd target or with an odd text."""
    model = prog.model()
    text = rng.choice(ODDITIES).format(id=rng.randrange(10**4))
    prog.needs.update(["utility", "string"])
    at = model.functions[-1].body_end + 1 if model.functions else len(prog.files[prog.main])
    prog.insert(at, "\n" + text + "\n")
    return "oddity " + text.split("\n")[-1][:60]


def mutate_twins(rng, prog):
    """Adds declarations whose names meet in the glue (a::b beside a__b),
    in one unit or, when the program has two, one in each: then only the
    link would fail."""
    model = prog.model()
    text = rng.choice(TWINS).format(id=rng.randrange(10**4))
    first, rest = text.split("\n", 1)
    if "::" not in rest and rng.random() < 0.6:
        others = [s for s in prog.sources if s != prog.main]
        if not others:  # a unit of its own
            others = ["twin_unit.cpp"]
            prog.files[others[0]] = lex("#include <cleave/cleave.h>\n")
            prog.sources.append(others[0])
        prog.files[rng.choice(others)].append(["raw", "\n" + rest + "\n"])
        text = first
        where = "across units "
    else:
        where = ""
    prog.insert(model.functions[-1].body_end + 1 if model.functions else len(prog.files[prog.main]),
                "\n" + text + "\n")
    return "twins " + where + first[:50]


# (spelling, standard headers, declarations it needs). NUMERIC types convert
# to and from long, so that a program whose `long` becomes one still compiles
# more often than not; HOSTILE ones are any other type.
W_DECL = "template <class T, class U = std::vector<T>, int N = 2> struct CmW { T t{}; U u{}; };"
E_DECL = "enum CmE { CmE0, CmE1 = 7 };"
S_DECL = "struct CmS { long a = 0; std::string b; };"
NUMERIC = [
    ("char16_t", [], ""), ("char32_t", [], ""), ("wchar_t", [], ""), ("_Float16", [], ""),
    ("long double", [], ""), ("volatile int", [], ""), ("volatile long", [], ""),
    ("signed char", [], ""), ("unsigned short", [], ""), ("__int128", [], ""),
    ("const long", [], ""), ("const long &", [], ""), ("CmAlias", [], "using CmAlias = long;"),
    ("decltype(0L)", [], ""), ("std::size_t", [], ""), ("std::int_least8_t", ["cstdint"], ""),
    ("CmTA<>::type", [], "template <class T = long, class = void> struct CmTA { using type = T; };"),
]
HOSTILE = [
    ("std::optional<long>", ["optional"], ""),
    ("std::optional<std::string>", ["optional", "string"], ""),
    ("std::array<long, 3>", ["array"], ""), ("std::array<std::string, 1>", ["array", "string"], ""),
    ("std::vector<std::vector<long>>", ["vector"], ""),
    ("std::vector<std::vector<std::vector<std::string>>>", ["vector", "string"], ""),
    ("std::map<std::string, std::vector<long>>", ["map", "string", "vector"], ""),
    ("std::map<std::pair<long, bool>, std::string>", ["map", "string", "utility"], ""),
    ("std::unique_ptr<long>", ["memory"], ""),
    ("std::unique_ptr<std::vector<long>>", ["memory", "vector"], ""),
    ("std::shared_ptr<long>", ["memory"], ""),
    ("long *", [], ""), ("long &", [], ""), ("const std::string &", ["string"], ""),
    ("std::tuple<long, double, bool>", ["tuple"], ""),
    ("std::variant<long, std::string>", ["variant", "string"], ""),
    ("std::set<long>", ["set"], ""), ("std::deque<std::string>", ["deque", "string"], ""),
    ("CmW<long>", ["vector"], W_DECL), ("CmW<CmW<long>>", ["vector"], W_DECL),
    ("CmW<std::string, long>", ["vector", "string"], W_DECL),
    ("CmE", [], E_DECL),
    ("CmEc", [], "enum class CmEc : short { A, B = -3 };"),
    ("CmS", ["string"], S_DECL),
    ("CmNested::In", [], "struct CmNested { struct In { long v = 0; }; };"),
    ("CmU", [], "union CmU { long a; double b; };"),
    ("CmAnon", [], "typedef struct { long a = 0; } CmAnon;"),
    ("struct { long a = 0; }", [], ""),
]
# Types a generated program uses where it does not pick a hostile one.
PLAIN = [
    ("long", [], ""), ("std::string", ["string"], ""), ("std::vector<long>", ["vector"], ""),
    ("double", [], ""), ("bool", [], ""), ("std::map<std::string, long>", ["map", "string"], ""),
    ("std::optional<long>", ["optional"], ""), ("CmS", ["string"], S_DECL),
    ("CmE", [], E_DECL), ("std::pair<long, std::string>", ["utility", "string"], ""),
]


# --- Mutations ------------------------------------------------------------------


def mutate_rename(rng, prog):
    """Renames one to three declared identifiers, in every file."""
    model = prog.model()
    names = sorted(n for n in model.declared if not n.startswith("Cm") and not n.startswith("mut_"))
    if not names:
        return None
    done = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        old = rng.choice(names)
        new = hostile_name(rng, model)
        for tokens in prog.files.values():
            for t in tokens:
                if t[0] == "id" and t[1] == old:
                    t[1] = new
        done.append("%s->%s" % (old, new if len(new) < 40 else new[:20] + "..."))
    return "rename " + ",".join(done)


MACROS = ["S 1", "Step x", "Reply", "Call", "Frame int", "cleave x", "rt", "Inv 0", "A0",
          "a0 a1", "Value", "Len 1", "Json int", "release", "Module", "std std", "S(x) x",
          "cleave_r", "noexcept", "decltype(x) int", "size_t int",
          "nullptr 0", "override", "register", "CLEAVE_HANDLER_LIBRARY 1",
          "uint32_t unsigned", "finish(x) x", "run(x) x", "thread_local", "static"]


def mutate_macro(rng, prog):
    """Defines one or two macros named like glue identifiers after the includes."""
    lines = ["#define %s" % rng.choice(MACROS) for _ in range(rng.choice([1, 1, 2]))]
    prog.insert(prog.model().include_end(), "\n" + "\n".join(lines) + "\n")
    return "macro " + "; ".join(lines)


WRAPS = [("namespace cleave { namespace rt {", "} }"),
         ("namespace a { namespace b {", "} }"), ("namespace {", "}"),
         ("inline namespace v1 {", "}"), ("namespace S {", "}"), ("namespace std_ {", "}"),
         ("extern \"C++\" {", "}"),
         ("namespace a::b::c {", "}")]


def mutate_wrap(rng, prog):
    """Wraps everything after the includes (main aside) in a namespace."""
    model = prog.model()
    open_, close = rng.choice(WRAPS)
    mains = [f for f in model.functions if f.name == "main" and not f.namespaces]
    start = model.include_end()
    if mains:
        m = mains[0]
        prog.insert(m.start, "\n" + close + "\n")
    else:
        prog.files[prog.main].append(["raw", "\n" + close + "\n"])
    prog.insert(start, "\n" + open_ + "\n")
    return "wrap " + open_


def type_runs(model):
    """(first, last) token indices of builtin type spellings and std::string."""
    sig, text, runs, k = model.sig, model.text, [], 0
    while k < len(sig):
        if text(sig[k]) in BUILTIN_RUN:
            j = k
            while j + 1 < len(sig) and text(sig[j + 1]) in BUILTIN_RUN:
                j += 1
            after = text(sig[j + 1]) if j + 1 < len(sig) else ""
            if after != "main":
                runs.append((sig[k], sig[j]))
            k = j + 1
        elif text(sig[k]) == "std" and k + 2 < len(sig) and text(sig[k + 2]) == "string":
            runs.append((sig[k], sig[k + 2]))
            k += 3
        else:
            k += 1
    return runs


def mutate_type(rng, prog):
    """Changes one type spelling, or every occurrence of one, to a hostile type."""
    model = prog.model()
    runs = type_runs(model)
    if not runs:
        return None
    tokens = prog.files[prog.main]
    if rng.random() < 0.5:
        spelling, headers, decl = rng.choice(NUMERIC + HOSTILE)
        chosen = [rng.choice(runs)]
    else:
        spelling, headers, decl = rng.choice(NUMERIC if rng.random() < 0.7 else HOSTILE)
        first = rng.choice(runs)
        key = join(tokens[first[0]:first[1] + 1])
        chosen = [r for r in runs if join(tokens[r[0]:r[1] + 1]) == key]
    old = join(tokens[chosen[0][0]:chosen[0][1] + 1])
    for a, b in chosen:
        tokens[a] = ["raw", spelling]
        for i in range(a + 1, b + 1):
            tokens[i] = ["raw", ""]
    prog.needs.update(headers)
    if decl and decl not in join(tokens):
        prog.insert(model.include_end(), "\n" + decl + "\n")
    return "type %s->%s x%d" % (" ".join(old.split()), spelling, len(chosen))


def mutate_annotation(rng, prog):
    """Duplicates, drops or changes one annotation, or adds one to a plain
    function or global."""
    model = prog.model()
    tokens = prog.files[prog.main]
    choice = rng.randrange(4)
    if model.annotations and choice < 3:
        a, b = rng.choice(model.annotations)
        text = join(tokens[a:b + 1])
        if choice == 0:
            tokens.insert(b + 1, ["raw", " " + text])
            return "duplicate " + text
        if choice == 1:
            for i in range(a, b + 1):
                tokens[i] = ["raw", ""]
            return "drop " + text
        other = rng.choice(['CLEAVE_FUNCTION("memory=4096")', 'CLEAVE_FUNCTION("isolate")',
                            'CLEAVE_FUNCTION("memory=128,timeout=1")', 'CLEAVE_ENTRY("GET /dup")',
                            'CLEAVE_STATE("consistency=eventual")', 'CLEAVE_FUNCTION()'])
        tokens.insert(b + 1, ["raw", " " + other])
        return "add %s beside %s" % (other, text)
    plain = [f for f in model.functions if not f.annotations and f.name != "main"
             and not f.qualified and not f.templated]
    if plain and rng.random() < 0.7:
        f = rng.choice(plain)
        ann = rng.choice(['CLEAVE_FUNCTION("isolate") ', 'CLEAVE_FUNCTION("memory=4096") ',
                          'CLEAVE_ENTRY("POST /added_%d") ' % rng.randrange(1000)])
        prog.insert(f.start, ann)
        return "annotate %s %s" % (f.name, ann.strip())
    if model.globals:
        prog.insert(rng.choice(model.globals), "CLEAVE_STATE() ")
        return "annotate a global CLEAVE_STATE()"
    return None


# Constructs that reach a boundary: {v} is a long expression that calls the
# boundary function, {call} the call itself, {id} a unique number and {ann}
# the annotation of the entry that uses it.
CONSTRUCTS = {
    "constructor": "struct MutC{id} {{ long v = 0; MutC{id}() {{ v = {v}; }} }};\n"
                   "{ann} long mut_e{id}() {{ MutC{id} o; return o.v; }}",
    "destructor": "struct MutD{id} {{ long *p; ~MutD{id}() {{ *p += {v}; }} }};\n"
                  "{ann} long mut_e{id}() {{ long r = 0; {{ MutD{id} o{{&r}}; }} return r; }}",
    "default-argument": "inline long mut_h{id}(long x = {v}) {{ return x; }}\n"
                        "{ann} long mut_e{id}() {{ return mut_h{id}() + mut_h{id}(); }}",
    "member-initializer": "struct MutM{id} {{ long v = {v}; }};\n"
                          "{ann} long mut_e{id}() {{ MutM{id} o; return o.v; }}",
    "mem-init-list": "struct MutI{id} {{ long v; MutI{id}() : v({v}) {{}} }};\n"
                     "{ann} long mut_e{id}() {{ MutI{id} o; return o.v; }}",
    "lambda": "{ann} long mut_e{id}() {{ auto l = [&]() {{ return {v}; }}; return l(); }}",
    "lambda-capture-init": "{ann} long mut_e{id}() {{ auto l = [w = {v}]() {{ return w; }}; return l(); }}",
    "if-constexpr": "{ann} long mut_e{id}() {{ long r = 0;\n"
                    "  if constexpr (sizeof(long) >= 4) {{ r = {v}; }} else {{ r = {v}; }}\n"
                    "  if constexpr (sizeof(long) == 0) r += {v};\n  return r; }}",
    "statement-expression": "{ann} long mut_e{id}() {{ long r = ({{ long t = {v}; t + 1; }}); return r; }}",
    "decltype": "{ann} long mut_e{id}() {{ decltype({v}) r = 2; using T = decltype({call}); "
                "return r + (long)sizeof(T *); }}",
    "sizeof": "{ann} long mut_e{id}() {{ return (long)sizeof({v}) + (long)alignof(decltype({v})); }}",
    "noexcept": "{ann} bool mut_e{id}() {{ return noexcept({call}); }}",
    "template-argument": "template <long N> struct MutT{id} {{ static constexpr long value = N; }};\n"
                         "{ann} long mut_e{id}() {{ return MutT{id}<sizeof({v})>::value; }}",
    "for-init-two-calls": "{ann} long mut_e{id}() {{ long s = 0;\n"
                          "  for (long i = {v}, j = {v} + 2; i < j; ++i) s += i;\n  return s; }}",
    "for-increment": "{ann} long mut_e{id}() {{ long s = 0; for (long i = 0; i < 3; i += {v}) s += i; return s; }}",
    "while-condition": "{ann} long mut_e{id}() {{ long n = 0; while (n < 3 && {v}) ++n; return n; }}",
    "ternary": "{ann} long mut_e{id}(long n) {{ return n > 0 ? {v} : -{v}; }}",
    "static-local": "{ann} long mut_e{id}() {{ static long s = {v}; return s; }}",
    "thread-local": "{ann} long mut_e{id}() {{ thread_local long s = {v}; return s; }}",
    "global-initializer": "long mut_g{id} = {v};\n{ann} long mut_e{id}() {{ return mut_g{id}; }}",
    "try-block": "{ann} long mut_e{id}() {{ try {{ return {v}; }} catch (...) {{ return -{v}; }} }}",
    "function-try-block": "{ann} long mut_e{id}() try {{ return {v}; }} catch (...) {{ return -1; }}",
    "switch": "{ann} long mut_e{id}() {{ switch ({v}) {{ case 1: return {v}; default: break; }} return 0; }}",
    "range-for": "{ann} long mut_e{id}() {{ long s = 0; for (long x : std::vector<long>{{{v}, {v}}}) s += x; return s; }}",
    "condition-declaration": "{ann} long mut_e{id}() {{ if (long t = {v}) return t; return 0; }}",
    "structured-binding": "{ann} long mut_e{id}() {{ auto [a, b] = std::pair<long, long>({v}, {v}); return a + b; }}",
    "c-array": "{ann} long mut_e{id}() {{ long a[3] = {{{v}, {v}, {v}}}; return a[0] + a[2]; }}",
    "comma-chain": "{ann} long mut_e{id}() {{ return ({call}, {call}, {call}, 1L); }}",
    "local-class": "{ann} long mut_e{id}() {{ struct L {{ static long m() {{ return {v}; }} }}; return L::m(); }}",
    "member-function": "struct MutK{id} {{ long k = 1; long run() {{ return k + {v}; }} }};\n"
                       "{ann} long mut_e{id}() {{ MutK{id} o; return o.run(); }}",
    "static-member-entry": "struct MutS{id} {{ {ann} static long m(long x) {{ return x + {v}; }} }};",
    "virtual": "struct MutB{id} {{ virtual long m() {{ return {v}; }} virtual ~MutB{id}() = default; }};\n"
               "{ann} long mut_e{id}() {{ MutB{id} b; MutB{id} &r = b; return r.m(); }}",
    "operator": "struct MutO{id} {{ long operator+(long x) const {{ return x + {v}; }} "
                "operator long() const {{ return {v}; }} }};\n"
                "{ann} long mut_e{id}() {{ MutO{id} o; return (o + 1) + long(o); }}",
    "function-template": "template <class T = long> T mut_t{id}(T x = {v}) {{ return x + (T){v}; }}\n"
                         "{ann} long mut_e{id}() {{ return mut_t{id}<long>(1) + mut_t{id}(); }}",
    "generic-lambda": "{ann} long mut_e{id}() {{ auto l = [](auto x) {{ return x; }}; return l({v}); }}",
    "goto": "{ann} long mut_e{id}() {{ long r = 0; goto skip; r = {v}; skip: return r + {v}; }}",
    "new-expression": "{ann} long mut_e{id}() {{ long *p = new long({v}); long r = *p; delete p; return r; }}",
    "throw": "{ann} long mut_e{id}() {{ if ({v} < -5) throw {v}; return 1; }}",
    "nested-calls": "{ann} long mut_e{id}() {{ return mut_k{id}(mut_k{id}({v}, {v}), mut_k{id}({v}, {v})); }}",
    "helper-hop": "inline long mut_k{id}b() {{ return {v}; }}\n"
                  "{ann} long mut_e{id}() {{ return mut_k{id}b() + mut_k{id}b(); }}",
    # Entries of unusual shapes.
    "extern-c": 'extern "C" {{ {ann} long mut_e{id}(long x) {{ return x + {v}; }} }}',
    "static-entry": "{ann} static long mut_e{id}(long x) {{ return x + {v}; }}",
    "auto-return": "{ann} auto mut_e{id}(long x) {{ return x + {v}; }}",
    "decltype-auto-return": "{ann} decltype(auto) mut_e{id}(long x) {{ return x + {v}; }}",
    "trailing-return": "{ann} auto mut_e{id}(long x) -> decltype(x + 1) {{ return x + {v}; }}",
    "constexpr-entry": "{ann} constexpr long mut_e{id}(long x) {{ return x + 1; }}\n"
                       "{ann2} long mut_f{id}(long x) {{ return mut_e{id}(x) + {v}; }}",
    "reference-return": "inline long mut_r{id} = 0;\n"
                        "{ann} const long &mut_e{id}(long x) {{ mut_r{id} = x + {v}; return mut_r{id}; }}",
    "default-parameter": "{ann} long mut_e{id}(long x = 3, long y = sizeof(long)) {{ return x + y + {v}; }}",
    "overloads": "{ann} long mut_e{id}(long x) {{ return x + {v}; }}\n"
                 "{ann2} long mut_e{id}(std::string x) {{ return (long)x.size() + {v}; }}",
    "unnamed-namespace": "namespace {{ {ann} long mut_e{id}(long x) {{ return x + {v}; }} }}",
    "inline-namespace": "inline namespace mut_v{id} {{ {ann} long mut_e{id}(long x) {{ return x + {v}; }} }}",
    "noexcept-entry": "{ann} long mut_e{id}(long x) noexcept {{ return x + {v}; }}",
    "noreturn-entry": "[[noreturn]] {ann} void mut_e{id}(long x) {{ (void){call}; throw x; }}",
    "attribute-soup": "[[nodiscard]] {ann} [[maybe_unused]] inline long mut_e{id}([[maybe_unused]] long x) "
                      "{{ return {v}; }}",
    "friend-entry": "struct MutF{id} {{ friend long mut_e{id}(MutF{id}); long v = 1; }};\n"
                    "{ann} long mut_e{id}(MutF{id} o) {{ return o.v + {v}; }}",
    "class-template-member": "template <class T> struct MutQ{id} {{ static T m() {{ return (T){v}; }} }};\n"
                             "{ann} long mut_e{id}() {{ return MutQ{id}<long>::m(); }}",
    "pointer-to-function": "{ann} long mut_e{id}(long x) {{ auto p = &mut_k{id}; return p(x, {v}); }}",
    "recursion": "{ann} long mut_e{id}(long x) {{ return x <= 0 ? {v} : mut_e{id}(x - 1) + {v}; }}",
}
NEEDS = {"range-for": ["vector"], "structured-binding": ["utility"], "overloads": ["string"]}


def entry_annotation(rng, ident):
    route = 'CLEAVE_ENTRY("%s /mut%s")' % (rng.choice(["POST", "GET", "PUT"]), ident)
    return rng.choice([route, route, route, route + ' CLEAVE_FUNCTION("memory=3072")',
                       'CLEAVE_FUNCTION("isolate")', 'CLEAVE_FUNCTION("memory=99") ' + route])


def call_of(rng, f, ident):
    """(declarations, call expression) calling f with an lvalue per parameter."""
    decls, args = [], []
    for n, (ptype, by_ref) in enumerate(f.params):
        var = "mut_a%s_%d" % (ident, n)
        decls.append("inline std::remove_cv_t<std::remove_reference_t<%s>> %s{};" % (ptype, var))
        args.append(var if by_ref or "&" in ptype else "std::move(%s)" % var)
    return "\n".join(decls), "%s(%s)" % (f.spelled(), ", ".join(args))


def construct(rng, name, ident, call, count=0):
    """The text of one construct, or of one statement with count calls."""
    v = "((void)%s, 1L)" % call
    ann = entry_annotation(rng, ident)
    if name == "many-calls":
        terms = " + ".join([v] * count)
        return "{ann} long mut_e{id}() {{ long s = {terms}; return s; }}".format(
            ann=ann, id=ident, terms=terms)
    if name == "deep-nesting":
        expr = v
        for _ in range(count):
            expr = "mut_k%s(%s, %s)" % (ident, expr, v if rng.random() < 0.3 else "1L")
        return "{ann} long mut_e{id}() {{ return {e}; }}".format(ann=ann, id=ident, e=expr)
    text = CONSTRUCTS[name].format(ann=ann, ann2=entry_annotation(rng, ident + "x"), id=ident,
                                   v=v, call=call)
    if re.search(r"mut_k%s(?!\w)" % ident, text):
        text = "inline long mut_k{id}(long a, long b) {{ return a + b; }}\n".format(id=ident) + text
    return text


def mutate_construct(rng, prog, many=False):
    """Adds, right after a boundary function, an entry that reaches it from
    a construct C++ evaluates in its own way, or many times in one statement."""
    model = prog.model()
    fns = [f for f in model.functions if f.annotations and not f.templated and not f.qualified
           and f.name != "main"]
    if not fns:
        return None
    boundary = [f for f in fns if "CLEAVE_FUNCTION" in f.annotations]
    f = rng.choice(boundary if boundary and rng.random() < 0.8 else fns)
    ident = str(rng.randrange(10**6))
    decls, call = call_of(rng, f, ident)
    if many:
        name = rng.choice(["many-calls", "many-calls", "deep-nesting"])
        count = rng.choice([2, 8, 30, 64, 150])
        text = construct(rng, name, ident, call, count)
        name = "%s x%d" % (name, count)
    else:
        name = rng.choice(sorted(CONSTRUCTS))
        text = construct(rng, name, ident, call)
        prog.needs.update(NEEDS.get(name, []))
    prog.insert(f.body_end + 1, "\n" + decls + "\n" + text + "\n")
    return "%s calls %s" % (name, f.name)


def mutate_many(rng, prog):
    return mutate_construct(rng, prog, many=True)


def mutate_damage(rng, prog):
    """Breaks the program as an editor in mid-change does: cut short, one
    token dropped or doubled, or two swapped."""
    tokens = prog.files[prog.main]
    sig = significant(tokens)
    if len(sig) < 4:
        return None
    k = rng.randrange(len(sig) // 3, len(sig))
    i = sig[k]
    how = rng.randrange(4)
    if how == 0:
        del tokens[i:]
        return "cut after token %d of %d" % (k, len(sig))
    if how == 1:
        old = tokens[i][1]
        tokens[i] = ["raw", ""]
        return "drop token %d '%s'" % (k, old[:20])
    if how == 2:
        tokens.insert(i, ["raw", tokens[i][1] + " "])
        return "double token %d '%s'" % (k, tokens[i + 1][1][:20])
    j = sig[k - 1]
    tokens[i], tokens[j] = tokens[j], tokens[i]
    return "swap tokens %d and %d" % (k - 1, k)


def mutate_bom(rng, prog):
    """Starts the main file with a UTF-8 byte order mark."""
    prog.files[prog.main].insert(0, ["raw", "\ufeff"])
    return "byte order mark"


def mutate_cleave_namespace(rng, prog):
    """Declares names in namespace cleave that the runtime's headers declare too."""
    decl = rng.choice(CLEAVE_NS_DECLS)
    prog.insert(prog.model().include_end(), "\n" + decl + "\n")
    return "declares " + " ".join(decl.split())[:60]


CLEAVE_NS_DECLS = [
    "namespace cleave { namespace rt { struct Step { int x; }; } }",
    "namespace cleave { namespace rt { inline long Invocation = 0; } }",
    "namespace cleave { namespace rt { template <class T> struct Local { T t; }; } }",
    "namespace cleave { namespace frame { inline void encodeFrame(int, int) {} } }",
    "namespace cleave { namespace codec { struct Json {}; } }",
    "namespace cleave { inline long rt = 0; }",
    "namespace cleave { namespace detail { struct IsScalar {}; } }",
    "namespace cleave { namespace rt { inline void registerModuleState() {} } }",
    "namespace nlohmann { struct json_pointer_x {}; }",
    "struct cleave_call_v1 { int hostile; };",
    "using Json = long;",
    "namespace cleave { namespace rt { struct Resume; } }",
]

MUTATIONS = [
    (mutate_rename, 6), (mutate_macro, 3), (mutate_wrap, 3), (mutate_type, 5),
    (mutate_annotation, 4), (mutate_construct, 6), (mutate_many, 2), (mutate_bom, 1),
    (mutate_cleave_namespace, 1), (mutate_twins, 2), (mutate_damage, 2), (mutate_oddity, 2),
]


def add_headers(prog):
    """Includes the standard headers the mutations need, first in the main
    file but after a byte order mark."""
    if not prog.needs:
        return
    tokens = prog.files[prog.main]
    at = 1 if tokens and tokens[0] == ["raw", "\ufeff"] else 0
    tokens.insert(at, ["raw", "".join("#include <%s>\n" % h for h in sorted(prog.needs))])


def mutant(rng, seeds):
    origin, load = rng.choice(seeds)
    prog = load()
    total = sum(w for _, w in MUTATIONS)
    for _ in range(rng.choice([1, 2, 2, 3, 4])):
        pick = rng.uniform(0, total)
        for fn, w in MUTATIONS:
            pick -= w
            if pick <= 0:
                break
        done = fn(rng, prog)
        if done:
            prog.mutations.append(done)
    add_headers(prog)
    return prog


# --- Generated programs ---------------------------------------------------------

class Names:
    """Unique names for a generated program, hostile with probability p."""

    def __init__(self, rng, p):
        self.rng, self.p, self.used = rng, p, set()

    def pick(self, plain):
        for _ in range(20):
            if self.rng.random() < self.p:
                name = hostile_word(self.rng)
            else:
                name = plain + (str(self.rng.randrange(100)) if plain in self.used else "")
            if name not in self.used and name not in KEYWORDS:
                self.used.add(name)
                return name
        name = "%s_%d" % (plain, len(self.used))
        self.used.add(name)
        return name


def nested_type(rng):
    """(type, declarations, headers, depth): a template nested deep whose
    default arguments (U = std::vector<T>) triple its full spelling per
    level, or a pair of pairs whose objects double too (so kept shallower:
    its monolith must compile in well under a second)."""
    if rng.random() < 0.5:
        depth = rng.choice([2, 4, 8, 12, 18])
        t = "long"
        for _ in range(depth):
            t = "CmW<%s>" % t
        return t, [W_DECL], ["vector"], depth
    depth = rng.choice([2, 4, 6, 9, 12])
    decls = ["using CmP0 = std::pair<long, std::string>;"]
    for i in range(1, depth + 1):
        decls.append("using CmP{0} = std::pair<CmP{1}, CmP{1}>;".format(i, i - 1))
    return "CmP%d" % depth, decls, ["utility", "string"], depth


def generated(rng, ident):
    """A small annotated program with hostile names, types and constructs."""
    names = Names(rng, rng.choice([0.0, 0.3, 0.7]))
    headers, decls, body, features = {"string", "vector"}, [], [], []

    def typ(p=0.35):
        spelling, hs, decl = rng.choice(NUMERIC + HOSTILE if rng.random() < p else PLAIN)
        headers.update(hs)
        if decl and decl not in decls:
            decls.append(decl)
        return spelling

    def value_type(t):
        t = re.sub(r"^(const|volatile) ", "", t)
        return t.rstrip("&* ").strip() or "long"

    g, f, st = names.pick("g"), names.pick("f"), names.pick("total")
    p1 = names.pick("x")
    gparam = typ()
    gret = typ() if rng.random() < 0.7 else "void"
    state_type = typ()
    features.append("g(%s) -> %s, state %s" % (gparam, gret, state_type))
    ret_stmt = {"void": "", "long": "return 1;", "std::string": 'return "s";'}.get(
        gret, "static %s r{}; return r;" % value_type(gret) if "&" in gret else "return {};")
    body.append('CLEAVE_STATE() %s %s{};' % (state_type, st))
    body.append('CLEAVE_FUNCTION("memory=512") %s %s(%s %s) { (void)%s; %s }'
                % (gret, g, gparam, p1, st, ret_stmt))
    arg_var = names.pick("arg")
    lv_type = "long *" if gparam.endswith("*") else value_type(gparam)
    decls_after = ["inline %s %s{};" % (lv_type, arg_var)]
    call = "%s(%s)" % (g, arg_var if "&" in gparam or "*" in gparam else "std::move(%s)" % arg_var)

    entry_lines = []
    live = []
    for _ in range(rng.choice([0, 1, 2, 3])):
        t = typ(0.5)
        name = names.pick("loc")
        init = "= %s" % st if t.endswith("&") and not t.startswith("const") and \
            value_type(t) == value_type(state_type) else "{}"
        if t.endswith("&") and init == "{}":
            t = value_type(t)
        entry_lines.append("%s %s %s;" % (t, name, init))
        live.append(name)
    if rng.randrange(8) == 0:
        t, ds, hs, depth = nested_type(rng)
        headers.update(hs)
        decls.extend(d for d in ds if d not in decls)
        loc = names.pick("deep")
        entry_lines.append("%s %s{};" % (t, loc))
        live.append(loc)
        features.append("nested type %s depth %d" % (t[:8], depth))
        if rng.random() < 0.5:
            body.append('CLEAVE_ENTRY("POST /deep%s") long deep_e%s(%s p) { (void)p; return 1; }'
                        % (ident, ident, t))
    entry_lines.append("(void)%s;" % call)
    entry_lines.extend("(void)%s;" % n for n in live)
    eparam = typ()
    eret = typ(0.2)
    features.append("f(%s) -> %s, locals %d" % (eparam, eret, len(live)))
    eret_stmt = "return 1;" if eret == "long" else (
        "static %s r{}; return r;" % value_type(eret) if "&" in eret else "return {};")
    body.append('CLEAVE_ENTRY("POST /f%s") %s %s(%s q) { %s (void)q; %s }'
                % (ident, eret, f, eparam, " ".join(entry_lines), eret_stmt))
    for n in range(rng.choice([0, 1, 1, 2])):
        name = rng.choice(sorted(CONSTRUCTS))
        body.append(construct(rng, name, "%s_%d" % (ident, n), call))
        headers.update(NEEDS.get(name, []))
        features.append(name)
    if rng.random() < 0.3:
        count = rng.choice([4, 16, 64, 200])
        body.append(construct(rng, "many-calls", ident + "_m", call, count))
        features.append("many-calls x%d" % count)
    if rng.random() < 0.1:
        body.append(rng.choice(CLEAVE_NS_DECLS))
        features.append("namespace cleave")
    text = "#include <cleave/cleave.h>\n" + "".join(
        "#include <%s>\n" % h for h in sorted(headers)) + "\n"
    text += "\n".join(decls) + "\n" + "\n".join(body[:2]) + "\n" + \
        "\n".join(decls_after) + "\n" + "\n".join(body[2:]) + "\n\nint main() { return 0; }\n"
    prog = Program("generated", {"gen.cpp": lex(text)}, ["gen.cpp"], "gen.cpp", [])
    prog.mutations = features
    # The same mutations as the mutants, now and then.
    for fn, p in ((mutate_twins, 0.2), (mutate_oddity, 0.2), (mutate_macro, 0.15),
                  (mutate_wrap, 0.15), (mutate_bom, 0.15), (mutate_rename, 0.15)):
        if rng.random() < p:
            done = fn(rng, prog)
            if done:
                prog.mutations.append(done)
    add_headers(prog)
    return prog


def make_case(seed, index, seeds, generated_share):
    """Input `index` of seed `seed`: the same whatever else runs."""
    rng = random.Random("%s-%d" % (seed, index))
    if rng.random() < generated_share:
        prog = generated(rng, str(index))
        prog.origin = "generated"
    else:
        prog = mutant(rng, seeds)
    prog.name = "c%04d" % index
    prog.seed = seed
    return prog


# --- Checking one input ---------------------------------------------------------


CPU = collections.Counter()  # seconds of CPU of the runs, by what ran
CPU_LOCK = threading.Lock()
CPU_HERE = threading.local()  # seconds of CPU of this thread's runs


def run(cmd, timeout, cwd=None, what="other"):
    """(exit code, or None on timeout; stdout and stderr) of cmd, under a
    limit of address space, killed with its process group on timeout."""
    limited = ["sh", "-c", 'ulimit -v %d 2>/dev/null; exec "$@"' % MEMORY_KIB, "sh"] + cmd
    proc = subprocess.Popen(limited, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=cwd, start_new_session=True)
    def kill():
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timed_out = not timer.is_alive()
        timer.cancel()
        proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    with CPU_LOCK:
        CPU[what] += cpu
    CPU_HERE.seconds = getattr(CPU_HERE, "seconds", 0.0) + cpu
    text = out.decode("utf-8", "replace")
    return (None if timed_out else proc.returncode), text


def cmake_words(text):
    """The arguments of a CMake command's quoted or unquoted words."""
    words = []
    for m in re.finditer(r'"((?:\\.|[^"\\])*)"|([^\s()"]+)', text):
        if m.group(1) is not None:
            words.append(re.sub(r"\\(.)", r"\1", m.group(1)))
        else:
            words.append(m.group(2))
    return words


def library_flags(out):
    """(common flags, {unit file: its own flags}) of the handler library's
    build, read from OUT/CMakeLists.txt as cmake would pass them."""
    with open(os.path.join(out, "CMakeLists.txt"), encoding="utf-8") as f:
        text = f.read()
    common = ["-std=gnu++17", "-DNDEBUG", "-fPIC", "-fvisibility=hidden",
              "-fvisibility-inlines-hidden"]
    for m in re.finditer(r"target_compile_definitions\(cleave_handlers PRIVATE ([^)]*)\)", text):
        common += ["-D" + d for d in cmake_words(m.group(1))]
    for m in re.finditer(r"target_include_directories\(cleave_handlers PRIVATE ([^)]*)\)", text):
        common += ["-I" + d for d in cmake_words(m.group(1))]
    units = {}
    for m in re.finditer(r"set_source_files_properties\((\S+) PROPERTIES COMPILE_OPTIONS\s*"
                         r'"((?:\\.|[^"\\])*)"\)', text):
        value = re.sub(r"\\(.)", r"\1", m.group(2))
        units[os.path.normpath(m.group(1))] = value.split(";") if value else []
    return common, units


class Pch:
    """Precompiled headers of cleave/handler.h, one per set of flags that
    must match (everything but include directories), built on first use."""

    def __init__(self, work, enabled):
        self.work, self.enabled = work, enabled
        self.lock = threading.Lock()
        self.built = {}  # key: path or None when it could not be built

    @staticmethod
    def key(flags):
        out, skip = [], False
        for f in flags:
            if skip:
                skip = False
                continue
            if f in ("-I", "-iquote", "-isystem", "-idirafter"):
                skip = True
                continue
            if not re.match(r"-(I|iquote|isystem|idirafter)", f):
                out.append(f)
        return tuple(out)

    def get(self, flags, header):
        if not self.enabled:
            return None
        key = self.key(flags) + (header,)
        with self.lock:
            if key not in self.built:
                path = os.path.join(self.work, "pch", "handler-%d.pch" % len(self.built))
                os.makedirs(os.path.dirname(path), exist_ok=True)
                rc, out = run(["clang++-19", "-x", "c++-header", "-fpch-instantiate-templates"]
                              + flags + [header, "-o", path], 300, what="precompiled headers")
                self.built[key] = path if rc == 0 else None
                if rc != 0:
                    print("contract: note: no precompiled header (%s): %s"
                          % (" ".join(key[:-1]), out.strip()[:400]), file=sys.stderr)
            return self.built[key]


def has_guards(include_dir):
    """Whether every header of the runtime has an include guard, so that the
    #include after -include-pch is skipped."""
    for h in glob.glob(os.path.join(include_dir, "cleave", "*.h")):
        with open(h, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"^\s*#\s*(ifndef\s+(\w+)\s*\n\s*#\s*define\s+(\w+)|pragma\s+once)",
                      re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S), re.M)
        if not m or (m.group(2) and m.group(2) != m.group(3)):
            return False
    return True


def syntax_check(out, opts, pch):
    """Errors of the generated sources of OUT: [(file, text)]."""
    common, units = library_flags(out)
    includes = [f[2:] for f in common if f.startswith("-I")]
    failures = []
    for src in sorted(glob.glob(os.path.join(out, "src", "*.cpp"))):
        rel = os.path.relpath(src, out)
        flags = common + units.get(os.path.normpath(rel), [])
        header = next((os.path.join(i, "cleave", "handler.h") for i in includes
                       if os.path.isfile(os.path.join(i, "cleave", "handler.h"))), None)
        pch_path = pch.get(flags, header) if header else None
        base = ["clang++-19", "-fsyntax-only", "-ferror-limit=20"] + flags
        if pch_path:
            rc, text = run(base + ["-include-pch", pch_path, src], opts.timeout, cwd=out,
                           what="syntax checks")
            if rc is None:
                failures.append((rel, "hang", "no answer in %d s" % opts.timeout))
                continue
            if rc == 0 or not PCH_TROUBLE.search(text):
                if rc != 0:
                    failures.append((rel, "uncompilable", text))
                continue
        # Without the header precompiled, when the precompiled one did not
        # fit: what the handler library build sees.
        rc, text = run(base + [src], opts.timeout, cwd=out, what="syntax checks")
        if rc is None:
            failures.append((rel, "hang", "no answer in %d s" % opts.timeout))
        elif rc != 0:
            failures.append((rel, "uncompilable", text))
    return failures


GLUE_DEFINITION = re.compile(
    r"^(?:int|void|const ::cleave::rt::StateOps|const cleave_\w+) (cleave_\w+)(?:\(.*\)[^;]*\{| =)")


def link_check(out):
    """Glue symbols defined in two units: the handler library would not
    link, which no unit's syntax check sees. [(file, kind, text)]"""
    where = collections.defaultdict(list)
    for src in sorted(glob.glob(os.path.join(out, "src", "*.cpp"))):
        unnamed = 0  # depth of unnamed namespaces, whose names stay local
        with open(src, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("namespace {"):
                    unnamed += 1
                elif line.startswith("} // namespace") and unnamed:
                    unnamed -= 1
                m = GLUE_DEFINITION.match(line)
                if m and not unnamed:
                    where[m.group(1)].append(os.path.relpath(src, out))
    return [(files[1], "link", "symbol '%s' is defined in %s" % (name, " and ".join(files)))
            for name, files in sorted(where.items()) if len(set(files)) > 1]


class Verdict:
    def __init__(self, prog, case_dir, command):
        self.prog, self.case_dir, self.command = prog, case_dir, command
        self.status = None  # "built", "refused" or "failed"
        self.failure = None  # class of a contract failure
        self.details = ""
        self.seconds = 0.0
        self.cpu = 0.0
        self.ratio = 0.0  # generated bytes per input byte
        self.size = 0  # bytes of generated source


def check_case(prog, opts, pch):
    case_dir = os.path.join(opts.work, prog.name)
    shutil.rmtree(case_dir, ignore_errors=True)
    in_dir = os.path.join(case_dir, "in")
    prog.write(in_dir)
    out = os.path.join(case_dir, "out")
    flags = [f.replace("%IN%", in_dir) for f in prog.flags]
    command = [opts.cleave, "build", "--no-build", "-q", "-o", out] + \
        [os.path.join(in_dir, s) for s in prog.sources] + ["--", "-std=c++17"] + flags
    v = Verdict(prog, case_dir, command)
    started = time.monotonic()
    CPU_HERE.seconds = 0.0
    rc, text = run(command, opts.timeout, what="cleave build")
    if rc is None:
        v.failure, v.details = "hang", "cleave build gave no answer in %d s\n%s" % (opts.timeout, text)
    elif rc < 0:
        v.failure, v.details = "crash (signal %d)" % -rc, text
    elif CRASH_TEXT.search(text):
        v.failure, v.details = "crash (exit %d)" % rc, text
    elif rc == 2:
        v.failure, v.details = "usage error for a valid command line", text
    elif rc not in (0, 1):
        v.failure, v.details = "exit %d" % rc, text
    elif rc == 1 and not LOCATED_ERROR.search(text):
        v.failure, v.details = "exit 1 without a located error", text
    elif rc == 1:
        v.status, v.details = "refused", text
    elif LOCATED_ERROR.search(text):
        v.failure, v.details = "exit 0 with an error", text
    elif not os.path.isfile(os.path.join(out, "manifest.yaml")):
        v.failure, v.details = "exit 0 without a manifest", text
    else:
        v.size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "src", "**"),
                                                             recursive=True) if os.path.isfile(p))
        inputs = sum(len(join(t).encode("utf-8")) for t in prog.files.values())
        v.ratio = v.size / max(inputs, 1)
        limit = max(opts.max_output << 20, OUTPUT_RATIO * inputs)
        bad = [] if v.size > limit else syntax_check(out, opts, pch)
        dup = [] if bad or v.size > limit else link_check(out)
        if v.size > limit:
            v.failure = "output blowup"
            v.details = "%d KiB of generated sources from %d KiB of input (the limit is %d KiB)\n%s" % (
                v.size >> 10, inputs >> 10, limit >> 10, "\n".join(
                    "%s: %d bytes" % (os.path.relpath(p, out), os.path.getsize(p))
                    for p in sorted(glob.glob(os.path.join(out, "src", "*")))))
        elif bad:
            kind = "hang" if all(b[1] == "hang" for b in bad) else "uncompilable output"
            v.failure = kind if kind == "uncompilable output" else "hang (syntax check)"
            v.details = "\n".join("%s: %s" % (f, t) for f, _, t in bad)
        elif dup:
            v.failure = "link error (a glue symbol defined twice)"
            v.details = "\n".join("%s: error: %s" % (f, t) for f, _, t in dup)
        else:
            v.status = "built"
    v.seconds = time.monotonic() - started
    v.cpu = CPU_HERE.seconds
    if v.failure:
        v.status = "failed"
    return v


def first_errors(text, n=ERROR_LINES):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    interesting = [ln for ln in lines if "error" in ln or "fatal" in ln or "Stack" in ln
                   or "LLVM" in ln or "PLEASE" in ln]
    return (interesting or lines)[:n]


def keep(v, opts):
    """Copies a failing input to --keep with a README that says how to rerun it."""
    dest = os.path.join(opts.keep, "seed-%s-%s" % (v.prog.seed, v.prog.name))
    shutil.rmtree(dest, ignore_errors=True)
    in_dir = os.path.join(v.case_dir, "in")
    shutil.copytree(in_dir, os.path.join(dest, "in"))
    src = os.path.join(v.case_dir, "out", "src")
    if os.path.isdir(src) and sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(src)
                                  for f in fs) < 16 << 20:
        shutil.copytree(src, os.path.join(dest, "out-src"))
    cut = v.command.index("--")
    flags = [f.replace(in_dir, "in") for f in v.command[cut + 2:]]
    cmd = ["cleave", "build", "--no-build", "-q", "-o", "out"] + \
        [os.path.join("in", s) for s in v.prog.sources] + ["--", "-std=c++17"] + flags
    given = "in" if len(v.prog.sources) > 1 else os.path.join("in", v.prog.sources[0])
    check = ["python3", os.path.join(HERE, "contract.py"), "--input", given] + \
        ["--flag=" + f for f in flags]
    with open(os.path.join(dest, "README.md"), "w", encoding="utf-8") as f:
        f.write("# Contract failure: %s\n\n" % v.failure)
        f.write("Input %s of seed %s, %s.\n" % (v.prog.name, v.prog.seed, v.prog.origin))
        f.write("Mutations: %s\n\n" % ("; ".join(v.prog.mutations) or "none"))
        f.write("From this directory, the compiler alone, then the whole check:\n\n")
        f.write("    %s\n" % " ".join(shlex.quote(c) for c in cmd))
        f.write("    %s\n\n" % " ".join(shlex.quote(c) for c in check))
        f.write("What went wrong (first lines):\n\n")
        for line in v.details.splitlines()[:60]:
            f.write("    %s\n" % line[:400])
    return dest


# --- Driver ---------------------------------------------------------------------


def given_programs(paths, flags):
    """Programs to check instead of a corpus: a file is a program (with the
    sources and flags of its RUN line, if any); a directory is one program
    of all the .cpp files in it (an input kept by keep())."""
    out = []
    for n, path in enumerate(paths):
        path = os.path.abspath(path)
        if os.path.isdir(path):
            cpps = sorted(glob.glob(os.path.join(path, "*.cpp")))
            if not cpps:
                sys.exit("contract: no .cpp file in %s" % path)
            prog = load_program(os.path.relpath(path), cpps[0], cpps[1:], flags)
        else:
            sources, more = run_line(path)
            prog = load_program(os.path.relpath(path), path,
                                [s for s in sources if os.path.abspath(s) != path], more + flags)
        prog.name, prog.seed = "given%d" % n, "given"
        out.append(prog)
    return out


def find_cleave(given):
    if given:
        return os.path.abspath(given) if os.sep in given else shutil.which(given) or given
    # The build tree's compiler may be missing while it is rebuilt:
    # snapshot() waits for it.
    return shutil.which("cleave") or os.path.join(ROOT, "build", "bin", "cleave")


def snapshot(cleave, work):
    """A copy of the compiler that a rebuild cannot change in the middle of
    the run (its paths to the runtime are built in, not found beside it)."""
    dest = os.path.join(work, "bin", "cleave")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    for _ in range(60):
        try:
            shutil.copy2(cleave, dest)
            if subprocess.run([dest, "--help"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0:
                return dest
        except (OSError, subprocess.SubprocessError):
            pass
        time.sleep(1)  # being rebuilt
    sys.exit("contract: cannot run %s" % cleave)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", default="1", help="seed of the corpus (any text)")
    ap.add_argument("--count", type=int, default=300, help="how many inputs")
    ap.add_argument("--seconds", type=float, default=0,
                    help="instead of --count: fresh seeds until this many seconds are up")
    ap.add_argument("--generated", type=float, default=0.5,
                    help="share of inputs generated from scratch (the rest are mutants)")
    ap.add_argument("--input", nargs="+", help="check these programs (files, or directories of "
                    "sources) instead of a corpus")
    ap.add_argument("--flag", action="append", default=[],
                    help="with --input: a compiler flag for cleave build (-I..., -D...)")
    ap.add_argument("--write", help="only write the corpus's inputs to this directory")
    ap.add_argument("--work", help="a scratch directory (default: a temporary one, removed "
                    "unless something failed)")
    ap.add_argument("--keep", help="where failing inputs go (default: WORK/failures)")
    ap.add_argument("--keep-work", action="store_true", help="leave every input and output in WORK")
    ap.add_argument("--jobs", type=int, default=2, help="inputs checked at once")
    ap.add_argument("--timeout", type=int, default=TIMEOUT, help="seconds before a run is a hang")
    ap.add_argument("--max-output", type=int, default=MAX_OUTPUT_MIB,
                    help="MiB of generated sources under which no input is a blowup "
                    "(above, %d times the input is)" % OUTPUT_RATIO)
    ap.add_argument("--cleave", help="the compiler (default: from PATH, then build/bin)")
    ap.add_argument("--root", default=ROOT, help="the source tree with examples/ and test/")
    ap.add_argument("--no-pch", action="store_true", help="check generated code without a PCH")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per input")
    opts = ap.parse_args()
    temporary = opts.work is None
    if temporary:
        opts.work = tempfile.mkdtemp(prefix="cleave-contract-")
    opts.work = os.path.abspath(opts.work)
    opts.keep = os.path.abspath(opts.keep or os.path.join(opts.work, "failures"))
    os.makedirs(opts.work, exist_ok=True)
    seeds = seed_programs(opts.root)

    if opts.write:
        for i in range(opts.count):
            prog = make_case(opts.seed, i, seeds, opts.generated)
            prog.write(os.path.join(opts.write, prog.name))
            print("%s: %s: %s" % (prog.name, prog.origin, "; ".join(prog.mutations)))
        return 0

    opts.cleave = snapshot(find_cleave(opts.cleave), opts.work)
    include = os.path.join(ROOT, "runtime", "include")
    use_pch = not opts.no_pch and has_guards(include)
    if not opts.no_pch and not use_pch:
        print("contract: note: a runtime header has no include guard; checking without a PCH",
              file=sys.stderr)
    pch = Pch(opts.work, use_pch)

    started = time.monotonic()
    deadline = started + opts.seconds if opts.seconds else None

    def cases():
        if opts.input:
            yield from given_programs(opts.input, opts.flag)
            return
        if deadline is None:
            for i in range(opts.count):
                yield make_case(opts.seed, i, seeds, opts.generated)
            return
        n = 0
        while time.monotonic() < deadline:
            seed = "%s-%d" % (opts.seed, n // 100)
            yield make_case(seed, n % 100, seeds, opts.generated)
            n += 1

    counts = collections.Counter()
    kinds = collections.Counter()
    refusals = collections.Counter()
    cpu_by_status = collections.Counter()
    failures = collections.defaultdict(list)
    slowest = []
    with concurrent.futures.ThreadPoolExecutor(max(1, opts.jobs)) as pool:
        pending = set()
        it = iter(cases())
        while True:
            while len(pending) < 2 * max(1, opts.jobs):
                prog = next(it, None)
                if prog is None:
                    break
                kinds["given" if prog.seed == "given" else
                      "generated" if prog.origin == "generated" else "mutants"] += 1
                pending.add(pool.submit(check_case, prog, opts, pch))
            if not pending:
                break
            done, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                v = fut.result()
                counts[v.status] += 1
                cpu_by_status[v.status] += v.cpu
                if v.status == "refused":
                    m = LOCATED_ERROR.search(v.details)
                    line = v.details[m.end():].split("\n", 1)[0]
                    refusals[re.sub(r"'[^']*'", "'X'", line)[:90]] += 1
                slowest.append((v.seconds, v.prog.name, v.prog.origin, v.size, v.ratio))
                label = "%s (%s)" % (v.prog.origin, "; ".join(v.prog.mutations) or "unchanged")
                kept = keep(v, opts) if v.failure else None
                if not opts.keep_work:
                    shutil.rmtree(v.case_dir, ignore_errors=True)
                if v.failure:
                    failures[v.failure].append(v)
                    print("contract: FAILURE %s: %s: %s" % (v.failure, v.prog.name, label))
                    print("  input: %s" % os.path.join(kept, "in", v.prog.sources[0]))
                    for line in first_errors(v.details):
                        print("    " + line[:300])
                    sys.stdout.flush()
                elif opts.verbose:
                    print("contract: %s %s in %.1f s: %s" % (v.prog.name, v.status, v.seconds, label))
    elapsed = time.monotonic() - started
    print("contract: CPU time: %s" % ", ".join("%s %.0f s" % kv for kv in sorted(CPU.items())))
    if opts.verbose:
        print("contract: CPU time by verdict: %s" % ", ".join(
            "%s %.0f s (%.2f s each)" % (k, c, c / counts[k]) for k, c in sorted(cpu_by_status.items())))
        for seconds, name, origin, size, ratio in sorted(slowest, reverse=True)[:5]:
            print("contract: slow: %s %.1f s (%s, %d bytes generated)" % (name, seconds, origin, size))
        for seconds, name, origin, size, ratio in sorted(slowest, key=lambda x: -x[4])[:3]:
            print("contract: largest output: %s, %.0f times its input (%s)" % (name, ratio, origin))
        print("contract: refusals, by message:")
        for message, n in refusals.most_common(25):
            print("  %d x %s" % (n, message))
    if failures:
        print("contract: failures by class:")
        for kind, vs in sorted(failures.items(), key=lambda kv: -len(kv[1])):
            print("  %d x %s: %s" % (len(vs), kind, " ".join(v.prog.name for v in vs[:12])))
        print("contract: failing inputs are in %s" % opts.keep)
    total = sum(counts.values())
    print("contract: %d inputs (%s): %d built, %d refused, %d failures in %.0f s (%.0f s of CPU)"
          % (total, ", ".join("%d %s" % (kinds[k], k) for k in ("mutants", "generated", "given")
                              if kinds[k]),
             counts["built"], counts["refused"], counts["failed"], elapsed, sum(CPU.values())))
    if temporary and not failures and not opts.keep_work:
        shutil.rmtree(opts.work, ignore_errors=True)
    return 1 if counts["failed"] or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
