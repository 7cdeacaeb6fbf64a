"""A small ICAP client: the readiness probes (options_ok) of icap-vs-c-icap.py and the ICAP clients
of serve-soak.py, which check every answer. The benchmark's load itself is driven by the compiled
`KordonBench icap-load`."""
import socket

def free_port():
    """A TCP port nothing listens on at the moment, on loopback: where a server under test listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


HTTP_REQUEST = b"GET http://origin.test/declaration.xml HTTP/1.1\r\nHost: origin.test\r\n\r\n"


def respmod(service, body, host="127.0.0.1", fields=()):
    """A complete RESPMOD request: Allow: 204, no preview, the body as one chunk; `fields` are
    extra ICAP header lines (e.g. "Authorization: Bearer T")."""
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(body))
    extra = "".join(f"{field}\r\n" for field in fields)
    head = (f"RESPMOD icap://{host}/{service} ICAP/1.0\r\nHost: {host}\r\nAllow: 204\r\n{extra}"
            f"Encapsulated: req-hdr=0, res-hdr={len(HTTP_REQUEST)}, res-body={len(HTTP_REQUEST) + len(response)}\r\n\r\n")
    return head.encode() + HTTP_REQUEST + response + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


class Answer:
    """One ICAP answer: its status, its ICAP header fields (names in lower case), the
    encapsulated HTTP header block (b"" when none) and body (None when none)."""

    def __init__(self, status, fields, http_head, body):
        self.status, self.fields, self.http_head, self.body = status, fields, http_head, body

    @property
    def http_status(self):
        """The encapsulated HTTP response's status, or None."""
        parts = self.http_head.split(b" ", 2)
        return int(parts[1]) if self.http_head.startswith(b"HTTP/") and len(parts) > 1 else None


class Connection:
    def __init__(self, host, port, timeout=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def _line(self):
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 2]
                return line
            self._fill()

    def _take(self, count):
        while len(self.buffer) < count:
            self._fill()
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def exchange(self, request):
        """Sends one request; returns its final answer (after any 100 Continue) as an Answer."""
        self.sock.sendall(request)
        while True:
            status = int(self._line().split(b" ")[1])
            fields = {}
            while True:
                line = self._line()
                if not line:
                    break
                name, _, value = line.partition(b":")
                fields[name.strip().lower().decode()] = value.strip().decode("latin-1")
            if status != 100:
                break
        encapsulated = fields.get("encapsulated", "")
        entries = [(name.strip(), int(offset)) for name, offset in
                   (entry.split("=") for entry in encapsulated.split(","))] if encapsulated else []
        http_head, body = b"", None
        if entries:
            sections = self._take(entries[-1][1])  # every header section, up to the last entry's offset
            http_head = sections[entries[-2][1]:] if len(entries) > 1 else sections
            if entries[-1][0] in ("res-body", "req-body"):
                body = bytearray()
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        while self._line():
                            pass
                        break
                    body += self._take(size + 2)[:size]
                body = bytes(body)
        return Answer(status, fields, http_head, body)

    def close(self):
        self.sock.close()


def options_ok(host, port, service):
    """Whether an OPTIONS request to the service is answered 200."""
    try:
        conn = Connection(host, port)
        try:
            conn.sock.settimeout(5)
            return conn.exchange(f"OPTIONS icap://{host}/{service} ICAP/1.0\r\nHost: {host}\r\n"
                                 f"Encapsulated: null-body=0\r\n\r\n".encode()).status == 200
        finally:
            conn.close()
    except (OSError, ValueError, IndexError):
        return False
