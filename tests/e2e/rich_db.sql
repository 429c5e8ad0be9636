-- tests/e2e/rich_db.sql: a database holding every object kind and every built-in data type of
-- PostgreSQL 15 that a logical backup must carry, with awkward names and awkward values.
--
-- Load with psql into an empty database, passing the names of two roles that the caller has
-- created (and drops afterwards):
--   psql -v ON_ERROR_STOP=1 -v reader=ROLE1 -v owner=ROLE2 -d DB -f rich_db.sql
-- :reader gets grants and is named in policies; :owner owns some objects.
-- Values come from md5() of generate_series, not from random(), so two loads hold the same data
-- (except the gen_random_uuid() column default of ident_default.u).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET search_path = public;
SELECT setseed(0.4242);

--------------------------------------------------------------------------------------------
-- Schemas, one whose name needs quoting, one owned by another role
--------------------------------------------------------------------------------------------
CREATE SCHEMA "Sales Data";
CREATE SCHEMA ext;
CREATE SCHEMA app AUTHORIZATION :"owner";
COMMENT ON SCHEMA "Sales Data" IS 'sales; with a "quote" and a newline
second line';

--------------------------------------------------------------------------------------------
-- Extensions from contrib (one in its own schema)
--------------------------------------------------------------------------------------------
CREATE EXTENSION hstore SCHEMA ext;
CREATE EXTENSION pg_trgm;
CREATE EXTENSION citext;
CREATE EXTENSION pgcrypto;
CREATE EXTENSION btree_gist;
CREATE EXTENSION ltree;

--------------------------------------------------------------------------------------------
-- Collations: ICU (deterministic and not) and libc
--------------------------------------------------------------------------------------------
CREATE COLLATION "de_phonebook" (provider = icu, locale = 'de-u-co-phonebk');
CREATE COLLATION ci_icu (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION "Sales Data".c_libc (provider = libc, locale = 'C');
CREATE COLLATION posix_utf8 (provider = libc, locale = 'C.UTF-8');
COMMENT ON COLLATION ci_icu IS 'case-insensitive';

--------------------------------------------------------------------------------------------
-- Types: enum (with a value added later, so sort order differs from OID order),
-- composite (nested), domain with constraints, range (with its multirange)
--------------------------------------------------------------------------------------------
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
ALTER TYPE mood ADD VALUE 'ecstatic' AFTER 'happy';
CREATE TYPE "Sales Data"."Quote's" AS ENUM ('it''s', 'say "hi"', 'back\slash', 'Ünïcødé ✓');
CREATE TYPE address AS (street text, city varchar(40), zip char(5));
CREATE TYPE person AS (name text, home address, tags text[], m mood);
CREATE DOMAIN posint AS integer NOT NULL DEFAULT 1
    CONSTRAINT posint_positive CHECK (VALUE > 0)
    CONSTRAINT posint_small CHECK (VALUE < 1000000);
CREATE DOMAIN email AS citext CHECK (VALUE ~ '^[^@]+@[^@]+$');
CREATE DOMAIN short_text AS text COLLATE "C" CHECK (length(VALUE) <= 20);
CREATE DOMAIN nn_nv AS int;
ALTER DOMAIN nn_nv ADD CONSTRAINT nn_nv_check CHECK (VALUE <> 13) NOT VALID;
CREATE FUNCTION float8_diff(float8, float8) RETURNS float8
    LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 - $2';
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8_diff,
                                 multirange_type_name = floatmultirange);
CREATE TYPE textrange_c AS RANGE (subtype = text, collation = "C");
COMMENT ON TYPE mood IS 'how it feels';
COMMENT ON DOMAIN posint IS 'a positive int';
ALTER TYPE address OWNER TO :"owner";

--------------------------------------------------------------------------------------------
-- Sequences: options, is_called false, OWNED BY, unlogged, smallint
--------------------------------------------------------------------------------------------
CREATE SEQUENCE seq_plain;
SELECT nextval('seq_plain') FROM generate_series(1, 17);
CREATE SEQUENCE "Sales Data"."Order Seq" AS smallint INCREMENT BY -3 MINVALUE -30000
    MAXVALUE 100 START WITH 99 CACHE 5 CYCLE;
SELECT nextval('"Sales Data"."Order Seq"') FROM generate_series(1, 4);
CREATE SEQUENCE seq_not_called START 1000;
SELECT setval('seq_not_called', 1234, false);
CREATE SEQUENCE seq_untouched;
CREATE UNLOGGED SEQUENCE seq_unlogged;
SELECT nextval('seq_unlogged');
CREATE SEQUENCE seq_owned;
COMMENT ON SEQUENCE seq_plain IS 'seventeen';

--------------------------------------------------------------------------------------------
-- Every built-in data type as a column, with edge values and NULLs everywhere
--------------------------------------------------------------------------------------------
CREATE TABLE all_types (
    id            int PRIMARY KEY,
    c_int2        int2,
    c_int4        int4,
    c_int8        int8,
    c_numeric     numeric,
    c_numeric_ps  numeric(12, 4),
    c_float4      float4,
    c_float8      float8,
    c_money       money,
    c_text        text,
    c_varchar     varchar(30),
    c_char        char(8),
    c_qchar       "char",
    c_name        name,
    c_bytea       bytea,
    c_bool        bool,
    c_date        date,
    c_time        time,
    c_timetz      timetz,
    c_timestamp   timestamp(3),
    c_timestamptz timestamptz,
    c_interval    interval,
    c_interval_ym interval year to month,
    c_uuid        uuid,
    c_json        json,
    c_jsonb       jsonb,
    c_xml         xml,
    c_inet        inet,
    c_cidr        cidr,
    c_macaddr     macaddr,
    c_macaddr8    macaddr8,
    c_point       point,
    c_line        line,
    c_lseg        lseg,
    c_box         box,
    c_path        path,
    c_polygon     polygon,
    c_circle      circle,
    c_bit         bit(5),
    c_varbit      varbit(20),
    c_tsvector    tsvector,
    c_tsquery     tsquery,
    c_int4range   int4range,
    c_int8range   int8range,
    c_numrange    numrange,
    c_tsrange     tsrange,
    c_tstzrange   tstzrange,
    c_daterange   daterange,
    c_int4multi   int4multirange,
    c_int8multi   int8multirange,
    c_nummulti    nummultirange,
    c_tsmulti     tsmultirange,
    c_tstzmulti   tstzmultirange,
    c_datemulti   datemultirange,
    c_floatrange  floatrange,
    c_floatmulti  floatmultirange,
    c_pg_lsn      pg_lsn,
    c_oid         oid,
    c_xid8        xid8,
    c_snapshot    pg_snapshot,
    c_regtype     regtype,
    c_regconfig   regconfig,
    c_int_arr     int[],
    c_int_arr2    int[][],
    c_text_arr    text[],
    c_text_arr2   text[][],
    c_json_arr    jsonb[],
    c_mood        mood,
    c_mood_arr    mood[],
    c_quote_enum  "Sales Data"."Quote's",
    c_address     address,
    c_person      person,
    c_person_arr  person[],
    c_posint      posint,
    c_email       email,
    c_short       short_text,
    c_hstore      ext.hstore,
    c_citext      citext,
    c_ltree       ltree,
    c_tsrange_arr tsrange[],
    c_jsonpath    jsonpath,
    c_refcursor   refcursor,
    c_tid         tid,
    c_xid         xid,
    c_cid         cid,
    c_txid_snap   txid_snapshot,
    c_bpchar      bpchar,
    c_timetz_arr  timetz[],
    c_box_arr     box[]
);
COMMENT ON TABLE all_types IS 'one column per built-in type';
COMMENT ON COLUMN all_types.c_text IS 'text with "tabs", newlines and ''quotes''';

INSERT INTO all_types VALUES
(1, 32767, 2147483647, 9223372036854775807, 'NaN', 12345678.1234, 'NaN', 'NaN', '$92,233,720,368,547,758.07',
 E'tab\there\nnewline\r\ncrlf back\\slash ''single'' "double" Ünïcødé ✓ 日本 \\. end',
 'Ünïcødé ✓ 日本', 'ab', 'x', 'a name',
 '\x00ff10de'::bytea, true, 'infinity', '24:00:00', '23:59:59.999999+14:59', 'infinity', 'infinity',
 '-178000000 years', '-2 years -3 months',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
 '{"a": [1, 2.50, "x"], "a": "dup key kept in json", "u": "\u00e9\u0000x"}'::text::json,
 '{"k": {"nested": [null, true, 1.0e10, "\t\n"]}, "é": "日本"}',
 '<doc a="1"><![CDATA[x < y & z]]><e>Ünïcødé</e></doc>',
 '2001:db8::1/64', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
 '(1.5,-2.25)', '{1,-1,0}', '[(0,0),(1,1)]', '((3,4),(1,2))', '[(0,0),(1,1),(2,0)]',
 '((0,0),(0,1),(1,1),(1,0))', '<(1,1),5>',
 B'10101', B'1100110011', 'a fat cat:2A sat:3,5B on a mat', 'fat & (rat | !cat) <-> mat',
 '[1,10)', '(,5]', '[1.5,2.5]', '["2020-01-01 00:00","infinity")', '[-infinity,"2021-06-01 12:00+02")',
 '[2020-01-01,2020-02-01)',
 '{[1,3),[5,8)}', '{[1,2), [10,)}', '{[0.5,1.5]}', '{}', '{[2020-01-01 00:00+00,2020-01-02 00:00+00)}',
 '{[2020-01-01,2020-01-05), [2021-01-01,)}', '[0.5,1e300)', '{[1,2], [3,4]}',
 '16/B374D848', 4294967295, '123456789', '10:20:10,14,15', 'integer', 'english',
 '{1,NULL,3}', '{{1,2},{3,NULL}}', '{"a b","c,d","e\"f","g\\h",NULL,"NULL",""}',
 '{{"x","y"},{NULL,"日本"}}', ARRAY['{"a":1}'::jsonb, NULL, '[]'::jsonb],
 'meh', '{happy,sad,NULL,ecstatic}', 'it''s',
 ROW('1 Main St, Apt "2"', 'Zürich', '80 01'),
 ROW('Ann', ROW('x', 'y', NULL), '{a,"b c",NULL}', 'ok'),
 ARRAY[ROW('Bo', NULL, '{}', 'sad')::person, NULL],
 999999, 'Some.One@Example.COM', 'short', 'a=>1, "b c"=>NULL, "k\"q"=>"v\\w"',
 'MiXeD CaSe', 'Top.Science.Astronomy',
 ARRAY['[2020-01-01,2020-01-02)'::tsrange, 'empty']),
(2, -32768, -2147483648, -9223372036854775808, '-Infinity', -0.0001, '-Infinity', '-Infinity', '-$92,233,720,368,547,758.08',
 '', '', '', '"', '',
 '\x'::bytea, false, '-infinity', '00:00:00', '00:00:00-15:59', '-infinity', '-infinity',
 '178000000 years 11 months 30 days 23:59:59.999999', '0 days',
 '00000000-0000-0000-0000-000000000000', '[]', '{}', '', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00',
 '00:00:00:00:00:00:00:00', '(0,0)', '{0,1,0}', '[(0,0),(0,0)]', '((0,0),(0,0))', '((0,0))',
 '((0,0))', '<(0,0),0>', B'00000', B'', '', 'a', 'empty', 'empty', 'empty', 'empty', 'empty', 'empty',
 '{}', '{}', '{}', '{}', '{}', '{}', 'empty', '{}',
 '0/0', 0, '0', '1:1:', 'text', 'simple',
 '{}', '{}', '{}', '{}', '{}', 'sad', '{}', 'say "hi"', ROW(NULL, NULL, NULL), ROW(NULL, NULL, NULL, NULL),
 '{}', 1, 'a@b', '', '', '', '', '{}'),
(3, 0, 0, 0, 'Infinity', 0, '-0', '1e-45', 0, E'\\.', E'\\.\n\\.', E'\\', '\', E'\\N', '\x5c2e0a'::bytea,
 NULL, '4713-01-01 BC', '12:34:56.789', '12:34:56+05:30', '0001-01-01 00:00:00 BC', '294276-12-31 23:59:59.999999+00',
 '1 day -00:00:01', '1 year', md5('3')::uuid, 'null', 'null', '<?xml version="1.0"?><a/>', '::ffff:1.2.3.4', '2001:db8::/32',
 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff', '(1e300,-1e-300)', '{1,0,-5}', '[(1,2),(3,4)]', '((1,1),(1,1))',
 '((1,2),(3,4))', '((1,2),(3,4),(5,0))', '<(-1,-1),0.5>', B'11111', B'1', $$'\'quoted\'':1 'with space':2$$,
 $$'\'quoted\'' & 'with space':*$$, '[-2147483648,2147483647)', '(-9223372036854775808,)', '(,)', '(,)', '(,)', '(,)',
 '{(,)}', '{(,)}', '{(,)}', '{(,)}', '{(,)}', '{(,)}', '(,)', '{(,)}',
 'FFFFFFFF/FFFFFFFF', 12345, '18446744073709551615', '100:200:150,199', 'timestamp with time zone', 'german',
 '{-1}', '{{NULL,NULL}}', '{"\\.", "\t", "\n", "COPY t FROM stdin;"}', '{{""}}', '{null}', 'ecstatic',
 '{ecstatic}', 'back\slash', ROW('', '', ''), ROW('', ROW('', '', ''), '{""}', NULL), '{}', 42, 'x@y.z', 'twenty chars exactly',
 'a=>"", b=>"\\"', 'ÅNGSTRÖM', 'a', '{NULL}');
UPDATE all_types SET c_jsonpath = '$.a[*] ? (@ > 1 && @ like_regex "^x" flag "i")',
    c_refcursor = 'cur "1"', c_tid = '(4294967295,65535)', c_xid = '4294967295', c_cid = '7',
    c_txid_snap = '10:20:10,14', c_bpchar = 'trailing   ', c_timetz_arr = '{00:00+00,NULL}',
    c_box_arr = '{(1,1),(0,0);(2,2),(1,1)}' WHERE id = 1;
UPDATE all_types SET c_jsonpath = 'strict $."key with space".**{2 to last}', c_refcursor = '',
    c_tid = '(0,0)', c_xid = '0', c_cid = '0', c_txid_snap = '1:1:', c_bpchar = '',
    c_timetz_arr = '{}', c_box_arr = '{}' WHERE id = 2;

-- A row that is NULL in every nullable column.
INSERT INTO all_types (id, c_posint) VALUES (4, 7);

-- Generated rows: every column filled from one counter, a NULL in a different column per row.
INSERT INTO all_types (id, c_int2, c_int4, c_int8, c_numeric, c_float4, c_float8, c_money, c_text,
                       c_varchar, c_char, c_bytea, c_bool, c_date, c_time, c_timestamptz,
                       c_interval, c_uuid, c_jsonb, c_json, c_inet, c_point, c_int_arr, c_mood,
                       c_posint, c_tsvector, c_int4range, c_hstore)
SELECT i, (i % 30000)::int2, i * 7, i::int8 * 1000000007, (i / 7.0)::numeric, i / 3.0, i / 7.0,
       (i * 1.25)::numeric::money,
       CASE WHEN i % 11 = 0 THEN NULL ELSE md5(i::text) || E'\t' || repeat('Ü', i % 5) || E'\n' END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE left(md5(i::text), 30) END,
       left(md5((i * 3)::text), 8), decode(md5(i::text), 'hex'), i % 3 = 0,
       date '2000-01-01' + i, time '00:00' + i * interval '17 second',
       timestamptz '2020-01-01 00:00+00' + i * interval '37 minute',
       i * interval '1 hour 3 second', md5(i::text)::uuid,
       jsonb_build_object('i', i, 's', md5(i::text), 'arr', jsonb_build_array(i, NULL, i * 0.5)),
       json_build_object('i', i), ('10.' || (i % 256) || '.0.' || (i % 200))::inet,
       point(i, -i), ARRAY[i, i + 1, NULL], (ARRAY['sad', 'meh', 'ok', 'happy'])[1 + i % 4]::mood,
       1 + i % 999, to_tsvector('english', 'row number ' || i || ' of many rows'),
       int4range(i, i + 10), ext.hstore('k' || i, CASE WHEN i % 2 = 0 THEN NULL ELSE 'v' END)
FROM generate_series(5, 2004) AS i;

-- A bytea of several MB of incompressible bytes and a text of several MB with one long line.
CREATE TABLE blobs (
    id      int PRIMARY KEY,
    payload bytea,
    doc     text
);
ALTER TABLE blobs ALTER COLUMN payload SET STORAGE EXTERNAL;
INSERT INTO blobs
SELECT 1, string_agg(decode(md5(i::text) || md5((i + 1)::text), 'hex'), ''::bytea),
       string_agg(md5(i::text), '')
FROM generate_series(1, 200000) AS i;
INSERT INTO blobs VALUES (2, NULL, NULL), (3, '\x', ''),
    (4, decode(repeat('5c2e0a', 100000), 'hex'), repeat(E'\\.\n', 100000));

--------------------------------------------------------------------------------------------
-- Tables: defaults, identity, generated, NOT NULL, CHECK (incl. NOT VALID, NO INHERIT),
-- collations, storage parameters, UNLOGGED, inheritance, dropped columns, typed table,
-- replica identity, awkward names
--------------------------------------------------------------------------------------------
CREATE TABLE "Sales Data"."Order ""Lines""" (
    "Line ID"   bigint GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 5) PRIMARY KEY,
    "Qty"       posint,
    price       numeric(10, 2) NOT NULL DEFAULT 0 CHECK (price >= 0),
    total       numeric GENERATED ALWAYS AS ("Qty" * price) STORED,
    note        text COLLATE "de_phonebook",
    note_ci     text COLLATE ci_icu,
    code        text COLLATE "Sales Data".c_libc,
    created     timestamptz NOT NULL DEFAULT '2001-02-03 04:05:06+00',
    status      "Sales Data"."Quote's" DEFAULT 'it''s',
    CONSTRAINT "qty ok" CHECK ("Qty" < 500) NO INHERIT
) WITH (fillfactor = 70, autovacuum_enabled = false);
INSERT INTO "Sales Data"."Order ""Lines""" ("Qty", price, note, note_ci, code, status)
SELECT 1 + i % 400, i * 0.5, 'Straße ' || i, CASE WHEN i % 2 = 0 THEN 'ABC' ELSE 'abc' END,
       'c' || i, (ARRAY['it''s', 'say "hi"', 'back\slash', 'Ünïcødé ✓'])[1 + i % 4]::"Sales Data"."Quote's"
FROM generate_series(1, 300) AS i;
ALTER TABLE "Sales Data"."Order ""Lines""" ALTER COLUMN note SET STATISTICS 500;
ALTER TABLE "Sales Data"."Order ""Lines""" ALTER COLUMN code SET (n_distinct = -0.5);
ALTER TABLE "Sales Data"."Order ""Lines""" ALTER COLUMN note SET COMPRESSION lz4;
ALTER TABLE "Sales Data"."Order ""Lines""" ADD CONSTRAINT price_sane CHECK (price < 100000) NOT VALID;

CREATE TABLE ident_default (
    id   int GENERATED BY DEFAULT AS IDENTITY,
    v    text DEFAULT 'dflt' || nextval('seq_owned')::text,
    u    uuid DEFAULT gen_random_uuid(),
    PRIMARY KEY (id)
);
ALTER SEQUENCE seq_owned OWNED BY ident_default.v;
INSERT INTO ident_default (v) SELECT NULL FROM generate_series(1, 5);
INSERT INTO ident_default (id, v) VALUES (100, 'explicit');
INSERT INTO ident_default DEFAULT VALUES;

-- A table with dropped columns: COPY must list only the live ones.
CREATE TABLE with_dropped (a int, b text, c int, d text, e int);
INSERT INTO with_dropped SELECT i, 'b' || i, i, 'd' || i, i FROM generate_series(1, 50) i;
ALTER TABLE with_dropped DROP COLUMN b;
ALTER TABLE with_dropped DROP COLUMN d;
ALTER TABLE with_dropped ADD COLUMN f text DEFAULT 'added later';
ALTER TABLE with_dropped REPLICA IDENTITY FULL;

CREATE TABLE serials (a smallserial, b serial, c bigserial PRIMARY KEY, v text);
INSERT INTO serials (v) SELECT 'row ' || i FROM generate_series(1, 10) i;
INSERT INTO serials (a, b, c, v) VALUES (-1, -1, -1, 'explicit');

CREATE UNLOGGED TABLE cache_unlogged (k text PRIMARY KEY, v jsonb) WITH (fillfactor = 50);
INSERT INTO cache_unlogged SELECT 'k' || i, jsonb_build_object('v', i) FROM generate_series(1, 100) i;

-- Inheritance: rows in the parent and in children; one child with an extra column, one child
-- that inherits after being created (with the parent's column order: pg_dump itself cannot keep
-- a different order there), a grandchild.
CREATE TABLE vehicles (id int NOT NULL, name text, wheels int CHECK (wheels >= 0));
CREATE TABLE cars (doors int DEFAULT 4) INHERITS (vehicles);
CREATE TABLE trucks (id int NOT NULL, name text, wheels int, payload_t numeric,
                     CONSTRAINT vehicles_wheels_check CHECK (wheels >= 0));
ALTER TABLE trucks INHERIT vehicles;
CREATE TABLE sports_cars (top_speed int) INHERITS (cars);
INSERT INTO vehicles VALUES (1, 'generic', 0), (2, NULL, 3);
INSERT INTO cars VALUES (10, 'sedan', 4, 4), (11, 'coupe', 4, 2);
INSERT INTO trucks VALUES (20, 'big rig', 18, 12.5);
INSERT INTO sports_cars VALUES (30, 'fast', 4, 2, 320);
-- Enough rows in a parent and a child that a backup splitting tables into block ranges splits
-- them too (a range query without ONLY would repeat the children's rows).
INSERT INTO vehicles SELECT 1000 + i, 'v ' || md5(i::text) || md5((-i)::text), i % 9
FROM generate_series(1, 20000) i;
INSERT INTO cars SELECT 100000 + i, 'c ' || md5(i::text) || md5((-i)::text), 4, i % 5
FROM generate_series(1, 20000) i;

-- A typed table.
CREATE TABLE people OF person (name WITH OPTIONS PRIMARY KEY, m WITH OPTIONS DEFAULT 'ok');
INSERT INTO people VALUES ('Ann', ROW('Main', 'Oslo', '01234'), '{a,b}', 'happy'), ('Bo', NULL, NULL, DEFAULT);

-- Self-referencing FK, deferrable.
CREATE TABLE employees (
    id        int PRIMARY KEY,
    boss_id   int REFERENCES employees (id) DEFERRABLE INITIALLY DEFERRED,
    name      text NOT NULL UNIQUE,
    email     email,
    dept      text
);
BEGIN;
INSERT INTO employees VALUES (2, 1, 'Bo', 'bo@x.org', 'eng'), (1, NULL, 'Ann', 'ann@x.org', 'eng');
INSERT INTO employees SELECT i, 1 + i % 2, 'emp' || i, NULL, 'dept' || i % 4 FROM generate_series(3, 60) i;
COMMIT;

-- Composite FK, MATCH FULL, ON DELETE/UPDATE actions, a NOT VALID FK.
CREATE TABLE rooms (building text, room int, PRIMARY KEY (building, room));
INSERT INTO rooms SELECT 'B' || (i % 3), i FROM generate_series(1, 20) i;
CREATE TABLE bookings (
    id       int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    building text,
    room     int,
    during   tstzrange NOT NULL,
    who      int REFERENCES employees ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT bookings_room_fk FOREIGN KEY (building, room) REFERENCES rooms MATCH FULL ON DELETE CASCADE,
    CONSTRAINT no_double_booking EXCLUDE USING gist (building WITH =, room WITH =, during WITH &&)
);
INSERT INTO bookings (building, room, during, who)
SELECT 'B' || (i % 3), i, tstzrange(timestamptz '2022-01-01 09:00+00' + i * interval '1 day',
                                     timestamptz '2022-01-01 10:00+00' + i * interval '1 day'), 1 + i % 60
FROM generate_series(1, 20) i;
CREATE TABLE audit_notes (id int, emp int, note text);
INSERT INTO audit_notes VALUES (1, 999, 'refers to a missing employee');
ALTER TABLE audit_notes ADD CONSTRAINT audit_emp_fk FOREIGN KEY (emp) REFERENCES employees NOT VALID;

-- The big table: enough rows that -j 4 splits it.
CREATE TABLE big (
    id      bigint PRIMARY KEY,
    grp     int NOT NULL,
    label   text,
    payload jsonb,
    at      timestamptz,
    flag    bool
);
INSERT INTO big
SELECT i, i % 97, md5(i::text) || CASE WHEN i % 1000 = 0 THEN E'\t\\\n' ELSE '' END,
       jsonb_build_object('n', i, 'h', md5((i * 7)::text)),
       timestamptz '2023-01-01 00:00+00' + i * interval '1 second',
       CASE WHEN i % 5 = 0 THEN NULL ELSE i % 2 = 0 END
FROM generate_series(1, 200000) AS i;

--------------------------------------------------------------------------------------------
-- Partitioned tables: range (with default and sub-partitions), list, hash; a partition in
-- another schema; an FK to a partitioned table; an index on the parent
--------------------------------------------------------------------------------------------
CREATE TABLE measurements (
    city_id  int NOT NULL,
    logdate  date NOT NULL,
    peak     int,
    region   text NOT NULL DEFAULT 'north',
    PRIMARY KEY (city_id, logdate, region)
) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_2022 PARTITION OF measurements FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE TABLE measurements_2023 PARTITION OF measurements FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')
    PARTITION BY LIST (region);
CREATE TABLE measurements_2023_north PARTITION OF measurements_2023 FOR VALUES IN ('north');
CREATE TABLE "Sales Data".measurements_2023_rest PARTITION OF measurements_2023 DEFAULT;
CREATE TABLE measurements_default PARTITION OF measurements DEFAULT;
INSERT INTO measurements
SELECT 1 + i % 7, date '2021-12-01' + (i % 800), i % 40, (ARRAY['north', 'south', 'west'])[1 + i % 3]
FROM generate_series(1, 3000) i;

CREATE TABLE orders_by_region (id int, region text, amount numeric) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders_by_region FOR VALUES IN ('de', 'fr', 'it');
CREATE TABLE orders_us PARTITION OF orders_by_region FOR VALUES IN ('us', NULL);
CREATE TABLE orders_other (id int, region text, amount numeric);
ALTER TABLE orders_by_region ATTACH PARTITION orders_other DEFAULT;
INSERT INTO orders_by_region
SELECT i, (ARRAY['de', 'fr', 'us', NULL, 'jp'])[1 + i % 5], i * 1.5 FROM generate_series(1, 500) i;

CREATE TABLE sessions (id bigint PRIMARY KEY, token text) PARTITION BY HASH (id);
CREATE TABLE sessions_p0 PARTITION OF sessions FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE sessions_p1 PARTITION OF sessions FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE sessions_p2 PARTITION OF sessions FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE sessions_p3 PARTITION OF sessions FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO sessions SELECT i, encode(digest(i::text, 'sha256'), 'hex') FROM generate_series(1, 1000) i;
CREATE TABLE session_events (id int PRIMARY KEY, session_id bigint REFERENCES sessions, ev text);
INSERT INTO session_events SELECT i, i, 'login' FROM generate_series(1, 100) i;
CREATE INDEX measurements_peak_idx ON measurements (peak) WHERE peak > 30;

--------------------------------------------------------------------------------------------
-- Functions (plpgsql, sql, BEGIN ATOMIC), procedures, aggregates, operators, opclass
--------------------------------------------------------------------------------------------
CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT i + 1';
CREATE FUNCTION tricky_body(x text DEFAULT 'a;b', VARIADIC rest int[] DEFAULT '{}')
RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp COST 5 AS
$fn$
DECLARE
    s text := $$dollar $inner$ quoted; with semicolons$$;  -- comment with ; and '
BEGIN
    /* block comment; with 'quotes' and $$ */
    IF x = E'\\.' THEN
        RETURN E'line1\n\\.\nline3';
    END IF;
    RETURN x || ';' || s || array_to_string(rest, ',') || 'it''s';
END
$fn$;
CREATE FUNCTION emp_count(d text) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM employees WHERE dept = d;
END;
CREATE FUNCTION emp_names(OUT id int, OUT name text) RETURNS SETOF record LANGUAGE sql STABLE
    ROWS 60 AS $$ SELECT id, name FROM employees ORDER BY id $$;
CREATE FUNCTION rooms_in(b text) RETURNS TABLE (room int) LANGUAGE sql
BEGIN ATOMIC
    SELECT r.room FROM rooms r WHERE r.building = b;
END;
CREATE FUNCTION "Sales Data"."Line Total"(l "Sales Data"."Order ""Lines""") RETURNS numeric
    LANGUAGE sql IMMUTABLE AS $$ SELECT l.total $$;
CREATE PROCEDURE transfer(INOUT a int, b int DEFAULT 1) LANGUAGE plpgsql AS $$
BEGIN
    a := a + b;
    COMMIT;
END $$;
CREATE PROCEDURE bump_all() LANGUAGE sql
BEGIN ATOMIC
    UPDATE rooms SET room = room WHERE false;
END;
COMMENT ON FUNCTION tricky_body(text, int[]) IS 'body full of splitter traps';
COMMENT ON PROCEDURE transfer(int, int) IS 'a procedure';

CREATE FUNCTION sum_sq_sfunc(state numeric, v numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
    AS 'SELECT state + v * v';
CREATE FUNCTION sum_sq_final(state numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
    AS 'SELECT sqrt(state)';
CREATE AGGREGATE root_sum_sq(numeric) (
    SFUNC = sum_sq_sfunc, STYPE = numeric, FINALFUNC = sum_sq_final, INITCOND = '0',
    COMBINEFUNC = numeric_add, PARALLEL = SAFE
);
CREATE AGGREGATE "Sales Data".concat_all(text ORDER BY text) (
    SFUNC = textcat, STYPE = text, INITCOND = ''
);
CREATE FUNCTION pick_final(state float8[], frac float8, unused float8) RETURNS float8
    LANGUAGE sql IMMUTABLE AS $$ SELECT percentile_disc(frac) WITHIN GROUP (ORDER BY x) FROM unnest(state) x $$;
CREATE AGGREGATE pick(float8 ORDER BY float8) (
    SFUNC = array_append, STYPE = float8[], FINALFUNC = pick_final, FINALFUNC_EXTRA
);
COMMENT ON AGGREGATE root_sum_sq(numeric) IS 'sqrt of sum of squares';

CREATE FUNCTION text_ieq(a text, b text) RETURNS bool LANGUAGE sql IMMUTABLE STRICT
    AS 'SELECT lower(a) = lower(b)';
CREATE FUNCTION text_ine(a text, b text) RETURNS bool LANGUAGE sql IMMUTABLE STRICT
    AS 'SELECT lower(a) <> lower(b)';
CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = text_ieq,
                     COMMUTATOR = ===, NEGATOR = !==, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR !== (LEFTARG = text, RIGHTARG = text, FUNCTION = text_ine,
                     COMMUTATOR = !==, NEGATOR = ===);
CREATE OPERATOR "Sales Data".@+ (RIGHTARG = int, FUNCTION = add_one);
COMMENT ON OPERATOR ===(text, text) IS 'case-insensitive equality';

CREATE FUNCTION int4_rev_cmp(int4, int4) RETURNS int LANGUAGE sql IMMUTABLE STRICT
    AS 'SELECT btint4cmp($2, $1)';
CREATE OPERATOR FAMILY int4_rev_fam USING btree;
CREATE OPERATOR CLASS int4_rev_ops FOR TYPE int4 USING btree FAMILY int4_rev_fam AS
    OPERATOR 1 >, OPERATOR 2 >=, OPERATOR 3 =, OPERATOR 4 <=, OPERATOR 5 <,
    FUNCTION 1 int4_rev_cmp(int4, int4);

--------------------------------------------------------------------------------------------
-- Triggers (row, statement, constraint, WHEN, transition tables, disabled, on a partitioned
-- table), an event trigger, rules. The audit triggers write rows: if a restore fired them
-- while loading data, the audit tables would not match.
--------------------------------------------------------------------------------------------
CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY, tbl text, op text, n int);
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_log (tbl, op, n) VALUES (TG_TABLE_NAME, TG_OP, 1);
    RETURN NEW;
END $$;
CREATE FUNCTION audit_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_log (tbl, op, n) SELECT TG_TABLE_NAME, TG_OP, count(*) FROM new_rows;
    RETURN NULL;
END $$;
CREATE FUNCTION upcase_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := upper(NEW.name) || '!';
    RETURN NEW;
END $$;
CREATE TRIGGER rooms_audit AFTER INSERT OR UPDATE ON rooms FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE TRIGGER bookings_stmt AFTER INSERT ON bookings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_stmt();
CREATE TRIGGER emp_upcase BEFORE INSERT ON employees FOR EACH ROW
    WHEN (NEW.name IS NOT NULL AND NEW.dept = 'never') EXECUTE FUNCTION upcase_name();
CREATE TRIGGER vehicles_upcase BEFORE INSERT ON vehicles FOR EACH ROW EXECUTE FUNCTION upcase_name();
ALTER TABLE vehicles DISABLE TRIGGER vehicles_upcase;
CREATE TRIGGER people_upcase BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION upcase_name();
CREATE CONSTRAINT TRIGGER rooms_check AFTER INSERT ON rooms DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE TRIGGER measurements_audit AFTER INSERT ON measurements FOR EACH ROW EXECUTE FUNCTION audit_row();
INSERT INTO rooms VALUES ('X', 99);
INSERT INTO people VALUES ('lower', NULL, NULL, 'sad');
COMMENT ON TRIGGER rooms_audit ON rooms IS 'audits rooms';

CREATE TABLE ddl_log (id int GENERATED ALWAYS AS IDENTITY, tag text, at_create bool);
CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ddl_log (tag, at_create) VALUES (TG_TAG, true);
END $$;
CREATE EVENT TRIGGER log_ddl_end ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'CREATE INDEX')
    EXECUTE FUNCTION log_ddl();
CREATE TABLE created_after_event_trigger (x int);
CREATE FUNCTION deny_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'dropping';
END $$;
CREATE EVENT TRIGGER notice_drop ON sql_drop EXECUTE FUNCTION deny_drop();
ALTER EVENT TRIGGER notice_drop DISABLE;
COMMENT ON EVENT TRIGGER log_ddl_end IS 'logs table and index creation';

CREATE TABLE rule_log (op text, k text);
CREATE TABLE ruled (k text PRIMARY KEY, v int);
CREATE RULE ruled_log AS ON INSERT TO ruled DO ALSO INSERT INTO rule_log VALUES ('insert', NEW.k);
CREATE RULE ruled_no_delete AS ON DELETE TO ruled WHERE OLD.v < 0 DO INSTEAD NOTHING;
INSERT INTO ruled VALUES ('a', 1), ('b', -1);
COMMENT ON RULE ruled_log ON ruled IS 'log inserts';

--------------------------------------------------------------------------------------------
-- Views and materialized views (one unpopulated), an updatable view with INSTEAD OF trigger
--------------------------------------------------------------------------------------------
CREATE VIEW emp_view AS SELECT e.id, e.name, b.name AS boss FROM employees e LEFT JOIN employees b ON b.id = e.boss_id;
CREATE VIEW "Sales Data"."Big Orders" WITH (security_barrier = true) AS
    SELECT * FROM "Sales Data"."Order ""Lines""" WHERE total > 100 WITH CASCADED CHECK OPTION;
CREATE RECURSIVE VIEW boss_chain (id, depth) AS
    SELECT id, 0 FROM employees WHERE boss_id IS NULL
    UNION ALL SELECT e.id, c.depth + 1 FROM employees e JOIN boss_chain c ON e.boss_id = c.id;
CREATE VIEW room_view AS SELECT building, room FROM rooms;
CREATE FUNCTION room_view_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rooms VALUES (NEW.building, NEW.room);
    RETURN NEW;
END $$;
CREATE TRIGGER room_view_ins INSTEAD OF INSERT ON room_view FOR EACH ROW EXECUTE FUNCTION room_view_ins();
CREATE VIEW dept_counts AS SELECT dept, emp_count(dept) FROM (SELECT DISTINCT dept FROM employees) d;
CREATE MATERIALIZED VIEW mv_dept AS SELECT dept, count(*) AS n, root_sum_sq(id) AS r FROM employees GROUP BY dept;
CREATE UNIQUE INDEX mv_dept_idx ON mv_dept (dept);
CREATE MATERIALIZED VIEW mv_empty AS SELECT id FROM big WHERE grp = 1 WITH NO DATA;
CREATE MATERIALIZED VIEW "Sales Data"."MV on view" AS SELECT * FROM emp_view;
ALTER VIEW emp_view ALTER COLUMN boss SET DEFAULT 'nobody';
COMMENT ON VIEW emp_view IS 'employees and bosses';
COMMENT ON MATERIALIZED VIEW mv_dept IS 'per department';
COMMENT ON COLUMN emp_view.boss IS 'the boss name';

--------------------------------------------------------------------------------------------
-- Indexes of every access method and shape
--------------------------------------------------------------------------------------------
CREATE INDEX big_grp_idx ON big (grp);
CREATE INDEX big_label_trgm ON big USING gin (label gin_trgm_ops);
CREATE INDEX big_payload_gin ON big USING gin (payload jsonb_path_ops);
CREATE INDEX big_at_brin ON big USING brin (at) WITH (pages_per_range = 32);
CREATE INDEX big_label_hash ON big USING hash (label);
CREATE INDEX big_partial ON big (at DESC NULLS LAST) WHERE flag;
CREATE INDEX big_expr ON big ((payload ->> 'h'), lower(label) COLLATE "C");
CREATE INDEX big_include ON big (grp, id) INCLUDE (flag) WITH (fillfactor = 80);
CREATE UNIQUE INDEX emp_email_nnd ON employees (email) NULLS NOT DISTINCT WHERE dept = 'nowhere';
CREATE INDEX all_types_tsv ON all_types USING gin (c_tsvector);
CREATE INDEX all_types_point ON all_types USING gist (c_point);
CREATE INDEX all_types_inet ON all_types USING spgist (c_inet);
CREATE INDEX all_types_range ON all_types USING gist (c_int4range);
CREATE INDEX all_types_hstore ON all_types USING gin (c_hstore);
CREATE INDEX all_types_rev ON all_types (c_int4 int4_rev_ops);
CREATE INDEX "note idx" ON "Sales Data"."Order ""Lines""" (note COLLATE "C" DESC, code);
CREATE INDEX employees_name_trgm ON employees USING gist (name gist_trgm_ops);
CREATE UNIQUE INDEX rooms_uniq ON rooms (room, building);
ALTER TABLE rooms ADD CONSTRAINT rooms_uniq_c UNIQUE USING INDEX rooms_uniq;
ALTER TABLE employees CLUSTER ON employees_pkey;
CREATE UNIQUE INDEX with_dropped_a ON with_dropped (a);
ALTER TABLE ident_default REPLICA IDENTITY USING INDEX ident_default_pkey;
COMMENT ON INDEX big_grp_idx IS 'group index';
COMMENT ON CONSTRAINT no_double_booking ON bookings IS 'no overlaps';

--------------------------------------------------------------------------------------------
-- Statistics objects
--------------------------------------------------------------------------------------------
CREATE STATISTICS big_stats (dependencies, ndistinct, mcv) ON grp, flag FROM big;
CREATE STATISTICS "Sales Data"."line stats" ON (price * 2), code FROM "Sales Data"."Order ""Lines""";
ALTER STATISTICS big_stats SET STATISTICS 200;
COMMENT ON STATISTICS big_stats IS 'group and flag';

--------------------------------------------------------------------------------------------
-- Row-level security
--------------------------------------------------------------------------------------------
CREATE TABLE secrets (id int PRIMARY KEY, owner_name name, body text);
INSERT INTO secrets SELECT i, CASE WHEN i % 2 = 0 THEN 'alice' ELSE 'bob' END, 'secret ' || i
FROM generate_series(1, 20) i;
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON secrets FOR SELECT TO :"reader" USING (owner_name = current_user);
CREATE POLICY no_bob ON secrets AS RESTRICTIVE FOR ALL USING (owner_name <> 'bob')
    WITH CHECK (owner_name <> 'bob');
CREATE POLICY "insert policy" ON secrets FOR INSERT TO PUBLIC WITH CHECK (id > 0);
ALTER TABLE measurements ENABLE ROW LEVEL SECURITY;
CREATE POLICY meas_read ON measurements FOR SELECT USING (peak IS NOT NULL);
COMMENT ON POLICY own_rows ON secrets IS 'see own rows';

--------------------------------------------------------------------------------------------
-- Publications (table list with row filter and column list, schema, options)
--------------------------------------------------------------------------------------------
CREATE PUBLICATION pub_some FOR TABLE rooms, employees (id, name) WHERE (id > 10)
    WITH (publish = 'insert, update');
CREATE PUBLICATION "pub sales" FOR TABLES IN SCHEMA "Sales Data", TABLE big;
CREATE PUBLICATION pub_parts FOR TABLE measurements WITH (publish_via_partition_root = true);
COMMENT ON PUBLICATION pub_some IS 'some tables';

--------------------------------------------------------------------------------------------
-- Large objects: several MB, empty, small, with comment, owner and grant
--------------------------------------------------------------------------------------------
SELECT lo_from_bytea(424242, (SELECT string_agg(decode(md5(i::text) || md5((-i)::text), 'hex'), ''::bytea)
                              FROM generate_series(1, 160000) AS i));
SELECT lo_from_bytea(424243, '');
SELECT lo_from_bytea(424244, convert_to(E'small large object\n\\.\nÜnïcødé', 'UTF8'));
COMMENT ON LARGE OBJECT 424244 IS 'the small one';
ALTER LARGE OBJECT 424243 OWNER TO :"owner";
GRANT SELECT ON LARGE OBJECT 424244 TO :"reader";

--------------------------------------------------------------------------------------------
-- Ownership and privileges (incl. column grants, default privileges, revoke from PUBLIC)
--------------------------------------------------------------------------------------------
CREATE TABLE app.settings (k text PRIMARY KEY, v text);
INSERT INTO app.settings VALUES ('theme', 'dark'), ('lang', 'nb');
ALTER TABLE app.settings OWNER TO :"owner";
ALTER TABLE cache_unlogged OWNER TO :"owner";
ALTER FUNCTION add_one(int) OWNER TO :"owner";
ALTER SEQUENCE seq_plain OWNER TO :"owner";
GRANT SELECT ON employees TO :"owner";  -- the matview's owner refreshes it
ALTER MATERIALIZED VIEW mv_dept OWNER TO :"owner";
GRANT USAGE ON SCHEMA "Sales Data" TO :"reader";
GRANT SELECT ON ALL TABLES IN SCHEMA "Sales Data" TO :"reader";
GRANT SELECT, INSERT ON employees TO :"reader" WITH GRANT OPTION;
GRANT SELECT (id, owner_name), UPDATE (body) ON secrets TO :"reader";
GRANT USAGE, SELECT ON SEQUENCE seq_not_called TO :"reader";
REVOKE EXECUTE ON FUNCTION tricky_body(text, int[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tricky_body(text, int[]) TO :"reader";
GRANT EXECUTE ON PROCEDURE transfer(int, int) TO :"reader";
GRANT USAGE ON TYPE mood TO :"reader";
REVOKE USAGE ON DOMAIN posint FROM PUBLIC;
REVOKE ALL ON TABLE audit_log FROM PUBLIC;
GRANT ALL ON TABLE big TO :"owner";
REVOKE UPDATE ON TABLE big FROM :"owner";
ALTER DEFAULT PRIVILEGES IN SCHEMA "Sales Data" GRANT SELECT ON TABLES TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
GRANT CREATE ON SCHEMA app TO :"reader";

ANALYZE;
