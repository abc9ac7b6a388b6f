#!/usr/bin/env python3
# Vendored from the project's shared tools (shared/tools/module-graph.py, 2026-12-01) so that CI,
# which has only this repository, can refuse an import loop (.ci/run).
"""The module graph of src/: which files import which (`crate::`, `super::` and `self::` paths),
the import loops among files and among the top-level parts of src/ (a folder counts as one
part), and the largest files. A child module using its parent (`super::`) and a parent using its
own children are one part and do not count as loops. Run from the project root:
../shared/tools/module-graph.py [--edges]"""
import os, re, sys
SRC = os.path.join(os.getcwd(), "src")

files = {}
for root, _, names in os.walk(SRC):
    for n in names:
        if n.endswith(".rs"):
            p = os.path.join(root, n)
            files[os.path.relpath(p, SRC)] = open(p, encoding="utf-8", errors="replace").read()

def module_file(segs):
    """The file that defines crate::segs, longest prefix that exists."""
    for k in range(len(segs), 0, -1):
        base = "/".join(segs[:k])
        for cand in (base + ".rs", base + "/mod.rs"):
            if cand in files:
                return cand
    return None

def module_path(f):
    """crate::… segments of the module a file defines."""
    segs = f[:-3].split("/")
    if segs[-1] == "mod":
        segs = segs[:-1]
    if segs in (["lib"], ["main"]):
        segs = []
    return segs

def paths_in(text, here):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)  # unit tests don't count
    out = []
    for m in re.finditer(r"\b((?:super::)+|self::)((?:[A-Za-z_][A-Za-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*|\{)", text):
        base = here[:-m.group(1).count("super::")] if m.group(1).startswith("super") else list(here)
        if m.group(1).startswith("super") and m.group(1).count("super::") > len(here):
            continue
        if m.group(2) == "{":
            depth, i, start = 1, m.end(), m.end()
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            for part in text[start:i - 1].split(","):
                segs = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", part.split("{")[0])
                if segs:
                    out.append(base + segs)
        else:
            out.append(base + m.group(2).split("::"))
    for m in re.finditer(r"\bcrate::((?:[A-Za-z_][A-Za-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*|\{)", text):
        if m.group(1) == "{":  # use crate::{a::b, c};
            depth, i, start = 1, m.end(), m.end()
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            inner = text[start:i - 1]
            parts, d, cur = [], 0, ""
            for ch in inner:
                if ch == "," and d == 0:
                    parts.append(cur); cur = ""
                else:
                    d += {"{": 1, "}": -1}.get(ch, 0); cur += ch
            parts.append(cur)
            for part in parts:
                segs = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", part.split("{")[0])
                if segs:
                    out.append(segs)
        else:
            out.append(m.group(1).split("::"))
    return out

def related(a, b):
    """A parent module and its own descendants are one part."""
    pa, pb = module_path(a), module_path(b)
    return pa[:len(pb)] == pb or pb[:len(pa)] == pa

edges = {f: set() for f in files}
for f, text in files.items():
    for segs in paths_in(text, module_path(f)):
        t = module_file(segs)
        if t and t != f and not related(f, t):
            edges[f].add(t)

def part(f):
    return f.split("/")[0] if "/" in f else f

part_edges = {}
for f, ts in edges.items():
    for t in ts:
        if part(f) != part(t):
            part_edges.setdefault(part(f), set()).add(part(t))

def loops_of(graph, nodes):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def strong(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            sccs.append(comp)
    for v in nodes:
        if v not in index:
            strong(v)
    return [c for c in sccs if len(c) > 1]

loops = loops_of(edges, files)
part_loops = loops_of(part_edges, {part(f) for f in files})
sizes = sorted(((t.count("\n"), f) for f, t in files.items()), reverse=True)
if "--edges" in sys.argv:
    for f in sorted(edges):
        for t in sorted(edges[f]):
            print(f"src/{f} -> src/{t}")
print(f"{len(files)} files, {sum(len(e) for e in edges.values())} imports between them")
for c in sorted(loops, key=len, reverse=True):
    print(f"import loop of {len(c)} files: " + ", ".join("src/" + f for f in sorted(c)))
for c in sorted(part_loops, key=len, reverse=True):
    print(f"loop between parts of src/ ({len(c)}): " + ", ".join("src/" + p for p in sorted(c)))
if not loops and not part_loops:
    print("no import loops")
print("largest files: " + ", ".join(f"src/{f} {n}" for n, f in sizes[:5]))
