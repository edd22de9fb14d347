"""Forked workers that run queries on a copy of a store and can be killed at a deadline.

Neither pyoxigraph nor rdflib can interrupt a running query, so :mod:`ifkg.sparql` runs a query
that has a time limit in a forked child: the child shares the store's memory copy-on-write, and
the parent kills it when the time is up. Forking is not free: the kernel copies the page tables
of the whole process (10-20 ms for a process holding a 1M-triple store, more when it is larger),
and the child's exit unmaps them again. So:

* By default each call forks a worker that answers one request and exits; the parent does not
  wait for that exit (the teardown runs beside the caller's next steps) and reaps it later.
* For a store that will not change any more, :func:`reuse` keeps forked workers alive between
  calls: a request then costs two pipe writes instead of a fork. A kept worker is a snapshot of
  the store at its fork, which is why this is opt-in: call :func:`release` before changing a
  store that :func:`reuse` was given. A worker killed at a deadline is replaced by a fresh fork
  on the next call; one whose memory grew by more than ``RETIRE_BYTES`` exits after answering
  rather than hold that memory while idle.

A request is any picklable object; ``handler(store, request)`` runs in the child and returns
``(meta, payload)``: a small picklable object and the bytes of the answer. An exception raised
by the handler comes back as status "E" with ``describe(exception)`` as its meta.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

MAX_KEPT_STORES = 4   # stores whose workers are kept; the first registered is dropped first
MAX_IDLE = 4          # idle workers kept per store (a server runs a few queries at once)
RETIRE_BYTES = 512 * 1024 * 1024

_REQUEST = struct.Struct("!Q")
_ANSWER = struct.Struct("!cQQ?")  # status (O: answer, E: error), meta length, payload length, retire

Handler = Callable[[Any, Any], tuple[Any, bytes]]
Describe = Callable[[BaseException], Any]


class WorkerGone(Exception):
    """The worker died (killed, out of memory) before it answered."""


class TimedOut(Exception):
    """The worker did not answer in time; it has been killed and reaped."""


_LOCK = threading.Lock()
_ZOMBIES: list[int] = []  # workers told to exit, not yet reaped


class Worker:
    """One forked child holding ``store``; answers requests over two pipes until closed."""

    def __init__(self, store: Any, handler: Handler, describe: Describe, *, keep: bool) -> None:
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                os.close(req_w)
                os.close(ans_r)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                if keep:
                    _detach({req_r, ans_w})
                _serve(store, handler, describe, req_r, ans_w, once=not keep)
            except BaseException:  # noqa: BLE001 — the parent sees the closed pipe
                code = 1
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(ans_w)
        self.pid, self._req, self._ans = pid, req_w, ans_r

    def call(self, request: Any, timeout: float | None) -> tuple[str, Any, bytes, bool]:
        """Send ``request``: (status, meta, payload, retire). TimedOut kills the worker."""
        data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_all(self._req, _REQUEST.pack(len(data)) + data)
        except OSError:  # BrokenPipeError: it died while idle
            self.kill()
            raise WorkerGone from None
        deadline = None if timeout is None else time.monotonic() + timeout
        status, meta_len, payload_len, retire = _ANSWER.unpack(self._read(_ANSWER.size, deadline))
        meta = pickle.loads(self._read(meta_len, deadline))
        payload = self._read(payload_len, deadline)
        return status.decode(), meta, payload, retire

    def _read(self, n: int, deadline: float | None) -> bytes:
        parts: list[bytes] = []
        while n:
            if deadline is not None:
                self._wait(deadline)
            chunk = os.read(self._ans, min(n, 1 << 22))
            if not chunk:
                self.kill()
                raise WorkerGone
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)

    def _wait(self, deadline: float) -> None:
        poller = select.poll()
        poller.register(self._ans, select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise TimedOut
            if poller.poll(max(1, int(left * 1000))):
                return

    def close(self) -> None:
        """Let the worker exit (it sees the end of its request pipe); it is reaped later."""
        if self.pid:
            os.close(self._req)
            os.close(self._ans)
            with _LOCK:
                _ZOMBIES.append(self.pid)
            self.pid = 0

    def kill(self) -> None:
        """Kill the worker now and reap it."""
        if self.pid:
            pid, self.pid = self.pid, 0
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.close(self._req)
            os.close(self._ans)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _detach(keep: set[int]) -> None:
    """In a kept worker: close inherited pipes and sockets (a server's client connections, other
    workers' pipes), so that no peer waits on a descriptor this long-lived child holds open;
    stdin and stdout become /dev/null. Regular files stay open (an on-disk store needs them)."""
    fds = [int(n) for n in os.listdir("/proc/self/fd")] if os.path.isdir("/proc/self/fd") else []
    for fd in fds:
        if fd <= 2 or fd in keep:
            continue
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode):
            os.close(fd)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)


def _rss() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _serve(store: Any, handler: Handler, describe: Describe, req_fd: int, ans_fd: int, *,
           once: bool) -> None:
    """The worker's loop: read a request, answer it, until the parent closes the pipe (or
    after one answer when ``once``: a one-off worker must not wait for an end of file that
    another worker, forked meanwhile by another thread, could hold back)."""
    start = _rss()
    with os.fdopen(req_fd, "rb") as inp, os.fdopen(ans_fd, "wb") as out:
        while True:
            head = inp.read(_REQUEST.size)
            if len(head) < _REQUEST.size:
                return
            request = pickle.loads(inp.read(_REQUEST.unpack(head)[0]))
            try:
                meta, payload = handler(store, request)
                status = b"O"
            except BaseException as exc:  # noqa: BLE001 — everything goes back to the parent
                meta, payload, status = describe(exc), b"", b"E"
            blob = pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)
            retire = bool(start) and _rss() - start > RETIRE_BYTES
            out.write(_ANSWER.pack(status, len(blob), len(payload), retire))
            out.write(blob)
            out.write(payload)
            out.flush()
            if retire or once:
                return


# --------------------------------------------------------------------------------------------
# Kept workers per store, and the reaping of finished ones


class _Pool:
    def __init__(self, store: Any) -> None:
        self.store = store  # held, so that no other store can take its id while registered
        self.idle: list[Worker] = []


_POOLS: list[_Pool] = []


def reuse(store: Any) -> Any:
    """Keep forked workers for ``store`` between calls; ``store`` must not change any more
    (call :func:`release` first if it does). Returns ``store``."""
    with _LOCK:
        if any(p.store is store for p in _POOLS):
            return store
        _POOLS.append(_Pool(store))
        dropped = _POOLS[:-MAX_KEPT_STORES]
        del _POOLS[:-MAX_KEPT_STORES]
    for pool in dropped:
        _end(pool)
    return store


def release(store: Any = None) -> None:
    """End the kept workers of ``store`` (of every store when None); later calls fork again."""
    with _LOCK:
        gone = [p for p in _POOLS if store is None or p.store is store]
        _POOLS[:] = [p for p in _POOLS if p not in gone]
    for pool in gone:
        _end(pool)
    reap()


def is_reused(store: Any) -> bool:
    return any(p.store is store for p in _POOLS)


def _end(pool: _Pool) -> None:
    with _LOCK:
        idle, pool.idle = pool.idle, []
    for w in idle:
        w.close()  # an idle worker exits as soon as it sees the end of its request pipe


def reap() -> None:
    """Collect workers that have exited, without waiting for the others."""
    with _LOCK:
        for pid in list(_ZOMBIES):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                _ZOMBIES.remove(pid)


def call(store: Any, handler: Handler, request: Any, timeout: float | None,
         describe: Describe) -> tuple[str, Any, bytes]:
    """Run ``handler(store, request)`` in a worker: (status, meta, payload).

    Raises TimedOut (the worker was killed) or WorkerGone (it died without an answer).
    """
    reap()
    with _LOCK:
        pool = next((p for p in _POOLS if p.store is store), None)
    for attempt in (0, 1):
        worker = None
        if pool is not None:
            with _LOCK:
                worker = pool.idle.pop() if pool.idle else None
        fresh = worker is None
        if worker is None:
            worker = Worker(store, handler, describe, keep=pool is not None)
        try:
            status, meta, payload, retire = worker.call(request, timeout)
        except WorkerGone:
            if fresh or attempt:
                raise
            continue  # a kept worker that had died while idle: fork a new one
        with _LOCK:
            keep = (pool is not None and not retire and pool in _POOLS
                    and len(pool.idle) < MAX_IDLE)
            if keep:
                pool.idle.append(worker)
        if not keep:
            worker.close()
        return status, meta, payload
    raise WorkerGone  # not reached: the second attempt uses a fresh worker


atexit.register(release)
