#!/usr/bin/env python3
"""Differential fuzzer for issue 17: does an EICAR that an independent decoder recovers come
out of Kordon clean?

For each hostile sample (Fuzz/hostile.py) the oracle (Fuzz/oracle.py: Python's zipfile, tarfile,
gzip, zlib, lzma, bz2, email, lenient base64, uudecode, xml.etree, recursively) says whether
EICAR is recoverable; Kordon decides through `kordon scan --format ndjson DIR` (file samples) or
`kordon serve` over HTTP and ICAP (Content-Encoding bodies, form-data uploads).

  DEFECT   the oracle recovers EICAR and Kordon's verdict is clean or sanitized (passed on)
  FP       a clean control of an ordinary, valid shape, nothing recoverable, held by Kordon
  crash    kordon exited other than 0/1 (or serve died); hang: over --hang-seconds

Held means quarantined, or refused by a transport (HTTP/ICAP 4xx): nothing was passed on.
With --expect-pass the exit code is 1 on any crash or hang, and on a defect not listed in
Fuzz/known-gaps.txt (one family, family.mutation, mutation prefix or glob a line, then why)."""

import argparse
import collections
import dataclasses
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in fixtures/ or Benchmarks/
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hostile  # noqa: E402
import kordon_run  # noqa: E402
import oracle  # noqa: E402

PASSED = ("clean", "sanitized")
HELD = ("quarantined", "refused")


def head():
    try:
        return subprocess.run(["git", "-C", os.path.dirname(HERE), "log", "-1", "--format=%h %cd", "--date=format:%H:%M"],
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def known_gaps(path):
    gaps = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                gap, _, reason = line.partition(" ")
                gaps[gap] = reason.strip(" #-")
    return gaps


def gap_for(sample, gaps):
    for gap in gaps:
        if gap in (sample.family, sample.mutation_id) or sample.mutation_id.startswith(gap + ":") \
                or fnmatch.fnmatchcase(sample.mutation_id, gap):
            return gap
    return None


class Outcome:
    def __init__(self, sample, found, chain, verdict, hang_seconds):
        self.sample, self.found, self.chain, self.kordon = sample, found, chain, verdict
        v = verdict["verdict"]
        self.defect = found and v in PASSED
        self.held = v in HELD
        self.crash = v == "crash"
        self.error = v == "error"
        self.hang = v == "hang" or (verdict.get("seconds") or 0) > hang_seconds
        self.fp = (not sample.infected and not found and sample.expect_clean and v in HELD)


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def summary(outcomes, families):
    header = ["family", "samples", "EICAR", "recoverable", "held", "DEFECTS", "clean ctl", "valid ctl", "FPs",
              "crashes", "hangs", "errors", "max s"]
    rows, total = [], collections.Counter()
    for family in families:
        mine = [o for o in outcomes if o.sample.family == family]
        c = collections.Counter(samples=len(mine), EICAR=sum(o.sample.infected for o in mine),
                                recoverable=sum(o.found for o in mine), held=sum(o.held for o in mine),
                                DEFECTS=sum(o.defect for o in mine), clean=sum(not o.sample.infected for o in mine),
                                valid=sum(not o.sample.infected and o.sample.expect_clean for o in mine),
                                FPs=sum(o.fp for o in mine), crashes=sum(o.crash for o in mine),
                                hangs=sum(o.hang for o in mine), errors=sum(o.error for o in mine))
        total.update(c)
        slowest = max([o.kordon.get("seconds") or 0 for o in mine] or [0])
        rows.append([family] + [c[k] for k in ("samples", "EICAR", "recoverable", "held", "DEFECTS", "clean", "valid",
                                                "FPs", "crashes", "hangs", "errors")] + ["%.2f" % slowest if slowest else "-"])
    rows.append(["total"] + [total[k] for k in ("samples", "EICAR", "recoverable", "held", "DEFECTS", "clean", "valid",
                                                 "FPs", "crashes", "hangs", "errors")] + [""])
    return table(rows, header)


def by_mutation(outcomes, attribute):
    counts = collections.defaultdict(lambda: [0, 0])
    for o in outcomes:
        base = o.found if attribute == "defect" else (not o.sample.infected and o.sample.expect_clean and not o.found)
        if base:
            counts[o.sample.mutation_id][0] += 1
            counts[o.sample.mutation_id][1] += getattr(o, attribute)
    return [[m, n, bad] for m, (n, bad) in sorted(counts.items()) if bad]


def describe(o):
    k = o.kordon
    return "%s\t%s\t%s\t%s\t%s (%s)\t%s\t%s" % (
        o.sample.name, o.sample.mutation_id, o.sample.variant, o.sample.transport, k["verdict"], k.get("format", "?"),
        ">".join(o.chain) or "-", ",".join(k.get("rules", [])) or "-")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, help="default: from the clock (printed)")
    ap.add_argument("--count", type=int, default=100, help="samples per family (default 100)")
    ap.add_argument("--families", default=",".join(hostile.FAMILIES), help="comma-separated (default: all)")
    ap.add_argument("--kordon", default=os.path.join(os.path.dirname(HERE), ".build/debug/kordon"))
    ap.add_argument("--keep", metavar="DIR", help="write the samples, reports and defects.tsv here and keep them")
    ap.add_argument("--expect-pass", action="store_true", help="exit 1 on a defect, crash or hang not in --known-gaps")
    ap.add_argument("--known-gaps", default=os.path.join(HERE, "known-gaps.txt"))
    ap.add_argument("--hang-seconds", type=float, default=30.0, help="a sample slower than this is a hang (debug builds decode a 100 MB bomb in 1-11 s)")
    ap.add_argument("--jobs", type=int, help="kordon scan --jobs")
    ap.add_argument("--via", default="", metavar="T,T", help="also send every file sample through these transports of "
                    "kordon serve: http (POST /v1/filter), icap (RESPMOD), icap-reqmod, spool (inbox/ to outbox/)")
    ap.add_argument("--list", type=int, default=3, metavar="N", help="defects listed per mutation (0: all; all are in defects.tsv)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time()) % 1000000
    families = [f for f in args.families.split(",") if f]
    unknown = [f for f in families if f not in hostile.FAMILIES]
    if unknown:
        sys.exit("unknown families: %s (known: %s)" % (", ".join(unknown), ", ".join(hostile.FAMILIES)))
    if not os.access(args.kordon, os.X_OK):
        sys.exit("no kordon binary at %s (swift build --product kordon, or --kordon PATH)" % args.kordon)
    print("differential fuzz: seed %d, %d a family, families %s, kordon %s" % (seed, args.count, ",".join(families), args.kordon))
    print("kordon binary built %s UTC; checkout at %s" % (time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.path.getmtime(args.kordon))), head()))
    print("command: python3 Fuzz/differential.py --seed %d --count %d --families %s%s" % (
        seed, args.count, ",".join(families), " --via " + args.via if args.via else ""))
    workdir = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="kordon-fuzz-")
    sample_dir = os.path.join(workdir, "samples")
    shutil.rmtree(sample_dir, ignore_errors=True)
    os.makedirs(sample_dir)
    started = time.monotonic()
    # One binary for the whole run, though others rebuild .build/ meanwhile; it finds signatures/,
    # schemas/ and rules/ through KORDON_HOME.
    kordon = os.path.join(workdir, "kordon")
    shutil.copy2(args.kordon, kordon)
    os.environ.setdefault("KORDON_HOME", os.path.dirname(HERE))
    try:
        samples = list(hostile.generate(seed, args.count, families))
        samples += [dataclasses.replace(s, transport=t, name=s.name + "@" + t)
                    for t in args.via.split(",") if t for s in samples if s.transport == "cli"]
        files = [s for s in samples if s.transport == "cli"]
        sockets = [s for s in samples if s.transport != "cli"]
        os.makedirs(os.path.join(workdir, "bodies"), exist_ok=True)
        for s in samples:  # socket samples apart: they are not for `kordon scan`
            with open(os.path.join(sample_dir if s.transport == "cli" else os.path.join(workdir, "bodies"), s.name), "wb") as f:
                f.write(s.data)
        config = kordon_run.write_config(workdir)
        scan = kordon_run.ScanRun(kordon, config, sample_dir, len(files), args.hang_seconds, args.jobs) if files else None
        recovered = {}
        for s in samples:  # a --via copy is the same bytes: ask the oracle once
            base = s.name.split("@")[0]
            if base not in recovered:
                recovered[base] = oracle.recover(s.data, s.headers)
            recovered[s.name] = recovered[base]
        oracle_done = time.monotonic()
        verdicts = scan.results([s.name for s in files]) if scan else {}
        scanned = time.monotonic()
        served, note = kordon_run.serve_verdicts(kordon, workdir, sockets, args.hang_seconds)
        for s in sockets:
            verdicts[s.name] = served.get(s.name) or {"verdict": "error", "format": "?", "rules": [note or "no answer"]}
        outcomes = [Outcome(s, *recovered[s.name], verdicts[s.name], args.hang_seconds) for s in samples]
    finally:
        os.unlink(kordon)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report(outcomes, families, args, workdir, scan, note, oracle_done - started, scanned - started, time.monotonic() - started)
    impossible = [o.sample.name for o in outcomes if o.found and not o.sample.infected]
    if impossible:  # the oracle "recovered" EICAR from a clean control: a bug in this fuzzer, not in Kordon
        print("\nORACLE ERROR: EICAR recovered from clean controls: " + ", ".join(impossible[:10]))
        return 2
    gaps = known_gaps(args.known_gaps)
    # a known gap excuses a defect, never a crash or a hang
    failing = [o for o in outcomes if o.crash or o.hang or (o.defect and not gap_for(o.sample, gaps))]
    if gaps:
        hit = collections.Counter(gap_for(o.sample, gaps) for o in outcomes if o.defect)
        print("\nknown gaps (%s): %s" % (os.path.relpath(args.known_gaps), ", ".join(
            "%s %d" % (g, hit.get(g, 0)) for g in gaps)))
    if note:
        print("\nserve: " + note)
    if args.expect_pass:
        bad = failing or (note and sockets)
        print("\n--expect-pass: %s" % ("FAIL: %d crashes, hangs or defects outside the known gaps" % len(failing) if bad else "pass"))
        return 1 if bad else 0
    return 0


def report(outcomes, families, args, workdir, scan, note, oracle_s, scan_s, total_s):
    print("\n" + summary(outcomes, families))
    if scan:
        print("\nkordon scan: %d files in %.1f s%s; samples made and oracle done at %.1f s; whole run %.1f s" % (
            sum(o.sample.transport == "cli" for o in outcomes), scan.seconds,
            (", " + scan.batch_problem) if scan.batch_problem else "", oracle_s, total_s))
    transports = sorted({o.sample.transport for o in outcomes})
    if len(transports) > 1:
        rows = [["scan (cli)" if t == "cli" else t, sum(1 for o in outcomes if o.sample.transport == t),
                 sum(o.found for o in outcomes if o.sample.transport == t),
                 sum(o.defect for o in outcomes if o.sample.transport == t),
                 sum(o.fp for o in outcomes if o.sample.transport == t),
                 sum(o.crash or o.hang for o in outcomes if o.sample.transport == t)] for t in transports]
        print("\nby interface:\n" + table(rows, ["interface", "samples", "recoverable", "DEFECTS", "FPs", "crash/hang"]))
    rows = by_mutation(outcomes, "defect")
    if rows:
        print("\ndefects by mutation (recoverable samples, of them passed clean/sanitized):\n" +
              table(rows, ["mutation", "recoverable", "DEFECTS"]))
    fps = by_mutation(outcomes, "fp")
    if fps:
        print("\nfalse positives by mutation (valid clean controls, of them held):\n" + table(fps, ["mutation", "valid ctl", "FPs"]))
    bad = [o for o in outcomes if o.defect or o.crash or o.hang or o.fp or o.error]
    if args.keep:
        with open(os.path.join(workdir, "defects.tsv"), "w") as f:
            f.write("kind\tfile\tmutation\tvariant\ttransport\tkordon\toracle chain\tfindings\n")
            for o in bad:
                kind = "defect" if o.defect else "crash" if o.crash else "hang" if o.hang else "fp" if o.fp else "error"
                f.write(kind + "\t" + describe(o) + "\n")
        print("\nall listed in %s" % os.path.join(workdir, "defects.tsv"))
    shown = collections.Counter()
    listing = []
    for o in bad:
        kind = "DEFECT" if o.defect else "CRASH" if o.crash else "HANG" if o.hang else "FP" if o.fp else "ERROR"
        key = (kind, o.sample.mutation_id, o.sample.transport)
        shown[key] += 1
        if args.list == 0 or shown[key] <= args.list:
            listing.append(kind + "\t" + describe(o))
    if listing:
        print("\n%s (file, mutation, variant, transport, Kordon's verdict (form), oracle chain, findings):" % (
            "each" if args.list == 0 else "up to %d a mutation, kind and transport" % args.list))
        print("\n".join(listing))
    disagreements(outcomes)


def disagreements(outcomes):
    """Samples sent through more than one interface (--via) that one passed and another held."""
    first = {o.sample.name: o for o in outcomes if o.sample.transport == "cli"}
    differ = []
    for o in outcomes:
        base = first.get(o.sample.name.split("@")[0]) if "@" in o.sample.name else None
        if base and (base.kordon["verdict"] in PASSED) != (o.kordon["verdict"] in PASSED):
            differ.append("%s\tscan %s, %s %s" % (o.sample.name, base.kordon["verdict"], o.sample.transport, o.kordon["verdict"]))
    if any("@" in o.sample.name for o in outcomes):
        print("\ninterfaces that disagree (kordon scan against --via): %d" % len(differ))
        if differ:
            print("\n".join(differ[:40]))


if __name__ == "__main__":
    sys.exit(main())
