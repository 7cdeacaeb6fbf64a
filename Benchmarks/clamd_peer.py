"""clamd as a benchmark peer: a private clamd on a Unix socket, loaded with the same
signature files as Kordon (signatures/ without its README), started and waited for."""
import os, shutil, socket, subprocess, sys, time


def start_clamd(work, signatures, max_threads, extra=""):
    """Starts clamd with its database, socket, config and log under `work`; returns
    (process, socket path, config path) once it answers PING. `extra`: more config lines."""
    db = os.path.join(work, "clamd-db")
    os.makedirs(db)
    for name in os.listdir(signatures):
        if not name.endswith(".md"):
            shutil.copy(os.path.join(signatures, name), db)
    sock = os.path.join(work, "clamd.sock")
    conf = os.path.join(work, "clamd.conf")
    with open(conf, "w") as f:
        f.write(f"LocalSocket {sock}\nDatabaseDirectory {db}\nForeground yes\nLogFile {work}/clamd.log\n"
                f"PidFile {work}/clamd.pid\nMaxThreads {max_threads}\nStreamMaxLength 200M\nUser root\n"
                f"TemporaryDirectory {work}\n{extra}")
    proc = subprocess.Popen(["clamd", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
                s.sendall(b"zPING\0")
                if s.recv(16).startswith(b"PONG"):
                    return proc, sock, conf
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"clamd did not start; see {work}/clamd.log")
