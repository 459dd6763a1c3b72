# Walks a directory tree as a separate process and prints one JSON document: for each regular file
# its size, user.* xattrs and either the MD5 (base64) of its content or the errno reading it failed
# with; symlinks with their targets. Used by the end-to-end tests (never read our own mount in-process).
import base64, hashlib, json, os, sys

root = sys.argv[1]
skip = set(sys.argv[2:])
files, links = {}, {}
for d, dirs, names in os.walk(root):
    rel_d = os.path.relpath(d, root)
    dirs[:] = [x for x in dirs if os.path.normpath(os.path.join(rel_d, x)) not in skip and not os.path.islink(os.path.join(d, x))]
    for n in names + [x for x in os.listdir(d) if os.path.islink(os.path.join(d, x)) and os.path.isdir(os.path.join(d, x))]:
        p = os.path.join(d, n)
        rel = os.path.relpath(p, root)
        if os.path.islink(p):
            links[rel] = os.readlink(p)
            continue
        st = os.stat(p)
        x = {}
        for a in os.listxattr(p):
            x[a] = os.getxattr(p, a).decode()
        entry = {"size": st.st_size, "blocks": st.st_blocks, "mode": oct(st.st_mode), "xattrs": x}
        try:
            h = hashlib.md5()
            with open(p, "rb") as f:
                while True:
                    b = f.read(1 << 20)
                    if not b:
                        break
                    h.update(b)
            entry["md5"] = base64.b64encode(h.digest()).decode()
        except OSError as e:
            entry["errno"] = e.errno
        files[rel] = entry
print(json.dumps({"files": files, "links": links}))
