"""The oracle: what a receiver's ordinary tools recover from a message, independent of Kordon.

Python's zipfile (and a walk of the local headers, as unzip does when the directory lies),
tarfile, gzip/zlib (wbits 31, 15, -15), lzma, bz2, email (walk + get_payload(decode=True)),
lenient base64 (standard and URL-safe) on every run and text segment that looks like base64,
binascii.a2b_uu on uuencoded blocks, xml.etree on the document (text, tails, attribute values,
namespace URIs, comments and PIs), br and zstd through their command-line tools for an HTTP
body that names them, each applied to what the others decode, up to a depth.
`recover(data, headers)` says whether EICAR comes out, and by which chain of decoders."""

import binascii
import bz2
import email
import email.policy
import hashlib
import io
import lzma
import re
import shutil
import struct
import subprocess
import tarfile
import warnings
import zipfile
import zlib
from xml.etree import ElementTree

from common import EICAR

warnings.filterwarnings("ignore")
# What a decoder may put out (a bomb's payload sits at its start) and the size past which text
# decoders are not run.
MAX_DEPTH, MAX_NODES, MAX_OUTPUT, TEXT_LIMIT = 8, 400, 16 << 20, 4 << 20
B64_RUN = re.compile(r"[A-Za-z0-9+/=]{16,}")
URLSAFE_RUN = re.compile(r"[A-Za-z0-9_=-]{16,}")
NOT_B64 = re.compile(r"[^A-Za-z0-9+/=]")
UU_BLOCK = re.compile(r"^begin [0-7]{3,4} [^\r\n]*[\r\n]+(.*?)^end\b", re.M | re.S)
HEADER_LINE = re.compile(rb"^(From |[!-9;-~]+[ \t]*:)")
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")  # what text has none of
FORM_START = re.compile(rb"^--([!-~]{1,70})\r?\n")


def inflate(data, wbits):
    """As much as a streaming decoder gets out (a truncated or trailing-junk stream still gives
    its first part), every gzip member when wbits is 31."""
    out, rest = bytearray(), data
    while rest and len(out) < MAX_OUTPUT:
        d = zlib.decompressobj(wbits)
        try:
            out += d.decompress(rest, MAX_OUTPUT)
        except zlib.error:
            break
        if wbits != 31 or not d.eof or not d.unused_data.startswith(b"\x1f\x8b"):
            break
        rest = d.unused_data
    return bytes(out)


def partial(make, data):
    """What a streaming decoder gets out, stream after stream (bzip2 and xz streams may follow
    one another), keeping what came before an error."""
    out, rest = bytearray(), data
    while rest and len(out) < MAX_OUTPUT:
        decompressor = make()
        try:
            out += decompressor.decompress(rest, MAX_OUTPUT)
        except (OSError, EOFError, lzma.LZMAError, ValueError):
            break
        if not decompressor.eof:
            break
        rest = decompressor.unused_data.lstrip(b"\x00")
    return bytes(out)


def _tool(name, data):
    if shutil.which(name) is None:
        return b""
    done = subprocess.run([name, "-d", "-c"], input=data, capture_output=True)
    return done.stdout


def content_encoding(data, label):
    """An HTTP body with its Content-Encoding undone (codings in reverse order)."""
    for coding in reversed([c.strip().lower() for c in label.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            data = inflate(data, 31)
        elif coding == "deflate":
            data = inflate(data, 15) or inflate(data, -15)
        elif coding == "br":
            data = _tool("brotli", data)
        elif coding == "zstd":
            data = _tool("zstd", data)
        elif coding != "identity":
            return b""
    return data


def zip_members(blob):
    """Members by the central directory (of every zip ending in `blob`, for concatenated zips)
    and by the local headers alone (sizes, CRCs and names that lie are no obstacle)."""
    found = []
    ends = [m.start() for m in re.finditer(rb"PK\x05\x06", blob)]
    for end in ends:
        for candidate in (blob[:end + 22 + struct.unpack_from("<H", blob, end + 20)[0]] if end + 22 <= len(blob) else blob, blob):
            try:
                with zipfile.ZipFile(io.BytesIO(candidate)) as archive:
                    for info in archive.infolist():
                        found.append(("zip:" + info.filename, _read_member(archive, info)))
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError, struct.error):
                pass
    for m in re.finditer(rb"PK\x03\x04", blob):
        at = m.start()
        if at + 30 > len(blob):
            break
        _, flags, method, _, _, _, csize, _, nlen, xlen = struct.unpack_from("<HHHHHIIIHH", blob, at + 4)
        start = at + 30 + nlen + xlen
        body = blob[start:]
        if method == 0:
            nxt = blob.find(b"PK\x03\x04", start)
            size = csize if 0 < csize <= len(body) else (nxt - start if nxt > 0 else len(body))
            found.append(("zip-local:stored", body[:size]))
        elif method == 8:
            found.append(("zip-local:deflate", inflate(body, -15)))
        elif method == 12:
            found.append(("zip-local:bzip2", partial(bz2.BZ2Decompressor, body)))
        elif method == 14 and len(body) > 4:
            props_size = struct.unpack_from("<H", body, 2)[0]
            props = body[4:4 + props_size]
            if len(props) == 5:
                try:
                    filters = [lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)]
                    found.append(("zip-local:lzma", partial(lambda: lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters), body[4 + props_size:])))
                except (lzma.LZMAError, ValueError):
                    pass
    return found


def _read_member(archive, info):
    out = bytearray()
    try:
        with archive.open(info) as f:
            while len(out) < MAX_OUTPUT:
                chunk = f.read(65536)
                if not chunk:
                    break
                out += chunk
    except Exception:  # a bad CRC is raised at the end: what was read is still what unzip writes
        pass
    return bytes(out)


def tar_members(blob):
    found = []
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as archive:
            for member in archive.getmembers():
                if member.isfile():
                    f = archive.extractfile(member)
                    found.append(("tar:" + member.name, f.read(MAX_OUTPUT) if f else b""))
    except (tarfile.TarError, OSError, EOFError, ValueError):
        pass
    return found


def mail_parts(blob):
    if FORM_START.match(blob):  # a multipart/form-data body: its first line names the boundary
        boundary = FORM_START.match(blob).group(1)
        blob = b'Content-Type: multipart/form-data; boundary="' + boundary + b'"\r\n\r\n' + blob
    elif not HEADER_LINE.match(blob):
        return []
    try:
        message = email.message_from_bytes(blob, policy=email.policy.compat32)
    except Exception:
        return []
    found = []
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        if isinstance(data, bytes) and data:
            found.append(("mail:part%d(%s)" % (index, part.get_content_type()), data))
    return found


def to_text(blob):
    """The blob as text, the way an XML parser or a text reader would take it."""
    for bom, codec in ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
                       (b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le")):
        if blob.startswith(bom):
            return blob[len(bom):].decode(codec, "replace"), codec
    for head, codec in ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                        (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"), (b"\x4c\x6f\xa7\x94", "cp037")):
        if blob.startswith(head):
            return blob.decode(codec, "replace"), codec
    return blob.decode("utf-8", "replace"), "utf-8"


def xml_strings(text):
    """Every string a parser hands over: text, tails, attribute values, namespace URIs, comments, PIs."""
    if "\x00" in text:  # not XML in any encoding this was read as (expat would take it from a str)
        return []
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(insert_comments=True, insert_pis=True))
        parser.feed(body)
        root = parser.close()
    except (ElementTree.ParseError, ValueError):
        return []
    strings = re.findall(r'xmlns(?::[\w.-]+)?\s*=\s*["\']([^"\']*)', body)  # ET drops unused declarations
    for node in root.iter():
        strings += [node.text or "", node.tail or ""]
        if isinstance(node.tag, str) and node.tag.startswith("{"):
            strings.append(node.tag[1:].split("}")[0])
        strings += list(node.attrib.values())
        marks = [c for c in node if not isinstance(c.tag, str)]
        if marks and len(marks) == len(node):  # text split by comments or PIs: a DOM reader's one value
            strings.append((node.text or "") + "".join(c.tail or "" for c in marks))
    return [s for s in strings if s.strip()]


def _b64(chars, urlsafe=False):
    """Lenient base64: each padded block alone, a dangling character dropped."""
    out = []
    if urlsafe:
        chars = chars.replace("-", "+").replace("_", "/")
    for block in re.findall(r"[^=]+=*", chars):
        core = block.rstrip("=")
        if len(core) % 4 == 1:
            core = core[:-1]
        if len(core) >= 12:
            try:
                out.append(binascii.a2b_base64(core + "=" * (-len(core) % 4)))
            except binascii.Error:
                pass
    return out


def base64_candidates(text, whole=False):
    """Decodings of every base64-looking run, and (for one string, or each paragraph of a text)
    of the string with everything outside the alphabet dropped, after a `base64,` label too."""
    found = []
    for match in B64_RUN.finditer(text):
        found += [("base64-run", d) for d in _b64(match.group())]
    for match in URLSAFE_RUN.finditer(text):
        if "-" in match.group() or "_" in match.group():
            found += [("base64url-run", d) for d in _b64(match.group(), True)]
    segments = [text] if whole else re.split(r"\n\s*\n|[<>\"'{}]", text)
    for segment in segments:
        for piece in {segment, segment.rsplit("base64,", 1)[-1], segment.rsplit(":", 1)[-1]}:
            squeezed = NOT_B64.sub("", piece)
            if len(squeezed) >= 16 and len(squeezed) >= 0.6 * len(piece.strip()):
                found += [("base64-lenient", d) for d in _b64(squeezed)]
            if "-" in piece or "_" in piece:
                squeezed = re.sub(r"[^A-Za-z0-9_=-]", "", piece)
                if len(squeezed) >= 16:
                    found += [("base64url-lenient", d) for d in _b64(squeezed, True)]
    return found


def uu_blocks(text):
    found = []
    for match in UU_BLOCK.finditer(text):
        out = bytearray()
        for line in match.group(1).splitlines():
            line = line.strip("\r")
            if not line or line in ("`",):
                continue
            try:
                out += binascii.a2b_uu(line)
            except (binascii.Error, ValueError):  # ValueError: not ASCII
                try:
                    out += binascii.a2b_uu(line[:((ord(line[0]) - 32) & 63) * 4 // 3 + 5])
                except (binascii.Error, ValueError, IndexError):
                    pass
        found.append(("uudecode", bytes(out)))
    return found


def children(blob, headers, depth):
    if depth == 0 and headers.get("Content-Encoding"):
        yield "content-encoding", content_encoding(blob, headers["Content-Encoding"])
    if depth == 0 and headers.get("Transfer-Encoding", "chunked") != "chunked":  # chunks are the transport's
        yield "transfer-encoding", content_encoding(blob, headers["Transfer-Encoding"].replace("chunked", ""))
    if blob.startswith(b"\x1f\x8b"):
        yield "gzip", inflate(blob, 31)
    if len(blob) > 2 and blob[0] & 0x0F == 8 and (blob[0] << 8 | blob[1]) % 31 == 0:
        yield "zlib", inflate(blob, 15)
    if len(blob) <= TEXT_LIMIT:
        yield "deflate-raw", inflate(blob, -15)
    if blob.startswith(b"BZh"):
        yield "bz2", partial(bz2.BZ2Decompressor, blob)
    if blob.startswith(b"\xfd7zXZ\x00") or blob[:1] == b"\x5d":
        yield "lzma", partial(lzma.LZMADecompressor, blob)
    if blob.startswith(b"\x28\xb5\x2f\xfd"):
        yield "zstd", _tool("zstd", blob)
    if b"PK\x03\x04" in blob or b"PK\x05\x06" in blob:
        yield from zip_members(blob)
    if blob[257:262] == b"ustar":
        yield from tar_members(blob)
    if len(blob) > TEXT_LIMIT:  # a bomb's output: containers only, no text decoders over megabytes of zeros
        return
    yield from mail_parts(blob)
    text, codec = to_text(blob)
    if len(CONTROL.findall(text, 0, 1 << 20)) > 0.1 * min(len(text), 1 << 20):
        return  # binary, not text: no reader base64-decodes or parses it as it stands
    if codec != "utf-8":
        yield "transcode:" + codec, text.encode("utf-8")
    if text.lstrip().startswith("<"):
        for s in xml_strings(text):
            yield from (("xml:" + label, d) for label, d in base64_candidates(s, whole=True))
    yield from base64_candidates(text)
    if "begin " in text:
        yield from uu_blocks(text)


def recover(data, headers=None):
    """(True, chain) when EICAR comes out of `data` through the decoders above, else (False, [])."""
    headers = headers or {}
    seen, queue, nodes = set(), [(data, 0, [])], 0
    while queue:
        blob, depth, chain = queue.pop(0)
        if EICAR in blob:
            return True, chain
        digest = hashlib.sha1(blob).digest()
        if digest in seen or depth >= MAX_DEPTH or nodes >= MAX_NODES:
            continue
        seen.add(digest)
        nodes += 1
        try:
            for label, child in children(blob, headers, depth):
                if child and len(child) >= 16 and child != blob:
                    if EICAR in child:
                        return True, chain + [label]
                    queue.append((child, depth + 1, chain + [label]))
        except Exception:  # a decoder tripped on hostile bytes: what it gave before still counts
            pass
    return False, []
