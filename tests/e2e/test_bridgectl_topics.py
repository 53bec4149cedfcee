#!/usr/bin/env python3
"""bridgectl topics ensure: the replication settings a production cluster
needs (WB_KAFKA_REPLICATION_FACTOR, WB_KAFKA_MIN_INSYNC_REPLICAS) are read,
and a bad value stops it with exit 2 and the variable's name. That the values
reach the broker is tests/integration/test_kafka.c's
topics_replication_factor_and_min_insync_are_applied."""
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

R = h.Reporter()
BIN = pathlib.Path(os.environ["WB_BUILD_DIR"]) / "bin" / "bridgectl"


def ensure(**env):
    return subprocess.run([str(BIN), "topics", "ensure"], env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=60)


def setup():
    assert BIN.exists(), f"{BIN} not built"


def test_default_uses_the_brokers_replication():
    p = ensure()
    assert p.returncode == 0, p.stderr
    assert "topic shop.orders.v1 ready" in p.stdout and "topic bridge.deadletter.v1 ready" in p.stdout, p.stdout


def test_explicit_factor_and_min_insync_accepted_for_existing_topics():
    p = ensure(WB_KAFKA_REPLICATION_FACTOR="1", WB_KAFKA_MIN_INSYNC_REPLICAS="1")
    assert p.returncode == 0, p.stderr


def test_bad_values_stop_with_the_variables_name():
    cases = [({"WB_KAFKA_REPLICATION_FACTOR": "0"}, "WB_KAFKA_REPLICATION_FACTOR"),
             ({"WB_KAFKA_REPLICATION_FACTOR": "three"}, "WB_KAFKA_REPLICATION_FACTOR"),
             ({"WB_KAFKA_REPLICATION_FACTOR": "-2"}, "WB_KAFKA_REPLICATION_FACTOR"),
             ({"WB_KAFKA_MIN_INSYNC_REPLICAS": "-1"}, "WB_KAFKA_MIN_INSYNC_REPLICAS"),
             ({"WB_KAFKA_REPLICATION_FACTOR": "2", "WB_KAFKA_MIN_INSYNC_REPLICAS": "3"},
              "WB_KAFKA_MIN_INSYNC_REPLICAS")]
    for env, var in cases:
        p = ensure(**env)
        assert p.returncode == 2, (env, p.returncode, p.stderr)
        assert var in p.stderr, (env, p.stderr)


def cleanup():
    pass


def main():
    return R.run_module(setup, globals(), cleanup)


if __name__ == "__main__":
    sys.exit(main())
