# Reads files as a separate process (never in the process that serves the mount's fake server) and
# prints one JSON object: path -> {"md5": base64 MD5, "size": bytes read} or {"errno": n, "ms": time to
# fail}. Usage: read.py [--threads N] [--block BYTES] path...
import base64, hashlib, json, sys, time
from concurrent.futures import ThreadPoolExecutor

args = sys.argv[1:]
threads, block = 1, 1 << 20
while args and args[0].startswith("--"):
    if args[0] == "--threads":
        threads = int(args[1])
    elif args[0] == "--block":
        block = int(args[1])
    args = args[2:]


def read(p):
    t0 = time.monotonic()
    h, n = hashlib.md5(), 0
    try:
        with open(p, "rb") as f:
            while True:
                b = f.read(block)
                if not b:
                    break
                h.update(b)
                n += len(b)
        return p, {"md5": base64.b64encode(h.digest()).decode(), "size": n,
                   "ms": int((time.monotonic() - t0) * 1000)}
    except OSError as e:
        return p, {"errno": e.errno, "size": n, "ms": int((time.monotonic() - t0) * 1000)}


with ThreadPoolExecutor(max_workers=max(1, threads)) as ex:
    out = dict(ex.map(read, args))
print(json.dumps(out))
