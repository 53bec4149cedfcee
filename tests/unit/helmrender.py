"""A small renderer for the subset of Helm's Go templates that helm/wmsbridge
uses, so tests/unit/test_helm_chart.py can check the chart's rendered objects
on a machine without helm. It is strict where Helm is lenient: a missing key
under .Values is an error (so every key a template reads must exist in
values.yaml), as is an unknown function or syntax it does not know. Where helm
is installed, `helm lint` and `helm template` remain the reference.

Supported: {{ }} with - trimming, comments, define/include/template, if/else
if/else, range (list or map, with $k, $v :=), with, variables ($x := ...),
pipelines, parentheses, and the functions listed in FUNCS."""
import hashlib
import json
import pathlib
import re

import yaml


class RenderError(Exception):
    pass


# ---------------------------------------------------------------- parsing

ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


def tokenize(text):
    """[(kind, value)] with kind 'text' or 'action', trimming applied."""
    out = []
    pos = 0
    for m in ACTION.finditer(text):
        chunk = text[pos:m.start()]
        if m.group(1):
            chunk = chunk.rstrip(" \t\r\n")
        out.append(["text", chunk])
        out.append(["action", m.group(2), bool(m.group(3))])
        pos = m.end()
    out.append(["text", text[pos:]])
    # A right trim marker eats the whitespace at the start of the next text.
    for i, tok in enumerate(out):
        if tok[0] == "action" and tok[2] and i + 1 < len(out):
            out[i + 1][1] = out[i + 1][1].lstrip(" \t\r\n")
    return [(t[0], t[1]) for t in out]


def parse(tokens, defines):
    """Nested node lists; defines collects {name: nodes}."""
    pos = 0

    def block(stop):
        nonlocal pos
        nodes = []
        while pos < len(tokens):
            kind, value = tokens[pos]
            pos += 1
            if kind == "text":
                if value:
                    nodes.append(("text", value))
                continue
            if value.startswith("/*"):
                continue
            word = value.split(None, 1)[0] if value else ""
            rest = value[len(word):].strip()
            if word in stop:
                return nodes, word, rest
            if word == "if":
                nodes.append(parse_if(rest))
            elif word == "range":
                body, end, _ = block({"end", "else"})
                alt = block({"end"})[0] if end == "else" else []
                nodes.append(("range", rest, body, alt))
            elif word == "with":
                body, end, _ = block({"end", "else"})
                alt = block({"end"})[0] if end == "else" else []
                nodes.append(("with", rest, body, alt))
            elif word == "define":
                name = parse_string(rest)
                body, _, _ = block({"end"})
                defines[name] = body
            elif word in ("end", "else"):
                raise RenderError(f"unexpected {word}")
            else:
                nodes.append(("action", value))
        if stop:
            raise RenderError(f"missing {stop}")
        return nodes, None, None

    def parse_if(cond):
        body, end, rest = block({"end", "else"})
        alt = []
        if end == "else":
            if rest.startswith("if "):
                alt = [parse_if(rest[3:].strip())]
            else:
                alt = block({"end"})[0]
        return ("if", cond, body, alt)

    nodes, _, _ = block(set())
    return nodes


def parse_string(s):
    m = re.match(r'^"((?:[^"\\]|\\.)*)"', s.strip())
    if not m:
        raise RenderError(f"expected a string: {s}")
    return json.loads(f'"{m.group(1)}"')


ARG = re.compile(r'\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|\||:=|=|,|[^\s()|,]+)')


def lex(expr):
    out, pos = [], 0
    while pos < len(expr):
        m = ARG.match(expr, pos)
        if not m or m.end() == pos:
            if expr[pos:].strip() == "":
                break
            raise RenderError(f"cannot read {expr!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


# ---------------------------------------------------------------- values


class Files:
    def __init__(self, chart_dir):
        self.chart_dir = pathlib.Path(chart_dir)

    def Get(self, name):  # noqa: N802 - Helm's method name
        path = self.chart_dir / name
        if not path.is_file():
            raise RenderError(f".Files.Get {name}: no such file in the chart")
        return path.read_text()


def truthy(v):
    return not (v is None or v is False or v == 0 or v == "" or v == [] or v == {})


def go_str(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def to_yaml(v):
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n") if v is not None else "null"


def printf(fmt, *args):
    args = list(args)

    def one(m):
        if m.group(0) == "%%":
            return "%"
        if not args:
            raise RenderError(f"printf {fmt!r}: too few arguments")
        v = args.pop(0)
        return json.dumps(go_str(v)) if m.group(0) == "%q" else go_str(v)
    return re.sub(r"%[svdq%]", one, fmt)


def required(msg, v):
    if not truthy(v):
        raise RenderError(f"required: {msg}")
    return v


def quote(*vs):
    return " ".join(json.dumps(go_str(v)) for v in vs)


FUNCS = {
    "toYaml": to_yaml,
    "fromYaml": lambda s: yaml.safe_load(s) or {},
    # As sprig: every line gets the padding, empty ones too.
    "nindent": lambda n, s: "\n" + " " * n + go_str(s).replace("\n", "\n" + " " * n),
    "indent": lambda n, s: " " * n + go_str(s).replace("\n", "\n" + " " * n),
    "quote": quote,
    "squote": lambda v: "'" + go_str(v) + "'",
    "required": required,
    "default": lambda d, v=None: v if truthy(v) else d,
    "printf": printf,
    "print": lambda *vs: "".join(go_str(v) for v in vs),
    "sha256sum": lambda s: hashlib.sha256(go_str(s).encode()).hexdigest(),
    "trunc": lambda n, s: go_str(s)[:n],
    "trimSuffix": lambda suf, s: go_str(s)[:-len(suf)] if suf and go_str(s).endswith(suf) else go_str(s),
    "contains": lambda sub, s: sub in go_str(s),
    "replace": lambda old, new, s: go_str(s).replace(old, new),
    "and": lambda *vs: next((v for v in vs if not truthy(v)), vs[-1]),
    "or": lambda *vs: next((v for v in vs if truthy(v)), vs[-1]),
    "not": lambda v: not truthy(v),
    "eq": lambda a, *bs: any(a == b for b in bs),
    "ne": lambda a, b: a != b,
    "dict": lambda *kv: {kv[i]: kv[i + 1] for i in range(0, len(kv), 2)},
    "list": lambda *vs: list(vs),
    "lower": lambda s: go_str(s).lower(),
    "upper": lambda s: go_str(s).upper(),
    "toJson": lambda v: json.dumps(v, separators=(",", ":")),
}


class Renderer:
    def __init__(self, chart_dir, values, release="rel", namespace="ns"):
        self.chart_dir = pathlib.Path(chart_dir)
        chart = yaml.safe_load((self.chart_dir / "Chart.yaml").read_text())
        self.root = {
            "Values": values,
            "Chart": {"Name": chart["name"], "Version": chart["version"], "AppVersion": chart.get("appVersion", "")},
            "Release": {"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": True,
                        "IsUpgrade": False},
            "Template": {"BasePath": f"{chart['name']}/templates"},
            "Files": Files(self.chart_dir),
            "Capabilities": {"KubeVersion": {"Version": "v1.30.0"}},
        }
        self.defines = {}
        self.files = {}
        for path in sorted((self.chart_dir / "templates").iterdir()):
            nodes = parse(tokenize(path.read_text()), self.defines)
            name = f"{chart['name']}/templates/{path.name}"
            self.defines[name] = nodes
            if path.suffix in (".yaml", ".yml") and not path.name.startswith("_"):
                self.files[path.name] = name

    def render_all(self):
        """{template file name: rendered text}."""
        return {f: self.run(self.defines[name], self.root, {"$": self.root}) for f, name in self.files.items()}

    # ---- execution

    def run(self, nodes, dot, scope):
        out = []
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "action":
                v = self.action(node[1], dot, scope)
                if v is not None:
                    out.append(go_str(v))
            elif kind == "if":
                if truthy(self.pipeline(lex(node[1]), dot, scope)):
                    out.append(self.run(node[2], dot, dict(scope)))
                else:
                    out.append(self.run(node[3], dot, dict(scope)))
            elif kind == "with":
                v = self.pipeline(lex(node[1]), dot, scope)
                out.append(self.run(node[2], v, dict(scope)) if truthy(v) else self.run(node[3], dot, dict(scope)))
            elif kind == "range":
                out.append(self.range(node, dot, scope))
        return "".join(out)

    def range(self, node, dot, scope):
        toks = lex(node[1])
        names = []
        if ":=" in toks:
            i = toks.index(":=")
            names = [t for t in toks[:i] if t != ","]
            toks = toks[i + 1:]
        coll = self.pipeline(toks, dot, scope)
        items = sorted(coll.items()) if isinstance(coll, dict) else list(enumerate(coll or []))
        if not items:
            return self.run(node[3], dot, dict(scope))
        out = []
        for k, v in items:
            inner = dict(scope)
            if len(names) == 2:
                inner[names[0]], inner[names[1]] = k, v
            elif len(names) == 1:
                inner[names[0]] = v
            out.append(self.run(node[2], v, inner))
        return "".join(out)

    def action(self, expr, dot, scope):
        toks = lex(expr)
        if len(toks) > 2 and toks[0].startswith("$") and toks[1] in (":=", "="):
            scope[toks[0]] = self.pipeline(toks[2:], dot, scope)
            return None
        return self.pipeline(toks, dot, scope)

    def pipeline(self, toks, dot, scope):
        cmds, cur, depth = [], [], 0
        for t in toks:
            if t == "(":
                depth += 1
            elif t == ")":
                depth -= 1
            if t == "|" and depth == 0:
                cmds.append(cur)
                cur = []
            else:
                cur.append(t)
        cmds.append(cur)
        value, have = None, False
        for cmd in cmds:
            args = self.args(cmd, dot, scope)
            extra = [value] if have else []
            value = self.call(args, extra, dot, scope)
            have = True
        return value

    def args(self, toks, dot, scope):
        """[(kind, value)] where kind is 'fn' for a function name."""
        out, i = [], 0
        while i < len(toks):
            t = toks[i]
            if t == "(":
                depth, j = 1, i + 1
                while depth:
                    depth += {"(": 1, ")": -1}.get(toks[j], 0)
                    j += 1
                out.append(("val", self.pipeline(toks[i + 1:j - 1], dot, scope)))
                i = j
                continue
            out.append(self.atom(t, dot, scope))
            i += 1
        return out

    def atom(self, t, dot, scope):
        if t.startswith('"'):
            return ("val", json.loads(t))
        if t.startswith("`"):
            return ("val", t[1:-1])
        if re.fullmatch(r"-?\d+", t):
            return ("val", int(t))
        if re.fullmatch(r"-?\d+\.\d+", t):
            return ("val", float(t))
        if t in ("true", "false"):
            return ("val", t == "true")
        if t in ("nil",):
            return ("val", None)
        if t == ".":
            return ("val", dot)
        if t.startswith("."):
            return ("path", (dot, t[1:].split(".")))
        if t.startswith("$"):
            head, _, rest = t.partition(".")
            if head not in scope:
                raise RenderError(f"undefined variable {head}")
            return ("path", (scope[head], rest.split(".") if rest else [])) if rest else ("val", scope[head])
        if t in FUNCS or t in ("include", "template"):
            return ("fn", t)
        raise RenderError(f"unknown function or token {t!r}")

    def resolve(self, base, parts, call_args):
        v = base
        for n, p in enumerate(parts):
            last = n == len(parts) - 1
            if isinstance(v, dict):
                if p not in v:
                    raise RenderError(f"missing key {p!r} (of {'.'.join(parts)})")
                v = v[p]
            elif hasattr(v, p):
                attr = getattr(v, p)
                v = attr(*call_args) if callable(attr) and last else attr
                if last:
                    return v, True
            else:
                raise RenderError(f"cannot read {p!r} of {type(v).__name__} (in {'.'.join(parts)})")
        return v, False

    def call(self, args, extra, dot, scope):
        kind, first = args[0]
        rest = [self.value(a) for a in args[1:]] + extra
        if kind == "fn":
            if first in ("include", "template"):
                name, ctx = rest[0], rest[1] if len(rest) > 1 else None
                if name not in self.defines:
                    raise RenderError(f"include: no template {name!r}")
                return self.run(self.defines[name], ctx, {"$": self.root})
            try:
                return FUNCS[first](*rest)
            except RenderError:
                raise
            except TypeError as exc:
                raise RenderError(f"{first}: {exc}") from exc
        if kind == "path":
            base, parts = first
            v, called = self.resolve(base, parts, rest)
            if rest and not called:
                raise RenderError(f"{'.'.join(parts)} is not a function")
            return v
        if rest:
            raise RenderError(f"{first!r} is not a function")
        return first

    def value(self, a):
        kind, v = a
        if kind == "path":
            return self.resolve(v[0], v[1], [])[0]
        if kind == "fn":
            return FUNCS[v]() if v in FUNCS else None
        return v


def render(chart_dir, values, **kw):
    """Rendered objects: [(template file, object)] (empty documents dropped)."""
    r = Renderer(chart_dir, values, **kw)
    objects = []
    for name, text in r.render_all().items():
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            raise RenderError(f"{name} does not render to YAML: {exc}\n{text}") from exc
        objects.extend((name, d) for d in docs if d)
    return objects
