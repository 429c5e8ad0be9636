"""The order of a sluice file's restore: by dependencies, not phase barriers.

An index starts as soon as its table's rows are in, while another table's rows are still
loading; the index says which tables each segment needs ("tables"), and a file without them
(written before they existed) restores as before, each phase after the previous one.

Deterministic without timing: the rows of table a can only go in while the test does not hold
an advisory lock (a CHECK constraint on a takes it, shared, for every row). The test holds it
until the index on table b exists, so the restore can only finish if that index was built while
a's COPY waited; with phase barriers it never is, and the test releases the lock after a
deadline and fails instead of hanging.
"""
import json
import subprocess
import time

import pytest

from sluicefile import SluiceFile

GATE_KEY = 424242
DEADLINE_S = 120

SCHEMA = f"""
CREATE FUNCTION public.gate() RETURNS boolean LANGUAGE sql
    AS 'SELECT true FROM (SELECT pg_advisory_xact_lock_shared({GATE_KEY})) s';
CREATE TABLE public.a (id int PRIMARY KEY, v text CHECK (public.gate()));
CREATE TABLE public.b (id int, v text);
CREATE INDEX b_v_idx ON public.b (v);
ALTER TABLE public.b ADD CONSTRAINT b_a_fk FOREIGN KEY (id) REFERENCES public.a (id);
INSERT INTO public.a SELECT g, repeat('a', 200) FROM generate_series(1, 20000) g;
INSERT INTO public.b SELECT g, 'b' || g FROM generate_series(1, 100) g;
"""


@pytest.fixture(scope="module")
def gated_backup(pg, tmp_path_factory):
    from conftest import Sluice
    src = "order_src"
    pg.drop_db(src)
    pg.create_db(src)
    with pg.connect(src) as c:
        c.execute(SCHEMA)
    path = str(tmp_path_factory.mktemp("order") / "gated.sql")
    proc = Sluice(pg).run("backup", "single", src, "-o", path, "--compress", "none")
    assert proc.returncode == 0, proc.stderr
    yield path
    pg.drop_db(src)


def entries(path):
    return SluiceFile.read(path).index["entries"]


def test_index_names_tables(gated_backup):
    by_name = {(e["kind"], e["name"]): e for e in entries(gated_backup)}
    assert by_name[("INDEX", "b_v_idx")]["tables"] == [["public", "b"]]
    assert by_name[("CONSTRAINT", "a.a_pkey")]["tables"] == [["public", "a"]]
    fk = by_name[("FK CONSTRAINT", "b.b_a_fk")]
    assert fk["tables"] == [["public", "b"], ["public", "a"]], fk
    assert "tables" not in by_name[("TABLE DATA", "a")]


def index_exists(conn, name):
    return conn.execute("SELECT 1 FROM pg_class WHERE relname = %s", (name,)).fetchone()


def test_index_starts_beside_another_tables_rows(pg, sluice, fresh_db, gated_backup):
    target = fresh_db("order")
    holder = pg.connect(target)
    watcher = pg.connect(target)
    holder.execute("SELECT pg_advisory_lock(%s)", (GATE_KEY,))
    released = False
    proc = subprocess.Popen([sluice.bin, "restore", gated_backup, "--database", target,
                             "-j", "2", "-v"], env=pg.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        built_while_gated = False
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline and proc.poll() is None:
            if index_exists(watcher, "b_v_idx"):
                built_while_gated = True
                break
            time.sleep(0.05)
        # the rows of a are still held back: nothing of a's COPY is committed
        rows_a = watcher.execute("SELECT count(*) FROM public.a").fetchone()[0] \
            if built_while_gated else None
        holder.execute("SELECT pg_advisory_unlock(%s)", (GATE_KEY,))
        released = True
        out, err = proc.communicate(timeout=DEADLINE_S)
    finally:
        if not released:
            holder.execute("SELECT pg_advisory_unlock(%s)", (GATE_KEY,))
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        holder.close()
        watcher.close()
    assert proc.returncode == 0, err
    assert built_while_gated, f"the index on b waited for a's rows:\n{err}"
    assert rows_a == 0
    starts = [line for line in err.splitlines() if " starts segment " in line]
    order = [line.split(" starts ", 1)[1] for line in starts]
    idx_b = next(i for i, s in enumerate(order) if "INDEX public.b_v_idx" in s)
    pkey_a = next(i for i, s in enumerate(order) if "public.a.a_pkey" in s)
    fk = next(i for i, s in enumerate(order) if "b.b_a_fk" in s)
    assert idx_b < pkey_a < fk, order
    with pg.connect(target) as c:
        assert c.execute("SELECT count(*) FROM public.a").fetchone()[0] == 20000
        assert c.execute("SELECT count(*) FROM public.b").fetchone()[0] == 100
        assert c.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'b_a_fk'"
                         ).fetchone()[0] == 1


def test_file_without_tables_restores_by_phases(pg, sluice, fresh_db, gated_backup, tmp_path):
    """A file written before "tables" existed: each phase after the previous one, same result."""
    old = str(tmp_path / "old.sql")
    f = SluiceFile.read(gated_backup)
    for e in f.index["entries"]:
        e.pop("tables", None)
    f.write(old)
    assert "tables" not in json.dumps(SluiceFile.read(old).index)
    assert sluice.run("verify", old).returncode == 0
    target = fresh_db("old")
    proc = sluice.run("restore", old, "--database", target, "-j", 2, "-v")
    assert proc.returncode == 0, proc.stderr
    order = [line.split(" starts ", 1)[1] for line in proc.stderr.splitlines()
             if " starts segment " in line]
    last_data = max(i for i, s in enumerate(order) if "TABLE DATA" in s)
    first_index = min(i for i, s in enumerate(order) if "INDEX" in s or "CONSTRAINT" in s)
    assert last_data < first_index, order
    with pg.connect(target) as c:
        assert c.execute("SELECT count(*) FROM public.a").fetchone()[0] == 20000
        assert c.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'b_v_idx'"
                         ).fetchone()[0] == 1


def test_tables_from_a_hostile_index_change_only_the_order(pg, sluice, fresh_db, gated_backup,
                                                          tmp_path):
    """Tables a file names wrongly (one without rows in the file, a TABLE DATA segment naming
    its own table, the pre-data naming a table) cannot make a cycle or skip a barrier the
    restore needs: it still completes with everything in place."""
    odd = str(tmp_path / "odd.sql")
    f = SluiceFile.read(gated_backup)
    for e in f.index["entries"]:
        if e["kind"] == "INDEX":
            e["tables"] = [["public", "nope"]]
        elif e["kind"] == "TABLE DATA":
            e["tables"] = [["public", e["name"]], ["public", "b"]]
        elif e["kind"] == "PRE-DATA":
            e["tables"] = [["public", "a"]]
    f.write(odd)
    target = fresh_db("odd")
    proc = sluice.run("restore", odd, "--database", target, "-j", 3, "-v")
    assert proc.returncode == 0, proc.stderr
    with pg.connect(target) as c:
        assert c.execute("SELECT count(*) FROM public.a").fetchone()[0] == 20000
        assert c.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'b_v_idx'"
                         ).fetchone()[0] == 1
        assert c.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'b_a_fk'"
                         ).fetchone()[0] == 1
