/* dump/operator.c: access methods, operators, operator families and classes.
 * A family's members are either bound to a class (pg_depend from the pg_amop/pg_amproc row to
 * the pg_opclass, written inside CREATE OPERATOR CLASS) or loose (added with ALTER OPERATOR
 * FAMILY ... ADD, depending on the family). Loose members become items of their own so that
 * they sort after the operators and functions they name. Every family is created explicitly
 * before its classes: a class created without FAMILY would make an identical one, so the result
 * is the same either way, and an explicit family also covers families named unlike any class. */
#include "dump/operator.h"

#include "dump/family.h"
#include "io/bfile.h"

static const char access_methods_sql[] =
    "SELECT 'pg_catalog.pg_am'::pg_catalog.regclass::pg_catalog.oid, a.oid, NULL, a.amname, "
    "  'CREATE ACCESS METHOD ' || pg_catalog.quote_ident(a.amname) || ' TYPE ' "
    "  || CASE a.amtype WHEN 'i' THEN 'INDEX' WHEN 't' THEN 'TABLE' END "
    "  || ' HANDLER ' || a.amhandler::pg_catalog.text || E';\\n' "
    "FROM pg_catalog.pg_am a "
    "WHERE a.oid >= " SL__FIRST_NORMAL_OID " "
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_am", "a.oid")
    "ORDER BY a.amname";

/* OPERATOR(schema.op) of an operator alias joined with its namespace alias. */
#define OPERATOR_REF(op, nsp) \
    "'OPERATOR(' || pg_catalog.quote_ident(" nsp ".nspname) || '.' || " op ".oprname || ')'"

/* Shell operators (no function yet) are not dumped: the operators naming them as commutator or
 * negator re-create them. */
static const char operators_sql[] =
    "SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass::pg_catalog.oid, o.oid, n.nspname, "
    "  o.oprname || '(' || COALESCE(pg_catalog.format_type(NULLIF(o.oprleft, 0), NULL), "
    "  'NONE') || ', ' || COALESCE(pg_catalog.format_type(NULLIF(o.oprright, 0), NULL), "
    "  'NONE') || ')', "
    "  'CREATE OPERATOR ' || pg_catalog.quote_ident(n.nspname) || '.' || o.oprname "
    "  || E' (\\n    ' || pg_catalog.array_to_string(ARRAY["
    "    'FUNCTION = ' || o.oprcode::pg_catalog.text, "
    "    CASE WHEN o.oprleft <> 0 "
    "      THEN 'LEFTARG = ' || pg_catalog.format_type(o.oprleft, NULL) END, "
    "    CASE WHEN o.oprright <> 0 "
    "      THEN 'RIGHTARG = ' || pg_catalog.format_type(o.oprright, NULL) END, "
    "    CASE WHEN o.oprcom <> 0 THEN 'COMMUTATOR = ' || " OPERATOR_REF("co", "con") " END, "
    "    CASE WHEN o.oprnegate <> 0 THEN 'NEGATOR = ' || " OPERATOR_REF("ng", "ngn") " END, "
    "    CASE WHEN o.oprrest <> 0 THEN 'RESTRICT = ' || o.oprrest::pg_catalog.text END, "
    "    CASE WHEN o.oprjoin <> 0 THEN 'JOIN = ' || o.oprjoin::pg_catalog.text END, "
    "    CASE WHEN o.oprcanhash THEN 'HASHES' END, "
    "    CASE WHEN o.oprcanmerge THEN 'MERGES' END "
    "  ], E',\\n    ') || E'\\n);\\n' "
    "FROM pg_catalog.pg_operator o "
    "JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace "
    "LEFT JOIN pg_catalog.pg_operator co ON co.oid = o.oprcom "
    "LEFT JOIN pg_catalog.pg_namespace con ON con.oid = co.oprnamespace "
    "LEFT JOIN pg_catalog.pg_operator ng ON ng.oid = o.oprnegate "
    "LEFT JOIN pg_catalog.pg_namespace ngn ON ngn.oid = ng.oprnamespace "
    "WHERE o.oprcode <> 0 AND " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_operator", "o.oid")
    "ORDER BY n.nspname, o.oprname, o.oid";

static const char opfamilies_sql[] =
    "SELECT 'pg_catalog.pg_opfamily'::pg_catalog.regclass::pg_catalog.oid, f.oid, n.nspname, "
    "  f.opfname || ' USING ' || am.amname, "
    "  'CREATE OPERATOR FAMILY ' || " SL__QNAME("n", "f.opfname")
    "  || ' USING ' || pg_catalog.quote_ident(am.amname) || E';\\n' "
    "FROM pg_catalog.pg_opfamily f "
    "JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace "
    "JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod "
    "WHERE " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_opfamily", "f.oid")
    "ORDER BY n.nspname, f.opfname, am.amname";

/* " FOR ORDER BY schema.family" of an ordering operator (pg_amop alias ao), else "". */
#define ORDER_BY_FAMILY(ao)                                                            \
    "COALESCE((SELECT ' FOR ORDER BY ' || " SL__QNAME("sfn", "sf.opfname")             \
    " FROM pg_catalog.pg_opfamily sf "                                                 \
    " JOIN pg_catalog.pg_namespace sfn ON sfn.oid = sf.opfnamespace "                  \
    " WHERE " ao ".amoppurpose = 'o' AND sf.oid = " ao ".amopsortfamily), '')"

/* True when the pg_amop/pg_amproc row (catalog cat, oid expression oid) belongs to class
 * classoid, or to any class when classoid is NULL. */
#define BOUND_TO_CLASS(cat, oid, classoid)                                                \
    "EXISTS (SELECT 1 FROM pg_catalog.pg_depend cd "                                    \
    "WHERE cd.classid = '" cat "'::pg_catalog.regclass AND cd.objid = " oid " "          \
    "AND cd.refclassid = 'pg_catalog.pg_opclass'::pg_catalog.regclass "                 \
    "AND (" classoid "::pg_catalog.oid IS NULL OR cd.refobjid = " classoid "::pg_catalog.oid))"

#define ALTER_FAMILY                                                                       \
    "'ALTER OPERATOR FAMILY ' || " SL__QNAME("n", "f.opfname") " || ' USING ' "            \
    "|| pg_catalog.quote_ident(am.amname) "

#define FAMILY_JOINS(famcol)                                                               \
    "JOIN pg_catalog.pg_opfamily f ON f.oid = " famcol " "                                 \
    "JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace "                            \
    "JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod "

/* True when the loose member (catalog cat, oid expression oid) of family f (namespace n) is
 * dumped: a member of a dumped family, or one that a user added to a built-in family (which
 * every server has, such as integer_ops) naming an operator or function (mo, namespace mn) of
 * a dumped schema. Members that an extension added are the extension's. */
#define MEMBER_SELECTED(cat, oid)                                                           \
    "((" SL__SCHEMA_SELECTED("n") " AND " SL__NOT_DEPENDENT("pg_catalog.pg_opfamily", "f.oid") \
    ") OR (" oid " >= " SL__FIRST_NORMAL_OID " AND f.oid < " SL__FIRST_NORMAL_OID " AND "       \
    SL__SCHEMA_SELECTED("mn") ")) AND " SL__NOT_DEPENDENT(cat, oid)

/* The schema of a loose member's item: its family's, or for a built-in family, the schema of
 * the operator or function it adds. */
#define MEMBER_SCHEMA "CASE WHEN " SL__SCHEMA_SELECTED("n") " THEN n.nspname ELSE mn.nspname END"

/* Family members that no class binds, one item each. */
static const char opfamily_members_sql[] =
    "SELECT 'pg_catalog.pg_amop'::pg_catalog.regclass::pg_catalog.oid, ao.oid, "
    "  " MEMBER_SCHEMA ", "
    "  f.opfname || ' USING ' || am.amname || ' OPERATOR ' || ao.amopstrategy || ' ' "
    "  || ao.amopopr::pg_catalog.regoperator::pg_catalog.text, "
    "  " ALTER_FAMILY " || E'\\n    ADD OPERATOR ' || ao.amopstrategy || ' ' "
    "  || ao.amopopr::pg_catalog.regoperator::pg_catalog.text || " ORDER_BY_FAMILY("ao")
    "  || E';\\n' "
    "FROM pg_catalog.pg_amop ao " FAMILY_JOINS("ao.amopfamily")
    "JOIN pg_catalog.pg_operator mo ON mo.oid = ao.amopopr "
    "JOIN pg_catalog.pg_namespace mn ON mn.oid = mo.oprnamespace "
    "WHERE " MEMBER_SELECTED("pg_catalog.pg_amop", "ao.oid")
    "  AND NOT " BOUND_TO_CLASS("pg_catalog.pg_amop", "ao.oid", "NULL")
    "UNION ALL "
    "SELECT 'pg_catalog.pg_amproc'::pg_catalog.regclass::pg_catalog.oid, ap.oid, "
    "  " MEMBER_SCHEMA ", "
    "  f.opfname || ' USING ' || am.amname || ' FUNCTION ' || ap.amprocnum || ' ' "
    "  || ap.amproc::pg_catalog.regprocedure::pg_catalog.text, "
    "  " ALTER_FAMILY " || E'\\n    ADD FUNCTION ' || ap.amprocnum || ' (' "
    "  || pg_catalog.format_type(ap.amproclefttype, NULL) || ', ' "
    "  || pg_catalog.format_type(ap.amprocrighttype, NULL) || ') ' "
    "  || ap.amproc::pg_catalog.regprocedure::pg_catalog.text || E';\\n' "
    "FROM pg_catalog.pg_amproc ap " FAMILY_JOINS("ap.amprocfamily")
    "JOIN pg_catalog.pg_proc mo ON mo.oid = ap.amproc "
    "JOIN pg_catalog.pg_namespace mn ON mn.oid = mo.pronamespace "
    "WHERE " MEMBER_SELECTED("pg_catalog.pg_amproc", "ap.oid")
    "  AND NOT " BOUND_TO_CLASS("pg_catalog.pg_amproc", "ap.oid", "NULL")
    "ORDER BY 3, 4";

/* A class with its bound members: operators by strategy, functions by support number (with
 * their types only when they differ from the class's input type, as CREATE OPERATOR CLASS then
 * infers them), then STORAGE. A class with no member and no storage type of its own (STORAGE
 * equal to the input type is stored as none) still needs one item after AS: it gets STORAGE of
 * its input type, which CREATE OPERATOR CLASS takes as no storage type again. */
static const char opclasses_sql[] =
    "SELECT 'pg_catalog.pg_opclass'::pg_catalog.regclass::pg_catalog.oid, c.oid, n.nspname, "
    "  c.opcname || ' USING ' || am.amname, "
    "  'CREATE OPERATOR CLASS ' || " SL__QNAME("n", "c.opcname")
    "  || CASE WHEN c.opcdefault THEN ' DEFAULT' ELSE '' END "
    "  || ' FOR TYPE ' || pg_catalog.format_type(c.opcintype, NULL) "
    "  || ' USING ' || pg_catalog.quote_ident(am.amname) "
    "  || ' FAMILY ' || " SL__QNAME("fn", "f.opfname") " || E' AS\\n    ' "
    "  || COALESCE(NULLIF(pg_catalog.array_to_string(ARRAY("
    "    SELECT m.item FROM ("
    "      SELECT 1 AS k, ao.amopstrategy AS num, 'OPERATOR ' || ao.amopstrategy || ' ' "
    "        || ao.amopopr::pg_catalog.regoperator::pg_catalog.text "
    "        || " ORDER_BY_FAMILY("ao") " AS item "
    "      FROM pg_catalog.pg_amop ao "
    "      WHERE " BOUND_TO_CLASS("pg_catalog.pg_amop", "ao.oid", "c.oid")
    "      UNION ALL "
    "      SELECT 2, ap.amprocnum, 'FUNCTION ' || ap.amprocnum "
    "        || CASE WHEN ap.amproclefttype = c.opcintype "
    "                 AND ap.amprocrighttype = c.opcintype THEN '' "
    "            ELSE ' (' || pg_catalog.format_type(ap.amproclefttype, NULL) || ', ' "
    "              || pg_catalog.format_type(ap.amprocrighttype, NULL) || ')' END "
    "        || ' ' || ap.amproc::pg_catalog.regprocedure::pg_catalog.text "
    "      FROM pg_catalog.pg_amproc ap "
    "      WHERE " BOUND_TO_CLASS("pg_catalog.pg_amproc", "ap.oid", "c.oid")
    "      UNION ALL "
    "      SELECT 3, 0, 'STORAGE ' || pg_catalog.format_type(c.opckeytype, NULL) "
    "      WHERE c.opckeytype <> 0"
    "    ) m ORDER BY m.k, m.num, m.item), E',\\n    '), ''), "
    "    'STORAGE ' || pg_catalog.format_type(c.opcintype, NULL)) || E';\\n' "
    "FROM pg_catalog.pg_opclass c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace "
    "JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod "
    "JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily "
    "JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace "
    "WHERE " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_opclass", "c.oid")
    "ORDER BY n.nspname, c.opcname, am.amname";

static const sl__family operator_families[] = {
    {"access methods", "ACCESS METHOD", SL_PHASE_PRE_DATA, SL_PRIO_ACCESS_METHOD, true,
     access_methods_sql},
    {"operators", "OPERATOR", SL_PHASE_PRE_DATA, SL_PRIO_OPERATOR, false, operators_sql},
    {"operator families", "OPERATOR FAMILY", SL_PHASE_PRE_DATA, SL_PRIO_OPFAMILY, false,
     opfamilies_sql},
    {"operator classes", "OPERATOR CLASS", SL_PHASE_PRE_DATA, SL_PRIO_OPCLASS, false,
     opclasses_sql},
    {"operator family members", "OPERATOR FAMILY MEMBER", SL_PHASE_PRE_DATA,
     SL_PRIO_OPFAMILY_MEMBER, false, opfamily_members_sql},
};

int
sl__operator_read(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out, sl_error *err)
{
    return sl__family_read_all(c, f, operator_families,
                               sizeof operator_families / sizeof operator_families[0], out, err);
}
