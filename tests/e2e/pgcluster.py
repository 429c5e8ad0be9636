"""A throwaway PostgreSQL 15 cluster for tests and demos.

initdb refuses to run as root, so when the tests run as root the cluster is owned by, and the
server runs as, the unprivileged ``postgres`` system user (runuser). The cluster listens on a
free loopback port (a lock file keeps concurrent runs apart) and on a private unix socket
directory. TCP connections use scram-sha-256 with a generated password kept in a private
.pgpass file, so tests exercise real authentication; the socket trusts local users.

A cluster may start from a template instead of initdb: a tarball of a stopped cluster's data
directory (tests/e2e/regressdb.py makes one). Its settings, pg_hba.conf and the superuser's
password are replaced by this cluster's own.

A running cluster's hot standby (PgCluster.standby()) is a pg_basebackup -R -X stream of it
that streams its WAL: its own directory and port, the primary's password.
"""
import fcntl
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BINDIR = os.environ.get("SLUICE_PG_BINDIR", "/usr/lib/postgresql/15/bin")
LOCKDIR = os.path.join(tempfile.gettempdir(), "sluice-test-ports")


def _free_port():
    os.makedirs(LOCKDIR, exist_ok=True)
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        lock = open(os.path.join(LOCKDIR, str(port)), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        return port, lock
    raise RuntimeError("no free port")


_KNOWN = {}


def server_knows(setting):
    """Whether this PostgreSQL build has the setting (postgres --describe-config lists it)."""
    if setting not in _KNOWN:
        out = subprocess.run([f"{BINDIR}/postgres", "--describe-config"], capture_output=True,
                             text=True).stdout
        _KNOWN[setting] = any(line.split("\t", 1)[0] == setting for line in out.splitlines())
    return _KNOWN[setting]


class PgCluster:
    def __init__(self, name="sluice", settings=None, server_env=None, template=None,
                 primary=None, hba_first=()):
        self.root = tempfile.mkdtemp(prefix=f"{name}-pg-")
        os.chmod(self.root, 0o755)
        self.datadir = os.path.join(self.root, "data")
        self.sockdir = os.path.join(self.root, "sock")
        self.port, self._lock = _free_port()
        self.host = "127.0.0.1"
        self.user = "postgres"
        self.password = "pw-" + secrets.token_hex(12)
        self.pgpass = os.path.join(self.root, "pgpass")
        self.settings = settings or {}
        self.server_env = server_env or {}  # extra environment of the server (e.g. LOCPATH)
        self.template = template  # tarball of a data directory, or None for initdb
        self.primary = primary  # the cluster this one is a hot standby of, or None
        if primary:
            self.password = primary.password  # the base backup has the primary's roles
        self.hba_first = list(hba_first)  # pg_hba.conf lines placed before the usual ones
        self._as_root = os.geteuid() == 0
        self.running = False

    # -- process control -------------------------------------------------
    def _run(self, args, **kw):
        if self._as_root:
            args = ["runuser", "-u", "postgres", "--"] + args
        return subprocess.run(args, check=True, capture_output=True, text=True, **kw)

    def _chown(self, path):
        if self._as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _initdb(self):
        pwfile = os.path.join(self.root, "initpw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        self._chown(pwfile)
        self._run([f"{BINDIR}/initdb", "-D", self.datadir, "-U", self.user, "-E", "UTF8",
                   "--locale=C.UTF-8", "-A", "scram-sha-256", "--pwfile", pwfile])
        os.unlink(pwfile)

    def _unpack_template(self):
        os.makedirs(self.datadir, mode=0o700)
        self._chown(self.datadir)
        self._run(["tar", "-C", self.datadir, "-I", "zstd", "-xf", self.template])
        # The template's own settings (its port, socket directory) give way to this cluster's.
        os.unlink(os.path.join(self.datadir, "postgresql.auto.conf"))

    def _set_password(self):
        """A template keeps its own superuser password: this cluster's replaces it."""
        import psycopg
        from psycopg import sql
        with psycopg.connect(host=self.sockdir, port=self.port, user=self.user,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute("SET password_encryption = 'scram-sha-256'")
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(self.user), sql.Literal(self.password)))

    def start(self):
        self._chown(self.root)  # initdb (as postgres) creates the data directory in it
        os.makedirs(self.sockdir)
        self._chown(self.sockdir)
        if self.primary:
            self._base_backup()
        elif self.template:
            self._unpack_template()
        else:
            self._initdb()
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sockdir}'",
            "wal_level": "logical",
            "max_wal_senders": "10",
            "max_replication_slots": "10",
            "max_connections": "60",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "128MB",
        }
        if server_knows("output_plugin_libraries"):
            # Recent minor releases refuse output plugins not listed here (wal2json for the tap).
            conf["output_plugin_libraries"] = "'pgoutput, test_decoding, wal2json'"
        conf.update(self.settings)
        with open(os.path.join(self.datadir, "postgresql.auto.conf"), "a") as f:
            for k, v in conf.items():
                f.write(f"{k} = {v}\n")
        with open(os.path.join(self.datadir, "pg_hba.conf"), "w") as f:
            f.writelines(line + "\n" for line in self.hba_first)
            f.write("local all all trust\n"
                    "local replication all trust\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n"
                    "host replication all 127.0.0.1/32 scram-sha-256\n")
        with open(self.pgpass, "w") as f:
            f.write(f"127.0.0.1:{self.port}:*:{self.user}:{self.password}\n")
        os.chmod(self.pgpass, 0o600)
        self._run([f"{BINDIR}/pg_ctl", "-D", self.datadir, "-l",
                   os.path.join(self.datadir, "server.log"), "-w", "-t", "60", "start"],
                  env=dict(os.environ, **self.server_env))
        self.running = True
        if self.template:
            self._set_password()
        if self.primary:
            self._wait_streaming()
        return self

    # -- standby ---------------------------------------------------------
    def standby(self, name="standby"):
        """A hot standby of this running cluster, started and streaming; destroy() it (a
        failure to start destroys it)."""
        s = PgCluster(name=name, settings=dict(self.settings, hot_standby="on"),
                      primary=self)
        try:
            return s.start()
        except BaseException:
            s.destroy()
            raise

    def _base_backup(self):
        # -R: standby.signal and primary_conninfo (the primary's private socket, trusted)
        self._run([f"{BINDIR}/pg_basebackup", "-h", self.primary.sockdir,
                   "-p", str(self.primary.port), "-U", self.primary.user, "-D", self.datadir,
                   "-R", "-X", "stream", "-c", "fast"])

    def _wait_streaming(self, timeout=60):
        """Until the standby's WAL receiver streams from the primary (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.query("SELECT status FROM pg_stat_wal_receiver")
            if rows and rows[0][0] == "streaming":
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"standby on port {self.port} is not streaming: {rows}")
            time.sleep(0.05)

    def wait_replayed(self, timeout=60):
        """Until the standby has replayed everything the primary has written (bounded)."""
        # the insert position: with synchronous_commit off a commit may not be written yet
        target = self.primary.query("SELECT pg_current_wal_insert_lsn()::text")[0][0]
        deadline = time.monotonic() + timeout
        while not self.query(f"SELECT pg_last_wal_replay_lsn() >= '{target}'")[0][0]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"standby on port {self.port} has not replayed {target}")
            time.sleep(0.05)

    def pause_replay(self, timeout=60):
        """Replay paused, for sure: what the primary writes from now on is not applied."""
        self.execute("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + timeout
        while self.query("SELECT pg_get_wal_replay_pause_state()")[0][0] != "paused":
            if time.monotonic() > deadline:
                raise RuntimeError(f"standby on port {self.port}: replay did not pause")
            time.sleep(0.05)

    def resume_replay(self):
        self.execute("SELECT pg_wal_replay_resume()")

    def stop(self, mode="fast"):
        if self.running:
            try:
                self._run([f"{BINDIR}/pg_ctl", "-D", self.datadir, "-m", mode, "-w", "stop"])
            except subprocess.CalledProcessError:
                self._kill()
            self.running = False

    def _kill(self):
        pidfile = os.path.join(self.datadir, "postmaster.pid")
        try:
            with open(pidfile) as f:
                os.kill(int(f.readline()), signal.SIGKILL)
        except (OSError, ValueError):
            pass

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
        self._lock.close()

    # -- clients ---------------------------------------------------------
    def env(self, **extra):
        """Environment for a client over TCP: PG* variables and the private .pgpass."""
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("PG"):
                del env[k]
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user,
                   PGPASSFILE=self.pgpass, PGDATABASE="postgres")
        env.update(extra)
        return env

    def conninfo(self, dbname="postgres"):
        return (f"host={self.host} port={self.port} user={self.user} dbname={dbname} "
                f"passfile={self.pgpass}")

    def connect(self, dbname="postgres", autocommit=True):
        import psycopg
        return psycopg.connect(self.conninfo(dbname), autocommit=autocommit)

    def execute(self, sql, dbname="postgres"):
        with self.connect(dbname) as conn:
            conn.execute(sql)

    def query(self, sql, dbname="postgres"):
        with self.connect(dbname) as conn:
            return conn.execute(sql).fetchall()

    def psql(self, dbname, *args, input=None, check=True):
        return subprocess.run([f"{BINDIR}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                               "-d", dbname, *args], input=input, env=self.env(),
                              capture_output=True, check=check,
                              text=not isinstance(input, bytes))

    def pg_dump(self, dbname, *args):
        return subprocess.run([f"{BINDIR}/pg_dump", "-d", dbname, *args], env=self.env(),
                              capture_output=True, check=True, text=True).stdout

    def create_db(self, name):
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_db(self, name):
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
