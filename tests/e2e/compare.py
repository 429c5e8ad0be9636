"""Compare two PostgreSQL databases the way a user would judge a restore.

What must be equal:
  * the schema, as `pg_dump --schema-only` prints it (pg_dump is an oracle here, in tests only),
    after removing only what differs between two dumps of identical databases: psql's
    \\restrict / \\unrestrict keys (random per dump) and the database's own name;
  * every table's rows (leaf tables read with ONLY, so inheritance parents do not repeat their
    children's rows; populated materialized views too), as a row count and a digest of the
    sorted COPY text lines, so column order, types and every byte of every value count;
  * which materialized views are populated;
  * every sequence's last_value and is_called;
  * every large object's contents, owner, ACL and comment.

Use from tests:   differences(conninfo_a, conninfo_b) -> list of strings (empty when equal)
                  assert_same(conninfo_a, conninfo_b)
                  (conninfo_a may be a Snapshot(conninfo): an oracle read once for many copies)
From a shell:     python3 compare.py "dbname=a ..." "dbname=b ..."   (exit 0 when equal)
pg_dump is taken from SLUICE_PG_BINDIR (default /usr/lib/postgresql/15/bin).
"""
import difflib
import hashlib
import os
import re
import subprocess
import sys

import psycopg
from psycopg import sql

BINDIR = os.environ.get("SLUICE_PG_BINDIR", "/usr/lib/postgresql/15/bin")

# Pinned so that both sides print values the same way whatever the server defaults are.
SESSION = ("SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC';"
           "SET extra_float_digits = 3; SET bytea_output = 'hex'; SET row_security = off;")

_USER_NS = ("n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'")
_NOT_EXT_MEMBER = ("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
                   "AND d.objid = c.oid AND d.deptype = 'e')")


def _dbname(conninfo):
    return psycopg.conninfo.conninfo_to_dict(conninfo).get("dbname", "")


def schema_text(conninfo, *extra_args):
    """`pg_dump --schema-only` of the database, normalised (see the module docstring)."""
    out = subprocess.run([f"{BINDIR}/pg_dump", "--schema-only", *extra_args, "-d", conninfo],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError(f"pg_dump failed on {_dbname(conninfo)}: {out.stderr}")
    db = _dbname(conninfo)
    lines = []
    for line in out.stdout.splitlines():
        if line.startswith("\\restrict ") or line.startswith("\\unrestrict "):
            continue
        if db and re.match(r"^(COMMENT ON DATABASE|ALTER DATABASE|CREATE DATABASE|\\connect)",
                           line):
            line = line.replace(f'"{db}"', "DBNAME")
            line = re.sub(rf"\b{re.escape(db)}\b", "DBNAME", line)
        lines.append(line)
    return lines


def _relations(conn):
    """(schema, name, relkind, populated) of every table and materialized view holding rows."""
    return conn.execute(
        f"SELECT n.nspname, c.relname, c.relkind, c.relispopulated "
        f"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'm') AND {_USER_NS} AND {_NOT_EXT_MEMBER} "
        f"ORDER BY 1, 2").fetchall()


def table_digest(conn, schema, name):
    """(rows, sha256 of the sorted COPY text lines) of one table, ONLY its own rows."""
    query = sql.SQL("COPY (SELECT * FROM ONLY {}.{}) TO STDOUT").format(
        sql.Identifier(schema), sql.Identifier(name))
    lines = []
    tail = b""
    with conn.cursor() as cur:
        with cur.copy(query) as copy:
            for chunk in copy:
                data = tail + bytes(chunk)
                parts = data.split(b"\n")
                tail = parts.pop()
                lines.extend(parts)
    if tail:
        lines.append(tail)
    lines.sort()
    h = hashlib.sha256()
    for line in lines:
        h.update(line)
        h.update(b"\n")
    return len(lines), h.hexdigest()


def data_state(conninfo):
    """Everything about the data that the schema dump does not show, as a dict."""
    state = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SESSION)
        for schema, name, kind, populated in _relations(conn):
            key = f"{schema}.{name}"
            if kind == "m":
                state[f"matview populated {key}"] = populated
                if not populated:
                    continue
            rows, digest = table_digest(conn, schema, name)
            state[f"rows {key}"] = rows
            state[f"digest {key}"] = digest
        seqs = conn.execute(
            f"SELECT n.nspname, c.relname FROM pg_class c "
            f"JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind = 'S' AND {_USER_NS} AND {_NOT_EXT_MEMBER} ORDER BY 1, 2").fetchall()
        for schema, name in seqs:
            value = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name))).fetchone()
            state[f"sequence {schema}.{name}"] = tuple(value)
        los = conn.execute(
            "SELECT m.oid, pg_get_userbyid(m.lomowner), m.lomacl::text, "
            "obj_description(m.oid, 'pg_largeobject') FROM pg_largeobject_metadata m "
            "ORDER BY 1").fetchall()
        for oid, owner, acl, comment in los:
            size, digest = conn.execute(
                "SELECT length(lo_get(%s)), md5(lo_get(%s))", (oid, oid)).fetchone()
            state[f"large object {oid}"] = (owner, acl, comment, size, digest)
    return state


class Snapshot:
    """What differences() compares of one database, taken once: a database that several
    copies are compared with (an oracle) is read once."""

    def __init__(self, conninfo):
        self.name = _dbname(conninfo)
        self.schema = schema_text(conninfo)
        self.data = data_state(conninfo)


def differences(conninfo_a, conninfo_b, max_diff_lines=80):
    """Human-readable list of what differs between the two databases (conninfo_a may be a
    Snapshot); empty when equal."""
    a = conninfo_a if isinstance(conninfo_a, Snapshot) else Snapshot(conninfo_a)
    b = Snapshot(conninfo_b)
    diffs = []
    if a.schema != b.schema:
        udiff = list(difflib.unified_diff(a.schema, b.schema, a.name, b.name, n=2,
                                          lineterm=""))
        shown = "\n".join(udiff[:max_diff_lines])
        more = len(udiff) - max_diff_lines
        diffs.append("pg_dump --schema-only differs:\n" + shown +
                     (f"\n... {more} more diff lines" if more > 0 else ""))
    a_data, b_data = a.data, b.data
    for key in sorted(set(a_data) | set(b_data)):
        va, vb = a_data.get(key, "<missing>"), b_data.get(key, "<missing>")
        if va != vb:
            diffs.append(f"{key}: {va!r} != {vb!r}")
    return diffs


# The catalogs whose rows are objects a database backup holds. pg_dump, the oracle above, does
# not print every one of them (members added to a family of pg_catalog, constraints that
# partitions inherit), so object_differences() counts them itself.
_CENSUS_CATALOGS = (
    "pg_class", "pg_proc", "pg_type", "pg_constraint", "pg_trigger", "pg_policy", "pg_rewrite",
    "pg_opfamily", "pg_opclass", "pg_amop", "pg_amproc", "pg_operator", "pg_cast",
    "pg_conversion", "pg_collation", "pg_ts_config", "pg_ts_dict", "pg_ts_parser",
    "pg_ts_template", "pg_statistic_ext", "pg_publication", "pg_publication_rel",
    "pg_publication_namespace", "pg_event_trigger", "pg_extension", "pg_namespace",
    "pg_foreign_data_wrapper", "pg_foreign_server", "pg_user_mapping", "pg_default_acl",
    "pg_language", "pg_transform", "pg_attrdef", "pg_am", "pg_largeobject_metadata")
# Objects made by users have OIDs from FirstNormalObjectId (16384) on. Left out: temporary and
# toast schemas, and shell operators nothing refers to (only a reference creates a shell).
_CENSUS_SQL = (
    "SELECT x.cls::text, i.type, COALESCE(("
    # A foreign key to a partitioned table has a row for each partition it references, on
    # the same table, named by the server: counted by what they are, not by that name.
    "  SELECT format('%I on %s, for partition %s', p.conname, c.conrelid::regclass, "
    "         c.confrelid::regclass) FROM pg_constraint c JOIN pg_constraint p "
    "  ON p.oid = c.conparentid AND p.conrelid = c.conrelid "
    "  WHERE x.cls = 'pg_constraint'::regclass AND c.oid = x.oid), i.identity) FROM (" +
    " UNION ALL ".join(f"SELECT '{c.replace('_metadata', '')}'::regclass AS cls, oid "
                       f"FROM {c} WHERE oid >= 16384" for c in _CENSUS_CATALOGS) +
    ") x CROSS JOIN LATERAL pg_identify_object(x.cls, x.oid, 0) i "
    "WHERE coalesce(i.schema, '') <> 'pg_toast' "
    "AND NOT (i.type = 'schema' AND (i.identity LIKE 'pg\\_temp\\_%' "
    "         OR i.identity LIKE 'pg\\_toast\\_temp\\_%')) "
    "AND NOT (x.cls = 'pg_operator'::regclass AND EXISTS (SELECT 1 FROM pg_operator o "
    "         WHERE o.oid = x.oid AND o.oprcode = 0 AND NOT EXISTS (SELECT 1 FROM pg_operator r "
    "         WHERE x.oid IN (r.oprcom, r.oprnegate))))")
# names that carry an OID: the toast tables' and foreign keys' internal triggers'
_OID_NAMES = re.compile(r"(pg_toast_|RI_ConstraintTrigger_[ac]_)\d+")


def objects(conninfo):
    """How many of each (catalog, type, identity) the database holds, user objects only."""
    counts = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for cls, kind, identity in conn.execute(_CENSUS_SQL):
            key = (cls, kind, _OID_NAMES.sub(r"\1N", identity))
            counts[key] = counts.get(key, 0) + 1
    return counts


def object_differences(conninfo_a, conninfo_b):
    """Objects that one database holds more often than the other; empty when none."""
    a, b = objects(conninfo_a), objects(conninfo_b)
    return [f"{cls} {kind} {identity}: {a.get((cls, kind, identity), 0)} != "
            f"{b.get((cls, kind, identity), 0)}"
            for cls, kind, identity in sorted(set(a) | set(b))
            if a.get((cls, kind, identity), 0) != b.get((cls, kind, identity), 0)]


def assert_same(conninfo_a, conninfo_b):
    diffs = differences(conninfo_a, conninfo_b)
    if diffs:
        name_a = conninfo_a.name if isinstance(conninfo_a, Snapshot) else _dbname(conninfo_a)
        raise AssertionError(f"databases {name_a} and {_dbname(conninfo_b)} "
                             f"differ in {len(diffs)} ways:\n" + "\n".join(diffs))


def main(argv):
    if len(argv) != 3:
        print("usage: compare.py CONNINFO_A CONNINFO_B", file=sys.stderr)
        return 2
    diffs = differences(argv[1], argv[2])
    for d in diffs:
        print(d)
    print("same" if not diffs else f"{len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
