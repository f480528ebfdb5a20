#!/usr/bin/env python3
"""The crate's module graph, from the `crate::` paths each file names: checks that it has no
circle, that each folder uses only what it may (MAY_USE), and that the pure wing (src/core/)
and the routing policy name no pgrx. A file's `mod tests` (to the end of the file) counts as a
module of its own: nothing imports a test module, so its imports close no circle.
Usage: scripts/module_graph.py [--print]   (--print: each module and what it uses)"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
# The wing with no pgrx, and the routing policy, which decides without the database.
PURE = ("core",)
PURE_MODULES = ("route::policy",)
# Who may use whom, by folder (docs/src/development/architecture.md): a module may use its own
# folder's and these. The API uses anything.
MAY_USE = {
    "core": (),
    "pg": ("core",),
    "route": ("core", "pg"),
    "stats": ("core", "pg", "route::session"),
}


def module_of(path):
    rel = os.path.relpath(path, SRC)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib"):
        rel = rel[:-1]
    return "::".join(rel)


def main():
    files = {}
    for root, _, names in os.walk(SRC):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                files[module_of(path)] = open(path, encoding="utf-8").read()
    modules = set(files)
    edges = {m: set() for m in modules}
    test_edges = {}
    impure = []
    for module, text in files.items():
        match = re.search(r"^(?:[ \t]*#\[.*\]\n)*[ \t]*mod tests \{", text, re.M)
        body, tests = (text[: match.start()], text[match.start():]) if match else (text, "")
        if (module.split("::")[0] in PURE or module in PURE_MODULES) and re.search(r"\bpgrx\b|\bpg_sys\b|\bSpi\b", re.sub(r"//.*", "", body)):
            impure.append(module)
        for part, into in ((body, edges[module]), (tests, test_edges.setdefault(module, set()))):
            for path in re.findall(r"crate::((?:\w+::)*\w+)", part):
                segments = path.split("::")
                for n in range(len(segments), 0, -1):
                    target = "::".join(segments[:n])
                    if target in modules:
                        if target != module and target != "":
                            into.add(target)
                        break
    if "--print" in sys.argv:
        for module in sorted(m for m in modules if m):
            print(f"{module}: {' '.join(sorted(edges[module])) or '-'}")
    # Depth-first search for a circle.
    state, stack, circles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                circles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m)
    for c in circles:
        print("circle: " + " -> ".join(c))
    for m in impure:
        print(f"src/{m.replace('::', '/')}.rs: names pgrx outside its tests, and must not")
    crossings = []
    for m in sorted(modules):
        wing = m.split("::")[0]
        if wing not in MAY_USE:
            continue
        for n in sorted(edges[m]):
            if n.split("::")[0] != wing and not any(
                n == a or n.startswith(a + "::") for a in MAY_USE[wing]
            ):
                crossings.append(f"{m} uses {n}")
    for c in crossings:
        print("outside its wing: " + c)
    if circles or impure or crossings:
        sys.exit(1)
    print(f"module graph: {len(modules) - 1} modules, no circle, each wing uses only what it may; src/core/ and route::policy name no pgrx")


main()
