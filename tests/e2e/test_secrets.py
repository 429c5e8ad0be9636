"""Passwords never reach a message: every command (status, backup single, restore, verify), in
human and JSON logs and at -v, on success and on failure, with the password given in a URL (-d
and backup's DB operand), in PGPASSWORD and in .pgpass, and held by the database itself in a
user mapping and a subscription. The backup file keeps them (mode 0600, as pg_dump's). A -d
that libpq cannot parse is a usage error that connects nowhere."""
import gzip
import json
import os
import secrets
import socket
import stat

import pytest

TOKEN = secrets.token_hex(6)
UM_PW = f"UmPw{TOKEN}"            # a user mapping's password, inside the database
SUB_PW = f"SubPw{TOKEN}"          # a subscription's conninfo password, inside the database
WRONG_PW = f"WrongPw{TOKEN}"      # a wrong password given on the command line
MODES = [("-v",), ("-v", "--log-format=json")]


def no_password_env(pg, **extra):
    """The cluster's PG* variables without any way to find the password."""
    env = {"PGPASSFILE": os.path.join(pg.root, "no-such-pgpass"), "PGPASSWORD": ""}
    env.update(extra)
    return env


def url(pg, db, password=None):
    password = pg.password if password is None else password
    return f"postgresql://{pg.user}:{password}@{pg.host}:{pg.port}/{db}"


def assert_clean(pg, proc, *more):
    """No password, whole or in part, in anything sluice printed."""
    out = proc.stdout + proc.stderr
    for secret in (pg.password, UM_PW, SUB_PW, WRONG_PW, TOKEN) + more:
        assert secret not in out, f"{secret!r} shown:\n{out}"


def assert_json_lines(proc):
    for line in proc.stderr.splitlines():
        json.loads(line)  # every line is a JSON object, nothing printed beside the logger


def messages(proc, mode):
    """The log lines' messages (and contexts), human or JSON."""
    if "--log-format=json" not in mode:
        return proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    return "\n".join(o["msg"] + " " + o.get("context", "") for o in lines)


def drop_subscriptions(pg, db):
    """A database holding subscriptions cannot be dropped; these never connected."""
    for (name,) in pg.query("SELECT s.subname FROM pg_subscription s JOIN pg_database d "
                            "ON d.oid = s.subdbid WHERE d.datname = current_database()", db):
        pg.execute(f'ALTER SUBSCRIPTION "{name}" DISABLE', db)
        pg.execute(f'ALTER SUBSCRIPTION "{name}" SET (slot_name = NONE)', db)
        pg.execute(f'DROP SUBSCRIPTION "{name}"', db)


def drop_db(pg, db):
    if pg.query("SELECT 1 FROM pg_database WHERE datname = %s" % f"'{db}'"):
        drop_subscriptions(pg, db)
    pg.drop_db(db)


SECRET_OBJECTS = f"""
CREATE EXTENSION postgres_fdw;
CREATE SERVER sec_srv FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '1');
CREATE USER MAPPING FOR postgres SERVER sec_srv OPTIONS (user 'remote', password '{UM_PW}');
CREATE SUBSCRIPTION sec_sub
    CONNECTION 'password={SUB_PW} host=127.0.0.1 port=1 dbname=nowhere user=remote'
    PUBLICATION p WITH (connect = false, slot_name = NONE, enabled = false,
                        create_slot = false);
CREATE TABLE t (id int PRIMARY KEY, note text);
INSERT INTO t SELECT i, 'row ' || i FROM generate_series(1, 100) i;
"""


@pytest.fixture(scope="module")
def secret_db(pg):
    name = f"secret_src_{os.getpid()}"
    pg.create_db(name)
    for stmt in SECRET_OBJECTS.split(";\n"):
        if stmt.strip():
            pg.execute(stmt, name)
    yield name
    drop_db(pg, name)


@pytest.fixture(scope="module")
def backup_file(pg, secret_db, tmp_path_factory):
    from conftest import Sluice
    path = tmp_path_factory.mktemp("secrets") / "secret.sql.gz"
    proc = Sluice(pg).run("backup", "single", url(pg, secret_db), "-o", path,
                          env=no_password_env(pg))
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture
def target_db(pg):
    made = []

    def make():
        name = f"secret_dst_{os.getpid()}_{len(made)}"
        pg.create_db(name)
        made.append(name)
        return name

    yield make
    for name in made:
        drop_db(pg, name)


# -- status ----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["url", "PGPASSWORD", ".pgpass"])
def test_status(sluice, pg, where, mode):
    if where == "url":
        proc = sluice.run("status", *mode, "-d", url(pg, "postgres"), env=no_password_env(pg))
    elif where == "PGPASSWORD":
        proc = sluice.run("status", *mode, env=no_password_env(pg, PGPASSWORD=pg.password))
    else:
        proc = sluice.run("status", *mode)  # the fixture's .pgpass
    assert proc.returncode == 0, proc.stderr
    assert f"connected to {pg.host}:{pg.port}" in proc.stderr
    assert_clean(pg, proc)
    if "--log-format=json" in mode:
        assert_json_lines(proc)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["url", "PGPASSWORD", ".pgpass"])
def test_status_wrong_password(sluice, pg, tmp_path, where, mode):
    if where == "url":
        proc = sluice.run("status", *mode, "-d", url(pg, "postgres", WRONG_PW),
                          env=no_password_env(pg))
    elif where == "PGPASSWORD":
        proc = sluice.run("status", *mode, env=no_password_env(pg, PGPASSWORD=WRONG_PW))
    else:
        passfile = tmp_path / "pgpass"
        passfile.write_text(f"{pg.host}:{pg.port}:*:{pg.user}:{WRONG_PW}\n")
        passfile.chmod(0o600)
        proc = sluice.run("status", *mode, env=no_password_env(pg, PGPASSFILE=str(passfile)))
    assert proc.returncode == 3, proc.stderr
    assert "password authentication failed" in proc.stderr
    assert "28P01" in proc.stderr
    assert_clean(pg, proc)


# -- backup and verify -----------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_backup_with_url_operand(sluice, pg, secret_db, tmp_path, mode):
    out = tmp_path / "b.sql.gz"
    proc = sluice.run("backup", "single", url(pg, secret_db), "-o", out, *mode,
                      env=no_password_env(pg))
    assert proc.returncode == 0, proc.stderr
    assert (f'backup of {pg.host}:{pg.port} database "{secret_db}" as user "{pg.user}" '
            "complete") in messages(proc, mode)
    assert_clean(pg, proc)
    if "--log-format=json" in mode:
        assert_json_lines(proc)


@pytest.mark.parametrize("mode", MODES)
def test_backup_with_url_in_d(sluice, pg, secret_db, tmp_path, mode):
    os.chdir(tmp_path)  # the default output name comes from the parsed database name
    proc = sluice.run("backup", "single", "-d", url(pg, secret_db), *mode,
                      env=no_password_env(pg))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / f"{secret_db}.sql.gz").exists()
    assert_clean(pg, proc)


def test_backup_file_keeps_the_secrets(backup_file):
    assert stat.S_IMODE(os.stat(backup_file).st_mode) == 0o600
    text = gzip.decompress(backup_file.read_bytes()).decode()
    assert f"password '{UM_PW}'" in text
    assert f"password={SUB_PW}" in text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ["wrong password", "nothing listens", "bad url",
                                  "missing database"])
def test_backup_failures(sluice, pg, secret_db, tmp_path, case, mode):
    out = tmp_path / "f.sql.gz"
    target, code = {
        "wrong password": (url(pg, secret_db, WRONG_PW), 3),
        "nothing listens": (f"postgresql://u:{WRONG_PW}@127.0.0.1:1/{secret_db}", 3),
        "bad url": (url(pg, secret_db, WRONG_PW) + "?bogus=1", 2),
        "missing database": (url(pg, "no_such_db_" + TOKEN[:3], WRONG_PW), 3),
    }[case]
    proc = sluice.run("backup", "single", target, "-o", out, "--retries", "0", *mode,
                      env=no_password_env(pg))
    assert proc.returncode == code, proc.stderr
    assert not out.exists()
    assert_clean(pg, proc)


@pytest.mark.parametrize("mode", MODES)
def test_verify(sluice_noserver, pg, backup_file, mode):
    proc = sluice_noserver.run("verify", backup_file, *mode)
    assert proc.returncode == 0, proc.stderr
    assert_clean(pg, proc)


# -- restore ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_restore_logs_statements_without_secrets(sluice, pg, backup_file, target_db, mode):
    db = target_db()
    proc = sluice.run("restore", backup_file, "-d", url(pg, db), *mode,
                      env=no_password_env(pg))
    assert proc.returncode == 0, proc.stderr
    # the statements were logged (-v), with their secrets redacted
    assert "CREATE SUBSCRIPTION sec_sub" in proc.stderr
    assert "CREATE USER MAPPING" in proc.stderr
    assert "password=[redacted]" in proc.stderr
    assert "password '[redacted]'" in proc.stderr
    assert_clean(pg, proc)
    if "--log-format=json" in mode:
        assert_json_lines(proc)
    # what was restored holds the real secrets
    assert pg.query("SELECT subconninfo FROM pg_subscription s JOIN pg_database d "
                    "ON d.oid = s.subdbid WHERE d.datname = current_database()",
                    db) == [(f"password={SUB_PW} host=127.0.0.1 port=1 dbname=nowhere "
                             "user=remote",)]


@pytest.mark.parametrize("mode", [(), ("--log-format=json",)] + MODES)
def test_restore_failing_subscription(sluice, pg, backup_file, target_db, mode):
    """The target already has the subscription: the restore stops at the backup's CREATE
    SUBSCRIPTION, whose first line (shown in the error) holds the password."""
    db = target_db()
    pg.execute("CREATE SUBSCRIPTION sec_sub CONNECTION 'dbname=nowhere' PUBLICATION p "
               "WITH (connect = false, slot_name = NONE, enabled = false, "
               "create_slot = false)", db)
    proc = sluice.run("restore", backup_file, "-d", url(pg, db), *mode,
                      env=no_password_env(pg))
    assert proc.returncode == 5, proc.stderr
    shown = messages(proc, mode)
    assert 'subscription "sec_sub" already exists' in shown
    assert "CREATE SUBSCRIPTION sec_sub CONNECTION 'password=[redacted] host=" in shown
    assert_clean(pg, proc)


PLAIN_FAILURES = f"""
ALTER ROLE no_such_role_{TOKEN[:4]} PASSWORD 'RolePw{TOKEN}';
CREATE USER MAPPING FOR postgres SERVER no_such_server
    OPTIONS (user 'u', password 'MapPw{TOKEN}');
CREATE USER MAPPING FOR postgres SERVER no_such_server OPTIONS (user 'u', password 'MapPw{TOKEN}');
CREATE SUBSCRIPTION bad_sub CONNECTION 'host=127.0.0.1 password=Sp1{TOKEN} Cr2{TOKEN}'
    PUBLICATION p WITH (connect = false, slot_name = NONE, enabled = false, create_slot = false);
CREATE SUBSCRIPTION bad_url CONNECTION 'postgresql://u:UrlPw{TOKEN}@[::1/db'
    PUBLICATION p WITH (connect = false, slot_name = NONE, enabled = false, create_slot = false);
\\setenv PGPASSWORD MetaPw{TOKEN}
"""


@pytest.mark.parametrize("mode", [(), ("--log-format=json",)] + MODES)
def test_restore_failing_statements_of_a_script(sluice, pg, target_db, tmp_path, mode):
    """Each statement fails; the errors (and the server's own messages about a conninfo it
    cannot parse, which quote a fragment of it) show none of the passwords."""
    script = tmp_path / "fails.sql"
    script.write_text(PLAIN_FAILURES)
    db = target_db()
    proc = sluice.run("restore", script, "-d", url(pg, db), "--continue-on-error", *mode,
                      env=no_password_env(pg))
    assert proc.returncode == 5, proc.stderr
    shown = messages(proc, mode)
    assert "6 statements failed" in shown, shown
    for what in ('server "no_such_server" does not exist', "invalid connection string syntax",
                 "ALTER ROLE no_such_role", "PASSWORD '[redacted]'",
                 "CONNECTION 'host=127.0.0.1 password=[redacted]'",
                 "matching \"]\" in IPv6 host address",
                 "\\setenv PGPASSWORD [redacted]"):
        assert what in shown, what
    assert_clean(pg, proc, f"Sp1{TOKEN}", f"Cr2{TOKEN}", f"MapPw{TOKEN}", f"RolePw{TOKEN}",
                 f"UrlPw{TOKEN}", f"MetaPw{TOKEN}")


@pytest.mark.parametrize("command", ["restore", "status", "backup"])
def test_unparsable_url_is_a_usage_error_that_connects_nowhere(sluice, pg, tmp_path, command):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    bad = f"postgres://u:{WRONG_PW}@127.0.0.1:{port}/db?bogus=1"
    script = tmp_path / "x.sql"
    script.write_text("SELECT 1;\n")
    args = {"restore": ["restore", script, "-d", bad],
            "status": ["status", "-d", bad],
            "backup": ["backup", "single", bad, "-o", tmp_path / "x.sql.gz"]}[command]
    # were it taken for a database name, the connection would go to PGHOST:PGPORT
    proc = sluice.run(*args, env=no_password_env(pg, PGHOST="127.0.0.1", PGPORT=str(port)))
    try:
        assert proc.returncode == 2, proc.stderr
        assert "invalid connection URL or string given as the database" in proc.stderr
        assert 'invalid URI query parameter: "bogus"' in proc.stderr
        assert proc.stderr.count("\n") == 2  # the reason and the --help hint, once
        assert_clean(pg, proc)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


@pytest.mark.parametrize("args", [
    ["status", "postgres://u:{pw}@h/db"],
    ["backup", "postgres://u:{pw}@h/db"],
    ["status", "--dbnme=postgres://u:{pw}@h/db"],
    ["restore", "x.sql", "--database", "postgres://u:{pw}@h/db"],
    ["restore", "x.sql", "--database", "host=h password={pw}"],
])
def test_usage_errors_do_not_echo_passwords(sluice, pg, args):
    proc = sluice.run(*[a.format(pw=WRONG_PW) for a in args])
    assert proc.returncode == 2, proc.stderr
    assert_clean(pg, proc)


def test_url_in_pgdatabase_is_a_name_shown_without_its_password(sluice, pg):
    """libpq never expands PGDATABASE: a URL there is a database name, which the server's
    refusal repeats; neither that nor the target description shows its password."""
    proc = sluice.run("status", "--retries", "0",
                      env={"PGDATABASE": url(pg, "postgres", WRONG_PW)})
    assert proc.returncode == 3, proc.stderr
    assert "does not exist" in proc.stderr
    assert f"postgresql://{pg.user}:[redacted]@" in proc.stderr
    assert_clean(pg, proc)
