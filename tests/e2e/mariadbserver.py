"""A throwaway MariaDB server for tests and demos, started the way pgcluster starts PostgreSQL.

mariadb-install-db creates a data directory in a temp dir (no system tables of the machine are
touched, --no-defaults keeps /etc/mysql out of it); mariadbd listens on a free loopback port
(pgcluster's port lock keeps concurrent runs apart) and on a private Unix socket, with the
binary log on (a backup records its position) and server id 1. root gets a password, so tests
exercise real authentication; it is written only to option files (mode 0600), never to a
command line:
  - client_cnf: a `[client]` option file for the mariadb/mysqldump clients (--defaults-file);
  - home: a directory holding .my.cnf with the same `[client]` section, for programs that read
    ~/.my.cnf (sluice does, as the mysql client does): run them with HOME=server.home.
sql() runs statements with the real mariadb client. stop() and destroy() are safe to call on
failure paths and more than once.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from pgcluster import _free_port

MARIADB_BINDIR = os.environ.get("SLUICE_MARIADB_BINDIR", "/usr/bin")
MARIADBD = os.environ.get("SLUICE_MARIADBD", "/usr/sbin/mariadbd")
ROOT_PASSWORD = "sluice-root-pw"


def _run_as_root():
    return os.geteuid() == 0


class MariaDbServer:
    def __init__(self, binlog=True, settings=None):
        self.root = tempfile.mkdtemp(prefix="sluice-mariadb-")
        os.chmod(self.root, 0o755)
        self.datadir = os.path.join(self.root, "data")
        self.sockdir = os.path.join(self.root, "run")
        self.socket = os.path.join(self.sockdir, "mysqld.sock")
        self.home = os.path.join(self.root, "home")
        self.client_cnf = os.path.join(self.root, "client.cnf")
        self.log = os.path.join(self.root, "error.log")
        self.port, self._lock = _free_port()
        self.host = "127.0.0.1"
        self.user = "root"
        self.password = ROOT_PASSWORD
        self.binlog = binlog
        self.settings = dict(settings or {})
        self.proc = None
        self._installed = False

    # ---- life cycle ----

    def _install(self):
        os.makedirs(self.sockdir, exist_ok=True)
        os.makedirs(self.home, exist_ok=True)
        cmd = [os.path.join(MARIADB_BINDIR, "mariadb-install-db"), "--no-defaults",
               f"--datadir={self.datadir}", "--auth-root-authentication-method=normal",
               "--skip-test-db"]
        if _run_as_root():
            cmd.append("--user=root")
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {out.stdout}{out.stderr}")
        self._installed = True

    def _server_args(self):
        args = [MARIADBD, "--no-defaults", f"--datadir={self.datadir}",
                f"--socket={self.socket}", f"--port={self.port}",
                f"--bind-address={self.host}", f"--pid-file={self.root}/mariadbd.pid",
                f"--log-error={self.log}", "--skip-name-resolve", "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=64M", "--max-allowed-packet=64M",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"]
        if self.binlog:
            args += [f"--log-bin={self.datadir}/binlog", "--server-id=1",
                     "--binlog-format=ROW"]
        else:
            args.append("--skip-log-bin")
        if _run_as_root():
            args.append("--user=root")
        for k, v in self.settings.items():
            args.append(f"--{k}={v}")
        return args

    def start(self, timeout=60):
        first = not self._installed
        if first:
            self._install()
        self.proc = subprocess.Popen(self._server_args(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self._answers(first):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mariadbd did not start on port {self.port}; log: {self.log}")
            time.sleep(0.1)
        if first:
            self._set_root_password()
        return self

    def _answers(self, first):
        cmd = [os.path.join(MARIADB_BINDIR, "mariadb-admin")]
        cmd += ["--no-defaults", "-uroot", f"--socket={self.socket}"] if first else \
            [f"--defaults-file={self.client_cnf}"]
        cmd += ["--connect-timeout=2", "ping"]
        return subprocess.run(cmd, capture_output=True).returncode == 0

    def _set_root_password(self):
        # Before the password exists the socket admits root without one (install default).
        pw = self.password
        sql = (f"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';"
               f"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '{pw}';"
               "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
               f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{pw}';")
        out = subprocess.run([os.path.join(MARIADB_BINDIR, "mariadb"), "--no-defaults",
                              "-uroot", f"--socket={self.socket}"], input=sql.encode(),
                             capture_output=True)
        if out.returncode != 0:
            raise RuntimeError(f"setting root's password failed: {out.stderr.decode()}")
        cnf = (f"[client]\nuser=root\npassword={self.password}\nhost={self.host}\n"
               f"port={self.port}\n")
        for path in (self.client_cnf, os.path.join(self.home, ".my.cnf")):
            with open(path, "w") as f:
                f.write(cnf)
            os.chmod(path, 0o600)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.proc = None

    def kill(self):
        """The server dies at once (for 'the server went away' tests)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self._lock:
            self._lock.close()
            self._lock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.destroy()

    # ---- clients ----

    def client_args(self, database=None):
        """The mariadb client's arguments (password from the option file, never argv)."""
        args = [f"--defaults-file={self.client_cnf}"]
        if database:
            args.append(f"--database={database}")
        return args

    def sql(self, statements, database=None, check=True, binary=False):
        """Runs statements with the mariadb client (batch mode: tab-separated rows, no
        header); returns stdout (str, or bytes when binary)."""
        cmd = [os.path.join(MARIADB_BINDIR, "mariadb")] + self.client_args(database) + \
            ["--batch", "--skip-column-names", "--raw"]
        out = subprocess.run(cmd, input=statements.encode() if isinstance(statements, str)
                             else statements, capture_output=True)
        if check and out.returncode != 0:
            raise RuntimeError(f"mariadb failed: {out.stderr.decode(errors='replace')}")
        return out.stdout if binary else out.stdout.decode()

    def rows(self, query, database=None):
        """Rows of one query as lists of strings (NULL as None)."""
        text = self.sql(query, database)
        return [[None if v == "NULL" else v for v in line.split("\t")]
                for line in text.splitlines()]

    def dump(self, *databases, extra=()):
        """mysqldump's view (the oracle): schema and data, no dump date, deterministic."""
        cmd = [os.path.join(MARIADB_BINDIR, "mariadb-dump")] + self.client_args() + \
            ["--skip-dump-date", "--single-transaction", "--routines", "--triggers",
             "--events", "--hex-blob", "--skip-extended-insert", "--order-by-primary",
             *extra, "--databases", *databases]
        out = subprocess.run(cmd, capture_output=True)
        if out.returncode != 0:  # say why: a bare CalledProcessError hides mariadb-dump's text
            raise RuntimeError(f"mariadb-dump {' '.join(databases)} failed "
                               f"(exit {out.returncode}): {out.stderr.decode(errors='replace')}")
        return out.stdout.decode(errors="replace")

    def env(self, **extra):
        """The environment for sluice: HOME holds .my.cnf with root's password."""
        env = dict(os.environ)
        env["HOME"] = self.home
        env.update(extra)
        return env

    def conn_args(self):
        """sluice's flags for this server over TCP (the password comes from ~/.my.cnf)."""
        return ["--engine", "mysql", "-h", self.host, "-p", str(self.port), "-U", self.user]
