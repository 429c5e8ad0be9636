#!/usr/bin/python3
"""Makes numbers.tsv (see README): random floats, numerics and jsonb documents as a throwaway
PostgreSQL 15 (tests/e2e/pgcluster.py) prints them in COPY TO's text with the settings of
sl_tap_value_session_sql(), each with the JSON that pipelinewise-tap-postgres writes for it,
computed by Python itself: repr(float(text)) (psycopg2 reads a float with float()),
str(Decimal(text)) (psycopg2's numeric; simplejson's use_decimal writes str()), and the
json.loads() document written compactly. Run from the repository's root:
    /usr/bin/python3 tests/unit/data/tapvalue/make_fixtures.py"""
import json
import os
import sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "e2e"))
from pgcluster import PgCluster  # noqa: E402

SETTINGS = "SET extra_float_digits = 3; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY';"

QUERIES = [
    ("float", """SELECT (r * 10 ^ e)::float8, (r * 10 ^ (e / 8))::float4
                 FROM (SELECT (random() - 0.5) * 2 AS r, (random() * 600 - 300)::int AS e
                       FROM generate_series(1, 400)) s"""),
    ("double precision", """SELECT unnest(ARRAY['1e-320'::float8, '4.9e-324',
                 '2.2250738585072014e-308', '1e15', '1e16', '9007199254740993', '0.1', '1e-4',
                 '9.999e-5', '123456.7', '-0', 'NaN', 'Infinity', '-Infinity'])"""),
    ("real", """SELECT unnest(ARRAY['1.4e-45'::float4, '3.4028235e38', '16777217', '0.1',
                                    '1e-5', '1e15', '1e16', '-0', 'NaN'])"""),
    ("numeric", """SELECT round((random() - 0.5)::numeric * 10::numeric ^ e, s)
                   FROM (SELECT (random() * 40 - 20)::int AS e, (random() * 40)::int AS s
                         FROM generate_series(1, 300)) x"""),
    ("jsonb", """SELECT jsonb_build_array(round((random() - 0.5)::numeric * 10::numeric ^ e, s),
                                          (random() * 10 ^ e)::float8, -e)
                 FROM (SELECT (random() * 40 - 20)::int AS e, (random() * 40)::int AS s
                       FROM generate_series(1, 200)) x"""),
]


def python_float(text):
    return "null" if text in ("NaN", "Infinity", "-Infinity") else repr(float(text))


def rows(kind, line):
    if kind == "float":
        a, b = line.split("\t")
        return [("double precision", a, python_float(a)), ("real", b, python_float(b))]
    if kind in ("double precision", "real"):
        return [(kind, line, python_float(line))]
    if kind == "numeric":
        return [("numeric", line, str(Decimal(line)))]
    return [("jsonb", line, json.dumps(json.loads(line), separators=(",", ":")))]


def main():
    pg = PgCluster(name="fixtures").start()
    out = []
    try:
        for kind, sql in QUERIES:
            text = pg.psql("postgres", "-c", SETTINGS, "-c", f"COPY ({sql}) TO STDOUT").stdout
            for line in filter(None, text.split("\n")):
                assert "\\" not in line  # no COPY escapes: the fields are the values
                out += rows(kind, line)
    finally:
        pg.stop()
        pg.destroy()
    with open(os.path.join(HERE, "numbers.tsv"), "w") as f:
        for r in out:
            f.write("\t".join(r) + "\n")


if __name__ == "__main__":
    main()
