-- A rich MariaDB database for backup and restore tests: run it with the mariadb client in an
-- empty database (mariadb --database=NAME < mysql_rich.sql). It also creates the database
-- rich_other (dropped first), which a foreign key and a view of NAME refer to across schemas.
-- Needs MariaDB 10.7 or later (UUID, INET6, sequences, the seq_1_to_N tables). Rows are fixed
-- (no RAND(), no NOW()), so every run builds the same data.

SET SESSION sql_mode = '';
SET NAMES utf8mb4;
SET time_zone = '+00:00';

DROP DATABASE IF EXISTS rich_other;
CREATE DATABASE rich_other DEFAULT CHARACTER SET latin1;
CREATE TABLE rich_other.parent (id int PRIMARY KEY, label varchar(20)) ENGINE=InnoDB;
INSERT INTO rich_other.parent VALUES (1, 'one'), (2, 'two');

-- every column type
CREATE TABLE all_types (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  c_tinyint tinyint, c_tinyint_u tinyint unsigned, c_smallint smallint,
  c_mediumint mediumint, c_int int, c_int_u int unsigned zerofill, c_bigint bigint,
  c_bigint_u bigint unsigned, c_decimal decimal(65,30), c_numeric numeric(10,2),
  c_float float, c_double double, c_bool boolean, c_bit1 bit(1), c_bit64 bit(64),
  c_date date, c_datetime datetime(6), c_timestamp timestamp(6) NULL DEFAULT NULL,
  c_time time(6), c_year year,
  c_char char(10), c_varchar varchar(300), c_binary binary(8), c_varbinary varbinary(300),
  c_tinytext tinytext, c_text text, c_mediumtext mediumtext, c_longtext longtext,
  c_tinyblob tinyblob, c_blob blob, c_mediumblob mediumblob, c_longblob longblob,
  c_enum enum('a', 'b''q', 'c,d', ''), c_set set('x', 'y', 'z'),
  c_json json, c_geometry geometry, c_point point, c_linestring linestring,
  c_polygon polygon, c_inet6 inet6, c_uuid uuid
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO all_types VALUES
(1, -128, 255, -32768, -8388608, -2147483648, 4294967295, -9223372036854775808,
 18446744073709551615, '-12345678901234567890123456789012345.123456789012345678901234567890',
 99999999.99, 3.14159, 2.718281828459045, TRUE, b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
 '2024-02-29', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', '-838:59:59.000000',
 2155, 'char', 'quote '' dq " bs \\ nl \n cr \r tab \t nul \0 ctrlz \Z end', 0x00FF27225C0A0D1A,
 0x000102030405060708090A0B0C0D0E0F, 'tiny', 'text ünïcödé 日本語 😀',
 'medium', 'long', 0x00, 0x27225C, 0x0A0D, 0x1A00,
 'b''q', 'x,z', '{"k": [1, 2.5, "s\\"q", null], "u": "😀"}',
 ST_GeomFromText('POINT(1 2)'), POINT(3, 4), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'),
 ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 1))'),
 '2001:db8::ff00:42:8329', '123e4567-e89b-12d3-a456-426614174000'),
(2, 127, 0, 32767, 8388607, 2147483647, 0, 9223372036854775807, 0, 0, -0.5, -1.5e-38,
 1.7976931348623157e308, FALSE, b'0', b'0', '1000-01-01', '1000-01-01 00:00:00.000000',
 '1970-01-01 00:00:01.000000', '838:59:59.999999', 1901, '', '', '', '', '', '', '', '',
 '', '', '', '', '', '', '[]', NULL, NULL, NULL, NULL, '::', '00000000-0000-0000-0000-000000000000'),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 1, 0.1, 0.1, 2, b'1', b'101', '0000-00-00', '0000-00-00 00:00:00',
 '0000-00-00 00:00:00', '00:00:00', 0, 'zero', 'zero dates', NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', '2020-00-15', '2020-02-00 12:00:00',
 NULL, '-00:00:01', 1999, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- a 0 in an AUTO_INCREMENT column stays 0 (NO_AUTO_VALUE_ON_ZERO on restore)
SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
INSERT INTO all_types (id, c_varchar) VALUES (0, 'id zero');
SET SESSION sql_mode = '';

-- charsets and collations per column and per table
CREATE TABLE charsets (
  id int PRIMARY KEY,
  c_latin1 varchar(50) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
  c_latin1_bin varchar(50) CHARACTER SET latin1 COLLATE latin1_bin,
  c_utf8mb3 varchar(50) CHARACTER SET utf8mb3,
  c_utf8mb4 varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  c_cp1251 varchar(50) CHARACTER SET cp1251,
  c_sjis varchar(50) CHARACTER SET sjis,
  c_gbk varchar(50) CHARACTER SET gbk,
  c_ucs2 varchar(50) CHARACTER SET ucs2,
  c_utf16 text CHARACTER SET utf16,
  c_ascii char(5) CHARACTER SET ascii,
  c_binary_charset varchar(50) CHARACTER SET binary
) DEFAULT CHARSET=latin1;
INSERT INTO charsets VALUES
(1, 'Café ñ ß', 'Ärger', 'Ωμέγα', 'emoji 😀 🎉 𝄞', 'Привет', 'ソース表', '中文字', 'ucs2 ☃', 'utf16 😀',
 'abc', 0x5C27),
(2, 'back\\slash ''q''', '5c: \\', 'ü', '\0 nul', 'ъ', '表', '\\', '', '', '', ''),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- blobs of several megabytes (every byte the escapes care about, repeated)
CREATE TABLE big_values (
  id int PRIMARY KEY,
  b longblob,
  t longtext
) ENGINE=InnoDB;
INSERT INTO big_values VALUES
(1, REPEAT(0x00FF27225C0A0D1A6162, 400000), REPEAT('multi-megabyte text ''q'' \\ \n😀 ', 120000)),
(2, REPEAT(0x01, 3000000), NULL),
(3, '', '');

-- generated columns (virtual and stored), an invisible column, CHECK constraints
CREATE TABLE generated (
  id int PRIMARY KEY,
  a int NOT NULL,
  b int NOT NULL,
  s int AS (a + b) STORED,
  v varchar(40) AS (CONCAT('a=', a)) VIRTUAL,
  hidden_note varchar(20) INVISIBLE DEFAULT 'hidden',
  CONSTRAINT positive_a CHECK (a >= 0),
  CHECK (b < 1000000),
  KEY by_sum (s),
  KEY by_v (v)
);
INSERT INTO generated (id, a, b, hidden_note) VALUES (1, 1, 2, 'shown'), (2, 10, 20, NULL), (3, 0, 0, 'x');

-- partitions
CREATE TABLE part_range (
  id int NOT NULL,
  created date NOT NULL,
  note varchar(20),
  PRIMARY KEY (id, created),
  KEY by_note (note)
) PARTITION BY RANGE (YEAR(created)) (
  PARTITION p2019 VALUES LESS THAN (2020),
  PARTITION p2020 VALUES LESS THAN (2021),
  PARTITION pmax VALUES LESS THAN MAXVALUE
);
INSERT INTO part_range VALUES (1, '2019-05-01', 'old'), (2, '2020-06-01', 'mid'), (3, '2030-01-01', 'new');
CREATE TABLE part_hash (id bigint PRIMARY KEY, v int) PARTITION BY HASH (id) PARTITIONS 4;
INSERT INTO part_hash SELECT seq, seq * 3 FROM seq_1_to_100;

-- a table big enough to be split by key ranges, a table without a primary key, other engines
CREATE TABLE big (
  id bigint NOT NULL PRIMARY KEY,
  grp int NOT NULL,
  payload varchar(200) NOT NULL,
  KEY by_grp (grp)
) ENGINE=InnoDB;
INSERT INTO big SELECT seq, seq % 97, CONCAT(REPEAT('p', seq % 150), '-', seq) FROM seq_1_to_30000;
ANALYZE TABLE big;
CREATE TABLE no_key (a int, b varchar(10)) ENGINE=InnoDB;
INSERT INTO no_key VALUES (1, 'dup'), (1, 'dup'), (NULL, NULL);
CREATE TABLE myisam_t (id int PRIMARY KEY, t text, FULLTEXT KEY ft (t)) ENGINE=MyISAM;
INSERT INTO myisam_t VALUES (1, 'full text search words'), (2, 'more words');
CREATE TABLE aria_t (id int PRIMARY KEY, v varchar(10)) ENGINE=Aria;
INSERT INTO aria_t VALUES (1, 'aria');
-- an AUTO_INCREMENT column whose only key is a secondary one
CREATE TABLE ai_secondary (k int PRIMARY KEY, n int NOT NULL AUTO_INCREMENT, KEY (n)) AUTO_INCREMENT=100;
INSERT INTO ai_secondary (k) VALUES (1), (2);
CREATE TABLE empty_table (id int PRIMARY KEY, v text);

-- indexes of every kind
CREATE TABLE indexed (
  id int PRIMARY KEY,
  email varchar(100) NOT NULL,
  body text,
  pos point NOT NULL,
  code char(4),
  UNIQUE KEY uq_email (email),
  KEY prefix_body (body(20)),
  FULLTEXT KEY ft_body (body),
  SPATIAL KEY sp_pos (pos),
  KEY multi (code, email) COMMENT 'two columns',
  KEY descending (code DESC),
  UNIQUE KEY long_unique (body) USING HASH
) ENGINE=InnoDB;
INSERT INTO indexed VALUES (1, 'a@x', 'hello world', POINT(1, 1), 'c1'),
                           (2, 'b@x', 'other text', POINT(2, 2), NULL);

-- foreign keys: inside the database, to itself, across schemas, with actions
CREATE TABLE fk_parent (id int PRIMARY KEY, code varchar(10) NOT NULL, UNIQUE KEY (code));
CREATE TABLE fk_child (
  id int PRIMARY KEY,
  parent_id int,
  parent_code varchar(10),
  other_id int,
  up_id int,
  CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES fk_parent (id) ON DELETE CASCADE ON UPDATE SET NULL,
  CONSTRAINT child_code FOREIGN KEY (parent_code) REFERENCES fk_parent (code),
  CONSTRAINT child_other FOREIGN KEY (other_id) REFERENCES rich_other.parent (id),
  CONSTRAINT child_self FOREIGN KEY (up_id) REFERENCES fk_child (id)
);
INSERT INTO fk_parent VALUES (1, 'p1'), (2, 'p2');
INSERT INTO fk_child VALUES (1, 1, 'p1', 1, NULL), (2, 2, 'p2', 2, 1), (3, NULL, NULL, NULL, 2);

-- hostile names: backticks, quotes, newlines, a client command, ';' and comment openers
CREATE TABLE `we``ird 'name" ; -- /*` (
  `col``1` int PRIMARY KEY,
  `line
break` varchar(20),
  `x;
\! touch /tmp/sluice-mysql-pwned
x` int,
  KEY `key
\! touch /tmp/sluice-mysql-pwned` (`line
break`)
);
INSERT INTO `we``ird 'name" ; -- /*` VALUES (1, 'v\n\\! touch /tmp/sluice-mysql-pwned', 2);
CREATE TABLE `
\! touch /tmp/sluice-mysql-pwned
t` (id int PRIMARY KEY, `fk
ref` int,
  CONSTRAINT `fk
\! touch /tmp/sluice-mysql-pwned` FOREIGN KEY (`fk
ref`) REFERENCES `we``ird 'name" ; -- /*` (`col``1`));
INSERT INTO `
\! touch /tmp/sluice-mysql-pwned
t` VALUES (1, 1);
CREATE VIEW `view
\! touch /tmp/sluice-mysql-pwned` AS SELECT `col``1` AS `c;\n`, 'lit;\n\\!' AS `lit` FROM `we``ird 'name" ; -- /*`;

-- a sequence
CREATE SEQUENCE seq_ids START WITH 100 INCREMENT BY 5 CACHE 10;
SELECT NEXTVAL(seq_ids), NEXTVAL(seq_ids);

-- views: over views, with options, across schemas, using a function
DELIMITER ;;
CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC
BEGIN
  -- a comment; with a semicolon
  RETURN x * 2;
END;;
CREATE PROCEDURE `proc
\! touch /tmp/sluice-mysql-pwned`(IN n int, OUT total int)
    SQL SECURITY INVOKER
    COMMENT 'sums; ''quoted'''
BEGIN
  SELECT SUM(id) INTO total FROM big WHERE id <= n;
  SELECT 'text with ;; and DELIMITER words' AS s;
END;;
CREATE PROCEDURE noop() BEGIN END;;
DELIMITER ;
CREATE VIEW v_base AS SELECT id, grp, twice(grp) AS grp2 FROM big WHERE id <= 100;
CREATE VIEW v_over AS SELECT grp, COUNT(*) AS n FROM v_base GROUP BY grp;
CREATE VIEW a_first AS SELECT * FROM v_over WHERE n > 1;
CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW v_checked AS
  SELECT id, a, b FROM generated WHERE a < 100 WITH CASCADED CHECK OPTION;
CREATE VIEW v_cross AS SELECT c.id, p.label FROM fk_child c JOIN rich_other.parent p ON p.id = c.other_id;

-- triggers (created after the rows above, so the rows are as inserted)
CREATE TABLE audit_log (id int AUTO_INCREMENT PRIMARY KEY, what varchar(100));
DELIMITER ;;
CREATE TRIGGER fk_parent_bi BEFORE INSERT ON fk_parent FOR EACH ROW
BEGIN
  SET NEW.code = UPPER(NEW.code);
END;;
CREATE TRIGGER fk_parent_ai AFTER INSERT ON fk_parent FOR EACH ROW
  INSERT INTO audit_log (what) VALUES (CONCAT('insert ', NEW.id));;
CREATE TRIGGER fk_parent_ai2 AFTER INSERT ON fk_parent FOR EACH ROW FOLLOWS fk_parent_ai
  INSERT INTO audit_log (what) VALUES (CONCAT('second ', NEW.id));;
CREATE TRIGGER `trig
\! touch /tmp/sluice-mysql-pwned` BEFORE UPDATE ON `we``ird 'name" ; -- /*` FOR EACH ROW
  SET NEW.`line
break` = 'updated;';;
DELIMITER ;
INSERT INTO fk_parent VALUES (3, 'p3');

-- events (disabled: they must not run in tests)
CREATE EVENT ev_cleanup ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00'
  ON COMPLETION PRESERVE DISABLE COMMENT 'nightly; cleanup'
  DO DELETE FROM audit_log WHERE id < 0;
CREATE EVENT `ev
\! touch /tmp/sluice-mysql-pwned` ON SCHEDULE AT '2031-06-01 12:00:00' ON COMPLETION PRESERVE DISABLE
  DO INSERT INTO audit_log (what) VALUES ('event;');
