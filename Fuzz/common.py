"""What the hostile-message families share: the EICAR test string, the Sample record, clean
filler, and documents shaped like fixtures/clean/*.xml (built with fixtures/kordon_decl.py, so a
sample's only reason to be held is its payload). Standard library only."""

import base64
import os
import sys
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "fixtures"))
from kordon_decl import Declaration, xml_document  # noqa: E402

# Assembled at run time so that no scanner flags this source (as Tests/KordonTestSupport does).
EICAR = "".join(["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS", "-TEST-FILE!$H+H*"]).encode()

WORDS = ("invoice consignment goods customs freight carrier warehouse transit pallet container "
         "tariff declaration origin shipment weight packing certificate inspection border route "
         "delivery contract quantity description parcel terminal unloading storage").split()


@dataclass
class Sample:
    """One hostile (or clean control) message and what is known about how it was made.

    transport: "cli" (a file for `kordon scan`), "http" (POST /v1/filter) or "icap" (RESPMOD);
    headers: extra HTTP header fields of the body (Content-Encoding, Content-Type);
    expect_clean: a clean control whose shape is an ordinary, valid message (a hold is a false
    positive); False for a clean control of a shape Kordon may rightly hold as unchecked."""
    family: str
    mutation: str
    data: bytes
    infected: bool
    ext: str = "bin"
    variant: str = ""
    transport: str = "cli"
    headers: dict = field(default_factory=dict)
    expect_clean: bool = False
    name: str = ""

    @property
    def mutation_id(self):
        return f"{self.family}.{self.mutation}"


def words(rng, count):
    """Clean English filler: lower-case words, no digits (no identifier or marking can match)."""
    return " ".join(rng.choice(WORDS) for _ in range(count))


def clean_text(rng, size):
    """At least `size` bytes of clean text, in lines."""
    lines = []
    total = 0
    while total < size:
        line = words(rng, rng.randint(6, 12)).capitalize() + "."
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def payload(rng, infected, minimum=0):
    """The file a sample carries: EICAR (bare, or followed by clean text, which the body signature
    still matches), or clean text of a like size. At least `minimum` bytes."""
    if not infected:
        return clean_text(rng, max(minimum, rng.randint(60, 400)))
    style = rng.choice(["bare", "bare", "text", "spaces"])
    data = EICAR
    if style == "text" or len(data) < minimum:
        data += b"\n" + clean_text(rng, max(0, minimum - len(data) - 1) + rng.randint(0, 80))
    elif style == "spaces":
        data += b" " * rng.randint(1, 40)
    return data


def b64(data):
    return base64.b64encode(data).decode("ascii")


def wrap76(text, width=76, newline="\n"):
    return newline.join(text[i:i + width] for i in range(0, len(text), width))


ROUTES = [("KZ", "RU"), ("RU", "KZ"), ("KZ", "BY"), ("BY", "KG"), ("RU", "AM")]


def declaration(rng, content=None, media="text/plain", filename="invoice.txt", wrap=False, items=1, signature=None):
    """A schema-valid GoodsDeclaration (text, no XML declaration) with one attachment holding
    `content` (bytes, base64 in Content), or with none when content is None."""
    attachments = []
    if content is not None:
        attachments = [("04021", "INV-2025/%04d" % rng.randint(0, 9999), "Invoice", filename, media, content)]
    made = Declaration(rng, route=rng.choice(ROUTES), items=items, attachments=attachments, wrap_base64=wrap,
                       signature=signature)
    # one in five inside an Interaction Envelope (fixtures/clean/envelope-kz-by.xml)
    return made.envelope(rng.getrandbits(16)) if rng.random() < 0.2 else made.xml()


def xml_bytes(root_text, encoding="UTF-8"):
    """The document as UTF-8 bytes with its XML declaration (the declaration names `encoding`;
    re-encode the text for anything but UTF-8)."""
    return xml_document(root_text, encoding)


def clean_declaration(rng):
    """A clean declaration with a clean text attachment."""
    return declaration(rng, clean_text(rng, rng.randint(80, 600)))


def replace_element(text, name, value, index=0):
    """`text` with the content of the index-th <name>...</name> replaced by `value` (raw markup)."""
    start_tag = "<%s>" % name
    at = -1
    for _ in range(index + 1):
        at = text.index(start_tag, at + 1)
    begin = at + len(start_tag)
    end = text.index("</%s>" % name, begin)
    return text[:begin] + value + text[end:]


def insert_after_root_start(text, markup):
    """`text` with `markup` placed right after the root element's start tag."""
    end = text.index(">") + 1
    return text[:end] + "\n  " + markup + text[end:]
