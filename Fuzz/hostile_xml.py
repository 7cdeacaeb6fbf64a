"""Families `utf` (issue 17, kind 3: UTF-16/32 XML), `b64stray` (kind 5: base64 with stray
characters in a long string element) and `b64places` (kind 7: base64 where Kordon may not look).
Documents are schema-valid declarations (fixtures/kordon_decl.py), so a sample's only reason to
be held is its payload."""

import json
import re
import zlib

from common import (EICAR, Sample, b64, clean_declaration, clean_text, declaration, insert_after_root_start,
                    payload, replace_element, wrap76, xml_bytes)
from hostile_archive import raw_deflate
from hostile_mime import base_mail, mail_with_attachment, uuencode

# mutation -> (codec, BOM, name in the XML declaration or None for none, a clean control must pass)
UTF = {
    "utf16le-bom": ("utf-16-le", True, "UTF-16", True), "utf16be-bom": ("utf-16-be", True, "UTF-16", True),
    "utf16le-nobom": ("utf-16-le", False, "UTF-16LE", True), "utf16be-nobom": ("utf-16-be", False, "UTF-16BE", True),
    "utf32le-bom": ("utf-32-le", True, "UTF-32", True), "utf32be-bom": ("utf-32-be", True, "UTF-32", True),
    "utf32le-nobom": ("utf-32-le", False, "UTF-32LE", True), "utf32be-nobom": ("utf-32-be", False, "UTF-32BE", True),
    "utf8-bom": ("utf-8", True, "UTF-8", True), "ucs4-name": ("utf-32-le", True, "ISO-10646-UCS-4", True),
    "utf16-bom-no-decl": ("utf-16-le", True, None, True), "utf32-bom-no-decl": ("utf-32-le", True, None, True),
    "utf32be-bom-no-decl": ("utf-32-be", True, None, True),
    "utf16-bom-says-utf8": ("utf-16-le", True, "UTF-8", False), "utf32-bom-says-utf16": ("utf-32-le", True, "UTF-16", False),
    "utf32-nobom-says-utf8": ("utf-32-le", False, "UTF-8", False),
    "utf16le-nobom-no-decl": ("utf-16-le", False, None, False),
    # encodings libxml2 reads through iconv: EBCDIC (detected from "<?xm"), KOI8-R, UTF-7
    "ebcdic-ibm037": ("cp037", False, "IBM037", True), "koi8r": ("koi8-r", False, "KOI8-R", True),
    "utf7": ("utf-7", False, "UTF-7", False),
}


def encode_document(text, codec, bom, name):
    prolog = '<?xml version="1.0" encoding="%s"?>\n' % name if name else ""
    errors = "strict" if codec.startswith("utf") else "xmlcharrefreplace"  # a letter it lacks: &#NNNN;
    return ("\ufeff" if bom else "").encode(codec) + (prolog + text + "\n").encode(codec, errors)


def utf(rng, infected):
    """Kind 3: the declaration, EICAR base64 in its Content, in UTF-16/UTF-32 (BOM or not), as a
    file or as a mail's application/xml attachment."""
    mutation = rng.choice(sorted(UTF))
    codec, bom, name, valid = UTF[mutation]
    text = declaration(rng, payload(rng, True)) if infected else clean_declaration(rng)
    data = encode_document(text, codec, bom, name)
    wrapper = "mime" if rng.random() < 0.25 else "file"
    if wrapper == "mime":
        data = mail_with_attachment(rng, data, "application/xml", "decl.xml")
    return Sample("utf", mutation, data, infected, "eml" if wrapper == "mime" else "xml", wrapper, expect_clean=valid)


# --- kind 5: base64 with stray characters in a long string element -----------------------------

LONG_PLACES = [("csdo:DocName", 0), ("csdo:SubjectName", 0), ("csdo:SubjectName", 2), ("csdo:CommunicationChannelId", 1)]


def sized_payload(rng, infected, size, prefix=b""):
    body = (EICAR + b"\n" if infected else b"") + clean_text(rng, size)
    return (prefix + body)[:size] if infected else body[:size]


def stray(rng, s, how):
    """The base64 text `s` with the mutation `how` applied."""
    def insert(chars, count):
        out = list(s)
        for _ in range(count):
            out.insert(rng.randrange(8, len(out) - 1), rng.choice(chars))
        return "".join(out)
    if how == "bang":
        return insert("!", rng.randint(1, 3))
    if how == "dash":
        return insert("-", rng.randint(1, 3))
    if how == "nbsp":
        return insert("\u00a0", rng.randint(1, 3))
    if how == "unicode-space":  # zero-width, line separator, ideographic, thin space, soft hyphen, BOM
        return insert("\u200b\u2028\u3000\u2009\u00ad\ufeff", rng.randint(1, 3))
    if how == "star-dot":
        return insert("*.", rng.randint(1, 3))
    if how == "spaces":
        return insert(" ", rng.randint(1, 6))
    if how == "data-label":
        return rng.choice(["data:application/octet-stream;base64,", "data:;base64,", "base64:", "b64,"]) + s
    if how == "trailing-junk":
        return s + rng.choice([" !!", "#end", "~~", " (copy)", "!"])
    if how == "no-padding":
        return s.rstrip("=")
    if how == "wrapped":
        return wrap76(s, rng.choice([60, 64, 76]))
    if how == "char-refs":  # the parser hands over plain base64; the raw text holds &#NN; instead
        return "".join("&#%d;" % ord(c) if rng.random() < 0.08 else c for c in s)
    return s


STRAYS = ["plain", "bang", "dash", "nbsp", "star-dot", "spaces", "data-label", "trailing-junk", "two-blocks",
          "urlsafe", "no-padding", "wrapped", "combo", "char-refs", "unicode-space"]


def b64stray(rng, infected):
    """Kind 5: a 256-300 character base64 run (EICAR and clean text) with a stray character, a
    label, junk, two padded blocks, the URL-safe alphabet or no padding, in a Name300 element; a
    few in the base64Binary Content or a mail's base64 body instead."""
    mutation = rng.choice(STRAYS)
    hows = [mutation] if mutation != "combo" else rng.sample(
        ["bang", "dash", "nbsp", "data-label", "trailing-junk", "no-padding", "spaces", "star-dot", "unicode-space",
         "wrapped", "char-refs"], rng.randint(2, 3))
    if "char-refs" in hows:  # last: it turns characters into markup the others would cut into
        hows = [h for h in hows if h != "char-refs"] + ["char-refs"]
    size = rng.randint(192, 200)
    if "no-padding" in hows and size % 3 == 0:
        size += 1
    if mutation == "two-blocks":
        first = rng.choice([1, 2, 4, 5, 7, 8, 70, 71, 73])
        one = sized_payload(rng, infected and first >= 70, first)
        two = sized_payload(rng, infected and first < 70, size - first)
        text = b64(one) + b64(two)
    elif mutation == "urlsafe":
        text = b64(sized_payload(rng, infected, size, b"\xfb\xef\xff" * 2)).replace("+", "-").replace("/", "_")
    else:
        text = b64(sized_payload(rng, infected, size))
        for how in hows:
            text = stray(rng, text, how)
    place = rng.choice(["element"] * 8 + ["content", "mime-body"])
    if place == "mime-body":
        mail = mail_with_attachment(rng, b"PLACEHOLDER", "application/octet-stream", "data.bin")
        data = mail.replace(b64(b"PLACEHOLDER").encode(), wrap76(text, 76, "\r\n").encode("utf-8"), 1)
        return Sample("b64stray", mutation, data, infected, "eml", place + " " + "+".join(hows))
    doc = clean_declaration(rng)
    if place == "content":
        doc = re.sub(r"(<Content[^>]*>)[^<]*(</Content>)", lambda m: m.group(1) + text + m.group(2), doc, count=1)
    else:
        name, index = rng.choice(LONG_PLACES)
        doc = replace_element(doc, name, text.replace("\u00a0", "&#160;") if rng.random() < 0.5 else text, index)
        place = name
    return Sample("b64stray", mutation, xml_bytes(doc), infected, "xml", place + " " + "+".join(hows),
                  expect_clean=mutation in ("plain", "wrapped", "char-refs") and place != "content")


# --- kind 7: base64 in places Kordon never decodes ---------------------------------------------

PLACES = {"element": True, "element-cdata": True, "comment": True, "comment-labelled": True, "pi": True,
          "pi-prolog": True, "schema-location": True, "namespace-uri": True, "namespace-data-uri": True,
          "uu-mime-body": True, "uu-text-file": True, "b64-text-file": True, "b64-text-file-wrapped": True,
          "b64-mime-text-body": True, "b64-json-file": True, "zlib-file": False, "deflate-raw-file": False,
          "zlib-in-xml": False, "gzip-in-xml-short": True,
          "element-split-by-comment": True, "comment-long": True, "schema-location-long": True,
          "double-base64-content": True, "b64-text-gz": True, "b64-in-zip-member": True, "b64-csv-file": True,
          "data-uri-html-file": False, "nested-declaration-content": True, "mail-in-content": True,
          "anyuri-data-uri": True, "signature-value": True, "uu-in-zip-member": True, "b64-in-tar-member": True, "b64-text-file-stray": False,
          "b64-text-file-high-byte": False, "b64-text-file-nul": False,
          "b64-in-bz2": True}


def b64places(rng, infected):
    """Kind 7: a short base64 run (under 256 characters) of EICAR in an element, CDATA, a comment,
    a PI, xsi:schemaLocation, a namespace URI; uuencode in a mail body or a text file; a text file
    or JSON of base64; a raw zlib or deflate stream, bare or as a declaration's attachment."""
    mutation = rng.choice(sorted(PLACES))
    data = payload(rng, infected) if infected else clean_text(rng, rng.randint(40, 120))
    data = data[:150]
    s = b64(data)
    doc = clean_declaration(rng)
    ext, out = "xml", None
    if mutation == "element":
        doc = replace_element(doc, "csdo:DocName", s)
    elif mutation == "element-split-by-comment":  # one text value for a DOM reader, two text nodes
        cut = rng.randrange(8, len(s) - 8)
        doc = replace_element(doc, "csdo:DocName", "%s<!-- page %d -->%s" % (s[:cut], rng.randint(1, 9), s[cut:]))
    elif mutation in ("comment-long", "schema-location-long"):
        s = b64(data + b"\n" + clean_text(rng, 220))[:rng.randint(260, 400)]
        s = s[:len(s) // 4 * 4]
        if mutation == "comment-long":
            doc = insert_after_root_start(doc, "<!-- %s -->" % s)
        else:
            doc = doc.replace("<GoodsDeclaration ", '<GoodsDeclaration xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                              'xsi:schemaLocation="urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0 %s" ' % s, 1)
    elif mutation == "double-base64-content":
        doc = declaration(rng, s.encode(), "text/plain", "encoded.txt")
    elif mutation == "b64-text-gz":
        import gzip
        out, ext = gzip.compress((wrap76(s) + "\n").encode(), mtime=0), "gz"
    elif mutation == "b64-in-zip-member":
        from hostile_archive import zip_bytes
        out, ext = zip_bytes([("attachment.b64", (wrap76(s) + "\n").encode(), "deflate")]), "zip"
    elif mutation == "b64-csv-file":
        out, ext = ("name;kind;content\r\nattachment.bin;file;%s\r\n" % s).encode(), "csv"
    elif mutation == "data-uri-html-file":
        out, ext = ('<!DOCTYPE html>\n<html><body><p>Invoice</p><a href="data:application/octet-stream;base64,%s">'
                    "download</a></body></html>\n" % s).encode(), "html"
    elif mutation == "nested-declaration-content":  # Content holds a declaration whose Content holds ... EICAR
        doc = declaration(rng, payload(rng, True)) if infected else clean_declaration(rng)
        for _ in range(rng.randint(1, 3)):
            doc = declaration(rng, xml_bytes(doc), "application/xml", "original.xml")
    elif mutation in ("uu-in-zip-member", "b64-in-tar-member", "b64-in-bz2"):  # text encodings inside containers
        from hostile_archive import tar_bytes, zip_bytes
        import bz2
        if mutation == "uu-in-zip-member":
            out, ext = zip_bytes([("attachment.uue", uuencode(data, "eicar.com").encode(), "deflate")]), "zip"
        elif mutation == "b64-in-tar-member":
            out, ext = tar_bytes([("attachment.b64", (wrap76(s) + "\n").encode())], rng.choice(["w", "w:gz"])), "tar"
        else:
            out, ext = bz2.compress((wrap76(s) + "\n").encode()), "bz2"
    elif mutation == "mail-in-content":  # Content holds a mail with the file attached
        doc = declaration(rng, mail_with_attachment(rng, data, "application/octet-stream", "a.bin"), "message/rfc822", "mail.eml")
    elif mutation == "anyuri-data-uri":  # SignatureAlgorithmId is xs:anyURI: a data: URI is valid there
        doc = replace_element(declaration(rng, clean_text(rng, 200), signature=bytes(64)), "SignatureAlgorithmId",
                              "data:application/octet-stream;base64," + s)
    elif mutation == "signature-value":  # xs:base64Binary, the place Kordon always decoded (a control)
        doc = declaration(rng, clean_text(rng, 200), signature=data)
    elif mutation == "element-cdata":
        doc = replace_element(doc, "csdo:DocName", "<![CDATA[%s]]>" % s)
    elif mutation == "comment":
        doc = insert_after_root_start(doc, "<!-- %s -->" % s)
    elif mutation == "comment-labelled":
        doc = insert_after_root_start(doc, "<!-- attachment eicar.com (base64): %s -->" % s)
    elif mutation == "pi":
        doc = insert_after_root_start(doc, "<?attachment %s?>" % s)
    elif mutation == "pi-prolog":
        out = ('<?xml version="1.0" encoding="UTF-8"?>\n<?attachment name="a.bin" data="%s"?>\n' % s + doc + "\n").encode()
    elif mutation == "schema-location":
        doc = doc.replace("<GoodsDeclaration ", '<GoodsDeclaration xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                          'xsi:schemaLocation="urn:kordon:sample:EEC:R:055:GoodsDeclaration:v1.0 %s" ' % s, 1)
    elif mutation in ("namespace-uri", "namespace-data-uri"):
        uri = ("urn:kordon:x:" + s) if mutation == "namespace-uri" else ("data:application/octet-stream;base64," + s)
        doc = doc.replace("<GoodsDeclaration ", '<GoodsDeclaration xmlns:att="%s" ' % uri, 1)
    elif mutation == "uu-mime-body":
        mail = base_mail(rng)
        mail.set_content("Please find the file below.\n\n" + uuencode(data, "eicar.com").replace("\r\n", "\n") + "\nRegards\n")
        out, ext = mail.as_bytes(), "eml"
    elif mutation == "uu-text-file":
        out, ext = uuencode(data, "eicar.com").encode(), "txt"
    elif mutation == "b64-text-file":
        out, ext = (s + "\n").encode(), "txt"
    elif mutation == "b64-text-file-wrapped":
        out, ext = (wrap76(b64(data + clean_text(rng, 300)), 76) + "\n").encode(), "txt"
    elif mutation == "b64-text-file-stray":  # a wrapped base64 text file with a stray character (found by havoc)
        text = list(wrap76(b64(data + clean_text(rng, 300)), 76))
        for _ in range(rng.randint(1, 3)):
            text.insert(rng.randrange(100, len(text)), rng.choice("]!*#-\u00a0"))
        out, ext = ("".join(text) + "\n").encode(), "txt"
    elif mutation in ("b64-text-file-high-byte", "b64-text-file-nul"):  # one byte that is not text (found by havoc)
        text = (wrap76(b64(data + clean_text(rng, 300)), 76) + "\n").encode()
        at = rng.randrange(len(text))
        junk = bytes([rng.randint(0x80, 0xff)]) if mutation.endswith("high-byte") else b"\x00"
        out, ext = text[:at] + junk + text[at:], "txt"
    elif mutation == "b64-mime-text-body":
        mail = base_mail(rng)
        mail.set_content("The file, base64:\n\n" + wrap76(s, 76) + "\n")
        out, ext = mail.as_bytes(), "eml"
    elif mutation == "b64-json-file":
        out, ext = json.dumps({"name": "a.bin", "content": s}).encode(), "json"
    elif mutation == "zlib-file":
        out, ext = zlib.compress(data), "bin"
    elif mutation == "deflate-raw-file":
        out, ext = raw_deflate(data), "bin"
    elif mutation == "zlib-in-xml":
        doc = declaration(rng, zlib.compress(data), "application/octet-stream", "data.z")
    elif mutation == "gzip-in-xml-short":
        import gzip
        doc = declaration(rng, gzip.compress(data, mtime=0), "application/gzip", "data.gz")
    if out is None:
        out = xml_bytes(doc)
    return Sample("b64places", mutation, out, infected, ext, "", expect_clean=PLACES[mutation])

