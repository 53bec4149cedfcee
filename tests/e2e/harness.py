"""Shared pieces of the Python end-to-end tests: the bridge's services and
shopsim as processes, bridgectl, psql and Kafka through testkafka. The
environment comes from tests/run.py (WB_BUILD_DIR and the test stack's WB_*)."""
import json
import os
import pathlib
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("WB_BUILD_DIR", ROOT / "build-asan"))
MASTER_KEY = "42" * 32


class Reporter:
    """Prints PASS/FAIL lines the runner counts."""

    def __init__(self):
        self.failures = 0

    def run(self, name, fn, *args):
        try:
            fn(*args)
            print(f"PASS {name}", flush=True)
            return True
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            self.failures += 1
            print(f"FAIL {name}: {exc!r}"[:2000], flush=True)
            return False

    def run_module(self, setup, namespace, cleanup):
        """A test module's main: setup, then every test_* function of
        namespace (a module's globals(), in definition order), then cleanup,
        which runs whatever happened and must cope with a half-done setup.
        Returns the exit status."""
        try:
            if self.run("setup", setup):
                for name, fn in list(namespace.items()):
                    if name.startswith("test_") and callable(fn):
                        self.run(name[5:], fn)
        finally:
            cleanup()
        return 1 if self.failures else 0


def wait_for(what, predicate, timeout=30, interval=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")


def http(method, url, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


class Process:
    """A program of the build with its output in a temp file, on port 0."""

    def __init__(self, argv, env=None, port_pattern=r"listening on [0-9.]+:(\d+)"):
        self.log = tempfile.NamedTemporaryFile(prefix=pathlib.Path(argv[0]).name + "-", suffix=".log",
                                               delete=False)
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.port_pattern = port_pattern
        self.port = None

    def output(self):
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def wait_port(self, timeout=30):
        def found():
            if self.proc.poll() is not None:
                raise AssertionError(f"exited with {self.proc.returncode}: {self.output()[-800:]}")
            m = re.search(self.port_pattern, self.output())
            return int(m.group(1)) if m else None
        self.port = wait_for("listening port", found, timeout)
        return self.port

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after timeout"

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.returncode not in (0, -9) or os.environ.get("WB_KEEP_LOGS"):
            # A crash (or a sanitizer report) must be seen in the test log.
            tail = self.output()[-4000:]
            print(f"--- {self.log.name} exited {self.proc.returncode}, last output:\n{tail}", flush=True)
        try:
            os.unlink(self.log.name)
        except FileNotFoundError:
            pass


def service(name, extra_env=None):
    env = dict(os.environ, WB_HTTP_PORT="0", WB_HTTP_BIND="127.0.0.1", WB_MASTER_KEY=MASTER_KEY)
    env.update(extra_env or {})
    p = Process([str(BUILD / "bin" / name)], env)
    try:
        p.wait_port(60)  # a loaded 2-core machine can take a while to start a sanitized build
    except BaseException:
        # Nobody else holds the process: stop it, or it outlives the test and
        # keeps consuming (and reporting) beside the next one.
        p.cleanup()
        raise
    return p


class Shopsim:
    def __init__(self):
        self.proc = Process([str(BUILD / "sim" / "shopsim" / "shopsim"), "--port", "0"],
                            dict(os.environ), port_pattern=r'"msg":"listening".*?"port":(\d+)')
        self.port = self.proc.wait_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def call(self, method, path, body=None):
        status, doc = http(method, self.base + path, body)
        if status >= 400:
            raise AssertionError(f"shopsim {method} {path}: {status} {doc}")
        return doc

    def close(self):
        self.proc.stop()
        self.proc.cleanup()


def bridgectl(*args, stdin=None, dsn=None):
    env = dict(os.environ, WB_MASTER_KEY=MASTER_KEY)
    if dsn:
        env["WB_PG_DSN"] = dsn
    p = subprocess.run([str(BUILD / "bin" / "bridgectl"), *args], input=stdin, env=env,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"bridgectl {' '.join(args)}: {p.returncode} {p.stderr}")
    return p.stdout


def psql(sql, dsn=None):
    # The statement goes on stdin: a long one would not fit a command line.
    p = subprocess.run(["psql", dsn or os.environ["WB_PG_DSN"], "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"],
                       input=sql, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"psql: {p.stderr}")
    return p.stdout


def produce(topic, records):
    """records: (key, value-dict or str) pairs; returns once all are acknowledged."""
    lines = "".join(f"{k}\t{v if isinstance(v, str) else json.dumps(v, separators=(',', ':'))}\n"
                    for k, v in records)
    p = subprocess.run([str(BUILD / "bin" / "testkafka"), "produce", topic], input=lines,
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"testkafka produce: {p.stderr}")


def consume(topic, key_prefix, idle_seconds=3):
    p = subprocess.run([str(BUILD / "bin" / "testkafka"), "consume", topic, str(idle_seconds), key_prefix],
                       capture_output=True, text=True, timeout=300)
    out = []
    for line in p.stdout.splitlines():
        part, offset, key, value = line.split("\t", 3)
        out.append((int(part), int(offset), key, value))
    return out


def sql_literal(s):
    return "'" + str(s).replace("'", "''") + "'"


def assert_clean_stop(process):
    """SIGTERM: exit 0 and no sanitizer report in the output."""
    code = process.stop()
    out = process.output()
    process.cleanup()
    assert code == 0, f"exit {code}: {out[-1500:]}"
    assert "LeakSanitizer" not in out and "runtime error" not in out, out[-1500:]
