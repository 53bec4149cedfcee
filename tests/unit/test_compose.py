#!/usr/bin/python3
"""compose/docker-compose.yml and the Dockerfile, checked without a Docker
engine: `docker-compose config` (offline) accepts the file; the services,
their healthchecks on /healthz and their order (migrate first) are there;
every WB_* variable a container gets is one its program reads; the
Dockerfile has a target per image and its slim runtime stage installs the
Debian packages that hold the shared libraries the built binaries link
(ldd on the binaries of the build, mapped to packages with dpkg -S)."""
import functools
import pathlib
import re
import subprocess
import sys

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "e2e"))
from harness import BUILD, ROOT, Reporter  # noqa: E402

COMPOSE = ROOT / "compose" / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = {"order-ingest": 8081, "catalog-ingest": 8082, "stock-publisher": 8083, "fulfilment-reporter": 8084}
# Which sources each container's program reads its WB_* variables from.
PROGRAM_SOURCES = {
    **{s: ["libshared", f"services/{s}"] for s in SERVICES},
    "migrate": ["libshared", "tools/bridgectl"],
    "shopsim": ["sim/shopsim"],
    "wmssim": ["libshared", "sim/wmssim"],
}
MASTER_KEY = "ab" * 32
# Packages every debian:bookworm-slim image has (Essential or required by apt).
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "liblz4-1", "liblzma5", "libbz2-1.0",
                 "libsystemd0", "libgcrypt20", "libgpg-error0", "libcap2", "libselinux1", "libpcre2-8-0",
                 "libcrypt1", "libudev1", "libacl1", "libattr1", "libdb5.3", "libaudit1", "libcap-ng0",
                 "libtinfo6", "libxxhash0", "libgnutls30", "libp11-kit0", "libtasn1-6", "libnettle8",
                 "libhogweed6", "libidn2-0", "libunistring2", "libgmp10", "libffi8", "libseccomp2", "debconf"}


def compose_config(env_extra=None, check=True):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", **(env_extra or {})}
    p = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config"], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=120)
    if check:
        assert p.returncode == 0, p.stderr
    return p


@functools.lru_cache(maxsize=None)
def config():
    return yaml.safe_load(compose_config({"WB_MASTER_KEY": MASTER_KEY}).stdout)


def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: str(v) for k, v in env.items()}


def reads(folders):
    names = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.c"):
            names.update(re.findall(r'"(WB_[A-Z0-9_]+)"', path.read_text(errors="replace")))
    return names


def dockerfile_stages():
    """{stage name: (base, text of the stage)}."""
    stages, current = {}, None
    for line in DOCKERFILE.read_text().splitlines():
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if m:
            current = m.group(2) or m.group(1)
            stages[current] = [m.group(1), ""]
        elif current:
            stages[current][1] += line + "\n"
    return {k: tuple(v) for k, v in stages.items()}


def apt_packages(stage_text):
    m = re.search(r"apt-get install[^\n\\]*(?:\\\n[^\n\\]*)*", stage_text)
    assert m, stage_text
    words = re.sub(r"\\\n", " ", m.group(0)).split("&&")[0].split()
    return {w for w in words if not w.startswith("-") and w not in ("apt-get", "install")}


def candidates(path):
    """A library path as ldd prints it, resolved, and with or without /usr (merged /usr)."""
    out = {path, str(pathlib.Path(path).resolve())}
    for p in list(out):
        if p.startswith("/usr/lib/"):
            out.add(p[len("/usr"):])
        elif p.startswith("/lib/"):
            out.add("/usr" + p)
    return out


def packages_of(paths):
    """{library path: Debian package that ships it}, in one dpkg -S call."""
    cands = {p: candidates(p) for p in paths}
    every = sorted(set().union(*cands.values()))
    r = subprocess.run(["dpkg", "-S", *every], capture_output=True, text=True)
    owner = {}
    for line in r.stdout.splitlines():
        pkgs, _, file = line.partition(": ")
        owner[file.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    out = {}
    for p, cs in cands.items():
        found = [owner[c] for c in cs if c in owner]
        assert found, f"no package ships {p}"
        out[p] = found[0]
    return out


def depends_closure(packages):
    """The installed packages the given ones pull in (Depends, Pre-Depends)."""
    seen, todo = set(), set(packages)
    while todo:
        seen |= todo
        r = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Depends},${Pre-Depends}\n", *sorted(todo)],
                           capture_output=True, text=True)
        nxt = set()
        for line in r.stdout.splitlines():
            _, _, deps = line.partition("\t")
            for alt in deps.split(","):
                for choice in alt.split("|"):
                    name = choice.strip().split(" ")[0].split(":")[0]
                    if name:
                        nxt.add(name)
        todo = nxt - seen
    return seen


def binaries():
    out = {name: BUILD / "bin" / name for name in [*SERVICES, "bridgectl"]}
    out["shopsim"] = BUILD / "sim" / "shopsim" / "shopsim"
    out["wmssim"] = BUILD / "sim" / "wmssim" / "wmssim"
    missing = [str(p) for p in out.values() if not p.exists()]
    assert not missing, f"not built: {missing}"
    return out


# ---------------------------------------------------------------- cases


def compose_config_passes():
    cfg = config()
    assert set(cfg["services"]) >= {"kafka", "redis", "postgres", "migrate", "shopsim", "wmssim", "prometheus",
                                    "grafana", *SERVICES}, sorted(cfg["services"])
    # Without the master key the file refuses to resolve, naming the variable.
    p = compose_config(check=False)
    assert p.returncode != 0 and "WB_MASTER_KEY" in p.stderr, p.stderr
    r = subprocess.run(["yamllint", "-c", str(ROOT / ".yamllint"), "--strict", "compose", "deploy"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def kafka_kraft():
    kafka = config()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:"), kafka["image"]
    env = env_of(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}, env
    assert "CONTROLLER://" in env["KAFKA_LISTENERS"] and env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"], env
    # kafka-storage wants a base64 UUID: 22 characters of the URL-safe alphabet.
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"]), env["CLUSTER_ID"]
    assert not any("zookeeper" in s for s in config()["services"]), "no ZooKeeper in KRaft mode"


def services_health_and_order():
    cfg = config()["services"]
    for name, port in SERVICES.items():
        svc = cfg[name]
        test = " ".join(svc["healthcheck"]["test"])
        assert f"/dev/tcp/127.0.0.1/{port}" in test and "GET /healthz" in test and " 200 " in test, test
        assert env_of(svc)["WB_HTTP_PORT"] == str(port), env_of(svc)
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully", svc["depends_on"]
        assert svc["build"]["target"] == name, svc["build"]
        assert env_of(svc)["WB_PG_MIGRATE"] == "false"
        assert env_of(svc)["WB_MASTER_KEY"] == MASTER_KEY
        published = [f"{p.get('host_ip', '')}:{p.get('published')}:{p.get('target')}" if isinstance(p, dict)
                     else str(p).split("/")[0] for p in svc["ports"]]
        assert published == [f"127.0.0.1:{port}:{port}"], published
    migrate = cfg["migrate"]
    script = " ".join(migrate["entrypoint"])
    assert "bridgectl db migrate" in script and "bridgectl topics ensure" in script, script
    assert migrate["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["build"]["target"] == "bridgectl"
    for dep in ("kafka", "postgres", "redis"):
        assert cfg[dep].get("healthcheck"), f"{dep} has no healthcheck"


def variables_are_read():
    cfg = config()["services"]
    checked = 0
    for name, folders in PROGRAM_SOURCES.items():
        known = reads(folders)
        for var in env_of(cfg[name]):
            if var.startswith("WB_"):
                assert var in known, f"{name} gets {var}, which its program does not read"
                checked += 1
    assert checked >= 30, checked
    # and the check does catch a variable nobody reads
    assert "WB_ORDER_PUBLIC_URL" in reads(PROGRAM_SOURCES["order-ingest"])
    assert "WB_ORDER_PUBLIC_URL" not in reads(PROGRAM_SOURCES["stock-publisher"])


def monitoring_mounts():
    cfg = config()["services"]

    def mounts(svc):
        out = {}
        for v in cfg[svc]["volumes"]:
            if isinstance(v, dict):
                out[v["target"]] = v.get("source")
            else:
                src, tgt = v.split(":")[:2]
                out[tgt] = src
        return out
    prom = mounts("prometheus")
    assert pathlib.Path(prom["/etc/prometheus/prometheus.yml"]).resolve() == ROOT / "deploy/prometheus/prometheus.yml"
    assert pathlib.Path(prom["/etc/prometheus/wmsbridge-rules.yml"]).resolve() == \
        ROOT / "deploy/prometheus/wmsbridge-rules.yml"
    graf = mounts("grafana")
    board_dir = pathlib.Path(graf["/var/lib/grafana/dashboards/wmsbridge"])
    assert (board_dir / "wmsbridge-dashboard.json").is_file(), board_dir
    providers = yaml.safe_load(pathlib.Path(graf["/etc/grafana/provisioning/dashboards/wmsbridge.yml"]).read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/wmsbridge", providers
    sources = yaml.safe_load(pathlib.Path(graf["/etc/grafana/provisioning/datasources/wmsbridge.yml"]).read_text())
    ds = sources["datasources"][0]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090" and ds["isDefault"], ds


def dockerfile_targets():
    stages = dockerfile_stages()
    build_base, build_text = stages["build"]
    runtime_base, runtime_text = stages["runtime"]
    assert re.fullmatch(r"debian:(\$\{DEBIAN_RELEASE\}|bookworm)", build_base), build_base
    assert re.fullmatch(r"debian:(\$\{DEBIAN_RELEASE\}|bookworm)-slim", runtime_base), runtime_base
    assert "ARG DEBIAN_RELEASE=bookworm" in DOCKERFILE.read_text()
    for target in {s["build"]["target"] for s in config()["services"].values() if "build" in s}:
        assert target in stages, f"compose builds target {target}, the Dockerfile has none"
        assert stages[target][0] == "runtime", (target, stages[target][0])
        assert f"--from=build /out/{target}" in stages[target][1], target
    # The build stage has the -dev packages scripts/setup installs for building.
    setup = (ROOT / "scripts" / "setup").read_text()
    dev = set(re.findall(r"\b(lib[a-z0-9.+-]*-dev)\b", setup)) - {"libclang-rt-14-dev"}
    assert dev and dev <= apt_packages(build_text), dev - apt_packages(build_text)
    assert {"cmake", "build-essential", "pkg-config"} <= apt_packages(build_text)
    runtime = apt_packages(runtime_text)
    assert not any(p.endswith("-dev") for p in runtime), runtime
    assert "USER 10001" in runtime_text, "the runtime stage runs as root"


def runtime_packages_cover_ldd():
    runtime = apt_packages(dockerfile_stages()["runtime"][1])
    closure = depends_closure(runtime | BASE_PACKAGES)
    linked = {}
    for name, path in binaries().items():
        ldd = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=True).stdout
        libs = [lib for lib in re.findall(r"=>\s+(/\S+)", ldd)
                # the sanitizer build's runtime; the image is built without it
                if not re.match(r"lib(asan|ubsan|lsan|tsan)\.", pathlib.Path(lib).name)]
        needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                                subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True,
                                               check=True).stdout))
        linked[name] = (libs, needed)
    owner = packages_of({lib for libs, _ in linked.values() for lib in libs})
    direct_pkgs = set()
    for name, (libs, needed) in linked.items():
        for lib in libs:
            pkg = owner[lib]
            assert pkg in closure, f"{name} links {lib} from {pkg}, which the runtime stage does not install"
            if pathlib.Path(lib).name in needed:
                direct_pkgs.add(pkg)
                assert pkg in runtime or pkg in BASE_PACKAGES, \
                    f"{name} links {pathlib.Path(lib).name} directly from {pkg}: add it to the runtime stage's apt-get install"
    # Every package of the runtime stage is needed by some binary.
    assert runtime - {"ca-certificates"} <= direct_pkgs, (runtime - direct_pkgs)


def main():
    rep = Reporter()
    rep.run("compose_config_passes_offline", compose_config_passes)
    rep.run("compose_kafka_in_kraft_mode", kafka_kraft)
    rep.run("compose_services_healthchecks_and_migrate_first", services_health_and_order)
    rep.run("compose_sets_only_variables_the_programs_read", variables_are_read)
    rep.run("compose_prometheus_and_grafana_provisioned", monitoring_mounts)
    rep.run("dockerfile_targets_and_stages", dockerfile_targets)
    rep.run("dockerfile_runtime_packages_cover_ldd", runtime_packages_cover_ldd)
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
