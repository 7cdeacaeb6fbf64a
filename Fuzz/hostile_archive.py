"""Families `archive` (issue 17, kind 2) and `encoding` (kind 1): containers libclamav may not
fully open, and HTTP bodies under a Content-Encoding. Each generator takes (rng, infected) and
returns a Sample."""

import bz2
import gzip
import io
import lzma
import shutil
import struct
import subprocess
import tarfile
import zipfile
import zlib

from common import Sample, clean_declaration, declaration, payload, xml_bytes, words

ZIP_METHODS = {"stored": zipfile.ZIP_STORED, "deflate": zipfile.ZIP_DEFLATED,
               "bzip2": zipfile.ZIP_BZIP2, "lzma": zipfile.ZIP_LZMA}


def zip_bytes(members, comment=b""):
    """A zip of (name, data, method name) members."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=(2025, 3, 24, 11, 44, 0))
            info.compress_type = ZIP_METHODS[method]
            archive.writestr(info, data)
        archive.comment = comment
    return out.getvalue()


def local_header_offsets(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [info.header_offset for info in archive.infolist()]


def lie_in_local_headers(rng, data, how):
    """The zip with every local file header lying: sizes zero / too small / huge, a wrong CRC,
    the data-descriptor flag set with no descriptor, or another name of the same length."""
    out = bytearray(data)
    for offset in local_header_offsets(data):
        if how == "sizes-zero":
            struct.pack_into("<II", out, offset + 18, 0, 0)
        elif how == "sizes-small":
            csize, usize = struct.unpack_from("<II", out, offset + 18)
            struct.pack_into("<II", out, offset + 18, max(1, csize // 3), max(1, usize // 4))
        elif how == "sizes-huge":
            struct.pack_into("<II", out, offset + 18, 0x7FFFFFF0, 0x7FFFFFF0)
        elif how == "crc-wrong":
            struct.pack_into("<I", out, offset + 14, rng.getrandbits(32))
        elif how == "descriptor-flag":
            flags = struct.unpack_from("<H", out, offset + 6)[0]
            struct.pack_into("<H", out, offset + 6, flags | 0x8)
            struct.pack_into("<III", out, offset + 14, 0, 0, 0)
        elif how == "name-differs":
            length = struct.unpack_from("<H", out, offset + 26)[0]
            out[offset + 30:offset + 30 + length] = bytes(rng.choice(b"abcdefgh") for _ in range(length))
    return bytes(out)


def tar_bytes(members, mode="w"):
    if mode != "w":  # compressed by hand: tarfile's gzip header would carry the time of day
        plain = tar_bytes(members)
        return {"w:gz": lambda: gzip.compress(plain, mtime=0), "w:bz2": lambda: bz2.compress(plain),
                "w:xz": lambda: lzma.compress(plain)}[mode]()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1742800000, 0o644
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def member_name(rng, infected):
    return rng.choice(["readme.txt", "invoice.txt", "data.bin", "setup.exe", "doc.pdf", "notes"])


def inner_members(rng, infected, method, xml=False):
    """One to three members; with `infected`, exactly one of them carries EICAR (with `xml`, as
    the base64 attachment of a declaration member, which libclamav sees only as text)."""
    count = rng.randint(1, 3)
    hot = rng.randrange(count)
    members = []
    for i in range(count):
        if xml and i == hot:
            doc = declaration(rng, payload(rng, True)) if infected else clean_declaration(rng)
            members.append(("%d-decl.xml" % i, xml_bytes(doc), method))
        else:
            members.append(("%d-%s" % (i, member_name(rng, infected)), payload(rng, infected and i == hot), method))
    return members


def streamed_zip(members):
    """A zip written to a pipe-like stream: sizes and CRCs in data descriptors after each member."""
    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.buffer = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.buffer += b
            return len(b)
    out = Unseekable()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=(2025, 3, 24, 11, 44, 0))
            info.compress_type = ZIP_METHODS[method]
            with archive.open(info, "w") as f:
                f.write(data)
    return bytes(out.buffer)


def gzip_with_fields(data, rng):
    """gzip with FEXTRA, FNAME and FCOMMENT set (RFC 1952 allows all three)."""
    extra = b"KD" + struct.pack("<H", 6) + bytes(rng.getrandbits(8) for _ in range(6))
    header = b"\x1f\x8b\x08" + bytes([0x04 | 0x08 | 0x10]) + struct.pack("<I", 0) + b"\x00\x03"
    header += struct.pack("<H", len(extra)) + extra + b"invoice.txt\x00" + b"scanned copy\x00"
    return header + raw_deflate(data) + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def nested(rng, infected, depth):
    """An archive holding an archive ... `depth` levels, EICAR at the bottom; formats drawn."""
    data = payload(rng, infected)
    kinds = []
    for _ in range(depth):
        kind = rng.choice(["zip-deflate", "zip-stored", "zip-lzma", "zip-bzip2", "gz", "tar", "tgz", "bz2", "xz"])
        kinds.append(kind)
        if kind.startswith("zip-"):
            data = zip_bytes([("inner.bin", data, kind[4:])])
        elif kind == "gz":
            data = gzip.compress(data, mtime=0)
        elif kind == "tar":
            data = tar_bytes([("inner.bin", data)])
        elif kind == "tgz":
            data = tar_bytes([("inner.bin", data)], "w:gz")
        elif kind == "bz2":
            data = bz2.compress(data)
        else:
            data = lzma.compress(data)
    return data, "/".join(reversed(kinds))


# mutation -> (builder, extension, a clean control of this shape must pass)
def _archive(rng, infected, mutation):
    xml = mutation.endswith("+xml")
    mutation = mutation[:-4] if xml else mutation
    if mutation.startswith("zip-") and mutation[4:] in ZIP_METHODS:
        return zip_bytes(inner_members(rng, infected, mutation[4:], xml)), "zip", ""
    if mutation == "zip64":  # ZIP64 extra fields on every member and a ZIP64 end record
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
            for name, data, method in inner_members(rng, infected, rng.choice(["deflate", "stored"]), xml):
                info = zipfile.ZipInfo(name, date_time=(2025, 3, 24, 11, 44, 0))
                info.compress_type = ZIP_METHODS[method]
                with archive.open(info, "w", force_zip64=True) as f:
                    f.write(data)
        return out.getvalue(), "zip", ""
    if mutation in ("zip-bomb", "zip64-bomb"):  # one member: the payload, then 150-250 MB of zeros (~0.2 MB deflated)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            with archive.open("big.bin", "w", force_zip64=mutation == "zip64-bomb") as f:
                f.write(payload(rng, infected))
                zeros = bytes(1 << 20)
                for _ in range(rng.randint(150, 250)):
                    f.write(zeros)
        return out.getvalue(), "zip", ""
    if mutation == "zip-streamed":
        return streamed_zip(inner_members(rng, infected, rng.choice(["deflate", "stored"]), xml)), "zip", ""
    if mutation.startswith("zip-lie-"):
        method = rng.choice(["deflate", "stored", "lzma", "bzip2"])
        data = zip_bytes(inner_members(rng, infected, method))
        return lie_in_local_headers(rng, data, mutation[8:]), "zip", method
    if mutation == "zip-concat":
        first_hot = rng.random() < 0.5
        a = zip_bytes(inner_members(rng, infected and first_hot, rng.choice(["deflate", "stored"])))
        b = zip_bytes(inner_members(rng, infected and not first_hot, rng.choice(["deflate", "stored"])))
        return a + b, "zip", "eicar-in-first" if first_hot else "eicar-in-second"
    if mutation == "zip-after-junk":
        junk = rng.choice([bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000))),
                           b"MZ" + bytes(rng.randint(100, 2000)), clean_text_bytes(rng)])
        return junk + zip_bytes(inner_members(rng, infected, rng.choice(["deflate", "stored"]))), "zip", ""
    if mutation == "zip-trailing-junk":
        junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000)))
        return zip_bytes(inner_members(rng, infected, "deflate")) + junk, "zip", ""
    if mutation == "zip-duplicate-names":
        data = payload(rng, infected)
        return zip_bytes([("a.txt", payload(rng, False), "deflate"), ("a.txt", data, rng.choice(["deflate", "stored"]))]), "zip", ""
    if mutation == "nested":
        data, kinds = nested(rng, infected, rng.randint(2, 4))
        return data, "bin", kinds
    if mutation in ("gz", "gz-multi", "gz-fields", "bz2", "bz2-multi-stream", "xz", "xz-multi-stream", "lzma-alone"):
        data = xml_bytes(declaration(rng, payload(rng, True)) if infected else clean_declaration(rng)) if xml \
            else payload(rng, infected)
        if mutation == "gz-fields":
            return gzip_with_fields(data, rng), "gz", ""
        if mutation == "bz2-multi-stream":
            return bz2.compress(payload(rng, False)) + bz2.compress(data), "bz2", ""
        if mutation == "xz-multi-stream":
            return lzma.compress(payload(rng, False)) + lzma.compress(data), "xz", ""
        if mutation == "gz":
            return gzip.compress(data, mtime=0), "gz", ""
        if mutation == "gz-multi":
            return gzip.compress(payload(rng, False), mtime=0) + gzip.compress(data, mtime=0), "gz", ""
        if mutation == "bz2":
            return bz2.compress(data), "bz2", ""
        if mutation == "xz":
            return lzma.compress(data, format=lzma.FORMAT_XZ), "xz", ""
        return lzma.compress(data, format=lzma.FORMAT_ALONE), "lzma", ""
    modes = {"tar": "w", "tar-gz": "w:gz", "tar-bz2": "w:bz2", "tar-xz": "w:xz", "tar-pax-longname": "w"}
    members = [(name, data) for name, data, _ in inner_members(rng, infected, "stored", xml)]
    if mutation == "tar-pax-longname":
        members = [("/".join(["deeply-nested-folder-name"] * 8) + "/" + name, data) for name, data in members]
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), 1742800000
                archive.addfile(info, io.BytesIO(data))
        return out.getvalue(), "tar", ""
    return tar_bytes(members, modes[mutation]), "tar", ""


def clean_text_bytes(rng):
    return (words(rng, rng.randint(20, 200)) + "\n").encode()


ARCHIVE_MUTATIONS = {
    "zip-stored": True, "zip-deflate": True, "zip-bzip2": False, "zip-lzma": False,
    "zip-lie-sizes-zero": False, "zip-lie-sizes-small": False, "zip-lie-sizes-huge": False,
    "zip-lie-crc-wrong": False, "zip-lie-descriptor-flag": False, "zip-lie-name-differs": False,
    "zip-concat": False, "zip-after-junk": False, "zip-trailing-junk": False, "zip-duplicate-names": False,
    "nested": False, "gz": True, "gz-multi": False, "bz2": True, "xz": True, "lzma-alone": False,
    "tar": True, "tar-gz": True, "tar-bz2": True, "tar-xz": True,
    "zip-streamed": True, "zip64": True, "zip-bomb": False, "zip64-bomb": False, "gz-fields": True, "bz2-multi-stream": True, "xz-multi-stream": True, "tar-pax-longname": True,
    # the member that carries EICAR is a declaration (EICAR as its base64 attachment)
    "zip-deflate+xml": True, "zip-stored+xml": True, "zip-lzma+xml": False, "zip-streamed+xml": True,
    "tar-gz+xml": True, "tar+xml": True, "gz+xml": True, "bz2+xml": True, "xz+xml": True,
}


def archive(rng, infected):
    """Kind 2: an archive as a file, as a declaration's base64 attachment, or as a mail attachment."""
    from hostile_mime import mail_with_attachment  # a cycle otherwise
    mutation = rng.choice(sorted(m for m in ARCHIVE_MUTATIONS if "bomb" not in m))
    if rng.random() < 0.01:  # a bomb costs seconds to scan: about one archive sample in a hundred
        mutation = rng.choice(["zip-bomb", "zip64-bomb"])
    data, ext, detail = _archive(rng, infected, mutation)
    damage = rng.choice(["truncated", "flipped"]) if rng.random() < 0.15 else ""
    if damage == "truncated":  # cut somewhere in its last 40%: a download broken off
        data = data[:rng.randint(len(data) * 6 // 10, len(data) - 1)]
    elif damage == "flipped":  # a few bytes changed past the magic
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(4, len(damaged))] ^= 1 << rng.randrange(8)
        data = bytes(damaged)
    wrapper = rng.choice(["file", "file", "xml", "mime"])
    valid = not damage and (ARCHIVE_MUTATIONS[mutation] or (mutation == "nested" and all(
        k in ("zip-deflate", "zip-stored", "gz", "tar", "tgz", "bz2", "xz") for k in detail.split("/"))))
    mutation += "~" + damage if damage else ""
    if wrapper == "xml":
        data, ext = xml_bytes(declaration(rng, data, "application/octet-stream", "archive." + ext)), "xml"
    elif wrapper == "mime":
        data, ext = mail_with_attachment(rng, data, "application/octet-stream", "archive." + ext), "eml"
    return Sample("archive", mutation, data, infected, ext, "%s %s" % (wrapper, detail), expect_clean=valid)


# --- kind 1: HTTP Content-Encoding -------------------------------------------------------------

def _tool(name, args, data):
    """br and zstd through their command-line tools, when installed (no such module in the
    standard library); None when not."""
    if shutil.which(name) is None:
        return None
    return subprocess.run([name] + args, input=data, capture_output=True, check=True).stdout


def bomb(data, wbits, rng):
    """`data` followed by 101-300 MB of zeros, compressed a chunk at a time (a decoding bomb: over
    Kordon's 100 MB limit once decoded, 0.1-0.3 MB on the wire)."""
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    out = [c.compress(data)]
    zeros = bytes(1 << 20)
    for _ in range(rng.randint(101, 300)):
        out.append(c.compress(zeros))
    out.append(c.flush())
    return b"".join(out)


def raw_deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


ENCODINGS = {  # mutation -> (Content-Encoding value, encoder, a clean control must pass)
    "gzip": ("gzip", lambda d: gzip.compress(d, mtime=0), True),
    "x-gzip": ("x-gzip", lambda d: gzip.compress(d, mtime=0), True),
    "gzip-upper": ("GZIP", lambda d: gzip.compress(d, mtime=0), True),
    "deflate-zlib": ("deflate", zlib.compress, True),
    "deflate-raw": ("deflate", raw_deflate, True),
    "br": ("br", lambda d: _tool("brotli", ["-c"], d), True),
    "zstd": ("zstd", lambda d: _tool("zstd", ["-q", "-c"], d), True),
    "gzip-gzip": ("gzip, gzip", lambda d: gzip.compress(gzip.compress(d, mtime=0), mtime=0), True),
    "deflate-gzip": ("deflate, gzip", lambda d: gzip.compress(zlib.compress(d), mtime=0), True),
    "gzip-multi-member": ("gzip", lambda d: gzip.compress(d[:len(d) // 2], mtime=0) + gzip.compress(d[len(d) // 2:], mtime=0), True),
    "gzip-trailing-junk": ("gzip", lambda d: gzip.compress(d, mtime=0) + b"\x00junk\xff" * 3, False),
    "gzip-truncated": ("gzip", lambda d: gzip.compress(d, mtime=0)[:-6], False),
    "unknown-gzip-body": ("x-custom", lambda d: gzip.compress(d, mtime=0), False),
    "compress-label": ("compress", zlib.compress, False),
    "identity": ("identity", lambda d: d, True),
    "gzip-whitespace": (" gzip ", lambda d: gzip.compress(d, mtime=0), True),
    "gzip-chunked": ("gzip", lambda d: gzip.compress(d, mtime=0), True),  # sent Transfer-Encoding: chunked
    # a transfer coding besides chunked, no Content-Encoding: Transfer-Encoding: gzip, chunked
    "te-gzip": (None, lambda d: gzip.compress(d, mtime=0), True), "te-deflate": (None, zlib.compress, True),
    "te-br": (None, lambda d: _tool("brotli", ["-c"], d), True),
    "gzip-bomb": ("gzip", None, False), "deflate-bomb": ("deflate", None, False),
}


def encoding(rng, infected):
    """Kind 1: a message under a Content-Encoding, POSTed to /v1/filter or sent in an ICAP RESPMOD."""
    mutation = rng.choice(sorted(m for m in ENCODINGS if "bomb" not in m))
    if rng.random() < 0.02:  # a decoding bomb: seconds a sample, so a few in a hundred
        mutation = rng.choice(["gzip-bomb", "deflate-bomb"])
    label, encode, valid = ENCODINGS[mutation]
    inner = rng.choice(["xml", "text", "zip", "form"])
    if inner == "form":  # an upload: multipart/form-data carrying the declaration
        from hostile_mime import form_data
        boundary = b"----form%016x" % rng.getrandbits(64)
        doc = xml_bytes(declaration(rng, payload(rng, infected)) if infected else clean_declaration(rng))
        body, media = form_data(rng, doc, boundary), "multipart/form-data; boundary=" + boundary.decode()
    elif inner == "xml":
        body = xml_bytes(declaration(rng, payload(rng, infected)) if infected else clean_declaration(rng))
        media = "application/xml"
    elif inner == "text":
        body, media = payload(rng, infected), "text/plain"
    else:
        body, media = zip_bytes(inner_members(rng, infected, "deflate")), "application/zip"
    encoded = bomb(body, 31 if mutation == "gzip-bomb" else 15, rng) if encode is None else encode(body)
    if encoded is None:  # the tool is not installed: send gzip so the sample still counts
        mutation, label, encoded = ("te-gzip", None) if mutation.startswith("te-") else ("gzip", "gzip")
        encoded = gzip.compress(body, mtime=0)
    transport = rng.choice(["http", "icap", "icap-reqmod"])
    headers = {"Content-Encoding": label, "Content-Type": media}
    if mutation == "gzip-chunked":
        transport = rng.choice(["http", "icap-reqmod"])
        headers["Transfer-Encoding"] = "chunked"
    elif mutation.startswith("te-"):
        headers = {"Content-Type": media, "Transfer-Encoding": "%s, chunked" % mutation[3:]}
    return Sample("encoding", mutation, encoded, infected, "body", "%s %s" % (transport, inner), transport,
                  headers, expect_clean=valid)
