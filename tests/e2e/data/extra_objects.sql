-- tests/e2e/data/extra_objects.sql: object kinds beyond rich_db.sql that a PostgreSQL 15
-- database can hold: casts, conversions, text search dictionaries and configurations, table
-- access methods, foreign data wrappers, servers, user mappings, foreign tables, a domain over
-- an array. (Security labels are left out: they need a label provider module.)
-- Load like rich_db.sql: psql -v reader=ROLE1 -v owner=ROLE2 -d DB -f extra_objects.sql
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE SCHEMA "Odd ""Schema"".x";
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION file_fdw;
CREATE EXTENSION "uuid-ossp" SCHEMA "Odd ""Schema"".x";

-- Casts between user types.
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE FUNCTION color_to_int(c color) RETURNS int LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT array_position(enum_range(NULL::public.color), c) $$;
CREATE CAST (color AS int) WITH FUNCTION color_to_int(color) AS ASSIGNMENT;
CREATE DOMAIN int_list AS int[] CHECK (array_length(VALUE, 1) < 10);
COMMENT ON CAST (color AS int) IS 'enum position';

-- A conversion (built on the server's own conversion function).
CREATE CONVERSION my_latin1_to_utf8 FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;

-- Text search: a dictionary with options and a configuration with changed mappings.
CREATE TEXT SEARCH DICTIONARY "Odd ""Schema"".x".simple_stop (TEMPLATE = pg_catalog.simple,
                                                              STOPWORDS = english, ACCEPT = false);
CREATE TEXT SEARCH CONFIGURATION my_english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION my_english
    ALTER MAPPING FOR asciiword WITH "Odd ""Schema"".x".simple_stop, english_stem;
ALTER TEXT SEARCH CONFIGURATION my_english DROP MAPPING FOR email, url;
COMMENT ON TEXT SEARCH CONFIGURATION my_english IS 'english with a stop list';

-- An access method (a copy of heap) and a table using it.
CREATE ACCESS METHOD heap_copy TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE on_heap_copy (id int, v text) USING heap_copy;
INSERT INTO on_heap_copy SELECT i, 'v' || i FROM generate_series(1, 100) i;

-- Foreign data: a wrapper with options, a server, a user mapping with a (fake) password and a
-- foreign table (foreign tables carry no data in a backup).
CREATE FOREIGN DATA WRAPPER my_wrapper HANDLER postgres_fdw_handler
    VALIDATOR postgres_fdw_validator;
CREATE SERVER "remote pg" FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port '1', dbname 'nowhere');
CREATE USER MAPPING FOR :"reader" SERVER "remote pg" OPTIONS (user 'remote_user', password 'not-a-secret');
CREATE USER MAPPING FOR PUBLIC SERVER "remote pg";
CREATE FOREIGN TABLE remote_things (id int OPTIONS (column_name 'thing_id'), name text NOT NULL)
    SERVER "remote pg" OPTIONS (schema_name 'public', table_name 'things');
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE "Odd ""Schema"".x".passwd (line text) SERVER files
    OPTIONS (filename '/etc/hostname', format 'text');
GRANT USAGE ON FOREIGN SERVER "remote pg" TO :"reader";
GRANT SELECT ON remote_things TO :"reader";
COMMENT ON SERVER "remote pg" IS 'never reached';
COMMENT ON FOREIGN TABLE remote_things IS 'lives elsewhere';

-- A table using the cast, the domain and the schema.
CREATE TABLE "Odd ""Schema"".x"."tbl ""q""" (
    id uuid DEFAULT "Odd ""Schema"".x".uuid_generate_v4() PRIMARY KEY,
    c color,
    n int_list,
    ts tsvector GENERATED ALWAYS AS (to_tsvector('my_english', 'color ' || coalesce(color_to_int(c), 0))) STORED
);
INSERT INTO "Odd ""Schema"".x"."tbl ""q""" (id, c, n)
SELECT md5(i::text)::uuid, (ARRAY['red', 'green', 'blue'])[1 + i % 3]::color, ARRAY[i, i * 2]
FROM generate_series(1, 300) i;
CREATE INDEX tbl_ts ON "Odd ""Schema"".x"."tbl ""q""" USING gin (ts);
ALTER TABLE "Odd ""Schema"".x"."tbl ""q""" OWNER TO :"owner";
