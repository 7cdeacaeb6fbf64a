#!/usr/bin/env python3
"""Issue 3's pipeline benchmark: throughput on restricted-data messages against clean ones.

Generates two corpora from the same seed, identical but for one thing: in the second, every
declaration names a person in free text (a valid KZ IIN in the declarant's name, a valid RU
INN and SNILS in a goods description — see make-corpus.py --restricted), which the rule
packs mask, so every message there is sanitized: serialized again and validated again. Then
times `kordon scan` (release build, all packs loaded, routes read from each document) over
each corpus, alternating runs, and reports the best of each.

Target (issue 3): restricted throughput >= 80% of clean throughput.
Detection alone is measured by `swift run -c release --package-path Benchmarks KordonBench detection`.

Usage: python3 Benchmarks/restricted-vs-clean.py [--count 1000] [--attachment-size 16384] [--format xml|mime] [--runs 3]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def scan(kordon, corpus, config):
    """Runs kordon scan; returns (seconds, verdict counts)."""
    start = time.monotonic()
    out = subprocess.run([kordon, "scan", "--format", "ndjson", "--config", config, corpus],
                         capture_output=True, text=True)
    seconds = time.monotonic() - start
    verdicts = {}
    for line in out.stdout.splitlines():
        v = json.loads(line)["verdict"]
        verdicts[v] = verdicts.get(v, 0) + 1
    return seconds, verdicts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--attachment-size", type=int, default=16384)
    ap.add_argument("--format", choices=("xml", "mime"), default="xml")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--product", "kordon"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    kordon = os.path.join(ROOT, ".build/release/kordon")
    work = tempfile.mkdtemp(prefix="kordon-restricted-bench-")
    config = os.path.join(work, "kordon.yaml")
    with open(config, "w") as f:
        f.write("rules:\n  pseudonymKeyFile: %s/pseudonym.key\n" % work)
    corpora = {}
    for name, extra in (("clean", []), ("restricted", ["--restricted"])):
        corpora[name] = os.path.join(work, name)
        subprocess.run([sys.executable, os.path.join(ROOT, "fixtures/make-corpus.py"), corpora[name],
                        "--count", str(args.count), "--attachment-size", str(args.attachment_size),
                        "--format", args.format, "--seed", "3"] + extra, check=True)
    sizes = {n: sum(os.path.getsize(os.path.join(c, f)) for f in os.listdir(c)) / 1e6 for n, c in corpora.items()}
    best = {}
    verdicts = {}
    for _ in range(args.runs):
        for name in ("clean", "restricted"):
            seconds, counts = scan(kordon, corpora[name], config)
            best[name] = min(best.get(name, seconds), seconds)
            verdicts[name] = counts
    print("%d %s messages per corpus, %d-byte attachments, best of %d runs, %d cores"
          % (args.count, args.format, args.attachment_size, args.runs, os.cpu_count()))
    for name in ("clean", "restricted"):
        rate = args.count / best[name]
        print("  %-10s %6.2f s  %7.1f messages/s  %6.1f MB/s  verdicts %s"
              % (name, best[name], rate, sizes[name] / best[name], verdicts[name]))
    ratio = best["clean"] / best["restricted"]
    print("restricted / clean throughput: %.0f%% (target >= 80%%)" % (ratio * 100))
    ok = verdicts["clean"] == {"clean": args.count} and verdicts["restricted"] == {"sanitized": args.count}
    if not ok:
        print("UNEXPECTED VERDICTS: every clean message must be clean and every restricted one sanitized")
    if args.keep:
        print("corpora kept in", work)
    else:
        shutil.rmtree(work)
    sys.exit(0 if ok and ratio >= 0.8 else 1)


if __name__ == "__main__":
    main()
