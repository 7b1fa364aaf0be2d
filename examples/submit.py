#!/usr/bin/env python3
"""submit.py - hand a request to "dronex serve" from Python, standard library only.

It writes the request the way "dronex submit" does (man dronex, SERVE MODE),
so a scheduler in any language can do the same:

  1. a new id: UTC time to the microsecond, pid, a per-process counter,
     fixed width so ids sort in arrival order
     (20261202T013300.123456Z-0000012345-0001);
  2. DIR/tmp/ID created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600;
  3. the JSON written and fsync'd;
  4. renamed to DIR/requested/ID without overwriting an existing name
     (renameat2 RENAME_NOREPLACE; a fresh id on a collision);
  5. DIR/requested/ fsync'd;  then the id is printed.

With --wait it waits for DIR/complete/ID, prints the result, removes it and
exits as "dronex exec" would: 0 every drone ok, 1 some drone failed or was
skipped, 2 the request was refused; 4 when --wait-timeout passed (the
request is then aborted through DIR/aborting/ID).

  examples/submit.py --spool /var/spool/dronex -w 'web-[01-20]' -t 30 -- uptime
  examples/submit.py --spool DIR --wait --priority 5 -- df -h /
"""
import argparse
import ctypes
import errno
import json
import os
import sys
import time

AT_FDCWD = -100
RENAME_NOREPLACE = 1
_counter = 0


def new_id():
    """A request id: fixed width, sorts in arrival order, unique per process."""
    global _counter
    now = time.time_ns() // 1000
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1000000))
    rid = "%s.%06dZ-%010d-%04d" % (stamp, now % 1000000, os.getpid() % 10**10,
                                   _counter)
    _counter = (_counter + 1) % 10000
    return rid


def _rename_noreplace(src, dst):
    """rename(2) that never overwrites: renameat2(RENAME_NOREPLACE) if the
    C library has it, else a look first (ids are unique, so that is enough)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is not None:
        if fn(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst),
              RENAME_NOREPLACE) == 0:
            return
        e = ctypes.get_errno()
        if e not in (errno.EINVAL, errno.ENOSYS):
            raise OSError(e, os.strerror(e), dst)
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, "already exists", dst)
    os.rename(src, dst)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def submit(spool, request):
    """Writes request (a dict) into spool/requested/ atomically; returns its id."""
    data = json.dumps(request, separators=(",", ":")).encode()
    for _ in range(100):
        rid = new_id()
        tmp = os.path.join(spool, "tmp", rid)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         0o600)
        except FileExistsError:
            continue                      # another writer's id: take another
        try:
            os.fchmod(fd, 0o600)          # whatever the umask says
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            _rename_noreplace(tmp, os.path.join(spool, "requested", rid))
        except FileExistsError:
            os.unlink(tmp)
            continue                      # somebody has this id: take another
        except BaseException:
            os.unlink(tmp)
            raise
        _fsync_dir(os.path.join(spool, "requested"))
        return rid
    raise RuntimeError("no free request id in %s" % spool)


def wait(spool, rid, timeout=None, grace=5.0):
    """Waits for complete/ID (looking every 0.2 s), returns (document, timed_out)."""
    path = os.path.join(spool, "complete", rid)
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = False
    while not os.path.exists(path):
        if deadline is not None and time.monotonic() >= deadline:
            if timed_out:
                return None, True
            timed_out = True
            fd = os.open(os.path.join(spool, "aborting", rid),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            os.close(fd)
            deadline = time.monotonic() + grace
        time.sleep(0.2)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        doc = json.load(f)
    os.unlink(path)
    return doc, timed_out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spool", default=os.environ.get("DRONEX_SPOOL"))
    ap.add_argument("-w", "--drones", action="append", default=[])
    ap.add_argument("-x", "--exclude", action="append", default=[])
    ap.add_argument("-g", "--label", action="append", default=[])
    ap.add_argument("--shard")
    ap.add_argument("-t", "--timeout", type=float, help="per call, seconds")
    ap.add_argument("--deadline", type=float)
    ap.add_argument("--priority", type=int, default=0)
    ap.add_argument("--wait", action="store_true")
    ap.add_argument("--wait-timeout", type=float)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if not a.spool:
        ap.error("give --spool DIR or set DRONEX_SPOOL")
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command

    req = {"dronex_request": 1}
    sel = {}
    if a.drones:
        sel["drones"] = a.drones
    if a.exclude:
        sel["exclude"] = a.exclude
    if a.label:
        sel["labels"] = a.label
    if a.shard:
        sel["shard"] = a.shard
    if sel:
        req["selection"] = sel
    if cmd:
        req["calls"] = [" ".join(cmd)]
    opts = {}
    if a.timeout is not None:
        opts["timeout"] = a.timeout
    if a.deadline is not None:
        opts["deadline"] = a.deadline
    if opts:
        req["options"] = opts
    if a.priority:
        req["priority"] = a.priority

    rid = submit(a.spool, req)
    print(rid, flush=True)
    if not a.wait:
        return 0
    doc, timed_out = wait(a.spool, rid, a.wait_timeout)
    if doc is not None:
        json.dump(doc, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    if timed_out:
        print("submit.py: request %s timed out: aborted" % rid, file=sys.stderr)
        return 4
    if doc.get("refused"):
        print("submit.py: %s" % doc.get("error"), file=sys.stderr)
        return 2
    s = doc.get("summary", {})
    return 0 if s.get("failed", 1) == 0 and s.get("skipped", 1) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
