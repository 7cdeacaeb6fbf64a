"""A small ICAP client: the readiness probes (options_ok) of icap-vs-c-icap.py. The load itself is
driven by the compiled `KordonBench icap-load`; Connection and respmod() remain for ad-hoc use."""
import socket

HTTP_REQUEST = b"GET http://origin.test/declaration.xml HTTP/1.1\r\nHost: origin.test\r\n\r\n"


def respmod(service, body, host="127.0.0.1"):
    """A complete RESPMOD request: Allow: 204, no preview, the body as one chunk."""
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(body))
    head = (f"RESPMOD icap://{host}/{service} ICAP/1.0\r\nHost: {host}\r\nAllow: 204\r\n"
            f"Encapsulated: req-hdr=0, res-hdr={len(HTTP_REQUEST)}, res-body={len(HTTP_REQUEST) + len(response)}\r\n\r\n")
    return head.encode() + HTTP_REQUEST + response + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


class Connection:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
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
        """Sends one request; returns the ICAP status of its answer (body read and dropped)."""
        self.sock.sendall(request)
        while True:
            status_line = self._line()
            status = int(status_line.split(b" ")[1])
            encapsulated = b""
            while True:
                line = self._line()
                if not line:
                    break
                if line[:13].lower() == b"encapsulated:":
                    encapsulated = line[13:].strip()
            if status != 100:
                break
        entries = [e.strip().split(b"=") for e in encapsulated.split(b",")] if encapsulated else []
        if entries:
            self._take(int(entries[-1][1]))  # the HTTP header sections
            if entries[-1][0] in (b"res-body", b"req-body"):
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        while self._line():
                            pass
                        break
                    self._take(size + 2)
        return status

    def close(self):
        self.sock.close()


def options_ok(host, port, service):
    """Whether an OPTIONS request to the service is answered 200."""
    try:
        conn = Connection(host, port)
        try:
            conn.sock.settimeout(5)
            return conn.exchange(f"OPTIONS icap://{host}/{service} ICAP/1.0\r\nHost: {host}\r\n"
                                 f"Encapsulated: null-body=0\r\n\r\n".encode()) == 200
        finally:
            conn.close()
    except (OSError, ValueError, IndexError):
        return False
