"""sluice tap --catalog with LOG_BASED streams from a pgoutput slot (logical_decoding_plugin
"pgoutput"): the main cases of test_tap_logical.py run again on pgoutput (the same RECORDs and
bookmarks as wal2json gives), and the publication pgoutput streams from: made for the
LOG_BASED tables when missing, an existing one lacking a table refused by name."""
import pytest

from tapkit import drop_slots

# Collected again here, with this module's tap fixture (a pgoutput config).
from test_tap_logical import (  # noqa: F401
    ITEMS_SQL, Tap, parse_messages, parts_db, records, slot_of, states,
    test_change_committed_just_before_the_run_is_emitted,
    test_initial_copy_then_changes,
    test_partitioned_table_streams_its_partitions_changes_under_its_own,
    test_replica_identity_full_keeps_an_unchanged_toasted_value,
    test_resume_after_kill_loses_and_repeats_nothing,
    test_same_state_twice_emits_the_same_changes,
)


@pytest.fixture
def items_db(pg, fresh_db):
    db = fresh_db("tpgo")
    pg.execute(ITEMS_SQL, dbname=db)
    yield db
    drop_slots(pg, db)


@pytest.fixture
def tap(sluice, pg, items_db, tmp_path):
    return Tap(sluice, pg, items_db, tmp_path, logical_decoding_plugin="pgoutput")


@pytest.fixture
def plugin_cfg():
    return {"logical_decoding_plugin": "pgoutput"}


def published(pg, db, pub):
    return pg.query("SELECT schemaname || '.' || tablename FROM pg_publication_tables "
                    f"WHERE pubname = '{pub}' ORDER BY 1", dbname=db)


def test_publication_is_made_for_the_log_based_tables(tap):
    assert published(tap.pg, tap.db, slot_of(tap.db)) == []
    s1 = states(tap.sync())[-1]
    assert published(tap.pg, tap.db, slot_of(tap.db)) == [("public.items",)]
    assert tap.pg.query(f"SELECT plugin FROM pg_replication_slots WHERE slot_name = "
                        f"'{slot_of(tap.db)}'")[0][0] == "pgoutput"
    tap.sql("INSERT INTO items (id, name) VALUES (2, 'two')")
    assert [r["id"] for r in records(tap.sync(s1))] == [2]


def test_publication_name_from_config_is_quoted(sluice, pg, items_db, tmp_path):
    tap = Tap(sluice, pg, items_db, tmp_path, logical_decoding_plugin="pgoutput",
              publication_name='My "pub", x')
    s1 = states(tap.sync())[-1]
    assert published(pg, items_db, 'My "pub", x'.replace("'", "''")) == [("public.items",)]
    tap.sql("UPDATE items SET name = 'uno' WHERE id = 1")
    assert [(r["id"], r["name"]) for r in records(tap.sync(s1))] == [(1, "uno")]


def test_existing_publication_without_a_table_is_refused_by_name(tap):
    tap.sql(f"CREATE PUBLICATION {slot_of(tap.db)} FOR TABLE other")
    proc = tap.run(None, ok=False)
    assert proc.returncode != 0
    assert f"publication {slot_of(tap.db)} does not publish public.items" in proc.stderr
    assert not records(parse_messages(proc.stdout))


def test_slot_of_the_other_plugin_is_refused(tap):
    tap.pg.query(f"SELECT pg_create_logical_replication_slot('{slot_of(tap.db)}', 'wal2json')",
                 dbname=tap.db)
    proc = tap.run(None, ok=False)
    assert proc.returncode != 0
    assert "decodes with wal2json" in proc.stderr


def test_publication_made_for_a_partitioned_table_publishes_via_its_root(sluice, pg, parts_db,
                                                                         tmp_path):
    tap = Tap(sluice, pg, parts_db, tmp_path, stream="public-events",
              logical_decoding_plugin="pgoutput")
    tap.sync()
    assert published(pg, parts_db, slot_of(parts_db)) == [("public.events",)]
    assert pg.query("SELECT pubviaroot FROM pg_publication WHERE pubname = "
                    f"'{slot_of(parts_db)}'", dbname=parts_db) == [(True,)]


def test_existing_publication_of_the_partitions_streams_under_the_root(sluice, pg, parts_db,
                                                                       tmp_path):
    """A publication made without publish_via_partition_root sends each change under its
    partition's name: they go to the partitioned table's stream all the same."""
    pg.execute(f"CREATE PUBLICATION {slot_of(parts_db)} FOR TABLE events", dbname=parts_db)
    tap = Tap(sluice, pg, parts_db, tmp_path, stream="public-events",
              logical_decoding_plugin="pgoutput")
    s1 = states(tap.sync())[-1]
    tap.sql("INSERT INTO events VALUES (3, 'ca', 'c'); UPDATE events SET region = 'eu' "
            "WHERE id = 2; CREATE TABLE events_mx PARTITION OF events FOR VALUES IN ('mx');"
            "INSERT INTO events VALUES (4, 'mx', 'd')")
    second = tap.sync(s1)
    assert {m["stream"] for m in second if "stream" in m} == {"public-events"}
    assert [(r["id"], r["region"], bool(r["_sdc_deleted_at"])) for r in records(second)] == [
        (3, "ca", False), (2, "us", True), (2, "eu", False), (4, "mx", False)]


def test_existing_publication_lacking_a_partition_is_refused(sluice, pg, parts_db, tmp_path):
    pg.execute(f"CREATE PUBLICATION {slot_of(parts_db)} FOR TABLE events_eu, events_us",
               dbname=parts_db)
    tap = Tap(sluice, pg, parts_db, tmp_path, stream="public-events",
              logical_decoding_plugin="pgoutput")
    proc = tap.run(None, ok=False)
    assert proc.returncode != 0
    assert f"publication {slot_of(parts_db)} does not publish public.events" in proc.stderr
