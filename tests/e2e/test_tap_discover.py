"""sluice tap --discover: the catalog pipelinewise-tap-postgres writes for the same database.

The expected schemas below are written from pipelinewise-tap-postgres's discovery_utils.py
(schema_for_column, schema_for_column_datatype, include_array_schemas, write_sql_data_type_md,
discover_columns) and db.py (numeric_precision/numeric_scale caps of 100/38, numeric_max,
numeric_min, numeric_multiple_of, compute_tap_stream_id), not from sluice's output.
"""
import json
import os
import subprocess

import pytest

NULL = "null"


def nullable(*types):
    return [NULL, *types]


def int_schema(bits, pk=False):
    return {"type": ["integer"] if pk else nullable("integer"),
            "minimum": -(2 ** (bits - 1)), "maximum": 2 ** (bits - 1) - 1}


def numeric_schema(precision, scale):
    return {"type": nullable("number"), "exclusiveMaximum": True,
            "maximum": 10 ** (precision - scale), "multipleOf": 10 ** (0 - scale),
            "exclusiveMinimum": True, "minimum": -10 ** (precision - scale)}


def array_of(definition):
    return {"type": ["null", "array"], "items": {"$ref": f"#/definitions/{definition}"}}


STRING = {"type": nullable("string")}
UNSUPPORTED = {}

# column name, SQL type, expected JSON Schema, expected sql-datatype
TYPES = [
    ("c_smallint", "smallint", int_schema(16), "smallint"),
    ("c_bigint", "bigint", int_schema(64), "bigint"),
    ("c_numeric_10_2", "numeric(10,2)", numeric_schema(10, 2), "numeric"),
    ("c_numeric", "numeric", numeric_schema(100, 38), "numeric"),
    ("c_numeric_5", "numeric(5)", numeric_schema(5, 0), "numeric"),
    ("c_numeric_wide", "numeric(120,40)", numeric_schema(100, 38), "numeric"),
    ("c_real", "real", {"type": nullable("number")}, "real"),
    ("c_double", "double precision", {"type": nullable("number")}, "double precision"),
    ("c_money", "money", STRING, "money"),
    ("c_boolean", "boolean", {"type": nullable("boolean")}, "boolean"),
    ("c_text", "text", STRING, "text"),
    ("c_varchar", "varchar", STRING, "character varying"),
    ("c_varchar_20", "varchar(20)", {"type": nullable("string"), "maxLength": 20},
     "character varying"),
    ("c_char_3", "char(3)", {"type": nullable("string"), "maxLength": 3}, "character"),
    ("c_uuid", "uuid", STRING, "uuid"),
    ("c_date", "date", {"type": nullable("string"), "format": "date-time"}, "date"),
    ("c_time", "time", {"type": nullable("string"), "format": "time"},
     "time without time zone"),
    ("c_timetz", "timetz", {"type": nullable("string"), "format": "time"},
     "time with time zone"),
    ("c_timestamp", "timestamp(3)", {"type": nullable("string"), "format": "date-time"},
     "timestamp without time zone"),
    ("c_timestamptz", "timestamptz", {"type": nullable("string"), "format": "date-time"},
     "timestamp with time zone"),
    ("c_json", "json", {"type": nullable("object", "array")}, "json"),
    ("c_jsonb", "jsonb", {"type": nullable("object", "array")}, "jsonb"),
    ("c_bit", "bit", {"type": nullable("boolean")}, "bit"),
    ("c_inet", "inet", STRING, "inet"),
    ("c_cidr", "cidr", STRING, "cidr"),
    ("c_macaddr", "macaddr", STRING, "macaddr"),
    ("c_mood", "mood", STRING, "mood"),
    ("c_citext", "citext", STRING, "citext"),
    ("c_hstore", "hstore", {"type": nullable("object"), "properties": {}}, "hstore"),
    # types pipelinewise has no branch for: {} and inclusion "unsupported"
    ("c_interval", "interval", UNSUPPORTED, "interval"),
    ("c_bytea", "bytea", UNSUPPORTED, "bytea"),
    ("c_bit_5", "bit(5)", UNSUPPORTED, "bit(5)"),
    ("c_varbit", "varbit", UNSUPPORTED, "bit varying"),
    ("c_point", "point", UNSUPPORTED, "point"),
    ("c_xml", "xml", UNSUPPORTED, "xml"),
    ("c_tsvector", "tsvector", UNSUPPORTED, "tsvector"),
    ("c_macaddr8", "macaddr8", UNSUPPORTED, "macaddr8"),
    # a domain keeps its own name, which no branch knows
    ("c_posint", "posint", UNSUPPORTED, "posint"),
    # arrays: always ["null", "array"], items by the element type
    ("c_int_array", "integer[]", array_of("sdc_recursive_integer_array"), "integer[]"),
    ("c_bigint_array", "bigint[]", array_of("sdc_recursive_integer_array"), "bigint[]"),
    ("c_smallint_array", "smallint[][]", array_of("sdc_recursive_integer_array"), "smallint[]"),
    ("c_text_array", "text[]", array_of("sdc_recursive_string_array"), "text[]"),
    ("c_varchar_array", "varchar(5)[]", array_of("sdc_recursive_string_array"),
     "character varying[]"),
    ("c_bool_array", "boolean[]", array_of("sdc_recursive_boolean_array"), "boolean[]"),
    ("c_bit_array", "bit(1)[]", array_of("sdc_recursive_boolean_array"), "bit[]"),
    ("c_date_array", "date[]", array_of("sdc_recursive_timestamp_array"), "date[]"),
    ("c_ts_array", "timestamp[]", array_of("sdc_recursive_timestamp_array"),
     "timestamp without time zone[]"),
    ("c_tstz_array", "timestamptz[]", array_of("sdc_recursive_timestamp_array"),
     "timestamp with time zone[]"),
    ("c_numeric_array", "numeric(8,3)[]", array_of("sdc_recursive_decimal_8_3_array"),
     "numeric[]"),
    ("c_numeric_array_plain", "numeric[]", array_of("sdc_recursive_decimal_100_38_array"),
     "numeric[]"),
    ("c_double_array", "float8[]", array_of("sdc_recursive_number_array"),
     "double precision[]"),
    ("c_real_array", "real[]", array_of("sdc_recursive_number_array"), "real[]"),
    ("c_json_array", "json[]", array_of("sdc_recursive_object_array"), "json[]"),
    ("c_jsonb_array", "jsonb[]", array_of("sdc_recursive_object_array"), "jsonb[]"),
    ("c_hstore_array", "hstore[]", array_of("sdc_recursive_object_array"), "hstore[]"),
    ("c_uuid_array", "uuid[]", array_of("sdc_recursive_string_array"), "uuid[]"),
    ("c_time_array", "time[]", array_of("sdc_recursive_string_array"),
     "time without time zone[]"),
    ("c_money_array", "money[]", array_of("sdc_recursive_string_array"), "money[]"),
    ("c_inet_array", "inet[]", array_of("sdc_recursive_string_array"), "inet[]"),
    ("c_mood_array", "mood[]", array_of("sdc_recursive_string_array"), "mood[]"),
    ("c_interval_array", "interval[]", array_of("sdc_recursive_string_array"), "interval[]"),
]


def recursive(scalar, name, fmt=None):
    d = {"type": ["null", scalar, "array"]}
    if fmt:
        d["format"] = fmt
    d["items"] = {"$ref": f"#/definitions/sdc_recursive_{name}_array"}
    return d


BASE_DEFINITIONS = {
    "sdc_recursive_integer_array": recursive("integer", "integer"),
    "sdc_recursive_number_array": recursive("number", "number"),
    "sdc_recursive_string_array": recursive("string", "string"),
    "sdc_recursive_boolean_array": recursive("boolean", "boolean"),
    "sdc_recursive_timestamp_array": recursive("string", "timestamp", "date-time"),
    "sdc_recursive_object_array": recursive("object", "object"),
}


def decimal_definition(precision, scale):
    name = f"sdc_recursive_decimal_{precision}_{scale}_array"
    return name, {"type": ["null", "number", "array"], "multipleOf": 10 ** (0 - scale),
                  "exclusiveMaximum": True, "maximum": 10 ** (precision - scale),
                  "exclusiveMinimum": True, "minimum": -10 ** (precision - scale),
                  "items": {"$ref": f"#/definitions/{name}"}}


HOSTILE_TABLE = 'we"ird tab le'
HOSTILE_COLUMNS = ['col"quote', "col with space", "new\nline"]

SETUP = f"""
CREATE EXTENSION hstore;
CREATE EXTENSION citext;
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE every_type (id integer PRIMARY KEY,
    {", ".join(f"{name} {sqltype}" for name, sqltype, _, _ in TYPES)});
CREATE VIEW v_every AS SELECT id, c_text FROM every_type;
CREATE MATERIALIZED VIEW mv_every AS SELECT id, c_numeric_10_2 FROM every_type;
CREATE TABLE parted (id bigint, region text, note text, PRIMARY KEY (region, id))
    PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
CREATE TABLE nopk (a integer, b text);
INSERT INTO nopk VALUES (1, 'x'), (2, 'y'), (3, 'z');
ANALYZE nopk;
CREATE TABLE orders (id serial PRIMARY KEY);
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept".orders (order_id bigint PRIMARY KEY, total numeric(12,2));
CREATE SCHEMA other;
CREATE TABLE other.t (x integer);
CREATE TABLE "we""ird tab le" ("col""quote" integer PRIMARY KEY, "col with space" text,
    "new
line" text);
CREATE SEQUENCE a_sequence;
ALTER TABLE nopk DROP COLUMN b;
ALTER TABLE nopk ADD COLUMN c varchar(7);
"""


@pytest.fixture(scope="module")
def tapdb(pg):
    name = f"tapdisc_{os.getpid()}"
    pg.create_db(name)
    pg.execute(SETUP, dbname=name)
    yield name
    pg.drop_db(name)


def write_config(tmp_path, pg, dbname, **over):
    cfg = {"host": pg.host, "port": pg.port, "user": pg.user, "password": pg.password,
           "dbname": dbname}
    cfg.update(over)
    for k in [k for k, v in over.items() if v is None]:
        del cfg[k]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return path


def discover(sluice, tmp_path, pg, dbname, **over):
    path = write_config(tmp_path, pg, dbname, **over)
    return sluice.run("tap", "--config", path, "--discover", env={"PGPASSFILE": "/nonexistent"})


@pytest.fixture(scope="module")
def catalog_run(pg, tapdb, tmp_path_factory):
    from conftest import Sluice
    proc = discover(Sluice(pg), tmp_path_factory.mktemp("tap"), pg, tapdb)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def streams(catalog_run):
    return {s["tap_stream_id"]: s for s in json.loads(catalog_run.stdout)["streams"]}


def md_map(stream):
    return {tuple(m["breadcrumb"]): m["metadata"] for m in stream["metadata"]}


def test_layout_is_json_dump_indent_2(catalog_run):
    """pipelinewise's dump_catalog is json.dump({'streams': ...}, indent=2)."""
    doc = json.loads(catalog_run.stdout)
    assert catalog_run.stdout == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert list(doc["streams"][0]) == ["table_name", "stream", "metadata", "tap_stream_id",
                                       "schema"]
    # numbers spelled as Python spells 10 ** n
    assert '"multipleOf": 1e-38' in catalog_run.stdout
    assert '"maximum": 1' + "0" * 62 + "," in catalog_run.stdout
    assert '"multipleOf": 0.01,' in catalog_run.stdout


def test_capped_numeric_is_warned(catalog_run):
    # pipelinewise: "capping decimal precision to 100.  THIS MAY CAUSE TRUNCATION"
    assert 'column "c_numeric_wide" of "public"."every_type": numeric precision capped' \
        in catalog_run.stderr
    assert "c_numeric_10_2" not in catalog_run.stderr


def test_which_relations_are_streams(streams, tapdb, pg):
    assert sorted(streams) == sorted([
        "Sales Dept-orders", "other-t", "public-every_type", "public-mv_every", "public-nopk",
        "public-orders", "public-parted", "public-v_every", f"public-{HOSTILE_TABLE}"])
    # sluice: a partitioned table is one stream; its partitions are not streams of their own
    assert "public-parted_eu" not in streams


def test_every_type(streams):
    s = streams["public-every_type"]
    assert s["table_name"] == s["stream"] == "every_type"
    props = s["schema"]["properties"]
    assert list(props) == ["id"] + [name for name, _, _, _ in TYPES]
    assert props["id"] == int_schema(32, pk=True)
    md = md_map(s)
    assert md[("properties", "id")] == {"sql-datatype": "integer", "inclusion": "automatic",
                                        "selected-by-default": True}
    wrong = []
    for name, sqltype, schema, datatype in TYPES:
        supported = schema != UNSUPPORTED
        want_md = {"sql-datatype": datatype,
                   "inclusion": "available" if supported else "unsupported",
                   "selected-by-default": supported}
        if props[name] != schema or md[("properties", name)] != want_md:
            wrong.append((sqltype, props[name], md[("properties", name)]))
    assert not wrong


def test_definitions(streams):
    defs = streams["public-every_type"]["schema"]["definitions"]
    want = dict(BASE_DEFINITIONS)
    for p, s in ((8, 3), (100, 38)):
        name, d = decimal_definition(p, s)
        want[name] = d
    assert defs == want
    assert list(defs) == list(want)
    # every stream carries the six recursive definitions
    assert streams["public-nopk"]["schema"]["definitions"] == BASE_DEFINITIONS


def test_stream_metadata(streams, tapdb):
    md = md_map(streams["public-every_type"])[()]
    assert list(md) == ["table-key-properties", "schema-name", "database-name", "row-count",
                        "is-view"]
    assert md["table-key-properties"] == ["id"]
    assert md["schema-name"] == "public"
    assert md["database-name"] == tapdb
    assert md["row-count"] == -1  # reltuples before the first ANALYZE
    assert md["is-view"] is False
    assert md_map(streams["public-nopk"])[()]["row-count"] == 3


def test_views(streams):
    for sid in ("public-v_every", "public-mv_every"):
        md = md_map(streams[sid])
        assert md[()]["is-view"] is True
        assert md[()]["table-key-properties"] == []
        assert md[("properties", "id")]["inclusion"] == "available"
        assert streams[sid]["schema"]["properties"]["id"] == int_schema(32)
    assert streams["public-mv_every"]["schema"]["properties"]["c_numeric_10_2"] == \
        numeric_schema(10, 2)


def test_partitioned_table(streams):
    s = streams["public-parted"]
    md = md_map(s)
    assert md[()]["is-view"] is False
    # primary-key columns in column order, as pipelinewise lists them
    assert md[()]["table-key-properties"] == ["id", "region"]
    assert s["schema"]["properties"]["id"] == int_schema(64, pk=True)
    assert s["schema"]["properties"]["region"] == {"type": ["string"]}
    assert s["schema"]["properties"]["note"] == STRING


def test_no_primary_key_and_dropped_column(streams):
    s = streams["public-nopk"]
    md = md_map(s)
    assert md[()]["table-key-properties"] == []
    assert list(s["schema"]["properties"]) == ["a", "c"]
    assert md[("properties", "a")]["inclusion"] == "available"
    assert s["schema"]["properties"]["c"] == {"type": nullable("string"), "maxLength": 7}


def test_schemas_and_stream_names(streams):
    s = streams["Sales Dept-orders"]
    assert s["stream"] == s["table_name"] == "orders"
    assert streams["public-orders"]["stream"] == "orders"
    md = md_map(s)
    assert md[()]["schema-name"] == "Sales Dept"
    assert md[()]["table-key-properties"] == ["order_id"]
    assert s["schema"]["properties"]["total"] == numeric_schema(12, 2)


def test_hostile_names(streams):
    s = streams[f"public-{HOSTILE_TABLE}"]
    assert s["table_name"] == HOSTILE_TABLE
    assert list(s["schema"]["properties"]) == HOSTILE_COLUMNS
    md = md_map(s)
    assert md[()]["table-key-properties"] == ['col"quote']
    assert md[("properties", "new\nline")]["sql-datatype"] == "text"


def test_filter_schemas(sluice, tmp_path, pg, tapdb):
    proc = discover(sluice, tmp_path, pg, tapdb, filter_schemas=" other , Sales Dept")
    assert proc.returncode == 0, proc.stderr
    ids = [s["tap_stream_id"] for s in json.loads(proc.stdout)["streams"]]
    assert ids == ["Sales Dept-orders", "other-t"]
    assert "warning" not in proc.stderr


def test_filter_schemas_naming_a_missing_schema(sluice, tmp_path, pg, tapdb):
    # pipelinewise filters silently; sluice says which name matched no schema
    proc = discover(sluice, tmp_path, pg, tapdb, filter_schemas="other,nosuch")
    assert proc.returncode == 0, proc.stderr
    assert [s["tap_stream_id"] for s in json.loads(proc.stdout)["streams"]] == ["other-t"]
    assert 'schema "nosuch" does not exist' in proc.stderr


def test_nothing_to_discover_fails(sluice, tmp_path, pg, tapdb):
    # pipelinewise: RuntimeError('0 tables were discovered across the entire cluster')
    proc = discover(sluice, tmp_path, pg, tapdb, filter_schemas="nosuch")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "no table, view or materialized view to discover" in proc.stderr
    assert '"nosuch"' in proc.stderr


def test_column_privileges(sluice, tmp_path, pg, tapdb):
    role = f"tap reader {os.getpid()}"
    pg.execute(f"""DROP ROLE IF EXISTS "{role}";
        CREATE ROLE "{role}" LOGIN PASSWORD 'reader-secret';
        GRANT SELECT (id, c_text) ON every_type TO "{role}";""", dbname=tapdb)
    try:
        proc = discover(sluice, tmp_path, pg, tapdb, user=role, password="reader-secret")
        assert proc.returncode == 0, proc.stderr
        streams = json.loads(proc.stdout)["streams"]
        assert [s["tap_stream_id"] for s in streams] == ["public-every_type"]
        assert list(streams[0]["schema"]["properties"]) == ["id", "c_text"]
    finally:
        pg.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"', dbname=tapdb)


# ---- bad input ------------------------------------------------------------------------------

def test_bad_json_names_file_and_position(sluice, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"host": "h",\n "password": hunter2}')
    proc = sluice.run("tap", "--config", path, "--discover")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f'config "{path}": invalid JSON at line 2, column' in proc.stderr
    assert "hunter2" not in proc.stderr and "hunt" not in proc.stderr


def test_missing_config_file(sluice, tmp_path):
    proc = sluice.run("tap", "-c", tmp_path / "nope.json", "-d")
    assert proc.returncode == 2
    assert "nope.json" in proc.stderr and "No such file" in proc.stderr


def test_missing_keys_are_named(sluice, tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"host": "h", "password": "s3cret-pw", "port": None}))
    proc = sluice.run("tap", "--config", path, "--discover")
    assert proc.returncode == 2
    assert "missing required keys: port, user, dbname" in proc.stderr
    assert "s3cret-pw" not in proc.stderr


def test_use_secondary_needs_its_host_and_port(sluice, tmp_path, pg, tapdb):
    proc = discover(sluice, tmp_path, pg, tapdb, use_secondary=True)
    assert proc.returncode == 2
    assert "secondary_host, secondary_port" in proc.stderr


def test_wrong_type_named_without_value(sluice, tmp_path, pg, tapdb):
    proc = discover(sluice, tmp_path, pg, tapdb, port="not-a-port")
    assert proc.returncode == 2
    assert '"port" must be a port number' in proc.stderr
    assert "not-a-port" not in proc.stderr


def test_unknown_keys_warned(sluice, tmp_path, pg, tapdb):
    proc = discover(sluice, tmp_path, pg, tapdb, filter_schemas="other", hostt="x",
                    passwrod="leaky-value")
    assert proc.returncode == 0, proc.stderr
    assert 'unknown key "hostt" ignored' in proc.stderr
    assert 'unknown key "passwrod" ignored' in proc.stderr
    assert "leaky-value" not in proc.stderr
    assert pg.password not in proc.stderr


def test_wrong_password(sluice, tmp_path, pg, tapdb):
    secret = "wrong-pw-Zq81"
    proc = discover(sluice, tmp_path, pg, tapdb, password=secret)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    assert "password authentication failed" in proc.stderr
    assert secret not in proc.stderr


def test_string_port_and_ssl_flag(sluice, tmp_path, pg, tapdb):
    # pipelinewise passes the port through to libpq, so "5432" works as well as 5432;
    # ssl "true" means sslmode=require, which this test server does not offer
    proc = discover(sluice, tmp_path, pg, tapdb, port=str(pg.port), filter_schemas="other")
    assert proc.returncode == 0, proc.stderr
    proc = discover(sluice, tmp_path, pg, tapdb, ssl="true", filter_schemas="other")
    assert proc.returncode == 3
    assert "SSL" in proc.stderr


# ---- flags and --about ----------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["--state", "s.json"], "--state goes with --catalog"),
    (["--catalog", "c.json", "--properties", "p.json"], "one of --catalog and --properties"),
    (["--catalog", "c.json", "--discover"], "separate runs"),
])
def test_sync_flag_combinations(sluice_noserver, args, message):
    proc = sluice_noserver.run("tap", "--config", "x.json", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    proc = sluice_noserver.run("tap", "--catalog", "c.json")
    assert proc.returncode == 2 and "--catalog needs --config" in proc.stderr


def test_nothing_to_do(sluice_noserver):
    proc = sluice_noserver.run("tap")
    assert proc.returncode == 2
    proc = sluice_noserver.run("tap", "--discover")
    assert proc.returncode == 2 and "--config" in proc.stderr


def test_about_json(sluice_noserver):
    proc = sluice_noserver.run("tap", "--about", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    about = json.loads(proc.stdout)
    assert about["name"] == "tap-sluice"
    assert "discover" in about["capabilities"]
    settings = about["settings"]
    assert settings["required"] == ["host", "port", "user", "password", "dbname"]
    for key in ("filter_schemas", "default_replication_method", "max_run_seconds",
                "logical_poll_total_seconds", "break_at_end_lsn", "debug_lsn", "tap_id",
                "itersize", "use_secondary", "secondary_host", "secondary_port", "ssl",
                "wal2json_message_format", "logical_decoding_plugin", "publication_name"):
        assert key in settings["properties"], key
    assert settings["properties"]["port"]["type"] == "integer"


def test_about_text_and_help(sluice_noserver):
    proc = sluice_noserver.run("tap", "--about")
    assert proc.returncode == 0 and "Capabilities: about discover" in proc.stdout
    proc = sluice_noserver.run("tap", "--help")
    assert proc.returncode == 0 and "--discover" in proc.stdout
    proc = sluice_noserver.run("tap", "--about", "--format", "yaml")
    assert proc.returncode == 2


def test_installed_as_tap_sluice(pg, tapdb, sluice, tmp_path):
    """Meltano calls a tap by its executable name with Singer's arguments only: the same
    program named tap-sluice is `sluice tap` (make install puts that link beside sluice)."""
    link = tmp_path / "tap-sluice"
    os.symlink(sluice.bin, link)
    cfg = write_config(tmp_path, pg, tapdb)
    env = dict(pg.env(), PGPASSFILE="/nonexistent")
    proc = subprocess.run([str(link), "--config", str(cfg), "--discover"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == discover(sluice, tmp_path, pg, tapdb).stdout
    about = subprocess.run([str(link), "--about", "--format", "json"], capture_output=True,
                           text=True, timeout=60)
    assert about.returncode == 0 and json.loads(about.stdout)["name"] == "tap-sluice"


def test_meltano_example_names_settings_sluice_knows(sluice_noserver):
    """examples/meltano/meltano.yml stays true: its extractor is tap-sluice, every setting it
    declares is one `sluice tap --about` lists, the required ones are there, and the stream
    names it selects are sluice's <schema>-<table>."""
    import yaml
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "examples", "meltano", "meltano.yml")) as f:
        project = yaml.safe_load(f)
    (tap,) = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-sluice"]
    assert tap["executable"] == "tap-sluice"
    about = json.loads(sluice_noserver.run("tap", "--about", "--format", "json",
                                           check=True).stdout)
    known = about["settings"]["properties"]
    declared = [s["name"] for s in tap["settings"]]
    assert [n for n in declared if n not in known] == []
    assert set(about["settings"]["required"]) <= set(declared)
    assert set(tap["config"]) <= set(declared) and "password" not in tap["config"]
    assert {"catalog", "discover", "state"} <= set(tap["capabilities"])
    for pattern in tap["select"]:
        assert pattern.split(".")[0].count("-") == 1
