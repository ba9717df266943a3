#!/usr/bin/env python3
"""Validates rule files against the JSON Schema `ombuds schema` writes.

  scripts/validate_rules_schema.py SCHEMA.json FILE.yaml...

YAML is read as YAML 1.2's core schema, as editors (the YAML language server) read it: only
true/false, null, integers and floats are typed; dates, times (18:00) and everything else
stay text. Prints `FILE: PATH: message` for each violation; exit 1 if there was any, 0 if
every file is valid, 2 on bad usage.
"""
import json
import re
import sys

import jsonschema
import yaml


class CoreLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars (no 1.1 dates, sexagesimals, yes/no)."""


CoreLoader.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", list("-+0123456789")),
    ("tag:yaml.org,2002:float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", list("-+.0123456789")),
]:
    CoreLoader.add_implicit_resolver(tag, re.compile(pattern), first)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    failures = 0
    for path in argv[2:]:
        try:
            with open(path, encoding="utf-8") as f:
                document = yaml.load(f, Loader=CoreLoader)
        except (OSError, yaml.YAMLError) as error:
            print(f"{path}: (file): {error}".replace("\n", " "))
            failures += 1
            continue
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
            where = "/".join(map(str, error.absolute_path)) or "(root)"
            print(f"{path}: {where}: {error.message}")
            failures += 1
    if failures == 0:
        print(f"{len(argv) - 2} rule file(s) valid against {argv[1]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
