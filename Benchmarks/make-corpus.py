#!/usr/bin/env python3
"""Generate a corpus of schema-valid goods declarations for Kordon's tests and benchmarks.

    python3 Benchmarks/make-corpus.py OUTDIR --count N [--attachment-size BYTES] [--embed FILE]
                                      [--seed S] [--format xml|mime|both]
    python3 Benchmarks/make-corpus.py OUTDIR --embed-dir DIR [--format xml|mime|both] [--seed S]
    add --restricted to every form: each declaration then also names a person in free text

Each document is a GoodsDeclaration (schemas/eec-sample) with varied companies, goods, amounts
and routes, drawn deterministically from --seed, and exactly one AttachedDocument whose Content
is base64 of --attachment-size random bytes (default 65536) or, with --embed FILE, of that
file's bytes. Its part path is xml:/GoodsDeclaration/AttachedDocument[1]/Content.

Output names:
  --count N      OUTDIR/decl-000001.xml ... and/or OUTDIR/decl-000001.eml ...
  --embed-dir    one document per regular file of DIR (sorted), named after it:
                 OUTDIR/<file>.xml and OUTDIR/<file>.eml (default format: both)

--format mime writes the declaration as a base64 application/xml attachment of an RFC 5322
message (Python's EmailMessage, policy SMTP) with a short Cyrillic text body.
Identifiers are synthetic (fail every KZ/RU/BY checksum) unless --restricted: then the
declarant's SubjectName gains a valid KZ IIN and the first GoodsDescriptionText a valid 12-digit
RU INN and SNILS (drawn from the seed), which the rule packs mask: the corpus for comparing the
pipeline's throughput on restricted-data messages with clean ones. Standard library only.
"""

import argparse
import os
import random
import sys
import time
from email.message import EmailMessage
from email.policy import SMTP

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "fixtures"))
from kordon_decl import Declaration, xml_document  # noqa: E402
import kordon_synthetic as syn  # noqa: E402

ROUTES = [("KZ", "RU"), ("RU", "KZ"), ("KZ", "BY"), ("BY", "RU"), ("RU", "BY"),
          ("KG", "KZ"), ("KZ", "KG"), ("AM", "RU"), ("RU", "AM"), ("BY", "KZ")]
MAILBOXES = {"KZ": "gateway@customs-kz.example", "RU": "gateway@customs-ru.example",
             "BY": "gateway@customs-by.example", "KG": "gateway@customs-kg.example",
             "AM": "gateway@customs-am.example"}
MEDIA = {".pdf": "application/pdf", ".png": "image/png", ".txt": "text/plain", ".xml": "application/xml",
         ".zip": "application/zip", ".html": "text/html", ".rtf": "application/rtf", ".doc": "application/msword"}


def declaration(seed, index, payload, filename, restricted=False):
    """(xml bytes, route) for document `index`, carrying `payload` as its one attachment."""
    rng = random.Random(seed * 1_000_003 + index)
    route = ROUTES[rng.randrange(len(ROUTES))]
    media = MEDIA.get(os.path.splitext(filename)[1].lower(), "application/octet-stream")
    att = ("09999", "ATT-%06d" % index, "Приложение к декларации", filename, media, payload)
    d = Declaration(rng, route=route, items=rng.randint(1, 4), attachments=[att])
    text = d.xml()
    if restricted:
        text = with_person(text, rng)
    return xml_document(text), route


def with_person(text, rng):
    """Names a person in free text: an IIN in the declarant's name, an INN and SNILS in a description."""
    iin, inn, snils = syn.valid_kz_iin(rng), syn.valid_ru_inn12(rng), syn.valid_ru_snils(rng)
    text = text.replace("</csdo:SubjectName>", ", представитель ИП Ахметов Н.С., ИИН %s</csdo:SubjectName>" % iin, 1)
    start = text.index("<casdo:GoodsDescriptionText>") + len("<casdo:GoodsDescriptionText>")
    end = text.index("</casdo:GoodsDescriptionText>", start)
    extra = "; получатель ИНН %s, СНИЛС %s" % (inn, snils)
    description = text[start:end][:250 - len(extra)]
    return text[:start] + description + extra + text[end:]


def email_for(xml, route, seed, index, xml_name):
    """The declaration as an RFC 5322 message with a text body and a base64 XML attachment."""
    m = EmailMessage(policy=SMTP)
    m["From"] = "Декларант <" + MAILBOXES[route[0]].replace("gateway", "declarant") + ">"
    m["To"] = MAILBOXES[route[1]]
    m["Subject"] = "Декларация на товары R.055 № %06d" % index
    m["Date"] = "Fri, 14 Mar 2025 %02d:%02d:00 +0500" % (8 + index // 60 % 10, index % 60)
    m["Message-ID"] = "<corpus-%d-%06d@kordon.example>" % (seed, index)
    m.set_content("Добрый день!\nВо вложении декларация на товары (маршрут %s → %s).\n" % route)
    m.add_attachment(xml, maintype="application", subtype="xml", filename=xml_name)
    m.set_boundary("=_kordon_corpus_%d_%06d" % (seed, index))
    return m.as_bytes()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def emit(outdir, stem, xml, route, fmt, seed, index):
    size = 0
    if fmt in ("xml", "both"):
        size += write(os.path.join(outdir, stem + ".xml"), xml)
    if fmt in ("mime", "both"):
        size += write(os.path.join(outdir, stem + ".eml"), email_for(xml, route, seed, index, stem + ".xml"))
    return size


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("outdir")
    p.add_argument("--count", type=int, default=None, help="number of documents (not with --embed-dir)")
    p.add_argument("--attachment-size", type=int, default=65536, help="random attachment bytes (default 65536)")
    p.add_argument("--embed", metavar="FILE", help="attach this file's bytes instead of random bytes")
    p.add_argument("--embed-dir", metavar="DIR", help="one document per file in DIR, named after the file")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--format", choices=("xml", "mime", "both"), default=None,
                   help="xml (default), mime, or both (default with --embed-dir)")
    p.add_argument("--restricted", action="store_true",
                   help="name a person (valid IIN, INN, SNILS) in each declaration's free text")
    a = p.parse_args(argv)

    if a.embed_dir and (a.count is not None or a.embed):
        p.error("--embed-dir takes neither --count nor --embed")
    if not a.embed_dir and a.count is None:
        p.error("give --count N or --embed-dir DIR")
    if a.count is not None and a.count < 0:
        p.error("--count must be >= 0")
    if a.attachment_size < 1:
        p.error("--attachment-size must be >= 1 (Content may not be empty)")
    fmt = a.format or ("both" if a.embed_dir else "xml")
    os.makedirs(a.outdir, exist_ok=True)
    started = time.monotonic()
    files = total = 0

    if a.embed_dir:
        names = sorted(n for n in os.listdir(a.embed_dir) if os.path.isfile(os.path.join(a.embed_dir, n)))
        for i, name in enumerate(names, 1):
            with open(os.path.join(a.embed_dir, name), "rb") as f:
                payload = f.read()
            if not payload:
                print("skipping empty file %s (Content may not be empty)" % name, file=sys.stderr)
                continue
            xml, route = declaration(a.seed, i, payload, name, a.restricted)
            total += emit(a.outdir, name, xml, route, fmt, a.seed, i)
            files += 2 if fmt == "both" else 1
    else:
        fixed = None
        if a.embed:
            with open(a.embed, "rb") as f:
                fixed = f.read()
            if not fixed:
                p.error("--embed file is empty (Content may not be empty)")
        name = os.path.basename(a.embed) if a.embed else None
        for i in range(1, a.count + 1):
            payload = fixed if fixed is not None else random.Random(a.seed * 7_919 + i).randbytes(a.attachment_size)
            xml, route = declaration(a.seed, i, payload, name or "attachment-%06d.bin" % i, a.restricted)
            total += emit(a.outdir, "decl-%06d" % i, xml, route, fmt, a.seed, i)
            files += 2 if fmt == "both" else 1

    elapsed = time.monotonic() - started
    print("wrote %d files, %.1f MB, to %s in %.2f s" % (files, total / 1e6, a.outdir, elapsed), file=sys.stderr)


if __name__ == "__main__":
    main()
