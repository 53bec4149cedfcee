#!/usr/bin/env python3
"""Checks the topic contracts in proto/ with a real JSON Schema validator.

- every proto/*.schema.json is a valid draft 2020-12 schema with an $id and the
  Kafka key in its description;
- every proto/examples/<topic>/valid/*.json validates, every invalid/*.json
  fails with exactly one error, on the field named in invalid/expected-fields.txt;
- the edge cases in tests/proto/format-cases.json get their listed verdict
  (tests/unit/test_proto.c runs the same cases against the C rules);
- the event_id of every valid order example is the documented SHA-256;
- the C decoder agrees: the unit test program test_proto (found through
  $WB_BUILD_DIR/tests.manifest) gives the same verdict and names the same field
  for every example, and its encoder output for every valid example validates;
  it also agrees on a few thousand seeded random mutations of the valid examples.

Prints "PASS name" or "FAIL name: why" per case and exits non-zero on any
failure (tests/run.py counts the lines). Runs with cwd anywhere; paths are
taken relative to the repository root.
"""
import copy
import hashlib
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile

import datetime
import re

import jsonschema
from jsonschema import Draft202012Validator

RFC3339 = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))$")


def rfc3339_date_time(value):
    """RFC 3339 section 5.6 date-time, a zone required. Debian 12's
    python3-jsonschema checks date-time only with rfc3339-validator, which
    Debian does not package; this is the same rule, registered only then."""
    if not isinstance(value, str):
        return True
    m = RFC3339.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 59:  # no leap seconds, as the C decoder
        return False
    if m.group(9) and (int(m.group(10)) > 23 or int(m.group(11)) > 59):
        return False
    return True


if "date-time" not in Draft202012Validator.FORMAT_CHECKER.checkers:
    Draft202012Validator.FORMAT_CHECKER.checks("date-time")(rfc3339_date_time)

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
EXAMPLES = PROTO / "examples"

failures = 0


def report(name, why=None):
    global failures
    if why is None:
        print(f"PASS {name}")
    else:
        failures += 1
        print(f"FAIL {name}: {why}")
    sys.stdout.flush()


def load_json(path):
    # NaN and Infinity are not JSON; Python would accept them, cJSON would not.
    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def field_path(parts):
    """["lines", 2, "quantity"] -> "lines[2].quantity", the C decoder's notation."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + p
    return out


def error_field(err):
    """The field an error is about. For `required` and `additionalProperties`
    jsonschema reports the parent object; the field is the missing or unknown
    property, which is also what the C decoder names."""
    parts = list(err.absolute_path)
    if err.validator == "required":
        missing = [p for p in err.validator_value if p not in err.instance]
        parts.append(missing[0])
    elif err.validator == "additionalProperties":
        known = set(err.schema.get("properties", {}))
        extra = [p for p in err.instance if p not in known]
        parts.append(extra[0])
    return field_path(parts)


def read_expected_fields(folder):
    table = {}
    path = folder / "expected-fields.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, field = line.split()
                table[name] = field
    return table


def load_schemas():
    schemas = {}
    for path in sorted(PROTO.glob("*.schema.json")):
        topic = path.name[: -len(".schema.json")]
        name = f"schema/{topic}"
        try:
            schema = load_json(path)
            Draft202012Validator.check_schema(schema)
            if not schema.get("$id"):
                raise ValueError("no $id")
            if "Kafka key" not in schema.get("description", ""):
                raise ValueError("description does not state the Kafka key")
            if schema.get("title") != topic:
                raise ValueError(f"title is {schema.get('title')!r}, expected {topic!r}")
        except (ValueError, jsonschema.SchemaError) as exc:
            report(name, str(exc).splitlines()[0])
            continue
        schemas[topic] = Draft202012Validator(
            schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        report(name)
    return schemas


def check_format_checker():
    # Without rfc3339-validator, jsonschema silently skips date-time.
    checker = Draft202012Validator.FORMAT_CHECKER
    missing = [f for f in ("date-time", "email") if f not in checker.checkers]
    report("format-checker", f"cannot check {missing}" if missing else None)


def check_topics_match(schemas):
    folders = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    wrong = sorted(folders.symmetric_difference(schemas))
    report("examples-cover-every-schema",
           f"schemas and example folders differ: {wrong}" if wrong else None)


def check_valid(topic, validator, path):
    name = f"{topic}/valid/{path.name}"
    try:
        errors = list(validator.iter_errors(load_json(path)))
    except ValueError as exc:
        return report(name, str(exc))
    if errors:
        e = errors[0]
        return report(name, f"{error_field(e) or '(root)'}: {e.message[:200]}")
    report(name)


def check_invalid(topic, validator, path, expected):
    name = f"{topic}/invalid/{path.name}"
    if path.name not in expected:
        return report(name, "no entry in expected-fields.txt")
    try:
        errors = list(validator.iter_errors(load_json(path)))
    except ValueError as exc:
        return report(name, str(exc))
    if not errors:
        return report(name, "validates, but should not")
    if len(errors) != 1:
        fields = [error_field(e) for e in errors]
        return report(name, f"breaks {len(errors)} rules, not one: {fields}")
    got = error_field(errors[0])
    if got != expected[path.name]:
        return report(name, f"error names {got!r}, expected {expected[path.name]!r} "
                            f"({errors[0].message[:120]})")
    report(name)


def check_examples(schemas):
    for topic, validator in schemas.items():
        for path in sorted((EXAMPLES / topic / "valid").glob("*.json")):
            check_valid(topic, validator, path)
        folder = EXAMPLES / topic / "invalid"
        expected = read_expected_fields(folder)
        files = sorted(folder.glob("*.json"))
        for path in files:
            check_invalid(topic, validator, path, expected)
        stale = sorted(set(expected) - {p.name for p in files})
        report(f"{topic}/invalid/expected-fields.txt",
               f"entries without a file: {stale}" if stale else None)


def check_format_cases():
    cases = load_json(ROOT / "tests" / "proto" / "format-cases.json")["cases"]
    for case in cases:
        schema = load_json(PROTO / f"{case['schema']}.schema.json")
        for part in case["pointer"].strip("/").split("/"):
            schema = schema[part]
        validator = Draft202012Validator(
            schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        wrong = [s for s in case["valid"] if not validator.is_valid(s)]
        wrong += [s for s in case["invalid"] if validator.is_valid(s)]
        report(f"format-cases/{case['rule']}", f"wrong verdict for {wrong!r}" if wrong else None)


def check_event_ids():
    for path in sorted((EXAMPLES / "shop.orders.v1" / "valid").glob("*.json")):
        msg = load_json(path)
        text = f"{msg['store_id']}\n{msg['order_id']}\n{msg['version']}"
        want = hashlib.sha256(text.encode()).hexdigest()
        report(f"event-id/{path.name}",
               None if msg["event_id"] == want else f"event_id should be {want}")


# ---------------------------------------------------------------- C agreement

def find_c_checker():
    """test_proto from the build's manifest; None when not run from a build."""
    build = os.environ.get("WB_BUILD_DIR")
    if not build:
        return None
    manifest = pathlib.Path(build) / "tests.manifest"
    if manifest.exists():
        for line in manifest.read_text().splitlines():
            path = line.split(" ", 1)[-1]
            if pathlib.Path(path).name == "test_proto":
                return path
    return ""


def run_c(checker, mode, topic, paths):
    """One test_proto run over many files; returns {file name: output line}."""
    argv = [checker, mode, topic] + [str(p) for p in paths]
    proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.decode()[-500:]}")
    out = {}
    for line in proc.stdout.decode("utf-8").splitlines():
        name, _, rest = line.partition("\t")
        out[pathlib.Path(name).name] = rest
    return out


def check_c_verdicts(checker, topic, validator):
    valid = sorted((EXAMPLES / topic / "valid").glob("*.json"))
    invalid = sorted((EXAMPLES / topic / "invalid").glob("*.json"))
    expected = read_expected_fields(EXAMPLES / topic / "invalid")
    verdicts = run_c(checker, "--check", topic, valid + invalid)
    for path in valid + invalid:
        py_ok = not any(validator.iter_errors(load_json(path)))
        line = verdicts.get(path.name, "missing")
        c_ok = line == "ok"
        name = f"c-agrees/{topic}/{path.parent.name}/{path.name}"
        if py_ok != c_ok:
            report(name, f"validator says {'valid' if py_ok else 'invalid'}, C says {line!r}")
        elif not c_ok and not line.startswith(expected.get(path.name, "?") + ": "):
            report(name, f"C error {line!r} does not name {expected.get(path.name)!r}")
        else:
            report(name)


def check_c_encoder(checker, topic, validator):
    valid = sorted((EXAMPLES / topic / "valid").glob("*.json"))
    encoded = run_c(checker, "--encode", topic, valid)
    for path in valid:
        name = f"c-encode-validates/{topic}/{path.name}"
        try:
            msg = json.loads(encoded.get(path.name, ""))
        except ValueError:
            report(name, f"encoder output is not JSON: {encoded.get(path.name)!r}")
            continue
        errors = list(validator.iter_errors(msg))
        if errors:
            report(name, f"{error_field(errors[0])}: {errors[0].message[:200]}")
        elif msg != load_json(path):
            report(name, "encoder output differs from the example")
        else:
            report(name)


# Values a mutation may put anywhere: wrong types, edge values, enum names.
MUTATION_VALUES = [
    None, "", 0, -1, 1, 1.5, 2.0, "x", True, False, [], {}, [{}], "a/b", "é" * 300,
    "2026-11-20T14:03:11Z", "2026-11-20T14:03:11", "12.50", "SE", "EUR", "https://x", "YQ==",
    9007199254740992, 1000001, "kafka", "webhook", "dispatched", "returned", "picking", "kg",
    "shopify"]
MUTATION_KEYS = ["zz", "path", "topic", "offset", "email", "mobile", "shipments", "returns"]


def json_paths(doc, prefix=()):
    yield prefix
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield from json_paths(value, prefix + (key,))


def mutate(doc, rng):
    """doc with one or two random changes: a field removed, added or replaced."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.choice([1, 1, 2])):
        path = rng.choice([p for p in json_paths(doc) if p])
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        r = rng.random()
        if r < 0.3 and isinstance(parent, dict):
            del parent[path[-1]]
        elif r < 0.4 and isinstance(parent, dict):
            parent[rng.choice(MUTATION_KEYS)] = copy.deepcopy(rng.choice(MUTATION_VALUES))
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(MUTATION_VALUES))
    return doc


def check_c_mutations(checker, topic, validator, per_example=60):
    """Differential test: same verdict (and, for a single error, the same
    field) from jsonschema and the C decoder on mutated valid examples."""
    rng = random.Random(f"wmsbridge-{topic}")
    with tempfile.TemporaryDirectory() as tmp:
        docs = {}
        for src in sorted((EXAMPLES / topic / "valid").glob("*.json")):
            base = load_json(src)
            for i in range(per_example):
                path = pathlib.Path(tmp) / f"{src.stem}-{i}.json"
                docs[path] = mutate(base, rng)
                path.write_text(json.dumps(docs[path], ensure_ascii=False))
        verdicts = run_c(checker, "--check", topic, list(docs))
    wrong = []
    for path, doc in docs.items():
        errors = list(validator.iter_errors(doc))
        c_line = verdicts.get(path.name, "missing")
        if bool(errors) == (c_line == "ok"):
            wrong.append(f"{json.dumps(doc)[:300]} -> C {c_line!r}, validator {len(errors)} errors")
        elif len(errors) == 1 and not c_line.startswith(error_field(errors[0]) + ": "):
            wrong.append(f"{json.dumps(doc)[:300]} -> C {c_line!r}, validator "
                         f"{error_field(errors[0])!r}")
    report(f"c-agrees-on-mutations/{topic}",
           f"{len(wrong)} of {len(docs)} differ, first: {wrong[0]}" if wrong else None)


def check_c(schemas):
    checker = find_c_checker()
    if checker is None:
        print("note: WB_BUILD_DIR is not set, C agreement not checked", file=sys.stderr)
        return
    if not checker:
        return report("c-checker", "test_proto is not in $WB_BUILD_DIR/tests.manifest")
    for topic, validator in schemas.items():
        try:
            check_c_verdicts(checker, topic, validator)
            check_c_encoder(checker, topic, validator)
            check_c_mutations(checker, topic, validator)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            report(f"c-checker/{topic}", str(exc))


def main():
    check_format_checker()
    schemas = load_schemas()
    check_topics_match(schemas)
    check_examples(schemas)
    check_format_cases()
    check_event_ids()
    check_c(schemas)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
