"""A throwaway redis-server for tests and demos.

It listens on a free loopback port (the lock of pgcluster's port picker keeps concurrent runs
apart, and the port stays held, so a test may kill the server and start it again on the same
port), keeps nothing on disk, and may require a password (written to its config file, not its
command line). stop() and destroy() are safe to call on failure paths and more than once.
A tiny RESP client (command()) lets tests look into the server without a Python Redis package.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from pgcluster import _free_port

REDIS_SERVER = os.environ.get("SLUICE_REDIS_SERVER", "/usr/bin/redis-server")


class RedisError(Exception):
    pass


class RedisServer:
    def __init__(self, password=None):
        self.root = tempfile.mkdtemp(prefix="sluice-redis-")
        self.port, self._lock = _free_port()
        self.host = "127.0.0.1"
        self.password = password
        self.proc = None
        self.log = os.path.join(self.root, "redis.log")

    def url(self, password=None, user=None, db=0):
        auth = ""
        if password is not None:
            auth = f"{user or ''}:{password}@"
        return f"redis://{auth}{self.host}:{self.port}/{db}"

    def _config(self):
        path = os.path.join(self.root, "redis.conf")
        with open(path, "w") as f:
            f.write(f"port {self.port}\nbind {self.host}\nsave \"\"\nappendonly no\n"
                    f"dir {self.root}\nlogfile {self.log}\nmaxmemory-policy noeviction\n")
            if self.password:
                f.write(f"requirepass {self.password}\n")
        os.chmod(path, 0o600)
        return path

    def start(self, timeout=20):
        self.proc = subprocess.Popen([REDIS_SERVER, self._config()], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.command("PING") == "PONG":
                    return self
            except (OSError, RedisError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}; "
                                   f"log: {self.log}")
            time.sleep(0.05)

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        """Kills the server (no shutdown courtesy: this is also 'Redis died')."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self._lock:
            self._lock.close()
            self._lock = None

    # -- a minimal RESP client ---------------------------------------------
    def command(self, *args, timeout=5):
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            f = s.makefile("rb")
            if self.password:
                s.sendall(_encode(["AUTH", self.password]))
                _read(f)
            s.sendall(_encode(list(args)))
            return _read(f)


def _encode(args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(f"${len(b)}\r\n".encode() + b + b"\r\n")
    return b"".join(out)


def _read(f):
    line = f.readline()
    if not line:
        raise RedisError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise RedisError(f"unexpected reply {line!r}")
