#!/usr/bin/env python3
"""The four services as processes against the test stack: each becomes ready,
serves health and metrics, logs JSON lines without secrets, stops cleanly on
SIGTERM, refuses a bad configuration with exit 2, and reports PostgreSQL going
away on /readyz. Run through scripts/test (it sets WB_BUILD_DIR and the stack's
WB_* variables)."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import harness as h  # noqa: E402

SERVICES = ["order-ingest", "catalog-ingest", "stock-publisher", "fulfilment-reporter"]
R = h.Reporter()


def binary(service):
    return pathlib.Path(os.environ["WB_BUILD_DIR"]) / "bin" / service


class Service:
    """A service process on an ephemeral port, its output in a temp file."""

    def __init__(self, service, extra_env=None):
        self.service = service
        self.log = tempfile.NamedTemporaryFile(prefix=service + "-", suffix=".log", delete=False)
        env = dict(os.environ, WB_HTTP_PORT="0", WB_HTTP_BIND="127.0.0.1", WB_LOG_LEVEL="info")
        env.update(extra_env or {})
        self.proc = subprocess.Popen([str(binary(service))], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.port = None

    def output(self):
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def wait_port(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"http server listening on [0-9.]+:(\d+)", self.output())
            if m:
                self.port = int(m.group(1))
                return self.port
            if self.proc.poll() is not None:
                raise AssertionError(f"exited with {self.proc.returncode}: {self.output()[-500:]}")
            time.sleep(0.05)
        raise AssertionError("no 'http server listening' line in 30s")

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_ready(self, want=200, timeout=60):
        deadline = time.time() + timeout
        status, body = None, ""
        while time.time() < deadline:
            status, body = self.get("/readyz")
            if status == want:
                return body
            time.sleep(0.2)
        raise AssertionError(f"/readyz stayed {status} {body}, wanted {want}")

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after timeout"

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.log.name)


def pg_password():
    m = re.match(r"postgresql://[^:]+:([^@]+)@", os.environ["WB_PG_DSN"])
    return m.group(1) if m else None


def check_service_lifecycle(service):
    svc = Service(service)
    try:
        svc.wait_port()
        body = json.loads(svc.wait_ready(200))
        assert body == {"status": "ready", "checks": {"kafka": "ok", "postgresql": "ok", "redis": "ok"}}, body
        status, health = svc.get("/healthz")
        assert status == 200 and '"status":"alive"' in health, (status, health)
        status, metrics = svc.get("/metrics")
        assert status == 200 and 'wb_http_requests_total{route="/readyz",code="200"}' in metrics, metrics[:300]
        code = svc.stop()
        assert code == 0, f"SIGTERM gave exit status {code}"
        out = svc.output()
        lines = [l for l in out.splitlines() if l.strip()]
        for line in lines:
            if "Sanitizer" in line or "runtime error" in line:
                raise AssertionError(f"sanitizer output: {line}")
            doc = json.loads(line)  # every line is one JSON object
            assert doc["service"] == service and doc["level"] in ("debug", "info", "warn", "error"), line
        assert any(f"{service} stopped" in l for l in lines), "no stop line"
        password = pg_password()
        assert password and password not in out, "the PostgreSQL password reached the log"
    finally:
        svc.cleanup()


def check_bad_config(service):
    env = dict(os.environ, WB_KAFKA_BROKERS="not-a-broker-list")
    proc = subprocess.run([str(binary(service))], env=env, capture_output=True, timeout=20)
    assert proc.returncode == 2, f"exit status {proc.returncode}"
    err = proc.stderr.decode()
    assert f"{service}: configuration error: WB_KAFKA_BROKERS: expected host:port" in err, err
    assert len(err.strip().splitlines()) == 1, f"more than one line on stderr: {err}"


def stack(*args):
    subprocess.run([str(ROOT / "scripts" / "stack"), *args], check=True, capture_output=True, timeout=120)


def check_postgres_down_makes_readyz_503():
    svc = Service("order-ingest")
    try:
        svc.wait_port()
        svc.wait_ready(200)
        stack("down", "postgres")
        try:
            body = json.loads(svc.wait_ready(503, timeout=30))
            assert body["status"] == "unavailable", body
            assert body["checks"]["kafka"] == "ok" and body["checks"]["redis"] == "ok", body
            assert body["checks"]["postgresql"].startswith("postgresql unreachable"), body
            status, _ = svc.get("/healthz")
            assert status == 200, "liveness must not follow a dependency"
        finally:
            stack("up", "postgres")
        svc.wait_ready(200, timeout=60)
        assert svc.stop() == 0
    finally:
        svc.cleanup()


def check_waits_for_postgres_at_start():
    """Started while PostgreSQL is unreachable, a service stays alive, reports
    not ready, and stops cleanly when asked."""
    env = {"WB_PG_DSN": re.sub(r"@127\.0\.0\.1:\d+/", "@127.0.0.1:1/", os.environ["WB_PG_DSN"])}
    svc = Service("stock-publisher", env)
    try:
        svc.wait_port()
        body = json.loads(svc.wait_ready(503, timeout=30))
        assert body["checks"]["postgresql"].startswith("postgresql unreachable"), body
        assert "waiting for postgresql" in svc.output()
        assert svc.stop() == 0
    finally:
        svc.cleanup()


def main():
    for service in SERVICES:
        R.run(f"{service}_lifecycle", check_service_lifecycle, service)
        R.run(f"{service}_bad_config_exits_2", check_bad_config, service)
    R.run("waits_for_postgres_at_start", check_waits_for_postgres_at_start)
    R.run("postgres_down_makes_readyz_503", check_postgres_down_makes_readyz_503)
    return 1 if R.failures else 0


if __name__ == "__main__":
    sys.exit(main())
