#!/usr/bin/env python3
"""Issue 2's benchmark: Kordon's full pipeline against ClamAV and xmllint on one corpus.

Generates N schema-valid declarations, each with a base64 attachment, then times
in one run, on the same files:
  - kordon scan (parse, guard, validate, decode, ClamAV on every part), signatures/ only
  - clamdscan --stream to a clamd loaded with the same signatures
  - clamdscan --fdpass --multiscan to the same clamd
  - xmllint --noout --schema, all files in one process
  - clamscan with the same signatures, all files in one process
and prints wall time and peak memory (RSS of the measured process; for clamd
the daemon's own peak as well).

Target (issue 2): kordon's wall time <= half of (clamdscan --stream + xmllint),
and kordon's peak RSS < 300 MB.

Usage: python3 Benchmarks/core-vs-peers.py [--count 2000] [--attachment-size 65536] [--keep]
Needs: scripts/install-deps (clamav-daemon, clamdscan, libxml2-utils) and a release build
(swift build -c release), which this script runs.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
from clamd_peer import start_clamd  # noqa: E402


def timed(argv, **kw):
    """Runs argv; returns (seconds, peak RSS in MB, exit code)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - start, usage.ru_maxrss / 1024, proc.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--attachment-size", type=int, default=65536)
    ap.add_argument("--keep", action="store_true", help="keep the corpus and clamd's work directory")
    args = ap.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--product", "kordon"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    kordon = os.path.join(ROOT, ".build/release/kordon")
    signatures = os.path.join(ROOT, "signatures")
    schema = os.path.join(ROOT, "schemas/eec-sample/GoodsDeclaration.xsd")

    work = tempfile.mkdtemp(prefix="kordon-bench-")
    corpus = os.path.join(work, "corpus")
    subprocess.run([sys.executable, os.path.join(ROOT, "fixtures/make-corpus.py"), corpus, "--count", str(args.count),
                    "--attachment-size", str(args.attachment_size), "--format", "xml", "--seed", "1"], check=True)
    files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus))
    total_mb = sum(os.path.getsize(f) for f in files) / 1e6
    clamd, _, conf = start_clamd(work, signatures, max_threads=4, extra="AllowAllMatchScan yes\n")
    try:
        # Warm the page cache so every contender reads from memory.
        for f in files:
            with open(f, "rb") as h:
                h.read()
        rows = []
        rows.append(("kordon scan (full pipeline)", *timed([kordon, "scan", "--format", "ndjson", corpus])))
        rows.append(("clamdscan --stream", *timed(["clamdscan", "-c", conf, "--stream", "--no-summary"] + files)))
        rows.append(("clamdscan --fdpass --multiscan", *timed(["clamdscan", "-c", conf, "--fdpass", "--multiscan", "--no-summary"] + files)))
        rows.append(("xmllint --noout --schema", *timed(["xmllint", "--noout", "--schema", schema] + files)))
        rows.append(("clamscan -d signatures/", *timed(["clamscan", "--no-summary", "-d", signatures] + files)))
    finally:
        clamd.terminate()
        _, _, clamd_usage = os.wait4(clamd.pid, 0)
    print(f"\ncorpus: {len(files)} declarations, {args.attachment_size} byte attachments, {total_mb:.0f} MB; {os.cpu_count()} cores\n")
    print(f"{'contender':34} {'wall s':>8} {'msg/s':>8} {'MB/s':>7} {'peak RSS MB':>12} {'exit':>5}")
    for name, seconds, rss, code in rows:
        print(f"{name:34} {seconds:8.2f} {len(files) / seconds:8.0f} {total_mb / seconds:7.1f} {rss:12.0f} {code:5}")
    print(f"{'(clamd daemon itself)':34} {'':8} {'':8} {'':7} {clamd_usage.ru_maxrss / 1024:12.0f}")
    k = rows[0][1]
    peers = rows[1][1] + rows[3][1]
    print(f"\nkordon / (clamdscan --stream + xmllint) = {k:.2f} / {peers:.2f} = {k / peers:.2f}  (target <= 0.50)")
    print(f"kordon peak RSS {rows[0][2]:.0f} MB (target < 300 MB)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("kept", work)


if __name__ == "__main__":
    main()
