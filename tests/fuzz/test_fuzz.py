#!/usr/bin/env python3
"""Runs every libFuzzer target of tests/fuzz briefly (the short run of the
test command; docs/fuzzing.md has the long one).

The fuzz build (clang, WB_FUZZ=ON, ASan + UBSan) is WB_FUZZ_BUILD_DIR or
build-fuzz/; it is configured when missing and brought up to date first, so
the run never fuzzes stale code. Each target starts from its seed corpus
tests/fuzz/corpus/<target>/ (plus what earlier runs found, kept in
<build>/fuzz-corpus/<target>/) for WB_FUZZ_SECONDS (default 20) seconds.
A crash, leak, sanitizer report, timeout or out-of-memory is a FAIL naming the
input libFuzzer saved; reproduce it with `<build>/fuzz/<target> <that file>`.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "tests/fuzz"
BUILD = pathlib.Path(os.environ.get("WB_FUZZ_BUILD_DIR", ROOT / "build-fuzz"))
SECONDS = int(os.environ.get("WB_FUZZ_SECONDS", "20"))
TARGETS = re.findall(r"wb_fuzz_target\(([\w${}]+)", (HERE / "CMakeLists.txt").read_text())
# foreach(VAR a b c) loops of the CMakeLists: fuzz_proto_${topic}, fuzz_reporter_${platform}
LOOPS = dict(re.findall(r"foreach\((\w+) ([\w ]+)\)", (HERE / "CMakeLists.txt").read_text()))


def targets():
    names = []
    for t in TARGETS:
        var = re.search(r"\$\{(\w+)\}", t)
        if var:
            names += [t.replace(var.group(0), v) for v in LOOPS[var.group(1)].split()]
        else:
            names.append(t)
    return names


def build():
    if not shutil.which("clang"):
        return "clang is not installed (scripts/setup installs clang and libclang-rt-14-dev)"
    env = dict(os.environ, CC="clang")
    steps = []
    if not (BUILD / "CMakeCache.txt").exists():
        steps.append(["cmake", "-S", str(ROOT), "-B", str(BUILD), "-DWB_FUZZ=ON", "-DWB_BUILD_SIM=OFF",
                      "-DCMAKE_BUILD_TYPE=Debug"])
    steps.append(["cmake", "--build", str(BUILD), "--target", "fuzz_targets", f"-j{os.cpu_count() or 2}"])
    for argv in steps:
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode:
            lines = p.stdout.decode("utf-8", "replace").strip().splitlines()
            tail = [l for l in lines if "error" in l.lower()][:5] or lines[-5:]
            return f"{' '.join(argv[:3])} failed: " + " | ".join(tail)
    return None


def run(name):
    exe = BUILD / "fuzz" / name
    seeds = HERE / "corpus" / name
    if not any(seeds.glob("*")):
        return f"no seed corpus in {seeds.relative_to(ROOT)}"
    work = BUILD / "fuzz-corpus" / name
    work.mkdir(parents=True, exist_ok=True)
    artifacts = BUILD / "fuzz-artifacts"
    artifacts.mkdir(exist_ok=True)
    argv = [str(exe), f"-max_total_time={SECONDS}", "-timeout=20", "-rss_limit_mb=2048",
            "-print_final_stats=1", f"-artifact_prefix={artifacts}/{name}-", str(work), str(seeds)]
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    try:
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=SECONDS * 4 + 120)
    except subprocess.TimeoutExpired:
        return f"did not finish within {SECONDS * 4 + 120}s"
    out = p.stdout.decode("utf-8", "replace")
    (BUILD / "fuzz-artifacts" / f"{name}.log").write_text(out)
    if p.returncode == 0 and "Done " in out:
        runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
        print(f"  {name}: {runs.group(1) if runs else '?'} inputs in {SECONDS}s")
        return None
    summary = [l for l in out.splitlines()
               if l.startswith(("SUMMARY:", "fuzz_proto:", "fuzz_webhook:")) or "==ERROR: libFuzzer" in l]
    saved = re.findall(r"Test unit written to (\S+)", out)
    why = summary[-1] if summary else f"exit {p.returncode}"
    why = why.replace("ERROR: ", "")  # the runner counts the FAIL line; no second count
    return f"{why}; input: {saved[-1] if saved else '?'}; log: {BUILD / 'fuzz-artifacts' / (name + '.log')}"


def main():
    failed = 0
    problem = build()
    if problem:
        print(f"FAIL fuzz_build: {problem}")
        return 1
    print("PASS fuzz_build")
    for name in targets():
        problem = run(name)
        if problem:
            failed += 1
            print(f"FAIL {name}: {problem}", flush=True)
        else:
            print(f"PASS {name}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
