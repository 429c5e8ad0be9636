"""PostgreSQL 15's regression database, built as `make installcheck-parallel` builds it, cached.

The database is the one PostgreSQL's own regression suite leaves behind: nearly every kind of
object the server knows, in odd combinations, which makes it the widest fixture a backup tool
can be tested on. It is built the way `make installcheck-parallel` builds it, against the
installed server:

  1. Debian's source package of postgresql-15 is fetched with a private apt configuration (its
     own sources.list holding deb-src lines, its own state and cache directories; the system's
     apt configuration is read, never changed). The archive may no longer serve the installed
     minor version's source; any 15.x has the same test modules, so the newest one served is
     taken.
  2. The C modules the tests load are built with PGXS (postgresql-server-dev-15): regress.so
     (src/test/regress/regress.c), autoinc.so and refint.so (contrib/spi) and dummy_seclabel.so
     (src/test/modules/dummy_seclabel, for the security label tests).
  3. pg_regress (shipped by postgresql-server-dev-15) runs parallel_schedule against a
     throwaway cluster. Test failures are expected (the cluster is not the one the expected
     output was made on) and do not matter: the database only has to end up populated.
  4. The stopped cluster's data directory is kept as a tarball.

Everything lands in a cache directory, keyed by a hash of this file and of the installed
server's version: $SLUICE_CACHE, else /var/cache/sluice when running as root, else
~/.cache/sluice. The functions of the regression database name their library by absolute path,
so the libraries stay in the cache directory, which the server must be able to read (the
directories made here are world-readable). A later run starts a cluster from the tarball in
seconds. Concurrent runs wait for one another on a lock file.

From a shell (scripts/test.sh does this once before the test suites):
    python3 tests/e2e/regressdb.py          builds the cache entry if it is missing
"""
import fcntl
import glob
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

from pgcluster import BINDIR, PgCluster

PG_CONFIG = os.path.join(BINDIR, "pg_config")
PGXS_DIR = "/usr/lib/postgresql/15/lib/pgxs"
PG_REGRESS = os.path.join(PGXS_DIR, "src/test/regress/pg_regress")
DBNAME = "regression"
MODULES = ("regress", "autoinc", "refint", "dummy_seclabel")

# deb-src lines for the suites the system's own sources name (Debian 12 and its updates).
SOURCES = ("deb-src http://deb.debian.org/debian bookworm main\n"
           "deb-src http://deb.debian.org/debian bookworm-updates main\n"
           "deb-src http://deb.debian.org/debian-security bookworm-security main\n")


def _log(msg):
    print(f"regressdb: {msg}", file=sys.stderr, flush=True)


def cache_root():
    env = os.environ.get("SLUICE_CACHE")
    if env:
        return env
    if os.geteuid() == 0:
        return "/var/cache/sluice"
    return os.path.join(os.path.expanduser("~"), ".cache", "sluice")


def _server_version():
    return subprocess.run([PG_CONFIG, "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def cache_key():
    h = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    h.update(_server_version().encode())
    return h.hexdigest()[:16]


def entry_dir():
    return os.path.join(cache_root(), f"regressdb-{cache_key()}")


def _run(args, **kw):
    proc = subprocess.run(args, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {proc.returncode}:\n"
                           f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _as_postgres(args, **kw):
    """Runs a command as the user the servers run as (see pgcluster)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + list(args)
    return _run(args, **kw)


def _give_to_postgres(path):
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        _run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", path])


# -- 1. the source ---------------------------------------------------------------------------
def _apt_options(aptdir):
    return ["-o", f"Dir::Etc::SourceList={aptdir}/sources.list",
            "-o", f"Dir::Etc::SourceParts={aptdir}/sources.list.d",
            "-o", f"Dir::State={aptdir}/state",
            "-o", f"Dir::Cache={aptdir}/cache",
            "-o", "Debug::NoLocking=1",
            # downloads run as the calling user: the private directories are theirs
            "-o", f"APT::Sandbox::User={pwd.getpwuid(os.geteuid()).pw_name}"]


def fetch_source(workdir):
    """Unpacks Debian's postgresql-15 source into workdir/src; returns (path, version)."""
    aptdir = os.path.join(workdir, "apt")
    for sub in ("sources.list.d", "state/lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(aptdir, sub))
    with open(os.path.join(aptdir, "sources.list"), "w") as f:
        f.write(SOURCES)
    opts = _apt_options(aptdir)
    _run(["apt-get", *opts, "-q", "update"])
    shown = _run(["apt-cache", *opts, "showsrc", "postgresql-15"]).stdout
    versions = [line.split(":", 1)[1].strip() for line in shown.splitlines()
                if line.startswith("Version:")]
    # Newest first: the installed version's source may already be gone from the archive.
    versions = sorted(set(versions), key=_debian_version_key, reverse=True)
    dl = os.path.join(workdir, "dl")
    os.makedirs(dl)
    errors = []
    for version in versions:
        proc = subprocess.run(["apt-get", *opts, "-q", "source", "--download-only",
                               f"postgresql-15={version}"], cwd=dl, capture_output=True,
                              text=True)
        dscs = glob.glob(os.path.join(dl, f"postgresql-15_{version.split(':')[-1]}.dsc"))
        if proc.returncode == 0 and dscs:
            src = os.path.join(workdir, "src")
            _run(["dpkg-source", "--no-check", "-x", dscs[0], src])
            return src, version
        errors.append(f"{version}: {proc.stderr.strip()[-500:]}")
        for stale in os.listdir(dl):
            os.unlink(os.path.join(dl, stale))
    raise RuntimeError("no source of postgresql-15 could be fetched:\n" + "\n".join(errors))


def _debian_version_key(version):
    """Sort key for versions such as 15.18-0+deb12u1 (upstream numbers, then the rest)."""
    upstream, _, rest = version.partition("-")
    nums = tuple(int(p) if p.isdigit() else 0 for p in upstream.split("."))
    return nums, rest


# psql from 15.20 on skips the in-line data of a COPY ... FROM STDIN that failed before the
# data, up to the next \. line; older test files have no data, and no \., after such a COPY,
# so that psql would skip the statements that follow. Where the expected output shows that a
# COPY failed and that the next line of the file ran as SQL, a \. goes after the COPY.
_COPY_IN = re.compile(r"^\s*copy\b.*\bfrom\s+stdin\b.*;\s*(--.*)?$", re.I)
_ERROR_BLOCK = re.compile(r"^(ERROR|LINE \d+|DETAIL|HINT|CONTEXT):|^\s*\^\s*$|^\s*$")


def _terminate_failed_copies(sql_lines, out_lines):
    r"""sql_lines with a \. after each COPY FROM STDIN that the expected output says failed
    before reading data."""
    patched, j = [], 0
    for i, line in enumerate(sql_lines):
        patched.append(line)
        if not _COPY_IN.match(line):
            continue
        try:
            j = out_lines.index(line, j) + 1
        except ValueError:
            continue
        if j >= len(out_lines) or not out_lines[j].startswith("ERROR:"):
            continue
        k = j
        while k < len(out_lines) and _ERROR_BLOCK.match(out_lines[k]):
            k += 1
        following = [s for s in sql_lines[i + 1:] if s.strip()][:1]
        if following and following[0] != "\\." and k < len(out_lines) and \
                out_lines[k] == following[0]:
            patched.append("\\.")
    return patched


def patch_copy_terminators(regress):
    count = 0
    for sql_path in sorted(glob.glob(os.path.join(regress, "sql", "*.sql"))):
        out_path = os.path.join(regress, "expected",
                                os.path.basename(sql_path)[:-4] + ".out")
        if not os.path.exists(out_path):
            continue
        with open(sql_path, encoding="utf-8", errors="surrogateescape") as f:
            sql_lines = f.read().split("\n")
        with open(out_path, encoding="utf-8", errors="surrogateescape") as f:
            out_lines = f.read().split("\n")
        patched = _terminate_failed_copies(sql_lines, out_lines)
        if len(patched) != len(sql_lines):
            count += len(patched) - len(sql_lines)
            with open(sql_path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write("\n".join(patched))
    return count


# -- 2. the modules --------------------------------------------------------------------------
def _pgxs_make(directory, *extra):
    _run(["make", "-C", directory, "USE_PGXS=1", f"PG_CONFIG={PG_CONFIG}", "with_llvm=no",
          *extra])


def build_modules(src, libdir):
    """Builds the modules the tests load with PGXS and puts them in libdir."""
    # regress.c has no PGXS makefile of its own: a two-line one beside a copy of it.
    regress = os.path.join(os.path.dirname(src), "regress-module")
    os.makedirs(regress)
    shutil.copy(os.path.join(src, "src/test/regress/regress.c"), regress)
    with open(os.path.join(regress, "Makefile"), "w") as f:
        f.write("MODULES = regress\n"
                "PGXS := $(shell $(PG_CONFIG) --pgxs)\n"
                "include $(PGXS)\n")
    _pgxs_make(regress)
    _pgxs_make(os.path.join(src, "contrib/spi"), "MODULES=autoinc refint")
    _pgxs_make(os.path.join(src, "src/test/modules/dummy_seclabel"))
    os.makedirs(libdir, exist_ok=True)
    found = {os.path.basename(p): p for p in
             glob.glob(os.path.join(os.path.dirname(src), "**", "*.so"), recursive=True)}
    for module in MODULES:
        shutil.copy(found[f"{module}.so"], os.path.join(libdir, f"{module}.so"))
        os.chmod(os.path.join(libdir, f"{module}.so"), 0o755)


# -- 3. the database -------------------------------------------------------------------------
def cluster_settings(libdir, preload=()):
    """Server settings of a cluster that can load the modules (by name or by path)."""
    settings = {"dynamic_library_path": f"'$libdir:{libdir}'",
                # pg_regress's parallel groups hold up to 20 tests, some with a few sessions.
                "max_connections": "100",
                "max_prepared_transactions": "10"}
    if preload:
        settings["shared_preload_libraries"] = "'" + ",".join(preload) + "'"
    return settings


def run_pg_regress(cluster, src, libdir, workdir):
    """Runs parallel_schedule against the cluster, which makes the regression database."""
    regress = os.path.join(src, "src/test/regress")
    _log(f"{patch_copy_terminators(regress)} COPY terminators added to the test files")
    out = os.path.join(workdir, "out")
    os.makedirs(out)
    _give_to_postgres(workdir)  # the server writes into out/results and reads regress/data
    proc = subprocess.run(
        (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) +
        [PG_REGRESS, f"--bindir={BINDIR}", f"--inputdir={regress}", f"--outputdir={out}",
         f"--dlpath={libdir}", f"--schedule={regress}/parallel_schedule",
         f"--host={cluster.sockdir}", f"--port={cluster.port}", f"--user={cluster.user}",
         f"--dbname={DBNAME}", "--max-connections=20"],
        cwd=out, capture_output=True, text=True, env=cluster.env(PGHOST=cluster.sockdir))
    # Failures are expected; what counts is that the schedule ran to its end.
    summary = [line for line in proc.stdout.splitlines() if "tests" in line and
               ("passed" in line or "failed" in line)]
    if not summary:
        raise RuntimeError(f"pg_regress did not run the schedule ({proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    failed = re.findall(r"^\s*(?:test\s+)?(\S+)\s+\.\.\.\s+FAILED", proc.stdout, re.M)
    _log(summary[-1].strip(" =") + " (failures do not matter here)" +
         (f": {' '.join(failed)}" if failed else ""))


def build(entry):
    """Builds a complete cache entry: lib/ (the modules), data.tar.zst and version."""
    started = time.monotonic()
    tmp_entry = entry + ".partial"
    shutil.rmtree(tmp_entry, ignore_errors=True)
    os.makedirs(tmp_entry)
    os.chmod(tmp_entry, 0o755)
    libdir = os.path.join(entry, "lib")  # the final path: functions record it
    workdir = tempfile.mkdtemp(prefix="sluice-regressdb-")
    os.chmod(workdir, 0o755)
    cluster = None
    try:
        src, version = fetch_source(workdir)
        _log(f"source postgresql-15 {version} ({time.monotonic() - started:.0f} s)")
        build_modules(src, os.path.join(tmp_entry, "lib"))
        # The libraries must be at their final path before pg_regress records it.
        shutil.rmtree(libdir, ignore_errors=True)
        os.makedirs(entry, exist_ok=True)
        os.chmod(entry, 0o755)
        shutil.copytree(os.path.join(tmp_entry, "lib"), libdir)
        cluster = PgCluster(name="regressdb", settings=cluster_settings(libdir)).start()
        t0 = time.monotonic()
        run_pg_regress(cluster, src, libdir, workdir)
        _log(f"pg_regress took {time.monotonic() - t0:.0f} s")
        cluster.stop()
        _run(["tar", "-C", cluster.datadir, "--exclude=./server.log",
              "--exclude=./postmaster.opts", "-I", "zstd -T0 -3", "-cf",
              os.path.join(tmp_entry, "data.tar.zst"), "."])
        diffs = os.path.join(workdir, "out", "regression.diffs")
        if os.path.exists(diffs):  # kept for whoever wonders why a test failed
            shutil.copy(diffs, os.path.join(entry, "regression.diffs"))
        with open(os.path.join(tmp_entry, "version"), "w") as f:
            f.write(f"postgresql-15 {version}\n{_server_version()}\n")
        os.replace(os.path.join(tmp_entry, "data.tar.zst"), os.path.join(entry, "data.tar.zst"))
        os.replace(os.path.join(tmp_entry, "version"), os.path.join(entry, "version"))
        _log(f"built {entry} in {time.monotonic() - started:.0f} s")
    finally:
        if cluster:
            cluster.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(tmp_entry, ignore_errors=True)


def ensure():
    """The cache entry's directory, built first if missing (one builder at a time)."""
    entry = entry_dir()
    done = os.path.join(entry, "version")
    if os.path.exists(done):
        return entry
    os.makedirs(cache_root(), exist_ok=True)
    with open(os.path.join(cache_root(), "regressdb.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(done):
            _log(f"building the regression database into {entry} (a few minutes, once)")
            build(entry)
    return entry


def libdir():
    return os.path.join(ensure(), "lib")


def start_cluster(name="regress", preload=()):
    """A running cluster holding the regression database, started from the cached tarball."""
    entry = ensure()
    lib = os.path.join(entry, "lib")
    cluster = PgCluster(name=name, settings=cluster_settings(lib, preload),
                        template=os.path.join(entry, "data.tar.zst"))
    try:
        cluster.start()
    except BaseException:
        cluster.destroy()
        raise
    return cluster


def main():
    entry = ensure()
    with open(os.path.join(entry, "version")) as f:
        _log(f"ready: {entry} ({f.readline().strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
