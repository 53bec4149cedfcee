#!/usr/bin/env python3
"""Runs every test program and prints `N passed, N failed`.

Test programs are the C binaries listed in BUILD/tests.manifest ("kind path"
per line) and the Python scripts tests/**/test_*.py. Each prints one line per
test case, "PASS name" or "FAIL name: why". A program that exits non-zero, dies
on a signal, prints a sanitizer report or runs past its time limit counts as one
more failure, so a crash can never pass unnoticed.

usage: tests/run.py BUILD_DIR [--kind unit,integration,e2e,python] [--filter SUBSTRING]
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(PASS|FAIL) (\S+)(?::\s*(.*))?$")
SANITIZER = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)")
KIND_ORDER = {"unit": 0, "python": 1, "integration": 2, "e2e": 3}


def stack_env():
    env = dict(os.environ)
    env_file = pathlib.Path(os.environ.get("WB_STATE_DIR", ROOT / ".state")) / "stack.env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                env.setdefault(key, value)
    # Sanitizer reports must fail the program, and stay readable in the log.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


def programs(build):
    found = []
    manifest = pathlib.Path(build) / "tests.manifest"
    if manifest.exists():
        for line in manifest.read_text().splitlines():
            if line.strip():
                kind, path = line.split(" ", 1)
                found.append((kind, [path], pathlib.Path(path).name))
    for script in sorted(ROOT.glob("tests/**/test_*.py")):
        folder = script.parent.name
        kind = folder if folder in ("unit", "integration", "e2e") else "python"
        found.append((kind, [sys.executable, str(script)], str(script.relative_to(ROOT))))
    found.sort(key=lambda p: KIND_ORDER.get(p[0], 9))
    return found


def run_one(kind, argv, name, env, timeout, logdir):
    start = time.monotonic()
    env = dict(env, WB_BUILD_DIR=env.get("WB_BUILD_DIR", ""))
    try:
        proc = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
        output, code = proc.stdout.decode("utf-8", "replace"), proc.returncode
    except OSError as exc:
        output, code = f"cannot start {argv[0]}: {exc}", "missing"
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode("utf-8", "replace")
        code = "timeout"
    elapsed = time.monotonic() - start
    (logdir / (name.replace("/", "_") + ".log")).write_text(output)

    passed = failed = 0
    for line in output.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        print(f"  {line}")
        if m.group(1) == "PASS":
            passed += 1
        else:
            failed += 1
    problem = None
    if code == "timeout":
        problem = f"ran past {timeout}s"
    elif SANITIZER.search(output):
        problem = "sanitizer report"
    elif code != 0 and failed == 0:
        problem = f"exited with {code}"
    elif passed + failed == 0:
        problem = "printed no test results"
    if problem:
        failed += 1
        print(f"  FAIL {name}: {problem} (log: {logdir / (name.replace('/', '_') + '.log')})")
    print(f"[{kind}] {name}: {passed} passed, {failed} failed ({elapsed:.1f}s)", flush=True)
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--kind", default="unit,python,integration,e2e")
    ap.add_argument("--filter", default="")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("WB_TEST_TIMEOUT", "600")))
    args = ap.parse_args()

    kinds = set(args.kind.split(","))
    env = stack_env()
    env["WB_BUILD_DIR"] = str(pathlib.Path(args.build).resolve())
    logdir = pathlib.Path(args.build) / "test-logs"
    logdir.mkdir(parents=True, exist_ok=True)

    total_pass = total_fail = 0
    for kind, argv, name in programs(args.build):
        if kind not in kinds or args.filter not in name:
            continue
        p, f = run_one(kind, argv, name, env, args.timeout, logdir)
        total_pass += p
        total_fail += f
    print(f"{total_pass} passed, {total_fail} failed")
    return 1 if total_fail or total_pass == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
