/* dump/relation.c: relations and their parts, one query per family (relation.h).
 * Every query takes $1 = the dumped relations (f->table_oids); the SQL text of each item is
 * assembled by the server (format('%I'), pg_get_* deparsers) with search_path = '', so every
 * name is qualified. Sequence values need one more query that reads each sequence relation:
 * it is built here as one UNION ALL statement per batch of sequences. */
#include "dump/relation.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "dump/family.h"
#include "dump/script.h"
#include "dump/type.h"
#include "io/bfile.h"

#define SEQ_BATCH 2000 /* sequences read per UNION ALL statement */

#define QN(nsp, name) SL_CATALOG_QNAME(nsp, name)  /* pg/catalog.h, short for the SQL below */
#define COLL_QN(oidexpr)                                                                  \
    "(SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co "             \
    "JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = " oidexpr ")"
/* A CHECK constraint that calls a user-defined function is emitted on its own. */
#define CALLS_USER_FUNCTION(con)                                                          \
    "EXISTS (SELECT 1 FROM pg_depend fd WHERE fd.classid = 2606 AND fd.objid = " con     \
    " AND fd.refclassid = 1255 AND fd.refobjid >= 16384)"
#define INLINE_CHECK(co)                                                                   \
    co ".contype = 'c' AND " co ".conislocal AND " co ".convalidated AND NOT "            \
    CALLS_USER_FUNCTION(co ".oid")
/* Adding a foreign key to a partitioned table clones it into every partition under the same
 * name (the server picks another only where that name is taken). Clones that have names of
 * their own (the partition's key before ATTACH PARTITION took it over as the clone, or renamed
 * since) are renamed back right after, in the same item, parents first. Clones are followed
 * down by the referenced table: the rows a key to a partitioned table has for each partition
 * it references are named by the server and keep the name it gives them. */
#define FK_CLONE_RENAMES(co)                                                               \
    "COALESCE((WITH RECURSIVE down(oid, depth) AS (SELECT k.oid, 1 FROM pg_constraint k "  \
    "WHERE k.conparentid = " co ".oid AND k.confrelid = " co ".confrelid UNION ALL "       \
    "SELECT k.oid, d.depth + 1 FROM pg_constraint k JOIN down d ON k.conparentid = d.oid " \
    "WHERE k.confrelid = " co ".confrelid) "                                               \
    "SELECT string_agg(format(E'ALTER TABLE ONLY %s RENAME CONSTRAINT %I TO %I;\\n', "     \
    QN("kn", "kc.relname") ", " co ".conname, k.conname), '' ORDER BY d.depth, k.oid) "    \
    "FROM down d JOIN pg_constraint k ON k.oid = d.oid JOIN pg_class kc ON kc.oid = k.conrelid " \
    "JOIN pg_namespace kn ON kn.oid = kc.relnamespace WHERE k.conname <> " co ".conname "  \
    "AND k.conrelid IN (SELECT unnest($1::oid[]))), '')"
/* "ALTER TABLE ONLY" or "ALTER FOREIGN TABLE ONLY" for a pg_class alias. */
#define ALTER_ONLY(c) \
    "CASE WHEN " c ".relkind = 'f' THEN 'ALTER FOREIGN TABLE ONLY ' ELSE 'ALTER TABLE ONLY ' END"
/* reloptions array -> "k='v', k2='v2'" (prefix for toast options) */
#define RELOPTS(arr, prefix)                                                               \
    "(SELECT string_agg(" prefix " || quote_ident(split_part(o, '=', 1)) || '=' || "      \
    "quote_literal(substr(o, strpos(o, '=') + 1)), ', ') FROM unnest(" arr ") o)"
/* A column's options that a statement can set: some servers keep their own bookkeeping
 * there under a pg_ name (pg_attver), which no ALTER TABLE sets and pg_dump leaves out. */
#define ATTOPTS(a)                                                                          \
    "(SELECT array_agg(o) FROM unnest(" a ".attoptions) o WHERE o NOT LIKE 'pg\\_%')"
#define FDWOPTS(arr)                                                                       \
    "(SELECT string_agg(quote_ident(o.option_name) || ' ' || quote_literal(o.option_value), " \
    "', ') FROM pg_options_to_table(" arr ") o)"

static const char sequences_sql[] =
    "SELECT 1259, c.oid, n.nspname, c.relname, "
    "  format(E'CREATE %sSEQUENCE %s\\n    AS %s\\n    START WITH %s\\n    INCREMENT BY %s"
    "\\n    MINVALUE %s\\n    MAXVALUE %s\\n    CACHE %s%s;\\n', "
    "    CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, " QN("n", "c.relname") ", "
    "    format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, "
    "    s.seqcache, CASE WHEN s.seqcycle THEN E'\\n    CYCLE' ELSE '' END) "
    "  || COALESCE((SELECT format(E'ALTER SEQUENCE %s OWNED BY %I.%I.%I;\\n', "
    "      " QN("n", "c.relname") ", tn.nspname, t.relname, a.attname) "
    "    FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid "
    "    JOIN pg_namespace tn ON tn.oid = t.relnamespace "
    "    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
    "    WHERE d.classid = 1259 AND d.objid = c.oid AND d.refclassid = 1259 "
    "    AND d.deptype = 'a' AND t.oid IN (SELECT unnest($1::oid[]))), ''), "
    "  'SEQUENCE', " SL_SQL_PLACE(PRE_DATA, SEQUENCE) ", 0, 0 "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_sequence s ON s.seqrelid = c.oid "
    "WHERE c.relkind = 'S' AND c.oid IN (SELECT unnest($1::oid[])) "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 1259 AND d.objid = c.oid "
    "  AND d.deptype = 'i')";

/* A column of a table written with INHERITS (not a whole table, see tables_sql) whose parent's
 * column is generated: the child takes the parent's expression, and CREATE TABLE refuses one
 * written for it. (PostgreSQL 15 makes a child of a generated column use the parent's
 * expression, so nothing is lost; a child's generated column under a plain parent column keeps
 * its own.) A table written whole must repeat the expression to be attached or inherit. */
#define INHERITS_GENERATION                                                                  \
    "(a.attinhcount > 0 AND NOT c.whole AND EXISTS (SELECT 1 FROM pg_inherits gi "           \
    " JOIN pg_attribute ga ON ga.attrelid = gi.inhparent AND ga.attname = a.attname "        \
    " WHERE gi.inhrelid = a.attrelid AND ga.attgenerated <> ''))"

/* A partition (alias c) with a generated column under a plain column of its parent: PARTITION
 * OF cannot say so (tables_sql creates it alone). */
#define OWN_GENERATION                                                                       \
    "EXISTS (SELECT 1 FROM pg_attribute ga JOIN pg_inherits gi ON gi.inhrelid = ga.attrelid " \
    " JOIN pg_attribute pa ON pa.attrelid = gi.inhparent AND pa.attname = ga.attname "       \
    " WHERE ga.attrelid = c.oid AND ga.attgenerated <> '' AND pa.attgenerated = '')"

/* Column definition inside CREATE TABLE (alias a: attribute, c: its table). An identity
 * sequence is made with its table's persistence unless it says otherwise. */
#define COLUMN_DEF                                                                           \
    "quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) "                \
    "|| CASE WHEN a.attfdwoptions IS NOT NULL "                                            \
    "   THEN ' OPTIONS (' || " FDWOPTS("a.attfdwoptions") " || ')' ELSE '' END "            \
    "|| CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation "              \
    "   THEN ' COLLATE ' || " COLL_QN("a.attcollation") " ELSE '' END "                     \
    "|| CASE WHEN a.attgenerated = 's' AND NOT " INHERITS_GENERATION " THEN "              \
    "   ' GENERATED ALWAYS AS (' || "                                                        \
    "   (SELECT pg_get_expr(ad.adbin, ad.adrelid) FROM pg_attrdef ad "                      \
    "    WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum) || ') STORED' ELSE '' END " \
    "|| CASE WHEN a.attidentity IN ('a', 'd') THEN ' GENERATED ' || "                       \
    "   CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END || ' AS IDENTITY (' " \
    "   || (SELECT format('SEQUENCE NAME %I.%I%s START WITH %s INCREMENT BY %s MINVALUE %s "  \
    "MAXVALUE %s CACHE %s%s', sn.nspname, sc.relname, "                                     \
    "       CASE WHEN sc.relpersistence = c.relpersistence THEN '' "                         \
    "       WHEN sc.relpersistence = 'u' THEN ' UNLOGGED' ELSE ' LOGGED' END, "              \
    "       s.seqstart, s.seqincrement, "                                                    \
    "       s.seqmin, s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) " \
    "     FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid "                     \
    "     JOIN pg_class sc ON sc.oid = d.objid "                                            \
    "     JOIN pg_namespace sn ON sn.oid = sc.relnamespace "                                \
    "     WHERE d.classid = 1259 AND d.refclassid = 1259 AND d.refobjid = a.attrelid "      \
    "     AND d.refobjsubid = a.attnum AND d.deptype = 'i') || ')' ELSE '' END "             \
    "|| CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END"

/* The column settings a materialized view's columns have as well as a table's (alias a, c, q;
 * at = the column's type). */
#define COLUMN_STORAGE                                                                       \
    "CASE WHEN a.attstattarget >= 0 THEN format(E'%s%s ALTER COLUMN %I SET STATISTICS " \
    "%s;\\n', "                                                                            \
    "  " ALTER_ONLY("c") ", q, a.attname, a.attstattarget) ELSE '' END "                      \
    "|| CASE WHEN a.attstorage <> at.typstorage THEN format(E'%s%s ALTER COLUMN %I SET STORAGE " \
    "%s;\\n', "                                                                                  \
    "  " ALTER_ONLY("c") ", q, a.attname, CASE a.attstorage WHEN 'p' THEN 'PLAIN' "         \
    "  WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END) ELSE '' END "     \
    "|| CASE WHEN " ATTOPTS("a") " IS NOT NULL THEN format(E'%s%s ALTER COLUMN %I SET (%s);\\n', " \
    "  " ALTER_ONLY("c") ", q, a.attname, " RELOPTS(ATTOPTS("a"), "''") ") ELSE '' END "    \
    "|| CASE WHEN a.attcompression <> '' THEN format(E'%s%s ALTER COLUMN %I SET COMPRESSION " \
    "%s;\\n', "                                                                               \
    "  " ALTER_ONLY("c") ", q, a.attname, CASE a.attcompression WHEN 'l' THEN 'lz4' "       \
    "  ELSE 'pglz' END) ELSE '' END"

/* Statements after CREATE TABLE for column properties CREATE TABLE cannot say for inherited
 * columns, or at all (alias a, c, q = the quoted table name). */
#define COLUMN_EXTRAS                                                                        \
    "CASE WHEN a.attnotnull AND (NOT a.attislocal OR c.reloftype <> 0) "                    \
    "  AND NOT c.whole "                                                                     \
    "  THEN format(E'%s%s ALTER COLUMN %I SET NOT NULL;\\n', " ALTER_ONLY("c") ", q, a.attname) " \
    "  ELSE '' END "                                                                         \
    "|| CASE WHEN a.attinhcount > 0 AND NOT a.atthasdef AND EXISTS (SELECT 1 FROM "         \
    "  pg_inherits i JOIN pg_attribute pa ON pa.attrelid = i.inhparent "                    \
    "  AND pa.attname = a.attname WHERE i.inhrelid = c.oid AND pa.atthasdef) "              \
    "  THEN format(E'%s%s ALTER COLUMN %I DROP DEFAULT;\\n', " ALTER_ONLY("c") ", q, a.attname) " \
    "  ELSE '' END || " COLUMN_STORAGE

/* Every part of CREATE TABLE is aggregated once for all the dumped tables (columns, inline
 * CHECK constraints, per-column statements, parents), then joined to the tables: per-table
 * correlated sub-queries cost a plan node start-up each, 10,000 tables times. */
static const char tables_sql[] =
    /* pcol: where each column of a child would be if PARTITION OF or INHERITS made it (the
     * first parent having a column of that name, at that column's place; columns of the
     * child's own follow in their order); reordered: the children whose columns are in
     * another order, which PARTITION OF or INHERITS would lose (rows are in column order) */
    "WITH pcol AS (SELECT DISTINCT ON (a.attrelid, a.attnum) a.attrelid, a.attnum, i.inhseqno, "
    "    pa.attnum AS pnum "
    "  FROM pg_inherits i JOIN pg_attribute a ON a.attrelid = i.inhrelid "
    "  JOIN pg_attribute pa ON pa.attrelid = i.inhparent AND pa.attname = a.attname "
    "  WHERE i.inhrelid IN (SELECT unnest($1::oid[])) AND a.attnum > 0 AND NOT a.attisdropped "
    "  AND pa.attnum > 0 AND NOT pa.attisdropped ORDER BY a.attrelid, a.attnum, i.inhseqno), "
    "reordered AS (SELECT o.attrelid FROM (SELECT a.attrelid, "
    "    row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS have, "
    "    row_number() OVER (PARTITION BY a.attrelid "
    "      ORDER BY p.inhseqno NULLS LAST, p.pnum, a.attnum) AS want "
    "  FROM pg_attribute a LEFT JOIN pcol p ON p.attrelid = a.attrelid AND p.attnum = a.attnum "
    "  WHERE a.attrelid IN (SELECT inhrelid FROM pg_inherits "
    "    WHERE inhrelid IN (SELECT unnest($1::oid[]))) AND a.attnum > 0 AND NOT a.attisdropped) o "
    "  WHERE o.have <> o.want GROUP BY o.attrelid), "
    "rel0 AS (SELECT c.*, n.nspname, " QN("n", "c.relname") " AS q, "
    "    c.relispartition AND EXISTS (SELECT 1 FROM pg_inherits pi WHERE pi.inhrelid = c.oid "
    "      AND pi.inhparent IN (SELECT unnest($1::oid[]))) AS parent_dumped, "
    "    c.oid IN (SELECT attrelid FROM reordered) AS reordered "
    "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE c.relkind IN ('r', 'p', 'f') AND c.oid IN (SELECT unnest($1::oid[]))), "
    /* alone: a child that PARTITION OF or INHERITS cannot make as it is (its columns in another
     * order, or a partition's generated column of its own), created as a table of its own with
     * all its columns and then attached (ALTER TABLE ONLY parent ATTACH PARTITION) or made to
     * inherit (ALTER TABLE ONLY child INHERIT parent) in the same item; its indexes,
     * constraints and rows then follow as any child's do.
     * pof: a partition written as PARTITION OF its parent, which the backup holds too;
     * whole: written with all its columns and CHECK constraints, the inherited ones too (alone,
     * or a partition whose parent is left out (-t), attached later by attach_sql) */
    "rel1 AS (SELECT c.*, c.reordered OR (c.relispartition AND " OWN_GENERATION ") AS alone "
    "  FROM rel0 c), "
    "rel AS (SELECT c.*, c.parent_dumped AND NOT c.alone AS pof, "
    "    c.alone OR (c.relispartition AND NOT c.parent_dumped) AS whole FROM rel1 c), "
    /* one pass over the columns: their definitions (the local columns, or every column of a
     * table written whole; none of a typed table or a PARTITION OF partition) and the
     * statements after CREATE TABLE (every column) */
    "cols AS (SELECT a.attrelid, "
    "    string_agg(" COLUMN_DEF ", E',\\n    ' ORDER BY a.attnum) "
    "      FILTER (WHERE (a.attislocal OR c.whole) AND c.reloftype = 0 AND NOT c.pof) "
    "      AS list, "
    "    string_agg(" COLUMN_EXTRAS ", '' ORDER BY a.attnum) AS extras "
    "  FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type at ON at.oid = a.atttypid "
    "  WHERE a.attnum > 0 AND NOT a.attisdropped GROUP BY a.attrelid), "
    "checks AS (SELECT co.conrelid, string_agg(format('CONSTRAINT %I %s', co.conname, "
    "    pg_get_constraintdef(co.oid)), E',\\n    ' ORDER BY co.conname) AS list "
    "  FROM pg_constraint co WHERE co.conrelid IN (SELECT oid FROM rel) "
    "  AND (" INLINE_CHECK("co") " OR (co.contype = 'c' AND NOT co.conislocal "
    "    AND co.conrelid IN (SELECT oid FROM rel WHERE whole))) "
    "  GROUP BY co.conrelid), "
    "inh AS (SELECT i.inhrelid, bool_or(i.inhdetachpending) AS pending, "
    "    string_agg(format('%I.%I', pn.nspname, p.relname), ', ' ORDER BY i.inhseqno) AS list, "
    "    string_agg(format(E'%s%s INHERIT %I.%I;\\n', " ALTER_ONLY("r") ", r.q, pn.nspname, "
    "      p.relname), '' ORDER BY i.inhseqno) AS inherit "
    "  FROM pg_inherits i JOIN rel r ON r.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
    "  JOIN pg_namespace pn ON pn.oid = p.relnamespace GROUP BY i.inhrelid), "
    /* nonlocal: what an inheritance child created alone has from its parents only. INHERIT
     * leaves the child's own copies of those columns and CHECKs local (they would outlive a
     * DROP on the parent); no statement but a catalog update, the one pg_dump makes in its
     * binary-upgrade mode, makes them inherited only again. A superuser's restore makes it;
     * another role's leaves them local (the DO block checks, so psql runs it either way). */
    "nonlocal AS (SELECT r.oid, NULLIF(concat("
    "    (SELECT format('UPDATE pg_catalog.pg_attribute SET attislocal = false "
    "WHERE attrelid = %L::pg_catalog.regclass AND attname IN (%s); ', r.q, "
    "      string_agg(quote_literal(a.attname), ', ' ORDER BY a.attnum)) "
    "     FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "     AND NOT a.attislocal HAVING count(*) > 0), "
    "    (SELECT format('UPDATE pg_catalog.pg_constraint SET conislocal = false "
    "WHERE conrelid = %L::pg_catalog.regclass AND contype = ''c'' AND conname IN (%s); ', r.q, "
    "      string_agg(quote_literal(co.conname), ', ' ORDER BY co.conname)) "
    "     FROM pg_constraint co WHERE co.conrelid = r.oid AND co.contype = 'c' "
    "     AND NOT co.conislocal HAVING count(*) > 0)), '') AS body "
    "  FROM rel r WHERE r.alone AND NOT r.relispartition) "
    "SELECT 1259, c.oid, c.nspname, c.relname, "
    "  CASE WHEN inh.pending THEN 'its DETACH PARTITION CONCURRENTLY did not finish "
    "(complete it with ALTER TABLE ... DETACH PARTITION ... FINALIZE)' ELSE "
    "  'CREATE ' || CASE WHEN c.relkind = 'f' THEN 'FOREIGN ' "
    "    WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END || 'TABLE ' || c.q "
    "  || CASE WHEN c.reloftype <> 0 THEN ' OF ' || format_type(c.reloftype, NULL) ELSE '' END "
    "  || CASE WHEN c.pof THEN ' PARTITION OF ' || inh.list ELSE '' END "
    "  || CASE WHEN el.list IS NOT NULL THEN E' (\\n    ' || el.list || E'\\n)' "
    "     WHEN c.pof OR c.reloftype <> 0 THEN '' ELSE ' ()' END "
    "  || CASE WHEN NOT c.relispartition AND NOT c.alone AND inh.list IS NOT NULL "
    "     THEN E'\\nINHERITS (' || inh.list || ')' ELSE '' END "
    "  || CASE WHEN c.pof THEN E'\\n' || pg_get_expr(c.relpartbound, c.oid) ELSE '' END "
    "  || CASE WHEN c.relkind = 'p' THEN E'\\nPARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' "
    "END "
    "  || CASE WHEN c.relkind = 'r' AND am.amname <> 'heap' "
    "     THEN E'\\nUSING ' || quote_ident(am.amname) ELSE '' END "
    "  || CASE WHEN c.relkind = 'f' THEN (SELECT E'\\nSERVER ' || quote_ident(fs.srvname) "
    "     || COALESCE(' OPTIONS (' || " FDWOPTS("ft.ftoptions") " || ')', '') "
    "     FROM pg_foreign_table ft JOIN pg_foreign_server fs ON fs.oid = ft.ftserver "
    "     WHERE ft.ftrelid = c.oid) ELSE '' END "
    "  || COALESCE(E'\\nWITH (' || NULLIF(concat_ws(', ', " RELOPTS("c.reloptions", "''") ", "
    "     " RELOPTS("tc.reloptions", "'toast.'") "), '') || ')', '') "
    "  || CASE WHEN c.reltablespace <> 0 THEN E'\\nTABLESPACE ' || "
    "     (SELECT quote_ident(spcname) FROM pg_tablespace WHERE oid = c.reltablespace) ELSE '' END "
    "  || E';\\n' || COALESCE(cols.extras, '') "
    "  || CASE WHEN c.relkind = 'f' THEN '' ELSE CASE c.relreplident WHEN 'f' THEN "
    "format(E'ALTER TABLE ONLY %s REPLICA IDENTITY FULL;\\n', c.q) "
    "     WHEN 'n' THEN format(E'ALTER TABLE ONLY %s REPLICA IDENTITY NOTHING;\\n', c.q) ELSE '' "
    "END END "
    "  || CASE WHEN c.parent_dumped AND NOT c.pof THEN format(E'ALTER TABLE ONLY %s "
    "ATTACH PARTITION %s %s;\\n', inh.list, c.q, pg_get_expr(c.relpartbound, c.oid)) ELSE '' END "
    "  || CASE WHEN c.alone AND NOT c.relispartition THEN inh.inherit ELSE '' END "
    "  || CASE WHEN nl.body IS NOT NULL THEN format(E'DO %L;\\n', 'BEGIN IF (SELECT rolsuper "
    "FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN ' || nl.body "
    "|| 'END IF; END') ELSE '' END "
    "END, "
    "  CASE WHEN inh.pending THEN 'UNSUPPORTED' WHEN c.relkind = 'f' THEN 'FOREIGN TABLE' "
    "    ELSE 'TABLE' END, " SL_SQL_PLACE(PRE_DATA, TABLE) ", 0, 0 "
    "FROM rel c "
    "LEFT JOIN pg_am am ON am.oid = c.relam "
    "LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid "
    "LEFT JOIN inh ON inh.inhrelid = c.oid "
    "LEFT JOIN cols ON cols.attrelid = c.oid "
    "LEFT JOIN checks ON checks.conrelid = c.oid "
    "LEFT JOIN nonlocal nl ON nl.oid = c.oid "
    "CROSS JOIN LATERAL (SELECT NULLIF(concat_ws(E',\\n    ', cols.list, checks.list), '') "
    "  AS list) el";

/* The statement that gives trigger t (alias) of table q its firing state (state: a tgenabled
 * expression). ALTER TABLE recurses to the partitions' clones of the trigger. */
#define TRIGGER_STATE(state)                                                               \
    "CASE " state " WHEN 'D' THEN format(E'ALTER TABLE %s DISABLE TRIGGER %I;\\n', q, t.tgname) " \
    "  WHEN 'R' THEN format(E'ALTER TABLE %s ENABLE REPLICA TRIGGER %I;\\n', q, t.tgname) "   \
    "  WHEN 'A' THEN format(E'ALTER TABLE %s ENABLE ALWAYS TRIGGER %I;\\n', q, t.tgname) "    \
    "  ELSE format(E'ALTER TABLE %s ENABLE TRIGGER %I;\\n', q, t.tgname) END"

/* The clones of a partitioned table's trigger that are in a firing state other than the
 * trigger they were cloned from (ALTER TABLE partition DISABLE TRIGGER ...), with the
 * statements that set it, parents before their partitions: the clones are made (by CREATE
 * TRIGGER on the parent, or ATTACH PARTITION) in their parent's state and ALTER TABLE recurses.
 * clone_states(root, relid, sql) lists the clones, in dumped tables, of the triggers `roots`
 * selects (alias t, a pg_trigger subset), in that order; CLONE_STATES_SQL aggregates them. */
#define CLONE_STATES(roots)                                                                \
    "clone_tree AS (SELECT t.oid AS root, t.oid, t.tgenabled, 0 AS depth FROM " roots " "   \
    "  UNION ALL SELECT ct.root, k.oid, k.tgenabled, ct.depth + 1 FROM clone_tree ct "      \
    "  JOIN pg_trigger k ON k.tgparentid = ct.oid), "                                       \
    "clone_states AS (SELECT ct.root, c.oid AS relid, " TRIGGER_STATE("t.tgenabled") " AS sql, " \
    "    row_number() OVER (ORDER BY ct.root, ct.depth, n.nspname, c.relname) AS n "        \
    "  FROM clone_tree ct JOIN pg_trigger t ON t.oid = ct.oid "                              \
    "  JOIN pg_trigger pt ON pt.oid = t.tgparentid "                                         \
    "  JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "  \
    "  CROSS JOIN LATERAL (SELECT " QN("n", "c.relname") " AS q) qq "                       \
    "  WHERE ct.depth > 0 AND t.tgenabled <> pt.tgenabled "                                  \
    "  AND c.oid IN (SELECT unnest($1::oid[]))) "
#define CLONE_STATES_SQL(where) \
    "COALESCE((SELECT string_agg(cs.sql, '' ORDER BY cs.n) FROM clone_states cs WHERE " where \
    "), '')"

/* A partition whose parent the backup does not hold (-t) is created as a table of its own
 * (tables_sql), gets its rows, indexes and constraints, and only then is attached: ATTACH
 * PARTITION takes the partition's indexes that match the parent's as theirs, so they keep their
 * names, and makes the clones of the parent's foreign keys and triggers (as pg_dump's own
 * output of such a partition would, but after the indexes rather than before, so that a
 * database holding the parent takes it without errors). */
static const char attach_sql[] =
    /* the roots: the triggers of left-out parents that dumped partitions have clones of */
    "WITH RECURSIVE " CLONE_STATES("pg_trigger t WHERE t.oid IN (SELECT pt.oid "
                                   "FROM pg_trigger ct JOIN pg_trigger pt "
                                   "ON pt.oid = ct.tgparentid "
                                   "WHERE ct.tgrelid IN (SELECT unnest($1::oid[])) "
                                   "AND pt.tgrelid NOT IN (SELECT unnest($1::oid[])))")
    "SELECT 1259, c.oid, n.nspname, c.relname, "
    "  format(E'ALTER TABLE ONLY %I.%I ATTACH PARTITION %s %s;\\n', pn.nspname, p.relname, "
    "    " QN("n", "c.relname") ", pg_get_expr(c.relpartbound, c.oid)) "
    "  || " CLONE_STATES_SQL("cs.relid IN (SELECT relid FROM pg_partition_tree(c.oid))") ", "
    "  'TABLE ATTACH', " SL_SQL_PLACE(POST, TABLE_ATTACH) ", 1259, c.oid "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent "
    "JOIN pg_namespace pn ON pn.oid = p.relnamespace "
    "WHERE c.relispartition AND c.oid IN (SELECT unnest($1::oid[])) "
    "AND p.oid NOT IN (SELECT unnest($1::oid[]))";

/* Objects written inside another item: generated columns' expressions, CHECK constraints
 * written inside CREATE TABLE or inherited with the table, and the foreign keys and triggers
 * that a partition receives from its parent's. */
static const char parts_sql[] =
    "SELECT 2604, ad.oid, NULL, NULL, NULL, 'PART', 0, 0, 1259, ad.adrelid "
    "FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum "
    "WHERE a.attgenerated <> '' AND ad.adrelid IN (SELECT unnest($1::oid[])) "
    "UNION ALL "
    "SELECT 2606, co.oid, NULL, NULL, NULL, 'PART', 0, 0, "
    "  CASE WHEN pc.oid IS NOT NULL THEN 2606 ELSE 1259 END, COALESCE(pc.oid, co.conrelid) "
    "FROM pg_constraint co "
    /* a partition's clone of an FK whose parent is not dumped (-t) is left out with it */
    "LEFT JOIN pg_constraint pc ON co.contype = 'f' AND pc.oid = co.conparentid "
    "  AND pc.conrelid IN (SELECT unnest($1::oid[])) "
    "WHERE co.conrelid IN (SELECT unnest($1::oid[])) AND ("
    "  (co.contype = 'c' AND NOT co.conislocal) OR (" INLINE_CHECK("co") ") "
    "  OR (co.contype = 'f' AND co.conparentid <> 0)) "
    "UNION ALL "
    "SELECT 2620, t.oid, NULL, NULL, NULL, 'PART', 0, 0, 1259, t.tgrelid "
    "FROM pg_trigger t WHERE t.tgrelid IN (SELECT unnest($1::oid[])) AND t.tgparentid <> 0 "
    "AND NOT t.tgisinternal";

static const char defaults_sql[] =
    "SELECT 2604, ad.oid, n.nspname, c.relname || '.' || a.attname, "
    "  format(E'%s %s ALTER COLUMN %I SET DEFAULT %s;\\n', "
    "    CASE c.relkind WHEN 'v' THEN 'ALTER VIEW' WHEN 'f' THEN 'ALTER FOREIGN TABLE ONLY' "
    "    ELSE 'ALTER TABLE ONLY' END, " QN("n", "c.relname") ", a.attname, "
    "    pg_get_expr(ad.adbin, ad.adrelid)), "
    "  'DEFAULT', " SL_SQL_PLACE(PRE_DATA, DEFAULT) ", 0, 0 "
    "FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum "
    "JOIN pg_class c ON c.oid = ad.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE a.attgenerated = '' AND ad.adrelid IN (SELECT unnest($1::oid[]))";

/* Views and materialized views (with the refresh of populated ones). check_option is a view
 * option that CREATE VIEW spells as a clause. */
static const char views_sql[] =
    "SELECT 1259, c.oid, n.nspname, c.relname, "
    "  CASE WHEN c.relkind = 'v' THEN 'CREATE VIEW ' || q "
    "    || COALESCE(' WITH (' || (SELECT string_agg(split_part(o, '=', 1) || '=' || "
    "       quote_literal(substr(o, strpos(o, '=') + 1)), ', ') FROM unnest(c.reloptions) o "
    "       WHERE o NOT LIKE 'check\\_option=%') || ')', '') "
    "    || E' AS\\n' || rtrim(pg_get_viewdef(c.oid), ';') "
    "    || COALESCE((SELECT E'\\n  WITH ' || upper(substr(o, 14)) || ' CHECK OPTION' "
    "       FROM unnest(c.reloptions) o WHERE o LIKE 'check\\_option=%'), '') || E';\\n' "
    "  ELSE 'CREATE MATERIALIZED VIEW ' || q "
    "    || CASE WHEN am.amname <> 'heap' THEN ' USING ' || quote_ident(am.amname) ELSE '' END "
    "    || COALESCE(' WITH (' || " RELOPTS("c.reloptions", "''") " || ')', '') "
    "    || CASE WHEN c.reltablespace <> 0 THEN ' TABLESPACE ' || "
    "       (SELECT quote_ident(spcname) FROM pg_tablespace WHERE oid = c.reltablespace) ELSE '' "
    "END "
    "    || E' AS\\n' || rtrim(pg_get_viewdef(c.oid), ';') || E'\\n  WITH NO DATA;\\n' "
    "    || COALESCE((SELECT string_agg(" COLUMN_STORAGE ", '' ORDER BY a.attnum) "
    "       FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid "
    "       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') END, "
    "  CASE WHEN c.relkind = 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, "
    "  " SL_SQL_INT(SL_PHASE_PRE_DATA) ", "
    "  CASE WHEN c.relkind = 'v' THEN " SL_SQL_INT(SL_PRIO_VIEW) " ELSE " SL_SQL_INT(
        SL_PRIO_MATVIEW) " END, 0, 0 "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_am am ON am.oid = c.relam "
    "CROSS JOIN LATERAL (SELECT " QN("n", "c.relname") " AS q) qq "
    "WHERE c.relkind IN ('v', 'm') AND c.oid IN (SELECT unnest($1::oid[])) "
    "UNION ALL "
    "SELECT 1259, c.oid, n.nspname, c.relname, "
    "  format(E'REFRESH MATERIALIZED VIEW %s;\\n', " QN("n", "c.relname") "), "
    "  'MATVIEW REFRESH', " SL_SQL_PLACE(FINAL, MATVIEW_REFRESH) ", 1259, c.oid "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'm' AND c.relispopulated AND c.oid IN (SELECT unnest($1::oid[]))";

/* Indexes not made by a constraint, their attachment to a partitioned parent index, CLUSTER ON
 * and REPLICA IDENTITY USING INDEX. CLUSTER ON and REPLICA IDENTITY only decorate the index
 * (classid 0), so what needs the index waits for its definition, not for them; an attachment
 * stands for the attached index, so what needs it (a foreign key to a partitioned table) waits
 * until the parent's index is complete. */
static const char indexes_sql[] =
    "WITH x AS (SELECT i.*, ic.relname AS iname, ic.reltablespace AS ispc, n.nspname, "
    "    " QN("n", "ic.relname") " AS qi, " QN("tn", "t.relname") " AS qt, t.relreplident, "
    "    tn.nspname AS tnsp, t.relname AS tname "
    "  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
    "  JOIN pg_namespace n ON n.oid = ic.relnamespace "
    "  JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace "
    "  WHERE i.indrelid IN (SELECT unnest($1::oid[]))) "
    "SELECT 1259, x.indexrelid, x.nspname, x.iname, pg_get_indexdef(x.indexrelid) || E';\\n' "
    "  || CASE WHEN x.ispc <> 0 THEN format(E'ALTER INDEX %s SET TABLESPACE %I;\\n', x.qi, "
    "     (SELECT spcname FROM pg_tablespace WHERE oid = x.ispc)) ELSE '' END "
    "  || COALESCE((SELECT string_agg(format(E'ALTER INDEX %s ALTER COLUMN %s SET STATISTICS "
    "%s;\\n', "
    "     x.qi, a.attnum, a.attstattarget), '' ORDER BY a.attnum) FROM pg_attribute a "
    "     WHERE a.attrelid = x.indexrelid AND a.attstattarget >= 0), ''), "
    "  'INDEX', " SL_SQL_PLACE(INDEX, INDEX) ", 0, 0, x.tnsp, x.tname, NULL, NULL FROM x "
    "WHERE NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = x.indexrelid "
    "  AND co.conrelid = x.indrelid AND co.contype IN ('p', 'u', 'x')) "
    "UNION ALL "
    "SELECT 1259, x.indexrelid, x.nspname, x.iname, "
    "  format(E'ALTER INDEX %I.%I ATTACH PARTITION %s;\\n', pn.nspname, p.relname, x.qi), "
    "  'INDEX ATTACH', " SL_SQL_PLACE(POST, INDEX_ATTACH) ", 1259, x.indexrelid, "
    "  x.tnsp, x.tname, ptn.nspname, pt.relname "
    "FROM x JOIN pg_inherits ih ON ih.inhrelid = x.indexrelid "
    "JOIN pg_class p ON p.oid = ih.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace "
    "JOIN pg_index pi ON pi.indexrelid = p.oid JOIN pg_class pt ON pt.oid = pi.indrelid "
    "JOIN pg_namespace ptn ON ptn.oid = pt.relnamespace "
    "WHERE pi.indrelid IN (SELECT unnest($1::oid[])) "
    "UNION ALL "
    "SELECT 0, 0, x.nspname, x.iname, "
    "  format(E'ALTER TABLE %s CLUSTER ON %I;\\n', x.qt, x.iname), "
    "  'CLUSTER', " SL_SQL_PLACE(POST, CLUSTER) ", 1259, x.indexrelid, x.tnsp, x.tname, "
    "  NULL, NULL "
    "FROM x WHERE x.indisclustered "
    "UNION ALL "
    "SELECT 0, 0, x.nspname, x.iname, "
    "  format(E'ALTER TABLE ONLY %s REPLICA IDENTITY USING INDEX %I;\\n', x.qt, x.iname), "
    "  'REPLICA IDENTITY', " SL_SQL_PLACE(POST, CLUSTER) ", 1259, x.indexrelid, x.tnsp, "
    "  x.tname, NULL, NULL FROM x "
    "WHERE x.indisreplident AND x.relreplident = 'i'";

/* Constraints of tables that are not written inside CREATE TABLE (see parts_sql). */
static const char constraints_sql[] =
    "SELECT 2606, co.oid, n.nspname, c.relname || '.' || co.conname, "
    "  format(E'ALTER TABLE %s%s ADD CONSTRAINT %I %s;\\n', "
    "    CASE WHEN co.contype IN ('p', 'u', 'x') THEN 'ONLY ' ELSE '' END, "
    "    " QN("n", "c.relname") ", co.conname, pg_get_constraintdef(co.oid)) "
    "  || CASE WHEN co.contype = 'f' THEN " FK_CLONE_RENAMES("co") " ELSE '' END, "
    "  CASE co.contype WHEN 'f' THEN 'FK CONSTRAINT' WHEN 'c' THEN 'CHECK CONSTRAINT' "
    "    ELSE 'CONSTRAINT' END, "
    "  CASE WHEN co.contype IN ('p', 'u', 'x') THEN " SL_SQL_INT(SL_PHASE_INDEX) " "
    "    WHEN co.contype = 'c' AND co.convalidated THEN " SL_SQL_INT(SL_PHASE_PRE_DATA) " "
    "    ELSE " SL_SQL_INT(SL_PHASE_POST) " END, "
    "  CASE co.contype WHEN 'f' THEN " SL_SQL_INT(SL_PRIO_FK) " WHEN 'c' THEN "
    "    CASE WHEN co.convalidated THEN " SL_SQL_INT(SL_PRIO_CHECK) " "
    "    ELSE " SL_SQL_INT(SL_PRIO_CHECK_NOT_VALID) " END "
    "    ELSE " SL_SQL_INT(SL_PRIO_CONSTRAINT) " END, 0, 0, n.nspname, c.relname, "
    "  fn.nspname, fc.relname "
    "FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_class fc ON fc.oid = co.confrelid "
    "LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace "
    "WHERE co.conrelid IN (SELECT unnest($1::oid[])) AND ("
    "  co.contype IN ('p', 'u', 'x') "
    "  OR (co.contype = 'f' AND co.conparentid = 0) "
    "  OR (co.contype = 'c' AND co.conislocal AND NOT (" INLINE_CHECK("co") ")))";

/* Triggers (a constraint trigger's pg_constraint row is internal to it), rules, statistics. A
 * trigger's item also sets the states of its clones. */
static const char triggers_sql[] =
    "WITH RECURSIVE " CLONE_STATES("pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid "
                                   "WHERE tc.relkind = 'p' AND t.tgparentid = 0 "
                                   "AND t.tgrelid IN (SELECT unnest($1::oid[]))")
    "SELECT 2620, t.oid, "
    "  n.nspname, c.relname || '.' || t.tgname, "
    "  pg_get_triggerdef(t.oid, false) || E';\\n' "
    "  || CASE WHEN t.tgenabled = 'O' THEN '' ELSE " TRIGGER_STATE("t.tgenabled") " END "
    "  || " CLONE_STATES_SQL("cs.root = t.oid") ", "
    "  'TRIGGER', " SL_SQL_PLACE(POST, TRIGGER) ", 0, 0, n.nspname, c.relname, NULL, NULL "
    "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL (SELECT " QN("n", "c.relname") " AS q) qq "
    "WHERE t.tgrelid IN (SELECT unnest($1::oid[])) AND NOT t.tgisinternal AND t.tgparentid = 0 "
    "UNION ALL "
    "SELECT 2618, r.oid, n.nspname, c.relname || '.' || r.rulename, "
    "  pg_get_ruledef(r.oid) || E'\\n' || CASE r.ev_enabled "
    "    WHEN 'D' THEN format(E'ALTER TABLE %s DISABLE RULE %I;\\n', q, r.rulename) "
    "    WHEN 'R' THEN format(E'ALTER TABLE %s ENABLE REPLICA RULE %I;\\n', q, r.rulename) "
    "    WHEN 'A' THEN format(E'ALTER TABLE %s ENABLE ALWAYS RULE %I;\\n', q, r.rulename) "
    "    ELSE '' END, "
    "  'RULE', " SL_SQL_PLACE(POST, RULE) ", 0, 0, n.nspname, c.relname, NULL, NULL "
    "FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL (SELECT " QN("n", "c.relname") " AS q) qq "
    "WHERE r.ev_class IN (SELECT unnest($1::oid[])) AND r.rulename <> '_RETURN' "
    "UNION ALL "
    "SELECT 3381, s.oid, n.nspname, s.stxname, "
    "  pg_get_statisticsobjdef(s.oid) || E';\\n' || CASE WHEN s.stxstattarget >= 0 "
    "    THEN format(E'ALTER STATISTICS %I.%I SET STATISTICS %s;\\n', n.nspname, s.stxname, "
    "    s.stxstattarget) ELSE '' END, "
    "  'STATISTICS', " SL_SQL_PLACE(POST, STATISTICS) ", 0, 0, tn.nspname, t.relname, "
    "  NULL, NULL "
    "FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace "
    "JOIN pg_class t ON t.oid = s.stxrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace "
    "WHERE s.stxrelid IN (SELECT unnest($1::oid[]))";

static const char *const families[][2] = {
    {"sequences", sequences_sql},
    {"tables", tables_sql},
    {"attachments of partitions whose parent is left out", attach_sql},
    {"inline table parts", parts_sql},
    {"column defaults", defaults_sql},
    {"views", views_sql},
    {"indexes", indexes_sql},
    {"constraints", constraints_sql},
    {"triggers, rules and statistics", triggers_sql},
};

int
sl_dump_read_relations(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out,
                       sl_dump_deps *deps, sl_error *err)
{
    if (f->data_only)
        return 0;
    const char *p[1] = {f->table_oids};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (sl__family_read_rows(c, families[i][0], families[i][1], 1, p, out, deps, err) != 0)
            return -1;
    return 0;
}

/* ---- sequence values ----------------------------------------------------------------------- */

static const char seqlist_sql[] =
    "SELECT c.oid, n.nspname, c.relname, " QN("n", "c.relname") ", "
    "  quote_literal(" QN("n", "c.relname") ") "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'S' AND (c.oid IN (SELECT unnest($1::oid[])) "
    "  OR c.oid IN (SELECT unnest($2::oid[]))) ORDER BY c.oid";

/* Reads last_value and is_called of rows [from, to) of the sequence list in one statement. */
static int
read_sequence_batch(sl_conn *c, const PGresult *list, int from, int to, sl_dump_items *out,
                    sl_error *err)
{
    sl_buf q = SL_BUF_INIT;
    PGresult *res = NULL;
    int rc = -1;
    for (int i = from; i < to; i++)
        sl_buf_printf(&q, "%sSELECT %d, last_value, is_called FROM %s",
                      i > from ? " UNION ALL " : "", i, PQgetvalue(list, i, 3));
    if (sl_conn_query(c, &res, q.data, 0, NULL, err) != 0) {
        sl_error_prefix(err, "reading sequence values");
        goto done;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        int i = atoi(PQgetvalue(res, r, 0));
        /* last_value is written bare into the script: only a number may get there */
        if (i < from || i >= to) {
            sl_error_set(err, SL_E_SERVER, "the server sent a malformed row of sequence values");
            goto done;
        }
        if (!sl_script_is_integer(PQgetvalue(res, r, 1))) {
            sl_error_set(err, SL_E_SERVER, "the server sent a malformed last_value for sequence "
                         "%s (not an integer)", PQgetvalue(list, i, 3));
            goto done;
        }
        char *sql = sl_asprintf("SELECT pg_catalog.setval(%s, %s, %s);\n", PQgetvalue(list, i, 4),
                                PQgetvalue(res, r, 1),
                                strcmp(PQgetvalue(res, r, 2), "t") == 0 ? "true" : "false");
        sl_dump_item it = {
            .phase = SL_PHASE_DATA,
            .priority = SL_PRIO_SEQUENCE_SET,
            .kind = SL_BFILE_KIND_SEQUENCE_SET,
            .schema = PQgetvalue(list, i, 1),
            .name = PQgetvalue(list, i, 2),
            .sql = sql,
            .classid = SL_CLASS_RELATION,
            .objid = (uint32_t)strtoul(PQgetvalue(list, i, 0), NULL, 10),
            .ref_classid = SL_CLASS_RELATION,
            .ref_objid = (uint32_t)strtoul(PQgetvalue(list, i, 0), NULL, 10),
        };
        sl_dump_items_add(out, &it);
        free(sql);
    }
    rc = 0;
done:
    PQclear(res);
    sl_buf_free(&q);
    return rc;
}

int
sl_dump_read_sequence_values(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out,
                             sl_error *err)
{
    if (f->schema_only)
        return 0;
    PGresult *list = NULL;
    const char *p[2] = {f->table_oids, f->config_sequence_oids ? f->config_sequence_oids : "{}"};
    if (sl_conn_query(c, &list, seqlist_sql, 2, p, err) != 0) {
        sl_error_prefix(err, "listing sequences");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < PQntuples(list) && rc == 0; i += SEQ_BATCH) {
        int to = i + SEQ_BATCH < PQntuples(list) ? i + SEQ_BATCH : PQntuples(list);
        rc = read_sequence_batch(c, list, i, to, out, err);
    }
    PQclear(list);
    return rc;
}
