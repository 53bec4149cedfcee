#!/usr/bin/env python3
"""Validates every GraphQL document the bridge sends to Shopify, with its example
variables, against Shopify's published Admin API schema (2026-07).

The documents come from `$WB_BUILD_DIR/bin/gqldocs`; the schema from the npm
package @shopify/dev-mcp (dist/data/admin_2026-07.json.gz), checked with the
`graphql` package by validate.mjs. Both packages are pinned in package.json /
package-lock.json and installed with `npm ci` into node_modules here the first
time (a stamp of the lock file marks a complete install, so later runs do not
touch the network). Prints `PASS name` / `FAIL name: why` per case.
"""
import fcntl
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
MODULES = HERE / "node_modules"
STAMP = MODULES / ".wmsbridge-installed"
VERSION = "2026-07"
LINE = re.compile(r"^(PASS|FAIL) \S+")

failures = 0


def report(ok, name, why=""):
    global failures
    if ok:
        print(f"PASS {name}", flush=True)
    else:
        failures += 1
        why = " ".join(str(why).split())
        print(f"FAIL {name}: {why}", flush=True)


def tail(text, lines=5):
    return " | ".join(text.strip().splitlines()[-lines:])


def lock_digest():
    h = hashlib.sha256()
    for f in ("package.json", "package-lock.json"):
        h.update((HERE / f).read_bytes())
    return h.hexdigest()


def ensure_packages():
    """npm ci once per lock file; serialised, since test runs may overlap."""
    digest = lock_digest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return True
    npm = shutil.which("npm")
    if not npm:
        report(False, "npm_install", "node_modules is missing or stale and npm is not on PATH (run scripts/setup)")
        return False
    with open(HERE / "package-lock.json", "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.exists() and STAMP.read_text().strip() == digest:
            return True  # another run installed it while we waited
        try:
            proc = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"],
                cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=480)
        except subprocess.TimeoutExpired:
            report(False, "npm_install", "npm ci ran past 480 s")
            return False
        if proc.returncode != 0:
            report(False, "npm_install", f"npm ci exited {proc.returncode}: "
                   f"{tail(proc.stdout.decode('utf-8', 'replace'))}")
            return False
        STAMP.write_text(digest + "\n")
    return True


def main():
    global failures
    build = os.environ.get("WB_BUILD_DIR")
    if not build:
        report(False, "gqldocs", "WB_BUILD_DIR is not set")
        return 1
    gqldocs = pathlib.Path(build) / "bin" / "gqldocs"
    if not gqldocs.exists():
        report(False, "gqldocs", f"{gqldocs} not built (cmake --build {build} --target gqldocs)")
        return 1
    proc = subprocess.run([str(gqldocs)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if proc.returncode != 0:
        report(False, "gqldocs", f"exited {proc.returncode}: {tail(proc.stderr.decode('utf-8', 'replace'))}")
        return 1
    documents = proc.stdout

    node = shutil.which("node")
    if not node:
        report(False, "node_available", "node is not on PATH (run scripts/setup)")
        return 1
    if not ensure_packages():
        return 1

    try:
        run = subprocess.run([node, str(HERE / "validate.mjs"), "--version", VERSION, "--self-test", "-"],
                             input=documents, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    except subprocess.TimeoutExpired:
        report(False, "validate_mjs", "ran past 120 s")
        return 1
    out = run.stdout.decode("utf-8", "replace")
    results = 0
    for line in out.splitlines():
        if LINE.match(line):
            results += 1
            failures += line.startswith("FAIL")
            print(line, flush=True)
    if run.returncode != 0 and failures == 0:
        report(False, "validate_mjs", f"exited {run.returncode} without a FAIL line: "
               f"{tail(run.stderr.decode('utf-8', 'replace'))}")
    elif results == 0:
        report(False, "validate_mjs", f"printed no results: {tail(run.stderr.decode('utf-8', 'replace'))}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
