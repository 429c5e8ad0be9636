"""Round trips of the rich database (rich_db.sql) through sluice backup / verify / restore.

Each case backs the rich database up, verifies the file, restores it into a new database and
compares the copy with the source using compare.py: pg_dump --schema-only of both, every
table's rows, sequence values, large objects. Also: psql restores sluice's file to the same
database as sluice restore does, and sluice restores pg_dump's plain scripts.
"""
import os
import stat
import subprocess

import pytest

import compare

HERE = os.path.dirname(os.path.abspath(__file__))
RICH_SQL = os.path.join(HERE, "rich_db.sql")
EXTRA_SQL = os.path.join(HERE, "data", "extra_objects.sql")
EXT = {"gzip": ".sql.gz", "zstd": ".sql.zst", "none": ".sql"}
MAGIC = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}


class Databases:
    """Databases made by this module; all dropped before the roles they mention."""

    def __init__(self, pg):
        self.pg = pg
        self.names = []
        self.n = 0

    def name(self, prefix):
        self.n += 1
        name = f"{prefix}_{os.getpid()}_{self.n}"
        self.names.append(name)
        return name

    def create(self, prefix):
        return self.pg.create_db(self.name(prefix))

    def drop_all(self):
        for name in self.names:
            self.pg.drop_db(name)


@pytest.fixture(scope="module")
def dbs(pg):
    d = Databases(pg)
    yield d
    d.drop_all()


@pytest.fixture(scope="module")
def roles(pg, dbs):
    """Two roles the rich database grants to and is partly owned by; one needs quoting."""
    reader = f"suite_reader_{os.getpid()}"
    owner = f"suite Owner-{os.getpid()}"
    for r in (reader, owner):
        pg.execute(f'DROP ROLE IF EXISTS "{r}"')
        pg.execute(f'CREATE ROLE "{r}"')
    yield reader, owner
    dbs.drop_all()  # the databases hold the roles' objects and grants
    for r in (reader, owner):
        pg.execute(f'DROP ROLE IF EXISTS "{r}"')


def load(pg, db, path, roles):
    reader, owner = roles
    proc = pg.psql(db, "-o", "/dev/null", "-v", f"reader={reader}", "-v", f"owner={owner}",
                   "-f", path, check=False)
    assert proc.returncode == 0, f"loading {path} failed:\n{proc.stderr}"


@pytest.fixture(scope="module")
def rich(pg, dbs, roles):
    db = dbs.create("rich")
    load(pg, db, RICH_SQL, roles)
    return db


def backup(sluice, db, path, *args):
    proc = sluice.run("backup", "single", db, "-o", path, *args)
    assert proc.returncode == 0, f"backup failed ({proc.returncode}):\n{proc.stderr}"
    return proc


def restore(sluice, path, db, *args):
    proc = sluice.run("restore", path, "--database", db, *args)
    assert proc.returncode == 0, f"restore failed ({proc.returncode}):\n{proc.stderr}"
    return proc


def check_output_file(path, compress):
    """The finished file: mode 0600, right format, and nothing else left in its directory."""
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if f != os.path.basename(path)]
    assert leftovers == [], f"left beside the backup: {leftovers}"
    with open(path, "rb") as f:
        head = f.read(4)
    if compress in MAGIC:
        assert head.startswith(MAGIC[compress]), head
    else:
        assert head[:1] not in (b"\x1f", b"\x28"), head


def psql_restore(pg, path, compress, db):
    """What a user without sluice does: decompress with the standard tool and pipe into psql."""
    tool = {"gzip": ["gzip", "-dc", path], "zstd": ["zstd", "-dcq", path],
            "none": ["cat", path]}[compress]
    decomp = subprocess.Popen(tool, stdout=subprocess.PIPE)
    proc = subprocess.run([f"{compare.BINDIR}/psql", "-X", "-q", "-o", "/dev/null", "-v",
                           "ON_ERROR_STOP=1", "-d", db], stdin=decomp.stdout, env=pg.env(),
                          capture_output=True, text=True)
    decomp.stdout.close()
    assert decomp.wait() == 0, f"{tool[0]} could not decompress {path}"
    assert proc.returncode == 0, f"psql failed on {path}:\n{proc.stderr[-4000:]}"


@pytest.mark.parametrize("compress", ["gzip", "zstd", "none"])
@pytest.mark.parametrize("jobs", [1, 4])
def test_roundtrip(pg, sluice, rich, dbs, tmp_path, jobs, compress):
    out = str(tmp_path / f"rich{EXT[compress]}")
    # With 4 jobs, tables over 1 MB (big, all_types, blobs, vehicles, cars) are cut into block
    # ranges that the workers export at the same time.
    split = ["--chunk-size", "1"] if jobs > 1 else []
    backup(sluice, rich, out, "-j", jobs, "--compress", compress, *split)
    check_output_file(out, compress)

    proc = sluice.run("verify", out)
    assert proc.returncode == 0, f"verify failed ({proc.returncode}):\n{proc.stderr}"
    report = proc.stdout + proc.stderr
    assert "big" in report and "200000" in report, f"verify reports no row counts:\n{report}"

    if compress == "none":  # into an existing empty database
        target = dbs.create("copy")
        restore(sluice, out, target, "-j", jobs)
    else:  # sluice creates it
        target = dbs.name("copy")
        restore(sluice, out, target, "--create", "-j", jobs)
    compare.assert_same(pg.conninfo(rich), pg.conninfo(target))
    if jobs == 4 and compress == "zstd":  # more connections than segments at once
        eight = dbs.create("copy8")
        restore(sluice, out, eight, "-j", 8)
        compare.assert_same(pg.conninfo(rich), pg.conninfo(eight))


@pytest.mark.parametrize("compress", ["gzip", "zstd", "none"])
def test_psql_restores_like_sluice(pg, sluice, rich, dbs, tmp_path, compress):
    out = str(tmp_path / f"rich{EXT[compress]}")
    backup(sluice, rich, out, "-j", 4, "--compress", compress, "--chunk-size", "1")
    by_sluice = dbs.create("by_sluice")
    restore(sluice, out, by_sluice, "-j", 2)
    by_psql = dbs.create("by_psql")
    psql_restore(pg, out, compress, by_psql)
    compare.assert_same(pg.conninfo(by_sluice), pg.conninfo(by_psql))
    compare.assert_same(pg.conninfo(rich), pg.conninfo(by_psql))


def test_default_compression_follows_name(pg, sluice, rich, tmp_path):
    """No --compress: .sql.gz is gzip, .sql.zst zstd, .sql plain."""
    for compress, ext in EXT.items():
        d = tmp_path / compress
        d.mkdir()
        out = str(d / f"rich{ext}")
        backup(sluice, rich, out, "-t", "rooms")
        check_output_file(out, compress)


@pytest.mark.parametrize("gzipped", [False, True])
def test_restores_pg_dump_script(pg, sluice, rich, dbs, tmp_path, gzipped):
    """A pg_dump -Fp script (plain, or gzip under a name that does not say so) restores to the
    same database as psql makes of it, which is the source itself."""
    out = str(tmp_path / ("dump.bin" if gzipped else "dump.sql"))
    args = ["-Fp", "-f", out] + (["-Z", "6"] if gzipped else [])
    subprocess.run([f"{compare.BINDIR}/pg_dump", *args, "-d", pg.conninfo(rich)], check=True)
    target = dbs.create("from_pg_dump")
    restore(sluice, out, target, "-j", 2)
    compare.assert_same(pg.conninfo(rich), pg.conninfo(target))


def test_schema_only_then_data_only(pg, sluice, rich, dbs, tmp_path):
    """--schema-only and --data-only backups restored one after the other give the whole."""
    schema = str(tmp_path / "schema.sql.gz")
    data = str(tmp_path / "data.sql.gz")
    backup(sluice, rich, schema, "--schema-only")
    backup(sluice, rich, data, "--data-only", "-j", 2)
    target = dbs.create("split")
    restore(sluice, schema, target)
    assert compare.schema_text(pg.conninfo(target)) == compare.schema_text(pg.conninfo(rich))
    assert pg.query("SELECT count(*) FROM big", target)[0][0] == 0
    # Data goes into the now non-empty database: that is what --data-only output is for, so it
    # must be accepted without --clean.
    restore(sluice, data, target, "-j", 2)
    compare.assert_same(pg.conninfo(rich), pg.conninfo(target))


def user_relations(pg, db):
    return pg.query("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
                    db)


def same_rows(pg, db_a, db_b, schema, table):
    with pg.connect(db_a) as a, pg.connect(db_b) as b:
        assert compare.table_digest(a, schema, table) == compare.table_digest(b, schema, table)


@pytest.mark.parametrize("flags, expected", [
    (["-n", "app"], [("app", "settings")]),
    (["-t", "with_dropped", "-t", "public.cache_unlogged"],
     [("public", "cache_unlogged"), ("public", "with_dropped")]),
])
def test_filters(pg, sluice, rich, dbs, tmp_path, flags, expected):
    """-n / -t keep exactly what they name, with its data. (The rich database's other schemas
    and tables depend on objects elsewhere, so like pg_dump's, their filtered output would not
    restore on its own: these are the self-contained ones.)"""
    out = str(tmp_path / "filtered.sql.zst")
    backup(sluice, rich, out, *flags)
    target = dbs.create("filtered")
    restore(sluice, out, target)
    assert user_relations(pg, target) == expected
    for schema, table in expected:
        same_rows(pg, rich, target, schema, table)


@pytest.mark.skipif(not os.path.exists(EXTRA_SQL), reason="no extra objects file")
def test_roundtrip_extra_objects(pg, sluice, dbs, roles, tmp_path):
    """Object kinds beyond the rich database: FDWs, foreign tables, text search, casts..."""
    src = dbs.create("extra")
    load(pg, src, EXTRA_SQL, roles)
    out = str(tmp_path / "extra.sql.gz")
    backup(sluice, src, out, "-j", 2)
    target = dbs.name("extra_copy")
    restore(sluice, out, target, "--create")
    compare.assert_same(pg.conninfo(src), pg.conninfo(target))


# -- focused cases: each isolates one thing the rich database also holds ----------------------

def roundtrip_sql(pg, sluice, dbs, tmp_path, setup_sql, jobs):
    src = dbs.create("focus")
    pg.execute(setup_sql, src)
    out = str(tmp_path / "focus.sql.gz")
    backup(sluice, src, out, "-j", jobs, "--chunk-size", "1")
    target = dbs.create("focus_copy")
    restore(sluice, out, target, "-j", jobs)
    compare.assert_same(pg.conninfo(src), pg.conninfo(target))


def test_trigger_on_partitioned_table_not_fired_by_restore(pg, sluice, dbs, tmp_path):
    """A row trigger defined on a partitioned table is cloned to its partitions: it must be
    created after the partitions' data, like every other trigger."""
    roundtrip_sql(pg, sluice, dbs, tmp_path, """
        CREATE TABLE log (tbl text, n int);
        CREATE TABLE p (id int, v text) PARTITION BY RANGE (id);
        CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);
        CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200);
        CREATE FUNCTION log_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO public.log VALUES (TG_TABLE_NAME, 1); RETURN NEW; END $$;
        CREATE TRIGGER p_log AFTER INSERT ON p FOR EACH ROW EXECUTE FUNCTION log_row();
        INSERT INTO p SELECT i, 'v' || i FROM generate_series(0, 199) i;
    """, 1)


def test_fk_to_partitioned_table_parallel(pg, sluice, dbs, tmp_path):
    """An FK to a partitioned table's primary key needs the partitions' indexes attached to
    the parent's first; with -j 4 they run in the same parallel phase."""
    parts = "\n".join(f"CREATE TABLE s_p{i} PARTITION OF s FOR VALUES WITH "
                      f"(MODULUS 16, REMAINDER {i});" for i in range(16))
    roundtrip_sql(pg, sluice, dbs, tmp_path, f"""
        CREATE TABLE s (id bigint PRIMARY KEY, token text) PARTITION BY HASH (id);
        {parts}
        INSERT INTO s SELECT i, md5(i::text) FROM generate_series(1, 5000) i;
        CREATE TABLE ev (id int PRIMARY KEY, s_id bigint REFERENCES s, what text);
        INSERT INTO ev SELECT i, i, 'x' FROM generate_series(1, 1000) i;
    """, 4)
