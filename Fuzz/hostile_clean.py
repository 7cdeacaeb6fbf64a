"""Family `clean`: ordinary messages that must pass, shaped to tempt the decoders issue 17 adds
(lenient base64, text-file base64, zlib sniffing, form detection) into a false positive: long
URLs and tokens, hex digests, PEM certificates, JWTs, PNG and PDF files (zlib inside), mail with
inline images and HTML. Every sample is clean and expected clean."""

import base64
import json
import struct
import zlib

from common import Sample, b64, clean_declaration, replace_element, words, wrap76, xml_bytes
from hostile_mime import base_mail


def png(rng):
    width = height = rng.randint(8, 48)
    raw = b"".join(b"\x00" + bytes(rng.getrandbits(8) for _ in range(width * 3)) for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def pdf(rng):
    """A one-page PDF whose content stream is FlateDecode-compressed text."""
    stream = zlib.compress(("BT /F1 12 Tf 72 720 Td (%s) Tj ET" % words(rng, 12)).encode())
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out, offsets = b"%PDF-1.5\n", []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


def token(rng, alphabet, length):
    return "".join(rng.choice(alphabet) for _ in range(length))


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def jwt(rng):
    part = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return "%s.%s.%s" % (part({"alg": "HS256", "typ": "JWT"}), part({"sub": words(rng, 2), "scope": words(rng, 6)}),
                         base64.urlsafe_b64encode(bytes(rng.getrandbits(8) for _ in range(32))).decode().rstrip("="))


def clean(rng, infected):
    """Ignores `infected`: every sample of this family is clean."""
    mutation = rng.choice(["long-url-element", "alnum-token-element", "jwt-element", "hex-digests-text",
                           "pem-certificate-text", "jwt-json-file", "png-file", "pdf-file", "mail-inline-png",
                           "mail-html-alternative", "mail-pdf-attachment", "declaration-png-pdf", "csv-words"])
    doc = clean_declaration(rng)
    out, ext = None, "xml"
    if mutation == "long-url-element":
        url = "https://track.example/shipment?ref=%s&sig=%s" % (token(rng, ALNUM, 40), token(rng, ALNUM + "-_", 180))
        doc = replace_element(doc, "csdo:CommunicationChannelId", url[:300].replace("&", "&amp;"), 1)
    elif mutation == "alnum-token-element":  # a long reference that looks like base64 and decodes to noise
        doc = replace_element(doc, "csdo:DocName", token(rng, ALNUM, rng.randint(256, 300)))
    elif mutation == "jwt-element":
        doc = replace_element(doc, "csdo:CommunicationChannelId", jwt(rng)[:300], 1)
    elif mutation == "hex-digests-text":
        out, ext = "".join("%s  %s.pdf\n" % (token(rng, "0123456789abcdef", 64), words(rng, 1))
                           for _ in range(rng.randint(3, 30))).encode(), "txt"
    elif mutation == "pem-certificate-text":
        der = bytes(rng.getrandbits(8) for _ in range(rng.randint(300, 1200)))
        out, ext = ("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % wrap76(b64(der), 64)).encode(), "pem"
    elif mutation == "jwt-json-file":
        out, ext = json.dumps({"access_token": jwt(rng), "token_type": "Bearer", "note": words(rng, 8)}).encode(), "json"
    elif mutation == "png-file":
        out, ext = png(rng), "png"
    elif mutation == "pdf-file":
        out, ext = pdf(rng), "pdf"
    elif mutation.startswith("mail-"):
        mail = base_mail(rng)
        if mutation == "mail-inline-png":
            mail.add_related(png(rng), maintype="image", subtype="png", cid="<logo@kordon.example>")
        elif mutation == "mail-html-alternative":
            mail.add_alternative("<html><body><p>%s</p></body></html>\n" % words(rng, 30), subtype="html")
        else:
            mail.add_attachment(pdf(rng), maintype="application", subtype="pdf", filename="invoice.pdf")
        out, ext = mail.as_bytes(), "eml"
    elif mutation == "declaration-png-pdf":
        from common import declaration
        doc = declaration(rng, rng.choice([png, pdf])(rng), "application/octet-stream", "scan.bin")
    else:
        out, ext = ("code;description;weight\r\n" + "".join("%s;%s;%s\r\n" % (token(rng, "ABCDEFGH", 6), words(rng, 5), words(rng, 1))
                                                          for _ in range(rng.randint(5, 50)))).encode(), "csv"
    if out is None:
        out = xml_bytes(doc)
    return Sample("clean", mutation, out, False, ext, "", expect_clean=True)



