#!/usr/bin/env python3
"""The floor under spool-vs-scan.py: what the spool's file-system steps alone cost on this disk.

Runs the spool's protocol for N messages with nothing else — no scan, no audit, no
quarantine — in 8 threads taking batches of 8, as `kordon serve` does:

  claim      lstat + rename inbox/NAME -> work/ID~NAME, then fsync work/ and inbox/ once a batch
  read       open, read, close
  deliver    write outbox/.kordon-ID.tmp for the whole batch, start every writeback
             (sync_file_range), fsync each, link it as outbox/NAME, fsync outbox/
  release    unlink work/ID~NAME, fsync work/, unlink the temporary

and reports the CPU the whole machine spent (this process, the kernel's writeback and
journal threads, interrupts): the part of a spool message that no code of Kordon's
can remove. Compare it with the scan's CPU per message (`kordon scan`'s user+sys time
over the same count) to know the best ratio spool-vs-scan.py can show on this disk.

Everything lives under $TMPDIR (`TMPDIR=/mnt/ext4 python3 ...` measures another file system).

Usage: python3 Benchmarks/spool-floor.py [--count 1000] [--size 25000] [--runs 3]
"""
import argparse, ctypes, os, shutil, tempfile, threading, time

libc = ctypes.CDLL(None, use_errno=True)
SYNC_FILE_RANGE_WRITE = 2


def cpu():
    """(busy, idle) clock ticks of the whole machine so far."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, idle


def run(base, count, size, threads=8, batch=8):
    for d in ("inbox", "work", "outbox", "stage"):
        shutil.rmtree(os.path.join(base, d), ignore_errors=True)
        os.makedirs(os.path.join(base, d))
    data = os.urandom(size)
    names = ["m%05d" % i for i in range(count)]
    for name in names:
        with open(os.path.join(base, "stage", name), "wb") as f:
            f.write(data)
        os.rename(os.path.join(base, "stage", name), os.path.join(base, "inbox", name))
    os.sync()
    inbox, work, outbox = (os.open(os.path.join(base, d), os.O_RDONLY | os.O_DIRECTORY) for d in ("inbox", "work", "outbox"))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                taken = names[:batch]
                del names[:batch]
            if not taken:
                return
            for name in taken:
                os.stat(name, dir_fd=inbox, follow_symlinks=False)
                os.rename(name, "c~" + name, src_dir_fd=inbox, dst_dir_fd=work)
            os.fsync(work)
            os.fsync(inbox)
            files = []
            for name in taken:
                fd = os.open("c~" + name, os.O_RDONLY, dir_fd=work)
                body = os.read(fd, 1 << 20)
                os.close(fd)
                out = os.open(".t-" + name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=outbox)
                os.write(out, body)
                files.append(out)
            for out in files:
                libc.sync_file_range(out, ctypes.c_longlong(0), ctypes.c_longlong(0), SYNC_FILE_RANGE_WRITE)
            for out in files:
                os.fsync(out)
                os.close(out)
            for name in taken:
                os.link(".t-" + name, name, src_dir_fd=outbox, dst_dir_fd=outbox)
            os.fsync(outbox)
            for name in taken:
                os.unlink("c~" + name, dir_fd=work)
            os.fsync(work)
            for name in taken:
                os.unlink(".t-" + name, dir_fd=outbox)

    busy0, idle0 = cpu()
    start = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    seconds = time.monotonic() - start
    busy1, idle1 = cpu()
    for fd in (inbox, work, outbox):
        os.close(fd)
    delivered = len(os.listdir(os.path.join(base, "outbox")))
    assert delivered == count, "%d delivered of %d" % (delivered, count)
    return seconds, (busy1 - busy0) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--size", type=int, default=25000, help="bytes a message (the 16 KB-attachment declarations are ~25 KB)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="kordon-spool-floor-")
    try:
        results = [run(base, args.count, args.size) for _ in range(args.runs)]
    finally:
        shutil.rmtree(base)
    seconds, busy = min(results, key=lambda r: r[1])
    print("%d messages of %d bytes, the spool's file-system steps alone, best of %d runs:" % (args.count, args.size, args.runs))
    print("  %.2f s wall, %.2f s of CPU on the whole machine = %.3f ms a message" % (seconds, busy, busy / args.count * 1000))


if __name__ == "__main__":
    main()
