#!/usr/bin/env python3
"""The dependency rule of src/ (docs/design.md): each layer includes only
itself and the layers listed for it, includes name the layer
("guest/paging.h"), and no file depends on itself through includes.
Exit 0 when the tree keeps the rule, 1 with one line per breach."""
import os
import re
import sys

# Layer -> the layers it may include. guest/ and kernel/ never see kvm/,
# so all policy stays testable without /dev/kvm.
ALLOWED = {
    "util": {"util"},
    "guest": {"util", "guest"},
    "kernel": {"util", "guest", "kernel"},
    "kvm": {"util", "guest", "kvm"},
    "counters": {"util", "kvm", "counters"},
    "vm": {"util", "guest", "kernel", "kvm", "counters", "vm"},
    "report": {"util", "guest", "kernel", "kvm", "counters", "vm", "report"},
    "cli": {"util", "guest", "kernel", "kvm", "counters", "vm", "report", "cli"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# Made by make in build/gen/ (the Makefile says from what), not in src/.
GENERATED = {"vm/seccomp_filter.inc"}


def sources(root):
    for layer in sorted(os.listdir(root)):
        d = os.path.join(root, layer)
        if not os.path.isdir(d):
            yield None, os.path.relpath(d, root)
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h", ".S")):
                yield layer, f"{layer}/{f}"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "src"
    errors, graph = [], {}
    for layer, rel in sources(root):
        if layer is None:
            errors.append(f"{rel}: a file directly in {root}/; put it in a layer folder")
            continue
        if layer not in ALLOWED:
            errors.append(f"{rel}: folder {layer}/ is not a known layer")
            continue
        with open(os.path.join(root, rel)) as f:
            incs = INCLUDE.findall(f.read())
        graph[rel] = incs
        for inc in incs:
            if "/" not in inc:
                errors.append(f'{rel}: #include "{inc}" does not name its layer')
                continue
            target = inc.split("/")[0]
            if target not in ALLOWED[layer]:
                errors.append(f'{rel}: #include "{inc}": {layer}/ may not include {target}/')
            elif inc not in GENERATED and not os.path.exists(os.path.join(root, inc)):
                errors.append(f'{rel}: #include "{inc}": no such file')
    errors += cycles(graph)
    for e in errors:
        print(f"layers: {e}")
    print(f"layers: {len(graph)} files, {len(errors)} breaches")
    return 1 if errors else 0


def cycles(graph):
    """Include cycles between headers (a .c file's own header counts)."""
    found, state = [], {}

    def visit(node, path):
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                found.append("include cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt in graph and not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for n in graph:
        if not state.get(n):
            visit(n, [n])
    return found


if __name__ == "__main__":
    sys.exit(main())
