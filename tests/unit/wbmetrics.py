"""The metrics the C sources declare, and the wb_* metrics a PromQL expression
references, for tests/unit/test_monitoring.py and tests/e2e/test_metrics_promtool.py."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]

DECL = re.compile(r'wb_(counter|gauge|histogram)\(\s*"(wb_[a-z0-9_]+)"\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+),\s*'
                  r'"([^"]*)"')
# Labels every scraped series gets from the scrape configuration
# (deploy/prometheus/prometheus.yml, the chart's ServiceMonitor).
TARGET_LABELS = {"job", "instance", "service"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def declared(folders=("libshared", "services", "sim", "tools")):
    """{name: {"type", "labels", "help", "files"}} from every wb_counter/gauge/histogram call."""
    out = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.c")):
            text = path.read_text(errors="replace")
            for m in DECL.finditer(text):
                kind, name, _help, labels = m.groups()
                label_set = set(filter(None, labels.split(",")))
                prev = out.get(name)
                if prev and (prev["type"] != kind or prev["labels"] != label_set):
                    raise AssertionError(f"{name} declared twice differently: {prev['files']} and {path}")
                entry = out.setdefault(name, {"type": kind, "labels": label_set, "files": []})
                entry["files"].append(str(path.relative_to(ROOT)))
    return out


SELECTOR = re.compile(r"\b(wb_[a-z0-9_]+|up)\b(\s*\{([^}]*)\})?")
MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"')
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")


def check_expression(expr, metrics):
    """Problems (a list of strings) with the wb_* metrics and labels expr uses."""
    problems = []
    used_labels = set()
    known_labels = set(TARGET_LABELS)
    for m in SELECTOR.finditer(expr):
        name, matchers = m.group(1), m.group(3) or ""
        if name == "up":
            labels = set(TARGET_LABELS)
        else:
            base, suffix = name, ""
            for s in HISTOGRAM_SUFFIXES:
                if name.endswith(s) and name[:-len(s)] in metrics:
                    base, suffix = name[:-len(s)], s
            info = metrics.get(base)
            if not info:
                problems.append(f"{name}: no service exports it")
                continue
            if info["type"] == "histogram" and not suffix:
                problems.append(f"{name} is a histogram: use _bucket, _sum or _count")
            if info["type"] != "histogram" and suffix:
                problems.append(f"{name}: {base} is a {info['type']}, not a histogram")
            labels = info["labels"] | TARGET_LABELS | ({"le"} if suffix == "_bucket" else set())
        known_labels |= labels
        for lm in MATCHER.finditer(matchers):
            if lm.group(1) not in labels:
                problems.append(f"{name} has no label {lm.group(1)!r}")
    for g in GROUPING.finditer(expr):
        used_labels |= {x.strip() for x in g.group(1).split(",") if x.strip()}
    for label in sorted(used_labels - known_labels):
        problems.append(f"grouping by {label!r}, which no metric of the expression has")
    return problems


def parse_exposition(text):
    """{name: {"type", "labels"}} from a /metrics text (HELP/TYPE and samples)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            out.setdefault(name, {"type": kind, "labels": set()})
        elif line and not line.startswith("#"):
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
            name = m.group(1)
            for s in HISTOGRAM_SUFFIXES:
                if name.endswith(s) and name[:-len(s)] in out:
                    name = name[:-len(s)]
            labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or "")) - {"le"}
            out.setdefault(name, {"type": "untyped", "labels": set()})["labels"] |= labels
    return out
