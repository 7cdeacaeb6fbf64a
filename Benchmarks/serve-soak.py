#!/usr/bin/env python3
"""Issue 4's soak test: N HTTP and M ICAP clients at once for T seconds against `kordon serve`
while the engines reload, checking that every answer is the right one.

Each client keeps one connection open and sends, in turn, three messages:

  clean       fixtures/clean/declaration-attachments.xml
                HTTP  POST /v1/filter -> 200, the same bytes, Kordon-Verdict: clean
                ICAP  RESPMOD (Allow: 204) -> 204
  infected    the same with EICAR (built at run time) base64 in an attachment
                HTTP  -> 403, JSON report with a `virus` finding
                ICAP  -> 200 carrying an HTTP 403 block page, without the EICAR bytes
  restricted  fixtures/restricted/declaration-person-kz-ru.xml
                HTTP  -> 200, Kordon-Verdict: sanitized, the IIN gone
                ICAP  -> 200 carrying an HTTP 200 and the sanitized body, the IIN gone

Any other answer, a connection error or a timeout is an error; the run fails (exit 1) unless
there are none. `503` (busy) answers are counted apart and are errors too unless --busy-ok: the
configuration this script writes has a queue as long as the number of clients, so a correct
server never needs them.

Two ways to run:

  # start `kordon serve` with a configuration written here (HTTP and ICAP listeners on free
  # ports), SIGHUP it every --reload-every s
  python3 Benchmarks/serve-soak.py --kordon .build/release/kordon [--clients 200] [--icap-clients 200] [--duration 60]

  # against a server already running (any config); SIGHUP --pid, if given, every --reload-every s;
  # ICAP clients only with --icap HOST:PORT (plain TCP)
  python3 Benchmarks/serve-soak.py --url http://127.0.0.1:8080 [--icap 127.0.0.1:1344] [--pid PID]
                                   [--token-file F] [--cacert PEM]

`--url` works with any running server, including the in-process one of Tests/KordonServerTests
(SoakScriptTests runs 10 HTTP and 10 ICAP clients for 3 s that way).

Prints answers by protocol, kind and status, errors (with the first few explained), reloads
sent, and latency percentiles (p50, p90, p99, max) per protocol and kind.
"""
import argparse, base64, http.client, json, os, re, shutil, signal, ssl, subprocess, sys, tempfile, threading, time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import icap_client  # noqa: E402
IIN = b"791028302728"
# Assembled at run time so no scanner flags this file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS" + b"-TEST-FILE!$H+H*"


def messages():
    """The three messages, each with a check of its HTTP answer and one of its ICAP answer; a
    check returns None or what is wrong."""
    with open(os.path.join(ROOT, "fixtures/clean/declaration-attachments.xml"), "rb") as f:
        clean = f.read()
    with open(os.path.join(ROOT, "fixtures/restricted/declaration-person-kz-ru.xml"), "rb") as f:
        restricted = f.read()
    infected = re.sub(rb'(<Content mediaType="image/png">)[^<]*(</Content>)',
                      lambda m: m.group(1) + b"\n" + base64.b64encode(EICAR) + b"\n      " + m.group(2), clean)
    assert infected != clean

    def check_clean(status, headers, body):
        if status != 200: return f"status {status}"
        if headers.get("kordon-verdict") != "clean": return f"verdict {headers.get('kordon-verdict')}"
        if body != clean: return "body changed"

    def check_infected(status, headers, body):
        if status != 403: return f"status {status}"
        report = json.loads(body)
        if report.get("verdict") != "quarantined": return f"verdict {report.get('verdict')}"
        if not any(f.get("stage") == "virus" for f in report.get("findings", [])): return "no virus finding"

    def check_restricted(status, headers, body):
        if status != 200: return f"status {status}"
        if headers.get("kordon-verdict") != "sanitized": return f"verdict {headers.get('kordon-verdict')}"
        if not body or IIN in body: return "IIN still there" if body else "empty body"

    def icap_clean(answer):
        if answer.status != 204: return f"ICAP status {answer.status}"

    def icap_infected(answer):
        if answer.status != 200 or answer.http_status != 403: return f"ICAP {answer.status}, HTTP {answer.http_status}"
        if base64.b64encode(EICAR) in (answer.body or b""): return "the block page carries the infected content"

    def icap_restricted(answer):
        if answer.status != 200 or answer.http_status != 200: return f"ICAP {answer.status}, HTTP {answer.http_status}"
        if not answer.body or IIN in answer.body: return "IIN still there" if answer.body else "empty body"

    return [("clean", clean, check_clean, icap_clean), ("infected", infected, check_infected, icap_infected),
            ("restricted", restricted, check_restricted, icap_restricted)]


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}      # (kind, status) -> n
        self.latency = {}     # kind -> [seconds]
        self.errors = []      # (kind, what)
        self.busy = 0

    def add(self, kind, status, seconds, problem):
        with self.lock:
            self.counts[(kind, status)] = self.counts.get((kind, status), 0) + 1
            self.latency.setdefault(kind, []).append(seconds)
            if status == 503:
                self.busy += 1
            elif problem:
                self.errors.append((kind, problem))


def connect(url, cacert, timeout):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=cacert) if cacert else ssl.create_default_context()
        return http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout, context=context)
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)


def client(number, protocol, open_connection, ask, deadline, samples, results):
    """One client: sends the samples in turn over one connection until the deadline, and
    counts each answer under "PROTOCOL KIND". `open_connection()` opens the connection (again
    after a close or an error); `ask(connection, sample, turn)` sends one sample and returns
    (status, what is wrong or None, whether the server closes, seconds to pause)."""
    connection = None
    turn = number
    while time.monotonic() < deadline:
        sample = samples[turn % len(samples)]
        kind = f"{protocol} {sample[0]}"
        turn += 1
        started = time.monotonic()
        try:
            if connection is None: connection = open_connection()
            status, problem, closing, pause = ask(connection, sample, turn)
            results.add(kind, status, time.monotonic() - started, None if status == 503 else problem)
            if closing:
                connection.close(); connection = None
            time.sleep(pause)
        except Exception as error:  # a refused, reset or timed-out request is an error
            results.add(kind, "error", time.monotonic() - started, f"{type(error).__name__}: {error}")
            if connection: connection.close()
            connection = None
            time.sleep(0.05)
    if connection: connection.close()


def http_ask(number, url, token):
    """`ask` for client(): POST /v1/filter, checked by the sample's HTTP check."""
    path = urllib.parse.urlsplit(url).path.rstrip("/") + "/v1/filter"

    def ask(connection, sample, turn):
        _, body, check, _ = sample
        headers = {"Content-Type": "application/xml", "Kordon-Source": f"soak-{number}-{turn}"}
        if token: headers["Authorization"] = f"Bearer {token}"
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        fields = {k.lower(): v for k, v in response.getheaders()}
        pause = float(fields.get("retry-after", "1")) / 10 if response.status == 503 else 0
        return (response.status, check(response.status, fields, answer),
                fields.get("connection", "").lower() == "close", pause)
    return ask


def icap_ask(host, service, token):
    """`ask` for client(): RESPMOD with Allow: 204, checked by the sample's ICAP check."""
    fields = [f"Authorization: Bearer {token}"] if token else []

    def ask(connection, sample, turn):
        _, body, _, check = sample
        answer = connection.exchange(icap_client.respmod(service, body, host, fields))
        busy = answer.status == 503
        return (answer.status, check(answer), busy or answer.fields.get("connection", "").lower() == "close",
                0.1 if busy else 0)
    return ask


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def wait_ready(url, token, cacert, process, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            connection = connect(url, cacert, 2)
            connection.request("GET", "/readyz", headers={"Authorization": f"Bearer {token}"} if token else {})
            if connection.getresponse().status == 200: return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def start_server(kordon, workdir, http_clients, icap_clients, signatures):
    """Starts `kordon serve` with HTTP and ICAP on free ports; returns (process, url, (host, icap port))."""
    for _ in range(10):
        port, icap = icap_client.free_port(), icap_client.free_port()
        config = os.path.join(workdir, "kordon.yaml")
        extra = f"  directories: [{signatures}]\n" if signatures else ""
        with open(config, "w") as f:
            f.write(f"signatures:\n  system: false\n{extra}"
                    f"rules:\n  pseudonymKeyFile: {workdir}/pseudonym.key\n"
                    f"state: {workdir}/state\n"
                    f"serve:\n  queue: {http_clients + icap_clients + 16}\n"
                    f"  http:\n    listen: 127.0.0.1:{port}\n"
                    # Every client connects from 127.0.0.1: the per-address bound must let them all in.
                    f"  icap:\n    listen: 127.0.0.1:{icap}\n    maxConnections: {icap_clients + 16}\n"
                    f"    maxConnectionsPerAddress: {icap_clients + 16}\n")
        log = open(os.path.join(workdir, "serve.log"), "ab")
        process = subprocess.Popen([kordon, "serve", "--config", config], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        if wait_ready(url, None, None, process, 120): return process, url, ("127.0.0.1", icap)
        process.terminate(); process.wait()
    sys.exit(f"kordon serve did not become ready; see {workdir}/serve.log")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="an already-running server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--kordon", help="start this kordon binary with `serve` and a config written here")
    ap.add_argument("--signatures", help="with --kordon: an extra signature directory (e.g. /var/lib/clamav)")
    ap.add_argument("--pid", type=int, help="with --url: the server's pid, sent SIGHUP every --reload-every s")
    ap.add_argument("--clients", type=int, default=200, help="HTTP clients (default 200)")
    ap.add_argument("--icap-clients", type=int, help="ICAP clients (default: as many as --clients with --kordon "
                    "or --icap, else none)")
    ap.add_argument("--icap", help="with --url: the server's ICAP listener, HOST:PORT")
    ap.add_argument("--icap-service", default="kordon", help="the ICAP service name (default kordon)")
    ap.add_argument("--duration", type=float, default=60, help="seconds (default 60)")
    ap.add_argument("--reload-every", type=float, default=5, help="seconds between SIGHUPs (0: none)")
    ap.add_argument("--token-file", help="bearer token file of the server")
    ap.add_argument("--cacert", help="PEM certificate to trust for an https:// --url")
    ap.add_argument("--timeout", type=float, default=60, help="seconds one request may take")
    ap.add_argument("--busy-ok", action="store_true", help="do not count 503 (busy) answers as errors")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (config, state, serve.log)")
    args = ap.parse_args()
    if bool(args.url) == bool(args.kordon):
        ap.error("give exactly one of --url and --kordon")
    token = open(args.token_file).read().strip() if args.token_file else None
    samples = messages()
    if args.icap and args.kordon:
        ap.error("--icap goes with --url; with --kordon the script picks the port")
    icap_clients = args.icap_clients if args.icap_clients is not None else (args.clients if args.kordon or args.icap else 0)
    workdir, process, url, target = None, None, args.url, args.pid
    icap = None
    if args.icap:
        host, _, port = args.icap.rpartition(":")
        icap = (host.strip("[]") or "127.0.0.1", int(port))
    if icap_clients and not (args.kordon or icap):
        ap.error("ICAP clients need --icap HOST:PORT with --url")
    if args.kordon:
        workdir = tempfile.mkdtemp(prefix="kordon-soak-")
        process, url, icap = start_server(os.path.abspath(args.kordon), workdir, args.clients, icap_clients,
                                          args.signatures)
        target = process.pid
    elif not wait_ready(url, token, args.cacert, None, 30):
        sys.exit(f"{url}/readyz did not answer 200")

    results = Results()
    deadline = time.monotonic() + args.duration
    threads = [threading.Thread(target=client, daemon=True, args=(
                   n, "http", lambda: connect(url, args.cacert, args.timeout), http_ask(n, url, token),
                   deadline, samples, results))
               for n in range(args.clients)]
    threads += [threading.Thread(target=client, daemon=True, args=(
                    n, "icap", lambda: icap_client.Connection(*icap, args.timeout),
                    icap_ask(icap[0], args.icap_service, token), deadline, samples, results))
                for n in range(icap_clients)]
    started = time.monotonic()
    for thread in threads: thread.start()
    reloads = 0
    while time.monotonic() < deadline:
        time.sleep(min(args.reload_every or args.duration, max(0, deadline - time.monotonic())))
        if target and args.reload_every and time.monotonic() < deadline:
            os.kill(target, signal.SIGHUP); reloads += 1
    for thread in threads: thread.join(args.timeout + 5)
    elapsed = time.monotonic() - started
    server_died = process is not None and process.poll() is not None
    if process is not None:
        process.send_signal(signal.SIGTERM)
        try: process.wait(60)
        except subprocess.TimeoutExpired: process.kill()

    total = sum(results.counts.values())
    print(f"clients {args.clients} HTTP + {icap_clients} ICAP, {elapsed:.1f} s, {total} answers ({total / elapsed:.0f}/s), {reloads} reloads (SIGHUP)")
    for (kind, status), n in sorted(results.counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"  {kind:<16} {status!s:>5}: {n}")
    for kind, values in sorted(results.latency.items()):
        ms = [v * 1000 for v in values]
        print(f"  latency {kind:<16} p50 {percentile(ms, .5):7.1f} ms  p90 {percentile(ms, .9):7.1f} ms  "
              f"p99 {percentile(ms, .99):7.1f} ms  max {max(ms):7.1f} ms")
    errors = len(results.errors) + (0 if args.busy_ok else results.busy) + (1 if server_died else 0)
    print(f"busy (503): {results.busy}{' (allowed)' if args.busy_ok else ''}")
    print(f"errors: {errors}")
    for kind, problem in results.errors[:10]:
        print(f"  {kind}: {problem}")
    if server_died: print("  kordon serve exited during the run")
    if workdir:
        if args.keep or errors: print(f"work directory: {workdir}")
        else: shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
