#!/usr/bin/python3
"""Renders the forktrace chart as `helm template` would, for machines without helm (CI here has none).

It understands the template subset the chart uses, and fails loudly on anything else, so a template that
this script renders is also one helm renders the same way: actions {{ }} with {{- -}} trimming; if / else /
with / range (over a list, with `$i, $v :=`) / end; values .Values.x, .Release.Name, .Release.Namespace,
.Chart.X, ., $ and range variables; string, number and boolean literals; ( ) subexpressions; pipelines into quote, toYaml, nindent, indent, default, printf, not
and .Files.Get. toYaml sorts keys, as helm's (sigs.k8s.io/yaml) does.

  render.py CHART_DIR [--name NAME] [--namespace NS] [--set key.path=value ...] [--values FILE]
"""
import argparse
import json
import os
import re
import sys

import yaml

ACTION = re.compile(r"{{(-?)\s*(.*?)\s*(-?)}}", re.S)


class TemplateError(Exception):
    pass


def tokenize(text):
    """Text and action tokens, with {{- and -}} whitespace trimming applied to the neighbouring text."""
    tokens, pos = [], 0
    for m in ACTION.finditer(text):
        tokens.append(["text", text[pos:m.start()]])
        if m.group(1):
            tokens[-1][1] = tokens[-1][1].rstrip()
        tokens.append(["action", m.group(2), bool(m.group(3))])
        pos = m.end()
    tokens.append(["text", text[pos:]])
    for i, tok in enumerate(tokens):
        if tok[0] == "action" and tok[2] and i + 1 < len(tokens):
            tokens[i + 1][1] = tokens[i + 1][1].lstrip()
    return [t for t in tokens if not (t[0] == "text" and t[1] == "")]


def parse(tokens, i=0, closers=()):
    """A list of nodes up to one of closers; returns (nodes, index of the closer, closer word)."""
    nodes = []
    while i < len(tokens):
        tok = tokens[i]
        if tok[0] == "text":
            nodes.append(("text", tok[1]))
            i += 1
            continue
        body = tok[1]
        if body.startswith("/*"):
            i += 1
            continue
        word = body.split(None, 1)[0] if body else ""
        if word in closers:
            return nodes, i, word
        if word in ("if", "with", "range"):
            expr = body[len(word):].strip()
            then, i, closer = parse(tokens, i + 1, ("else", "end"))
            other = []
            if closer == "else":
                other, i, closer = parse(tokens, i + 1, ("end",))
            if closer != "end":
                raise TemplateError("{{ %s }} without {{ end }}" % word)
            nodes.append((word, expr, then, other))
            i += 1
            continue
        if word in ("else", "end", "define", "template", "block") or ":=" in body:
            raise TemplateError("unsupported action {{ %s }}" % body)
        nodes.append(("expr", body))
        i += 1
    if closers:
        raise TemplateError("missing {{ end }}")
    return nodes, i, None


def split_top(text, sep):
    """Splits on sep outside quotes and parentheses."""
    parts, depth, quote, cur = [], 0, False, ""
    for ch in text:
        if ch == '"' and not cur.endswith("\\"):
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == sep and depth == 0 and not quote:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()] if sep == " " else [p.strip() for p in parts]


def truthy(v):
    return not (v is None or v is False or v == 0 or v == "" or v == [] or v == {})


def go_string(v):
    if v is None:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        raise TemplateError("a map or list printed without toYaml: %r" % (v,))
    return str(v)


def to_yaml(v):
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n") if v not in (None, {}) else ""


def printf(fmt, *args):
    out, args = "", list(args)
    parts = re.split(r"(%[vsd])", fmt)
    for p in parts:
        out += go_string(args.pop(0)) if p in ("%v", "%s", "%d") else p
    return out


def indent(n, s):
    return "\n".join(" " * int(n) + line for line in go_string(s).split("\n"))


class Renderer:
    def __init__(self, chart_dir, root):
        self.chart_dir = chart_dir
        self.root = root
        self.variables = {}
        self.functions = {
            "quote": lambda v: json.dumps(go_string(v)),
            "toYaml": to_yaml,
            "nindent": lambda n, s: "\n" + indent(n, s),
            "indent": indent,
            "default": lambda d, v: v if truthy(v) else d,
            "printf": printf,
            "not": lambda v: not truthy(v),
        }

    def lookup(self, path, dot):
        if path == ".":
            return dot
        var = re.match(r"\$(\w+)(.*)", path)
        if var:
            if var.group(1) not in self.variables:
                raise TemplateError("undefined variable $%s" % var.group(1))
            base, rest = self.variables[var.group(1)], var.group(2)
        else:
            base, rest = (self.root, path[1:]) if path.startswith("$") else (dot, path)
        if rest.startswith(".Files.Get"):
            raise TemplateError(".Files.Get is a function: use it first in a command")
        value = base
        for key in [k for k in rest.split(".") if k]:
            if not isinstance(value, dict):
                raise TemplateError("cannot read .%s of %r in %s" % (key, value, path))
            value = value.get(key)
        return value

    def term(self, text, dot):
        if text.startswith("(") and text.endswith(")"):
            return self.pipeline(text[1:-1], dot)
        if text.startswith('"'):
            return json.loads(text)
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if text in ("true", "false"):
            return text == "true"
        if text.startswith(".") or text.startswith("$"):
            return self.lookup(text, dot)
        raise TemplateError("unsupported term %r" % text)

    def command(self, text, dot, piped):
        words = split_top(text, " ")
        name = words[0]
        args = [self.term(w, dot) for w in words[1:]]
        if piped is not None:
            args.append(piped[0])
        if name == ".Files.Get":
            with open(os.path.join(self.chart_dir, args[0])) as f:
                return f.read().rstrip("\n")
        if name in self.functions:
            return self.functions[name](*args)
        if args:
            raise TemplateError("%s is not a function this renderer knows" % name)
        return self.term(name, dot)

    def pipeline(self, text, dot):
        piped = None
        for cmd in split_top(text, "|"):
            piped = (self.command(cmd, dot, piped),)
        return piped[0]

    def render(self, nodes, dot):
        out = []
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "expr":
                out.append(go_string(self.pipeline(node[1], dot)))
            elif kind == "range":
                declared = re.match(r"(?:\$(\w+)\s*,\s*)?\$(\w+)\s*:=\s*(.*)$", node[1])
                expr = declared.group(3) if declared else node[1]
                items = self.pipeline(expr, dot)
                if items and not isinstance(items, list):
                    raise TemplateError("range over a %s: only lists are supported" % type(items).__name__)
                if not truthy(items):
                    out.append(self.render(node[3], dot))
                for i, item in enumerate(items or []):
                    if declared:
                        if declared.group(1):
                            self.variables[declared.group(1)] = i
                        self.variables[declared.group(2)] = item
                    out.append(self.render(node[2], item))
            else:
                value = self.pipeline(node[1], dot)
                if truthy(value):
                    out.append(self.render(node[2], value if kind == "with" else dot))
                else:
                    out.append(self.render(node[3], dot))
        return "".join(out)


def set_path(values, path, raw):
    keys = path.split(".")
    for key in keys[:-1]:
        values = values.setdefault(key, {})
    values[keys[-1]] = yaml.safe_load(raw)


def merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v
    return base


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("chart")
    ap.add_argument("--name", default="forktrace")
    ap.add_argument("--namespace", default="forktrace")
    ap.add_argument("--values", action="append", default=[])
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args()
    with open(os.path.join(a.chart, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    with open(os.path.join(a.chart, "values.yaml")) as f:
        values = yaml.safe_load(f) or {}
    for path in a.values:
        with open(path) as f:
            merge(values, yaml.safe_load(f) or {})
    for s in a.set:
        key, _, raw = s.partition("=")
        set_path(values, key, raw)
    root = {
        "Values": values,
        "Release": {"Name": a.name, "Namespace": a.namespace, "Service": "Helm"},
        "Chart": {k[0].upper() + k[1:]: v for k, v in chart.items()},
    }
    renderer = Renderer(a.chart, root)
    tdir = os.path.join(a.chart, "templates")
    documents = []
    for name in sorted(os.listdir(tdir)):
        if not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(tdir, name)) as f:
            text = f.read()
        try:
            nodes, _, _ = parse(tokenize(text))
            rendered = renderer.render(nodes, root).strip("\n")
        except (TemplateError, TypeError, IndexError) as e:
            sys.exit("render.py: templates/%s: %s" % (name, e))
        if not rendered.strip():
            continue
        try:
            yaml.safe_load(rendered)
        except yaml.YAMLError as e:
            sys.exit("render.py: templates/%s renders to invalid YAML: %s\n%s" % (name, e, rendered))
        documents.append("---\n# Source: %s/templates/%s\n%s\n" % (chart["name"], name, rendered))
    sys.stdout.write("".join(documents))


if __name__ == "__main__":
    main()
