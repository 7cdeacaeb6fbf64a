"""Kordon's side of the differential: verdicts from `kordon scan --format ndjson DIR` (one run
over every file sample) and from `kordon serve` over HTTP (POST /v1/filter) and ICAP (RESPMOD)
for the samples whose transport is a socket. Each verdict is a dict: verdict (clean, sanitized,
quarantined, refused, error, crash, hang), seconds (when measured one by one), format, rules."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
import icap_client  # noqa: E402


def write_config(workdir, http_port=None, icap_port=None):
    path = os.path.join(workdir, "kordon.yaml")
    with open(path, "w") as f:
        f.write(f"rules:\n  pseudonymKeyFile: {workdir}/pseudonym.key\nstate: {workdir}/state\n")
        if http_port:
            f.write(f"serve:\n  queue: 64\n  cache: {{entries: 0}}\n"
                    f"  spool:\n    root: {workdir}/spool\n    rescanSeconds: 1\n"
                    f"  http:\n    listen: 127.0.0.1:{http_port}\n  icap:\n    listen: 127.0.0.1:{icap_port}\n")
    return path


def from_report(report, seconds=None):
    return {"verdict": report.get("verdict", "error"), "seconds": seconds,
            "format": (report.get("message") or {}).get("format", "?"),
            "rules": sorted({"%s:%s" % (f.get("stage"), f.get("rule")) for f in report.get("findings", [])})}


def kill_group(process):
    """Ends a kordon started here and whatever it started (its own process group), so that no
    child keeps the pipes open."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def filter_one(kordon, config, path, bound):
    """One sample through `kordon filter` (to find which one crashed or hung a batch)."""
    report_path = path + ".report.json"
    start = time.monotonic()
    process = subprocess.Popen([kordon, "filter", "--config", config, "--report", report_path, path],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=bound)
    except subprocess.TimeoutExpired:
        kill_group(process)
        return {"verdict": "hang", "seconds": bound, "format": "?", "rules": []}
    done = subprocess.CompletedProcess(process.args, process.returncode, None, stderr)
    seconds = time.monotonic() - start
    try:
        with open(report_path) as f:
            report = json.load(f)
        os.unlink(report_path)
    except (OSError, ValueError):
        report = None
    if done.returncode not in (0, 1) or report is None:
        kind = "crash" if done.returncode < 0 or done.returncode > 2 else "error"
        return {"verdict": kind, "seconds": seconds, "format": "?",
                "rules": ["exit %d: %s" % (done.returncode, done.stderr.decode(errors="replace")[-200:])]}
    return from_report(report, seconds)


class ScanRun:
    """`kordon scan --format ndjson DIR` in the background; `results()` waits for it."""

    def __init__(self, kordon, config, directory, count, hang_seconds, jobs=None):
        self.kordon, self.config, self.directory, self.hang = kordon, config, directory, hang_seconds
        self.bound = 30 + count * 0.25 + hang_seconds
        command = [kordon, "scan", "--config", config, "--format", "ndjson"]
        if jobs:
            command += ["--jobs", str(jobs)]
        self.started = time.monotonic()
        self.process = subprocess.Popen(command + [directory], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True)

    def results(self, names):
        try:
            out, err = self.process.communicate(timeout=max(1, self.bound - (time.monotonic() - self.started)))
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(self.process)
            out, err = self.process.communicate()
            timed_out = True
        self.seconds = time.monotonic() - self.started
        self.returncode = self.process.returncode
        verdicts = {}
        for line in out.splitlines():
            try:
                report = json.loads(line)
            except ValueError:
                continue
            verdicts[os.path.basename(report["message"]["source"])] = from_report(report)
        self.stderr_tail = err.decode(errors="replace")[-400:]
        missing = [n for n in names if n not in verdicts]
        for name in missing:  # crashed or hung the batch, or was never reported: one by one
            verdicts[name] = filter_one(self.kordon, self.config, os.path.join(self.directory, name), self.hang)
        self.batch_problem = "timed out after %.0f s" % self.seconds if timed_out else (
            "exit %d" % self.returncode if self.returncode not in (0, 1) else "")
        return verdicts


class Server:
    """`kordon serve` with HTTP and ICAP on free loopback ports."""

    def __init__(self, kordon, workdir):
        self.workdir = workdir
        self.http_port, self.icap_port = icap_client.free_port(), icap_client.free_port()
        self.config = write_config(workdir, self.http_port, self.icap_port)
        self.log = open(os.path.join(workdir, "serve.log"), "ab")
        self.process = subprocess.Popen([kordon, "serve", "--config", self.config], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("kordon serve did not become ready (see %s/serve.log)" % workdir)

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def ask(self, sample, bound):
        start = time.monotonic()
        try:
            result = self._http(sample, bound) if sample.transport == "http" else self._icap(sample, bound)
        except socket.timeout:
            result = {"verdict": "hang", "format": "?", "rules": []}
        except (OSError, ValueError, IndexError, http.client.HTTPException) as error:
            result = {"verdict": "crash" if not self.alive() else "error", "format": "?", "rules": [repr(error)[:120]]}
        result["seconds"] = time.monotonic() - start
        return result

    def _http(self, sample, bound):
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=bound)
        headers = dict(sample.headers, Accept="application/json")
        if "chunked" in headers.get("Transfer-Encoding", ""):  # http.client writes the chunks
            if headers["Transfer-Encoding"] == "chunked":
                del headers["Transfer-Encoding"]
            pieces = [sample.data[i:i + 1000] for i in range(0, len(sample.data), 1000)]
            c.request("POST", "/v1/filter", body=iter(pieces), headers=headers, encode_chunked=True)
        else:
            c.request("POST", "/v1/filter", body=sample.data, headers=headers)
        answer = c.getresponse()
        body = answer.read()
        c.close()
        if answer.status in (200, 403):
            try:
                return from_report(json.loads(body))
            except ValueError:
                verdict = answer.getheader("Kordon-Verdict") or ("quarantined" if answer.status == 403 else "clean")
                return {"verdict": verdict, "format": "?", "rules": []}
        kind = "error" if answer.status >= 500 and answer.status != 503 else "refused"
        return {"verdict": kind, "format": "?", "rules": ["HTTP %d" % answer.status]}

    def _icap(self, sample, bound):
        """RESPMOD (a download: the sample is the response body) or REQMOD (an upload: a POST)."""
        coding = sample.headers.get("Transfer-Encoding")  # "chunked", or "gzip, chunked": ICAP chunks it anyway
        fields = "".join("%s: %s\r\n" % item for item in sample.headers.items() if item[0] != "Transfer-Encoding")
        length = "Transfer-Encoding: %s\r\n" % coding if coding else "Content-Length: %d\r\n" % len(sample.data)
        if sample.transport == "icap-reqmod":
            request_head = ("POST http://origin.test/upload HTTP/1.1\r\nHost: origin.test\r\n%s%s\r\n" % (fields, length)).encode()
            head = ("REQMOD icap://127.0.0.1/kordon ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n"
                    "Encapsulated: req-hdr=0, req-body=%d\r\n\r\n" % len(request_head))
            response = b""
        else:
            response = ("HTTP/1.1 200 OK\r\n%s%s\r\n" % (fields, length)).encode()
            request_head = icap_client.HTTP_REQUEST
            head = ("RESPMOD icap://127.0.0.1/kordon ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n"
                    "Encapsulated: req-hdr=0, res-hdr=%d, res-body=%d\r\n\r\n" % (len(request_head), len(request_head) + len(response)))
        body = b"%x\r\n" % len(sample.data) + sample.data + b"\r\n0\r\n\r\n" if sample.data else b"0\r\n\r\n"
        connection = icap_client.Connection("127.0.0.1", self.icap_port, timeout=bound)
        try:
            answer = connection.exchange(head.encode() + request_head + response + body)
        finally:
            connection.close()
        if answer.status == 204:
            return {"verdict": "clean", "format": "?", "rules": ["ICAP 204"]}
        if answer.status == 200:
            status = answer.http_status or _request_line_status(answer.http_head)
            if status == 403:
                return {"verdict": "quarantined", "format": "?", "rules": ["ICAP 200/HTTP 403"]}
            return {"verdict": "sanitized", "format": "?", "rules": ["ICAP 200/HTTP %s" % status]}
        return {"verdict": "refused" if answer.status < 500 else "error", "format": "?", "rules": ["ICAP %d" % answer.status]}


def spool_verdicts(server, samples, bound):
    """Drops the samples into the spool's inbox/ (written under .tmp, then renamed) and waits until
    each has left inbox/ and work/: delivered to outbox/ (passed: clean, or sanitized when changed)
    or not (held in the quarantine store)."""
    root = os.path.join(server.workdir, "spool")
    inbox, outbox, work = (os.path.join(root, d) for d in ("inbox", "outbox", "work"))
    for s in samples:
        partial = os.path.join(inbox, s.name + ".tmp")
        with open(partial, "wb") as f:
            f.write(s.data)
        os.rename(partial, os.path.join(inbox, s.name))
    names = {s.name for s in samples}
    deadline = time.monotonic() + 30 + 0.5 * len(samples) + bound
    settled = 0
    while time.monotonic() < deadline and settled < 3:  # a claimed file is renamed in work/: wait for it to empty
        pending = names & set(os.listdir(inbox))
        busy = [f for _, _, files in os.walk(work) for f in files if not f.startswith(".")]
        settled = settled + 1 if not pending and not busy else 0
        time.sleep(0.3)
    if settled < 3:
        pending = names - set(os.listdir(outbox))
    delivered = {}
    for name in os.listdir(outbox):
        base = next((n for n in names if name == n or name.startswith(n + ".")), None)
        if base:
            with open(os.path.join(outbox, name), "rb") as f:
                delivered[base] = f.read()
    verdicts = {}
    for s in samples:
        if settled < 3 and s.name in pending:
            verdicts[s.name] = {"verdict": "hang", "format": "?", "rules": ["still in the spool"]}
        elif s.name in delivered:
            verdicts[s.name] = {"verdict": "clean" if delivered[s.name] == s.data else "sanitized", "format": "?", "rules": ["outbox"]}
        else:
            verdicts[s.name] = {"verdict": "quarantined", "format": "?", "rules": ["not delivered"]}
    return verdicts


def _request_line_status(head):
    """A REQMOD answer that blocks carries an HTTP response; one that passes a modified request, a request line."""
    return "request" if head[:8] != b"HTTP/1.1" else None


def serve_verdicts(kordon, workdir, samples, bound, threads=4):
    """Verdicts for the socket samples; {} and a reason when the server cannot start."""
    if not samples:
        return {}, ""
    try:
        server = Server(kordon, workdir)
    except (RuntimeError, OSError) as error:
        return {}, str(error)
    try:
        spooled = [s for s in samples if s.transport == "spool"]
        asked = [s for s in samples if s.transport != "spool"]
        with ThreadPoolExecutor(threads) as pool:
            answers = list(pool.map(lambda s: server.ask(s, bound), asked))
        verdicts = {s.name: a for s, a in zip(asked, answers)}
        verdicts.update(spool_verdicts(server, spooled, bound) if spooled else {})
        note = "" if server.alive() else "kordon serve died during the run"
    finally:
        server.stop()
    return verdicts, note
