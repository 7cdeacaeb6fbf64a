"""Families `mime` (issue 17, kind 4: line endings and header-block shapes) and `mislabel`
(kind 6: an XML document in a part not labelled XML). Mail is written with Python's `email`
package (policy SMTP), then reshaped byte for byte."""

import binascii
import re
from email.message import EmailMessage
from email.policy import SMTP

from common import Sample, b64, clean_declaration, declaration, payload, words, xml_bytes

XOP_NS = "http://www.w3.org/2004/08/xop/include"


def base_mail(rng, subject=None):
    mail = EmailMessage(policy=SMTP)
    mail["From"] = "Broker <broker@dala-logistic.example>"
    mail["To"] = "customs@kgd.example"
    mail["Subject"] = subject or words(rng, 4).capitalize()
    mail["Date"] = "Mon, 24 Mar 2025 11:%02d:00 +0500" % rng.randint(0, 59)
    mail["Message-ID"] = "<fuzz-%08x@kordon.example>" % rng.getrandbits(32)
    mail.set_content(words(rng, rng.randint(10, 40)).capitalize() + ".\n")
    return mail


def mail_with_attachment(rng, data, media, filename, cte="base64"):
    """An RFC 5322 mail (CRLF): a text body and `data` as an attachment."""
    mail = base_mail(rng)
    maintype, subtype = media.split("/")
    mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename, cte=cte)
    return mail.as_bytes()


def uuencode(data, name):
    lines = ["begin 644 %s" % name]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i:i + 45]).decode("ascii").rstrip("\n"))
    lines += ["`", "end"]
    return "\r\n".join(lines) + "\r\n"


def attachment_content(rng, infected):
    kind = rng.choice(["file", "file", "xml", "zip"])
    if kind == "file":
        return payload(rng, infected), "application/octet-stream", rng.choice(["eicar.com", "readme.txt", "report.bin"]), kind
    if kind == "xml":
        text = declaration(rng, payload(rng, True)) if infected else clean_declaration(rng)
        return xml_bytes(text), "application/xml", "decl.xml", kind
    from hostile_archive import inner_members, zip_bytes
    return zip_bytes(inner_members(rng, infected, "deflate")), "application/zip", "docs.zip", kind


def build_mail(rng, infected, cte, nested):
    data, media, filename, kind = attachment_content(rng, infected)
    if cte == "x-uuencode":
        mail = base_mail(rng)
        mail.add_attachment(b"", maintype=media.split("/")[0], subtype=media.split("/")[1], filename=filename)
        part = list(mail.iter_attachments())[0]
        part.set_payload(uuencode(data, filename))
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = "x-uuencode"
        raw = mail.as_bytes()
    elif cte in ("base64-one-line", "base64-indented"):  # one line of any length / lines led by spaces
        mail = base_mail(rng)
        mail.add_attachment(b"", maintype=media.split("/")[0], subtype=media.split("/")[1], filename=filename)
        part = list(mail.iter_attachments())[0]
        encoded = b64(data)
        lines = [encoded] if cte == "base64-one-line" else ["  " + encoded[i:i + 72] for i in range(0, len(encoded), 72)]
        part.set_payload("\r\n".join(lines) + "\r\n")
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = "base64"
        raw = mail.as_bytes()
    else:
        use = cte if not (cte == "7bit" and kind != "file") else "base64"
        raw = mail_with_attachment(rng, data, media, filename, use)
    if nested:
        outer = base_mail(rng)
        outer.add_attachment(_as_message(raw))  # message/rfc822
        raw = outer.as_bytes()
    return raw, kind


def _as_message(raw):
    from email import message_from_bytes
    return message_from_bytes(raw, _class=EmailMessage, policy=SMTP)


def endings(rng, raw, how):
    lines = raw.split(b"\r\n")
    if how == "crlf":
        return raw
    if how == "lf":
        return b"\n".join(lines)
    if how == "bare-cr":
        return b"\r".join(lines)
    if how == "headers-cr-body-lf":
        head, _, body = raw.partition(b"\r\n\r\n")
        return head.replace(b"\r\n", b"\r") + b"\r\r" + body.replace(b"\r\n", b"\n")
    out = bytearray()  # mixed: each line ends its own way
    for line in lines[:-1]:
        out += line + rng.choice([b"\r\n", b"\n", b"\r"])
    return bytes(out + lines[-1])


def boundary_of(raw):
    found = re.search(rb'boundary="?([^";\r\n]+)"?', raw)
    return found.group(1) if found else None


def shape(rng, raw, how):
    """Header-block shapes a mail reader accepts (and one it may not)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if how == "plain":
        return raw
    if how == "from-line":
        return b"From broker@dala-logistic.example Mon Mar 24 11:44:00 2025\r\n" + raw
    if how == "space-before-colon":
        return head.replace(b"Content-Type:", b"Content-Type :", 1) + sep + body
    if how == "lowercase-headers":
        return re.sub(rb"(?m)^([A-Za-z-]+):", lambda m: m.group(1).lower() + b":", head) + sep + body
    if how == "upper-headers":
        return re.sub(rb"(?m)^([A-Za-z-]+):", lambda m: m.group(1).upper() + b":", head) + sep + body
    if how == "folded-content-type":
        return re.sub(rb"; boundary=", b";\r\n\tboundary=", head, count=1) + sep + body
    if how == "no-mime-version":
        return re.sub(rb"(?mi)^MIME-Version:[^\r\n]*\r\n", b"", head) + sep + body
    if how == "leading-received":
        received = b"".join(b"Received: from relay%d.example by mx.example; Mon, 24 Mar 2025 11:44:%02d +0500\r\n" % (i, i)
                            for i in range(rng.randint(1, 8)))
        return received + raw
    if how == "only-content-type":
        kept = [line for line in re.split(rb"\r\n(?![ \t])", head)
                if line.lower().startswith((b"content-type", b"mime-version"))]
        return b"\r\n".join(kept) + sep + body
    if how == "header-no-space":
        return head.replace(b"Content-Type: ", b"Content-Type:", 1).replace(b"; boundary=", b";boundary=", 1) + sep + body
    if how == "long-header-first":
        return b"X-Trace: " + ("".join(rng.choice("abcdef0123456789") for _ in range(900))).encode() + b"\r\n" + raw
    if how == "preamble-junk":
        b = boundary_of(raw)
        return raw.replace(b"\r\n\r\n--" + b, b"\r\n\r\nThis is a multi-part message in MIME format.\r\n" + words(rng, 12).encode() + b"\r\n\r\n--" + b, 1) if b else raw
    if how == "no-final-boundary":
        b = boundary_of(raw)
        return raw.replace(b"--" + b + b"--", b"", 1) if b else raw
    if how == "unquoted-boundary":
        return re.sub(rb'boundary="([^"]+)"', rb"boundary=\1", raw, count=1)
    if how == "huge-header-block":  # many trace headers before Content-Type: past a sniffer's first kilobytes
        received = b"".join(b"Received: from relay%d.example (relay%d.example [192.0.2.%d]) by mx.example with ESMTP id %08x;\r\n"
                            b"\tMon, 24 Mar 2025 11:44:%02d +0500\r\n" % (i, i, i % 250, rng.getrandbits(32), i % 60)
                            for i in range(rng.randint(60, 400)))
        return received + raw
    if how == "very-long-header":  # one folded header of tens of kilobytes first
        value = b"\r\n\t".join(("".join(rng.choice("abcdef0123456789") for _ in range(70))).encode()
                                 for _ in range(rng.randint(100, 600)))
        return b"X-Signature: " + value + b"\r\n" + raw
    if how == "garbled-boundary-param":  # `boundary="` lost: multipart/mixed;=====N== (found by havoc)
        return head.replace(b'boundary="', b"", 1) + sep + body
    if how == "upper-boundary-param":  # parameter names are case-insensitive
        return head.replace(b"boundary=", b"BOUNDARY=", 1) + sep + body
    if how == "boundary-rfc2231":  # the boundary as an RFC 2231 extended parameter
        b = boundary_of(raw)
        return re.sub(rb'boundary="?[^";\r\n]+"?', b"boundary*=us-ascii''" + b.replace(b"=", b"%3D"), head, count=1) + sep + body if b else raw
    if how == "content-type-comment":  # RFC 822 comments are allowed in structured fields
        return head.replace(b"multipart/mixed;", b"multipart/mixed (parts follow);", 1) + sep + body
    if how == "upper-content-type":
        return re.sub(rb"(?m)^Content-Type: ([a-z/-]+)", lambda m: b"Content-Type: " + m.group(1).upper(), raw)
    if how == "cte-upper":
        return re.sub(rb"(?m)^Content-Transfer-Encoding: ([a-z0-9-]+)", lambda m: b"Content-Transfer-Encoding: " + m.group(1).upper(), raw)
    if how == "cte-unknown":  # a name no standard knows on a base64 body: get_payload hands the text over
        return raw.replace(b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: x-b64")
    if how == "duplicate-content-type":  # which one counts differs between readers
        return b"Content-Type: text/plain; charset=us-ascii\r\n" + raw
    if how == "delimiter-padding":  # RFC 2046 allows white space after a boundary delimiter
        b = boundary_of(raw)
        return re.sub(rb"(?m)^(--" + re.escape(b) + rb"(--)?)\r$", lambda m: m.group(1) + b" \t \r", raw) if b else raw
    raise ValueError(how)


ENDINGS = ["crlf", "lf", "bare-cr", "mixed", "headers-cr-body-lf"]
SHAPES = {"plain": True, "from-line": False, "space-before-colon": False, "lowercase-headers": True,
          "upper-headers": True, "folded-content-type": True, "no-mime-version": False,
          "leading-received": True, "only-content-type": False, "header-no-space": True,
          "long-header-first": True, "preamble-junk": True, "no-final-boundary": False,
          "unquoted-boundary": True, "upper-content-type": True, "cte-upper": True, "cte-unknown": False,
          "duplicate-content-type": False, "delimiter-padding": True, "upper-boundary-param": True,
          "boundary-rfc2231": False, "content-type-comment": False, "huge-header-block": True,
          "very-long-header": True, "garbled-boundary-param": False}
CTES = {"base64": True, "quoted-printable": True, "7bit": True, "x-uuencode": False, "base64-one-line": True,
        "base64-indented": False}


def mime(rng, infected):
    """Kind 4: a mail with an attachment (EICAR, an XML declaration carrying it, or a zip),
    its line endings and header block reshaped."""
    ending = rng.choice(ENDINGS) if rng.random() < 0.6 else rng.choice(["crlf", "lf"])
    form = rng.choice(sorted(SHAPES))
    cte = rng.choice(sorted(CTES))
    nested = rng.random() < 0.15
    raw, kind = build_mail(rng, infected, cte, nested)
    raw = endings(rng, shape(rng, raw, form), ending)
    valid = ending in ("crlf", "lf") and SHAPES[form] and CTES[cte]
    return Sample("mime", "%s:%s" % (ending, form), raw, infected, "eml",
                  "%s %s%s" % (cte, kind, " nested" if nested else ""), expect_clean=valid)


# --- kind 6: XML in a part not labelled XML ----------------------------------------------------

LABELS = {"application/xml": True, "application/pdf": False, "text/csv": False, "application/octet-stream": False,
          "text/plain": False, "image/png": False, "none": False, "text/html": False, "application/json": False}


def _declaration_bytes(rng, infected, keep_decl):
    text = declaration(rng, payload(rng, True)) if infected else clean_declaration(rng)
    return xml_bytes(text) if keep_decl else (text + "\n").encode()


def form_data(rng, data, boundary, filename="decl.xml", media="application/octet-stream"):
    """A multipart/form-data body (CRLF), no header block: what a browser uploads; with filename
    None the document is a plain text field (no filename, no Content-Type)."""
    field = [b'Content-Disposition: form-data; name="file"; filename="%s"' % filename.encode(),
             b"Content-Type: " + media.encode()] if filename else [b'Content-Disposition: form-data; name="declaration"']
    parts = [b"--" + boundary, b'Content-Disposition: form-data; name="comment"', b"", words(rng, 5).encode(),
             b"--" + boundary] + field + [b"", data, b"--" + boundary + b"--", b""]
    return b"\r\n".join(parts)


def mislabel(rng, infected):
    """Kind 6: a declaration (EICAR base64 in its Content) in a mail part labelled otherwise, an
    XOP root labelled as PDF, or a multipart/form-data upload without a header block."""
    mutation = rng.choice(sorted(LABELS) * 2 + ["xop-root-as-pdf", "form-data-no-headers", "single-part-pdf",
                                                "transport-label-pdf", "leading-space-octet-stream"])
    keep_decl = rng.random() < 0.5
    data = _declaration_bytes(rng, infected, keep_decl)
    variant = "with-decl" if keep_decl else "no-decl"
    if mutation == "transport-label-pdf":  # the bare document over HTTP/ICAP, its Content-Type a PDF's
        transport = rng.choice(["http", "icap"])
        return Sample("mislabel", mutation, data, infected, "body", variant, transport,
                      {"Content-Type": rng.choice(["application/pdf", "text/csv", "application/octet-stream"])})
    if mutation == "leading-space-octet-stream":  # white space (or a BOM) before the document
        data = rng.choice([b"\r\n", b"  \n", b"\xef\xbb\xbf", b"\n\n\t"]) + data
        mutation = "application/octet-stream-leading-space"
    if mutation == "form-data-no-headers":
        boundary = b"----WebKitFormBoundary%016x" % rng.getrandbits(64)
        body = form_data(rng, data, boundary, rng.choice(["decl.xml", "decl.pdf", "upload.bin", None]),
                         rng.choice(["application/octet-stream", "application/pdf", "text/xml"]))
        transport = rng.choice(["cli", "cli", "http", "icap"])
        headers = {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()} if transport != "cli" else {}
        return Sample("mislabel", mutation, body, infected, "form", variant, transport, headers)
    if mutation == "xop-root-as-pdf":
        return Sample("mislabel", mutation, xop_root_as_pdf(rng, infected), infected, "eml", variant)
    if mutation == "single-part-pdf":
        mail = EmailMessage(policy=SMTP)
        mail["From"], mail["To"], mail["Subject"] = "broker@dala-logistic.example", "customs@kgd.example", "Scan"
        mail.set_content(data, maintype="application", subtype="pdf", cte=rng.choice(["base64", "8bit"]), filename="scan.pdf")
        return Sample("mislabel", mutation, mail.as_bytes(), infected, "eml", variant)
    mail = base_mail(rng)
    maintype, subtype = ("application", "octet-stream") if mutation == "none" else mutation.split("-leading")[0].split("/")
    filename = rng.choice(["decl.xml", "scan.pdf", "table.csv", "data.bin", None])
    mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename,
                        cte=rng.choice(["base64", "base64", "8bit", "quoted-printable"]))
    if mutation == "none":
        del list(mail.iter_attachments())[0]["Content-Type"]
    label = mutation.replace("/", "-")
    return Sample("mislabel", label, mail.as_bytes(), infected, "eml", "%s %s" % (variant, filename),
                  expect_clean=LABELS.get(mutation, False) and keep_decl)


def xop_root_as_pdf(rng, infected):
    """MTOM/XOP multipart/related whose root part (the declaration, EICAR inline as base64) is
    labelled application/pdf; the second part is a clean PDF the root refers to."""
    text = declaration(rng, payload(rng, True)) if infected else clean_declaration(rng)
    mail = EmailMessage(policy=SMTP)
    mail["From"], mail["To"], mail["Subject"] = "broker@dala-logistic.example", "customs@kgd.example", "MTOM"
    mail["MIME-Version"] = "1.0"
    mail.set_content(xml_bytes(text), maintype="application", subtype="pdf", cte="8bit")
    mail.make_related()
    mail.set_param("type", "application/xop+xml")
    mail.set_param("start", "<root-1@kordon.example>")
    list(mail.iter_parts())[0]["Content-ID"] = "<root-1@kordon.example>"
    mail.add_related(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", cid="<doc-1@kordon.example>")
    return mail.as_bytes()
