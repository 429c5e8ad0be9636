"""What the sluice tap test files share: writing a config and a catalog, running the tap,
reading its messages the way a Singer target reads them, and checking RECORDs against their
SCHEMA."""
import decimal
import json

import jsonschema


def write_json(path, doc):
    path.write_text(json.dumps(doc))
    return path


def config(tmp_path, pg, dbname, **over):
    """A config for the test cluster (its password in the file, as users write it)."""
    cfg = {"host": pg.host, "port": pg.port, "user": pg.user, "password": pg.password,
           "dbname": dbname}
    cfg.update(over)
    return write_json(tmp_path / "config.json", cfg)


def run_tap(sluice, *args):
    """sluice tap ARGS, with no passfile: the password comes from the config only."""
    return sluice.run("tap", *args, env={"PGPASSFILE": "/nonexistent"})


def discover(sluice, cfg):
    proc = run_tap(sluice, "--config", cfg, "--discover")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def parse_messages(text):
    """One JSON message a line; numbers as Decimal, as a Singer target reads them. Lines end
    at "\\n" only (a target reads stdin that way): a value may hold U+2028."""
    assert text.endswith("\n") or text == ""
    return [json.loads(line, parse_float=decimal.Decimal) for line in text.split("\n")[:-1]]


def check_validates(messages):
    """Every RECORD validates against the last SCHEMA of its stream, sent before it."""
    schemas = {}
    for m in messages:
        if m["type"] == "SCHEMA":
            schemas[m["stream"]] = jsonschema.Draft4Validator(m["schema"])
        elif m["type"] == "RECORD":
            assert m["stream"] in schemas, f"RECORD before the SCHEMA of {m['stream']}"
            with decimal.localcontext() as ctx:
                ctx.prec = 200  # the multipleOf of a numeric of many digits
                schemas[m["stream"]].validate(m["record"])


def drop_slots(pg, db):
    """Drops the replication slots of database db. A run or pg_recvlogical killed by a test may
    leave its walsender holding a slot for a moment: it is ended and the slots waited for."""
    while pg.query("SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots "
                   f"WHERE database = '{db}' AND active")[0][0]:
        pass
    pg.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
               f"WHERE database = '{db}'")
