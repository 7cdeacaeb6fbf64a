"""Generators of hostile messages for issue 17, one family per kind of the issue.

Every family is a function (rng, infected) -> Sample; `generate` draws `count` samples of each,
about 70% carrying EICAR (assembled at run time, see common.py) and 30% clean controls of the
same shapes. A (seed, family, index) gives the same sample every time.

    family      kind  what
    encoding    1     HTTP bodies under Content-Encoding (gzip, deflate zlib/raw, br, zstd, stacked,
                      unknown); transport http (POST /v1/filter) or icap (RESPMOD)
    archive     2     zip with stored/deflate/bzip2/LZMA members, lying local headers, concatenated,
                      after junk; bare gz/bz2/xz/lzma; tar, tar.gz/bz2/xz; nested
    utf         3     UTF-16 / UTF-32 XML, with and without BOM, declared or not, mismatched
    mime        4     mail with bare CR / mixed line endings and other header-block shapes
    b64stray    5     base64 with `!`, `-`, NBSP, a label, junk, two padded blocks, URL-safe, no padding
    mislabel    6     XML in parts labelled application/pdf, text/csv, octet-stream, none; XOP root as
                      PDF; multipart/form-data without a header block
    b64places   7     base64 in short runs, CDATA, comments, PIs, schemaLocation, namespace URIs;
                      uuencode; text files of base64; raw zlib / deflate streams
    havoc       -     a sample of another family with random byte edits (crashes, hangs)
    clean       -     false-positive probes, all clean: long URLs and tokens, hex digests, PEM, JWT,
                      PNG and PDF (zlib inside), mail with inline images, HTML, PDF attachments

Run `python3 Fuzz/hostile.py OUTDIR --count N` to write the samples of every family."""

import argparse
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in fixtures/ or Benchmarks/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_archive import archive, encoding  # noqa: E402
from hostile_clean import clean  # noqa: E402
from hostile_mime import mime, mislabel  # noqa: E402
from hostile_xml import b64places, b64stray, utf  # noqa: E402

FAMILIES = {"encoding": encoding, "archive": archive, "utf": utf, "mime": mime,
            "b64stray": b64stray, "mislabel": mislabel, "b64places": b64places, "clean": clean}
INFECTED_SHARE = 0.7


def havoc(rng, infected):
    """Robustness: a sample of another family with 1-8 random byte edits (flip, insert, delete,
    duplicate or cut a run): for crashes and hangs first; a defect when EICAR still comes out."""
    family = rng.choice(["archive", "utf", "mime", "b64stray", "mislabel", "b64places"])
    base = FAMILIES[family](rng, infected)
    data = bytearray(base.data)
    for _ in range(rng.randint(1, 8)):
        if len(data) < 8:
            break
        at, op = rng.randrange(len(data)), rng.choice(["flip", "insert", "delete", "duplicate", "cut"])
        if op == "flip":
            data[at] ^= 1 << rng.randrange(8)
        elif op == "insert":
            data[at:at] = bytes(rng.choice([0, 10, 13, 60, 62, 38, 34, 45, 61, 255, rng.getrandbits(8)]) for _ in range(rng.randint(1, 4)))
        elif op == "delete":
            del data[at:at + rng.randint(1, 16)]
        elif op == "duplicate":
            data[at:at] = data[at:at + rng.randint(1, 256)]
        else:
            del data[at + (len(data) - at) // 2:]
    origin = "%s.%s" % (family, base.mutation)
    base.family, base.mutation, base.data = "havoc", family, bytes(data)
    base.variant, base.expect_clean = origin + " " + base.variant, False
    return base


FAMILIES["havoc"] = havoc


def sample(seed, family, index):
    """The index-th sample of a family for a seed."""
    rng = random.Random("%s/%s/%d" % (seed, family, index))
    random.seed("%s/%s/%d/boundaries" % (seed, family, index))  # email draws its MIME boundaries from here
    infected = rng.random() < INFECTED_SHARE
    made = FAMILIES[family](rng, infected)
    made.name = "%s-%05d-%s.%s" % (family, index, made.mutation.replace(":", "_").replace("/", "_"), made.ext)
    return made


def generate(seed, count, families=None):
    for family in families or FAMILIES:
        for index in range(count):
            yield sample(seed, family, index)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--families", default=",".join(FAMILIES))
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for made in generate(args.seed, args.count, args.families.split(",")):
        with open(os.path.join(args.outdir, made.name), "wb") as f:
            f.write(made.data)
    print("wrote %d samples a family to %s (seed %d)" % (args.count, args.outdir, args.seed))


if __name__ == "__main__":
    main()
