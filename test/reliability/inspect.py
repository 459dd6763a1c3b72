# Walks a mounted tree as a separate process and prints one JSON document: every relative path (dirs,
# files, symlinks; "\0" cannot occur), names that a file system must never show, and symlinks whose
# target resolves outside the root. Usage: inspect.py <root> [skip-top-level-name...]
import json, os, sys

root = os.path.realpath(sys.argv[1])
skip = set(sys.argv[2:])
paths, bad_names, escaping, errors = [], [], [], []


def onerror(e):
    errors.append({"path": os.path.relpath(e.filename, root) if e.filename else "?", "errno": e.errno})


for d, dirs, names in os.walk(root, onerror=onerror):
    rel_d = os.path.relpath(d, root)
    if rel_d == ".":
        dirs[:] = [x for x in dirs if x not in skip]
    for n in dirs + names:
        p = os.path.join(d, n)
        rel = os.path.relpath(p, root)
        paths.append(rel)
        b = n.encode("utf-8", "surrogateescape")
        if n in (".", "..", "") or "/" in n or len(b) > 255:
            bad_names.append(rel)
        if os.path.islink(p):
            target = os.path.realpath(p)
            if target != root and not target.startswith(root + os.sep):
                escaping.append({"link": rel, "to": target})
print(json.dumps({"paths": sorted(paths), "bad": bad_names, "escaping": escaping, "errors": errors}))
