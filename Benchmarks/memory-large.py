#!/usr/bin/env python3
"""Issue 17 (item 8): what one large message costs in memory.

  * `kordon filter` on a ~99 MB schema-valid declaration with one base64 attachment (inside
    limits.maxMessageSize): the peak RSS of the process, and the same on a tiny declaration
    (the engines alone), so the message's own cost is the difference;
  * `kordon filter` on a stream over the limit (through a pipe) and `kordon scan` on a sparse
    file over it: counted, digested and refused, never held;
  * `kordon serve`: --posts such documents through POST /v1/filter, one after another
    (--parallel: all at once); the server's RSS before, its peak (VmHWM) and its RSS a few
    seconds after the last answer.

  python3 Benchmarks/memory-large.py --kordon .build/release/kordon [--size-mb 99] [--posts 4] [--parallel]

Peak RSS of a child is its own (os.wait4), not this script's.
"""
import argparse, http.client, os, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import icap_client  # noqa: E402  (free_port)

HERE = os.path.dirname(os.path.abspath(__file__))
MB = 1024 * 1024


def declaration(directory, attachment_bytes):
    """Writes one schema-valid declaration with an attachment of that many random bytes."""
    out = os.path.join(directory, f"corpus-{attachment_bytes}")
    subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "fixtures", "make-corpus.py"), out, "--count", "1",
                    "--attachment-size", str(attachment_bytes)], check=True, stdout=subprocess.DEVNULL)
    (name,) = os.listdir(out)
    return os.path.join(out, name)


def measured(argv, stdin=None, feed=None):
    """Runs argv; stdin a file path, or feed(pipe) writes to a pipe. Returns (exit code, peak RSS bytes, seconds)."""
    started = time.monotonic()
    source = open(stdin, "rb") if stdin else (subprocess.PIPE if feed else subprocess.DEVNULL)
    child = subprocess.Popen(argv, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if feed:
        try:
            feed(child.stdin)
            child.stdin.close()
        except BrokenPipeError:
            pass
    _, status, usage = os.wait4(child.pid, 0)
    if stdin: source.close()
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024, time.monotonic() - started


def stream(total):
    """A feed of `total` bytes: an XML head, then base64-looking lines."""
    def feed(pipe):
        pipe.write(b'<?xml version="1.0"?>\n<Payload>\n')
        block = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\n" * 13000
        sent = 0
        while sent < total:
            piece = block[:total - sent]
            pipe.write(piece)
            sent += len(piece)
    return feed


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    return 0


def serve(kordon, workdir, document, posts, parallel):
    """Starts kordon serve, posts the document; returns (rss before, peak, rss after, seconds)."""
    port = icap_client.free_port()
    config = os.path.join(workdir, "serve.yaml")
    with open(config, "w") as f:
        f.write(f"rules:\n  pseudonymKeyFile: {workdir}/pseudonym.key\nstate: {workdir}/state\n"
                f"serve:\n  http:\n    listen: 127.0.0.1:{port}\n")
    log = open(os.path.join(workdir, "serve.log"), "ab")
    server = subprocess.Popen([kordon, "serve", "--config", config], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200: break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"kordon serve did not become ready; see {workdir}/serve.log")
            time.sleep(0.2)
        time.sleep(1)
        before = status_field(server.pid, "VmRSS")
        body = open(document, "rb").read()
        answers = []

        def post():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            connection.request("POST", "/v1/filter", body=body, headers={"Content-Type": "application/xml"})
            response = connection.getresponse()
            response.read()
            answers.append(response.status)

        started = time.monotonic()
        if parallel:
            threads = [threading.Thread(target=post) for _ in range(posts)]
            for t in threads: t.start()
            for t in threads: t.join()
        else:
            for _ in range(posts): post()
        seconds = time.monotonic() - started
        del body
        time.sleep(3)
        peak, after = status_field(server.pid, "VmHWM"), status_field(server.pid, "VmRSS")
        if answers != [200] * posts:
            print(f"  (answers: {answers})")
        return before, peak, after, seconds
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kordon", default=".build/release/kordon")
    ap.add_argument("--size-mb", type=float, default=99, help="size of the large declaration (default 99 MB)")
    ap.add_argument("--posts", type=int, default=4, help="documents posted to serve (default 4)")
    ap.add_argument("--parallel", action="store_true", help="post them all at once")
    ap.add_argument("--oversized-mb", type=int, default=2048, help="size of the oversized inputs (default 2048 MB)")
    ap.add_argument("--no-serve", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    kordon = os.path.abspath(args.kordon)
    workdir = tempfile.mkdtemp(prefix="kordon-memory-")
    try:
        # base64 is 4/3 of the attachment; the rest of the declaration is a few KB.
        large = declaration(workdir, int(args.size_mb * 1e6 * 3 / 4))
        small = declaration(workdir, 1024)
        size = os.path.getsize(large)
        print(f"large declaration: {size / 1e6:.1f} MB ({large})")
        code, base, _ = measured([kordon, "filter"], stdin=small)
        print(f"kordon filter, small declaration: exit {code}, peak RSS {base / MB:.0f} MB (the engines)")
        code, peak, seconds = measured([kordon, "filter"], stdin=large)
        print(f"kordon filter, {size / 1e6:.0f} MB declaration: exit {code}, peak RSS {peak / MB:.0f} MB "
              f"({peak / size:.2f}x the message; {(peak - base) / size:.2f}x above the engines), {seconds:.1f} s")

        over = args.oversized_mb * MB
        code, peak, seconds = measured([kordon, "filter"], feed=stream(over))
        print(f"kordon filter, {args.oversized_mb} MB through a pipe (over the limit): exit {code}, "
              f"peak RSS {peak / MB:.0f} MB, {seconds:.1f} s")
        sparse = os.path.join(workdir, "sparse.xml")
        with open(sparse, "wb") as f:
            f.write(b'<?xml version="1.0"?>\n<Declaration>')
            f.truncate(over)
        code, peak, seconds = measured([kordon, "scan", "--format", "ndjson", sparse])
        print(f"kordon scan, {args.oversized_mb} MB sparse file (over the limit): exit {code}, "
              f"peak RSS {peak / MB:.0f} MB, {seconds:.1f} s")
        os.remove(sparse)

        if not args.no_serve:
            before, peak, after, seconds = serve(kordon, workdir, large, args.posts, args.parallel)
            how = "at once" if args.parallel else "one after another"
            print(f"kordon serve, {args.posts} x {size / 1e6:.0f} MB POST /v1/filter {how}: RSS {before / MB:.0f} MB "
                  f"before, peak {peak / MB:.0f} MB, {after / MB:.0f} MB 3 s after; {seconds:.1f} s")
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
