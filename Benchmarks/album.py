#!/usr/bin/env python3
"""Issue 11's benchmark: Kordon with the whole FTS album of formats (723 XSDs) configured.

1. Album load: `kordon filter --schemas ALBUM` of one ESADout_CU document (minimal, clean), run
   --repeat times: wall time and peak RSS (targets: <= 0.5 s, <= 200 MB).
2. `kordon serve` with the album in its configuration: time from start to the first 200 of
   GET /readyz (target <= 2 s), then the first and a second POST /v1/filter of the same
   ESADout_CU (the first compiles its namespace, the second uses the compiled schema).
3. Throughput on real-format documents: every document root of the album (676), full mode
   (every optional element once), --seeds seeds each, written by
   fixtures/album/make-album-documents.py and checked by xmllint. On the same files, same run:
     - kordon scan --format ndjson --schemas ALBUM (full pipeline, one job per core)
     - xmllint --noout --schema X.xsd, one process per schema with all of its documents,
       one process per core at once
     - clamdscan --stream and clamdscan --fdpass --multiscan to a private clamd with the
       same signature files as Kordon (clamd_peer.py)
   Kordon does both jobs (validation and scanning, plus decoding and the rule packs), so it is
   compared with xmllint + clamdscan --stream.
4. The same contenders on --family-count full documents of one root (--family, ESADout_CU): the
   cost per document once its namespace is compiled, as a gateway that sees a few families has it.

Usage: python3 Benchmarks/album.py [--kordon BINARY] [--seeds 2] [--repeat 5] [--family ESADout_CU]
                                   [--family-count 200] [--keep]
Needs: the album at ../shared/formats/fts-5.23.0, scripts/install-deps (clamav-daemon, clamdscan,
libxml2-utils) and a release build, which this script runs unless --kordon is given.
"""
import argparse, concurrent.futures, http.client, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
from clamd_peer import start_clamd  # noqa: E402
from icap_client import free_port  # noqa: E402

ALBUM = os.path.join(os.path.dirname(ROOT), "shared", "formats", "fts-5.23.0")
GENERATOR = os.path.join(ROOT, "fixtures", "album", "make-album-documents.py")


def timed(argv, stdin=None, stdout=subprocess.DEVNULL):
    """Runs argv; returns (seconds, peak RSS in MB, exit code)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.monotonic() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def generate(argv):
    subprocess.run([sys.executable, GENERATOR, "--album", ALBUM] + argv, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def album_load(kordon, document, repeat):
    """(seconds of each run, max peak RSS MB, exit codes) of kordon filter with the album."""
    runs = []
    for _ in range(repeat):
        with open(document, "rb") as stdin:
            runs.append(timed([kordon, "filter", "--schemas", ALBUM], stdin=stdin))
    return [r[0] for r in runs], max(r[1] for r in runs), {r[2] for r in runs}


def post(port, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.monotonic()
    connection.request("POST", "/v1/filter", body=body, headers={"Content-Type": "application/xml"})
    response = connection.getresponse()
    answer = response.read()
    return time.monotonic() - start, response.status, answer


def serve_ready(kordon, work, document, attempt):
    """(seconds to /readyz 200, first POST s, second POST s, statuses, body unchanged, RSS MB)."""
    port = free_port()
    config = os.path.join(work, f"serve-{attempt}.yaml")
    with open(config, "w") as handle:
        handle.write(f"schemas:\n  directories: [{ALBUM}]\nrules:\n  pseudonymKeyFile: {work}/pseudonym.key\n"
                     f"state: {work}/state-{attempt}\nserve:\n  http:\n    listen: 127.0.0.1:{port}\n")
    log = open(os.path.join(work, f"serve-{attempt}.log"), "wb")
    start = time.monotonic()
    process = subprocess.Popen([kordon, "serve", "--config", config], stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = None
        while time.monotonic() - start < 120 and process.poll() is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    ready = time.monotonic() - start
                    break
            except OSError:
                pass
            time.sleep(0.01)
        if ready is None:
            sys.exit(f"kordon serve did not become ready; see {work}/serve-{attempt}.log")
        with open(document, "rb") as handle:
            body = handle.read()
        first, status1, answer1 = post(port, body)
        second, status2, answer2 = post(port, body)
        with open(f"/proc/{process.pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
        return ready, first, second, (status1, status2), answer1 == body and answer2 == body, rss
    finally:
        process.terminate()
        process.wait()


def corpus(work, seeds):
    """Full-mode documents of every root, seeds 1..N; returns the files, grouped by schema."""
    directory = os.path.join(work, "corpus")
    by_schema = {}
    for seed in range(1, seeds + 1):
        out = os.path.join(work, f"seed-{seed}")
        generate(["--all", "--mode", "full", "--seed", str(seed), "--out-dir", out, "--check"])
        os.makedirs(directory, exist_ok=True)
        for name in sorted(os.listdir(out)):
            target = os.path.join(directory, f"{name[:-4]}-{seed}.xml")
            os.rename(os.path.join(out, name), target)
            by_schema.setdefault(name[:-4] + ".xsd", []).append(target)
    return directory, by_schema


def family_corpus(work, root, count):
    """Full documents of one root, seeds 1..count, in one run of the generator; returns the files."""
    import json
    directory = os.path.join(work, "family")
    os.makedirs(directory)
    jobs = [{"root": root, "mode": "full", "seed": str(seed), "output": os.path.join(directory, f"{root}-{seed}.xml")}
            for seed in range(1, count + 1)]
    with open(os.path.join(work, "family.json"), "w") as handle:
        json.dump(jobs, handle)
    generate(["--batch", os.path.join(work, "family.json")])
    return [job["output"] for job in jobs]


def contenders(kordon, conf, directory, by_schema):
    """Kordon and its peers on the same files: (rows, Kordon's verdict counts)."""
    files = [f for group in by_schema.values() for f in group]
    for name in files:  # warm the page cache so every contender reads from memory
        with open(name, "rb") as handle:
            handle.read()
    rows = []
    with tempfile.TemporaryFile() as out:
        rows.append(("kordon scan --schemas ALBUM", *timed([kordon, "scan", "--format", "ndjson", "--schemas", ALBUM,
                                                             directory], stdout=out)))
        out.seek(0)
        counts = verdicts(out.read().decode())
    rows.append(("xmllint --schema (per schema)", *xmllint_all(by_schema)))
    rows.append(("clamdscan --stream", *timed(["clamdscan", "-c", conf, "--stream", "--no-summary"] + files)))
    rows.append(("clamdscan --fdpass --multiscan",
                 *timed(["clamdscan", "-c", conf, "--fdpass", "--multiscan", "--no-summary"] + files)))
    return rows, counts


def print_rows(rows, files, total_mb):
    print(f"   {'contender':32} {'wall s':>8} {'doc/s':>8} {'MB/s':>7} {'peak RSS MB':>12} {'exit':>9}")
    for name, seconds, rss, code in rows:
        print(f"   {name:32} {seconds:8.2f} {len(files) / seconds:8.0f} {total_mb / seconds:7.2f} {rss:12.0f} {code:>9}")
    peers = rows[1][1] + rows[2][1]
    print(f"   kordon / (xmllint + clamdscan --stream) = {rows[0][1]:.2f} / {peers:.2f} = {rows[0][1] / peers:.2f}")


def xmllint_all(by_schema):
    """xmllint --schema per schema over its documents, one process per core: (s, max RSS MB, failures)."""
    def one(item):
        schema, files = item
        return timed(["xmllint", "--noout", "--schema", os.path.join(ALBUM, schema)] + files)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        results = list(pool.map(one, sorted(by_schema.items())))
    return time.monotonic() - start, max(r[1] for r in results), sum(1 for r in results if r[2] != 0)


def verdicts(ndjson):
    import json
    counts = {}
    for line in ndjson.splitlines():
        verdict = json.loads(line)["verdict"]
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kordon", help="a kordon binary to measure (default: swift build -c release)")
    ap.add_argument("--seeds", type=int, default=2, help="corpus: full documents of every root per seed")
    ap.add_argument("--repeat", type=int, default=5, help="album load: runs of kordon filter")
    ap.add_argument("--serve-repeat", type=int, default=3, help="kordon serve starts")
    ap.add_argument("--family", default="ESADout_CU", help="one-family corpus: this root's full documents")
    ap.add_argument("--family-count", type=int, default=200, help="one-family corpus: this many (seeds 1..N)")
    ap.add_argument("--skip-throughput", action="store_true", help="load and serve figures only")
    ap.add_argument("--keep", action="store_true", help="keep the corpus and clamd's work directory")
    args = ap.parse_args()
    if not os.path.isdir(ALBUM):
        sys.exit(f"the album is expected at {ALBUM}")
    kordon = args.kordon
    if kordon is None:
        subprocess.run(["swift", "build", "-c", "release", "--product", "kordon"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        kordon = os.path.join(ROOT, ".build/release/kordon")
    kordon = os.path.abspath(kordon)
    work = tempfile.mkdtemp(prefix="kordon-album-bench-")
    try:
        run(args, kordon, work)
    finally:
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, kordon, work):
    esad = os.path.join(work, "ESADout_CU.xml")
    generate(["ESADout_CU", "--seed", "3", "--check", "-o", esad])
    print(f"kordon: {kordon}; album: {ALBUM} ({len(os.listdir(ALBUM))} files); {os.cpu_count()} cores\n")

    seconds, rss, codes = album_load(kordon, esad, args.repeat)
    print(f"1. kordon filter of one ESADout_CU ({os.path.getsize(esad)} bytes), whole album configured, {args.repeat} runs")
    print(f"   wall s: median {statistics.median(seconds):.2f}, min {min(seconds):.2f}, max {max(seconds):.2f}"
          f" (target <= 0.5); peak RSS {rss:.0f} MB (target <= 200); exit {sorted(codes)}")

    print(f"\n2. kordon serve with the album, {args.serve_repeat} starts")
    for attempt in range(args.serve_repeat):
        ready, first, second, statuses, unchanged, rss = serve_ready(kordon, work, esad, attempt)
        print(f"   ready {ready:.2f} s (target <= 2); first POST {first * 1000:.0f} ms, second {second * 1000:.0f} ms,"
              f" statuses {statuses}, passed unchanged {unchanged}; peak RSS {rss:.0f} MB")

    if args.skip_throughput:
        return
    directory, by_schema = corpus(work, args.seeds)
    family = family_corpus(work, args.family, args.family_count)
    family_schema = args.family + ".xsd"  # a file stem of the album, as the generator takes it
    if not os.path.exists(os.path.join(ALBUM, family_schema)):
        sys.exit(f"--family: give a file stem of the album ({family_schema} is not there)")
    clamd, _, conf = start_clamd(work, os.path.join(ROOT, "signatures"), max_threads=4)
    try:
        rows, counts = contenders(kordon, conf, directory, by_schema)
        family_rows, family_counts = contenders(kordon, conf, os.path.dirname(family[0]), {family_schema: family})
    finally:
        clamd.terminate()
        _, _, clamd_usage = os.wait4(clamd.pid, 0)
    files = [f for group in by_schema.values() for f in group]
    total_mb = sum(os.path.getsize(f) for f in files) / 1e6
    print(f"\n3. corpus: {len(files)} documents of {len(by_schema)} roots (full mode, {args.seeds} seeds), {total_mb:.1f} MB")
    print(f"   kordon verdicts: {counts} (sanitized: personal data in the full documents)")
    print_rows(rows, files, total_mb)
    family_mb = sum(os.path.getsize(f) for f in family) / 1e6
    print(f"\n4. one family: {len(family)} full {args.family} documents (seeds 1..{len(family)}), {family_mb:.1f} MB")
    print(f"   kordon verdicts: {family_counts}")
    print_rows(family_rows, family, family_mb)
    print(f"\n   (clamd daemon itself: peak RSS {clamd_usage.ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
