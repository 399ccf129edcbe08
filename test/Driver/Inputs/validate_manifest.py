#!/usr/bin/env python3
"""Checks manifest.yaml files against runtime/schema/manifest.schema.json.

usage: validate_manifest.py SCHEMA MANIFEST...
       validate_manifest.py --examples DIR --work DIR SCHEMA

Prints `MANIFEST: valid` for each manifest the schema accepts, and one
`MANIFEST:LINE:COL: error: MESSAGE (at PATH)` line per violation otherwise,
located at the YAML node the violation is about; exits 1 if any manifest is
invalid. With --examples, the manifests are those `cleave build --no-build`
writes for every example of DIR (a folder NAME holding NAME.cpp), built in
the --work folder. The YAML is read with PyYAML's safe loader, as a user would, but a
key given twice is an error (cleave-run refuses it; PyYAML would keep the
last one silently).
"""
import argparse
import json
import os
import subprocess
import sys

import jsonschema
import yaml


class StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def node_at(root, path):
    """The YAML node at PATH (keys and indices) below ROOT, or the deepest
    node that exists on the way."""
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    node = value
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def describe(path):
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".") or "the top level"


def check(validator, file):
    with open(file, encoding="utf-8") as f:
        text = f.read()
    try:
        data = yaml.load(text, Loader=StrictLoader)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{mark.line + 1}:{mark.column + 1}:" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        print(f"{file}:{where} error: {problem}")
        return False
    errors = sorted(validator.iter_errors(data),
                    key=lambda e: [str(p) for p in e.absolute_path])
    for e in errors:
        path = list(e.absolute_path)
        node = node_at(root, path)
        mark = node.start_mark
        print(f"{file}:{mark.line + 1}:{mark.column + 1}: error: {e.message} "
              f"(at {describe(path)})")
    if not errors:
        print(f"{file}: valid")
    return not errors


def build_examples(examples, work):
    """The manifests of every example under EXAMPLES, built into WORK."""
    names = sorted(n for n in os.listdir(examples)
                   if os.path.isfile(os.path.join(examples, n, n + ".cpp")))
    if not names:
        sys.exit(f"validate_manifest: no examples under {examples}")
    manifests = []
    for name in names:
        out = os.path.join(work, name)
        cmd = ["cleave", "build", "-q", "--no-build", "-o", out,
               os.path.join(examples, name, name + ".cpp"), "--", "-std=c++17"]
        done = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            sys.exit(f"validate_manifest: {' '.join(cmd)} failed:\n"
                     + done.stdout)
        manifests.append(os.path.join(out, "manifest.yaml"))
    return manifests


def main():
    parser = argparse.ArgumentParser(usage=__doc__.strip().splitlines()[2])
    parser.add_argument("--examples")
    parser.add_argument("--work")
    parser.add_argument("schema")
    parser.add_argument("manifests", nargs="*")
    args = parser.parse_args()
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    manifests = list(args.manifests)
    if args.examples:
        manifests += build_examples(args.examples, args.work)
    if not manifests:
        parser.error("no manifest to check")
    ok = True
    for file in manifests:
        ok = check(validator, file) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
