#!/usr/bin/env python3
"""Error handling of a deployment over HTTP (DESIGN.md, section 1).

Compiles examples/shop with `cleave build`, serves it with `cleave-run`, and
sends requests that must be refused: malformed JSON, missing or mistyped
parameters and struct members (400 naming the field), unknown routes (404),
wrong methods (405), an oversized body (413), JSON nested deeper than the
runtime's limit (400, not a crash). Also checks that what must be
accepted is: absent std::optional members, unknown keys. After every check
the server must still answer a valid request, and no refused request may
have changed the state. Finally SIGTERM must stop it with exit code 0.

Prints one "PASS <check>" line per check that passes and "FAIL <check>: ..."
for each that does not; exits 1 if any failed. Python standard library only.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import difftest  # noqa: E402  (shares the process and HTTP plumbing)
from difftest import Failure, http_call  # noqa: E402

# The runtime's default request size limit (cleave-run --max-body).
MAX_BODY = 6 * 1024 * 1024


def order(**overrides):
    o = {"item": "kiwi", "qty": 1, "customer": "ann"}
    o.update(overrides)
    return {k: v for k, v in o.items() if v is not Ellipsis}


class Checker:
    def __init__(self, base):
        self.base = base
        self.failed = []
        self.count = 0
        self.apples = None  # apple stock, which only refused requests name

    def request(self, method, path, args=None, body=None):
        status, data, headers = http_call(self.base, method, path, args, body)
        return status, data, headers

    def error_body(self, status, data):
        problem = difftest.error_body_problem(status, data)
        if problem:
            raise AssertionError(problem)
        return json.loads(data)

    def expect_error(self, expected, method, path, args=None, body=None, field=None):
        status, data, headers = self.request(method, path, args, body)
        if status != expected:
            raise AssertionError(
                f"status {status}, expected {expected}: {data[:300]!r}"
            )
        body = self.error_body(status, data)
        if field is not None and body.get("field") != field:
            raise AssertionError(
                f'"field" is {body.get("field")!r}, expected {field!r}: {body}'
            )
        return body, headers

    def expect_ok(self, method, path, args=None, body=None):
        status, data, _ = self.request(method, path, args, body)
        if status != 200:
            raise AssertionError(f"status {status}, expected 200: {data[:300]!r}")
        return json.loads(data)

    def still_serving(self):
        """A valid request still works, and the refused ones left the state
        alone."""
        apples = self.expect_ok("GET", "/stock", {"item": "apple"})
        if self.apples is None:
            self.apples = apples
        elif apples != self.apples:
            raise AssertionError(f"apple stock changed from {self.apples} to {apples}")

    def check(self, name, fn):
        self.count += 1
        try:
            fn()
            self.still_serving()
        except (AssertionError, OSError, ValueError) as e:
            self.failed.append(name)
            print(f"FAIL {name}: {e}")
            return
        print(f"PASS {name}")


def run_checks(c):
    apple = lambda **kw: {"o": order(item="apple", **kw)}  # noqa: E731

    def malformed_json():
        c.expect_error(400, "POST", "/orders", body=b'{"o": {"item": "apple",')

    def not_an_object():
        c.expect_error(400, "POST", "/orders", body=b'["apple", 1]')

    def missing_parameter():
        c.expect_error(400, "POST", "/orders", {}, field="o")

    def missing_member():
        c.expect_error(400, "POST", "/orders", apple(qty=...), field="o.qty")

    def wrong_type_member():
        c.expect_error(400, "POST", "/orders", apple(qty="two"), field="o.qty")

    def wrong_type_parameter():
        args = {"item": "apple", "qty": "5"}
        c.expect_error(400, "POST", "/restock", args, field="qty")
        c.expect_error(400, "POST", "/restock", {"item": 5, "qty": 5}, field="item")

    def wrong_type_nested():
        to = {"street": "1 Orchard Rd", "city": "Pomona", "zip": "91766"}
        c.expect_error(400, "POST", "/orders", apple(ship_to=to), field="o.ship_to.zip")

    def wrong_type_element():
        orders = [order(item="apple"), order(item="apple", qty=1.5)]
        args = {"orders": orders}
        c.expect_error(400, "POST", "/orders/batch", args, field="orders[1].qty")

    def wrong_type_query():
        args = {"item": "apple", "qty": "abc"}
        c.expect_error(400, "GET", "/quote", args, field="qty")

    def missing_query_parameter():
        c.expect_error(400, "GET", "/quote", {"item": "apple"}, field="qty")

    def optional_member_missing():
        body = c.expect_ok("POST", "/orders", {"o": order()})
        if not isinstance(body, dict) or body.get("note", 0) is not None:
            raise AssertionError(f"expected a confirmation with a null note: {body}")

    def optional_member_null():
        c.expect_ok("POST", "/orders", {"o": order(note=None, ship_to=None)})

    def unknown_keys_ignored():
        body = c.expect_ok(
            "POST", "/orders", {"o": order(colour="green", note="hi"), "coupon": "FREE"}
        )
        if body.get("note") != "hi":
            raise AssertionError(f"expected note 'hi' back: {body}")

    def unknown_route():
        c.expect_error(404, "GET", "/nope")
        c.expect_error(404, "POST", "/nope", {})

    def wrong_method():
        _, headers = c.expect_error(405, "GET", "/orders")
        if "POST" not in (headers.get("Allow") or ""):
            allow = headers.get("Allow")
            raise AssertionError(f"Allow header is {allow!r}, expected POST")
        c.expect_error(405, "DELETE", "/stock", {"item": "apple"})

    def body_too_large():
        note = "x" * MAX_BODY  # the whole body is more than the limit
        data = json.dumps({"o": order(item="apple", note=note)}).encode()
        assert len(data) > MAX_BODY
        c.expect_error(413, "POST", "/orders", body=data)

    def json_too_deep():
        # 60,000 levels in 120 KB: refused at the door, naming the limit,
        # in a key the entry does not read and in a member it does.
        deep = b"[" * 60000 + b"]" * 60000
        for body in (b'{"junk": ' + deep + b', "o": {}}',
                     b'{"o": {"item": ' + deep + b', "qty": 1}}'):
            problem, _ = c.expect_error(400, "POST", "/orders", body=body)
            if "nested deeper than 512 levels" not in problem.get("error", ""):
                raise AssertionError(f"error does not name the limit: {problem}")

    def json_deep_within_limit():
        # As deep as allowed, in a key the entry ignores: accepted.
        nested = b"[" * 511 + b"]" * 511
        body = b'{"junk": ' + nested + b', "o": ' + json.dumps(order()).encode() + b"}"
        c.expect_ok("POST", "/orders", body=body)

    c.still_serving()
    for name, fn in [
        ("malformed-json", malformed_json),
        ("not-an-object", not_an_object),
        ("missing-parameter", missing_parameter),
        ("missing-member", missing_member),
        ("wrong-type-member", wrong_type_member),
        ("wrong-type-parameter", wrong_type_parameter),
        ("wrong-type-nested", wrong_type_nested),
        ("wrong-type-element", wrong_type_element),
        ("wrong-type-query", wrong_type_query),
        ("missing-query-parameter", missing_query_parameter),
        ("optional-member-missing", optional_member_missing),
        ("optional-member-null", optional_member_null),
        ("unknown-keys-ignored", unknown_keys_ignored),
        ("unknown-route", unknown_route),
        ("wrong-method", wrong_method),
        ("body-too-large", body_too_large),
        ("json-too-deep", json_too_deep),
        ("json-deep-within-limit", json_deep_within_limit),
    ]:
        c.check(name, fn)


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
    opts = parser.parse_args()
    opts.work = os.path.abspath(opts.work)
    os.makedirs(opts.work, exist_ok=True)
    out = os.path.join(opts.work, "out")

    try:
        source = os.path.join(os.path.abspath(opts.example), "shop.cpp")
        difftest.cleave_build(opts, source, out)
        cleave_run = difftest.find_tool(opts.cleave_run, "cleave-run")
        with difftest.Runtime(cleave_run, out, opts.work) as rt:
            checker = Checker(rt.wait_for_address())
            try:
                run_checks(checker)
            except (AssertionError, OSError, ValueError) as e:
                raise Failure(
                    f"the server does not answer a valid request: {e}\n{rt.log()}"
                )
            if checker.failed:
                print(rt.log())
            rt.stop()
            print("PASS sigterm")
    except Failure as e:
        print(f"FAIL http_errors: {e}")
        return 1

    if checker.failed:
        failed = ", ".join(checker.failed)
        count = f"{len(checker.failed)} of {checker.count}"
        print(f"http_errors: {count} checks failed: {failed}")
        return 1
    print(f"http_errors: all {checker.count} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
