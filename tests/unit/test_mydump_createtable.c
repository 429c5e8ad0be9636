/* Unit tests for mydump/createtable.c (SHOW CREATE TABLE cut into the table, its secondary
 * indexes and its foreign keys; a view's own database qualifiers removed) and
 * mysql/insertscan.c (rows of INSERT statements counted in chunks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "mydump/createtable.h"
#include "mysql/insertscan.h"

static void
split(const char *ddl, const char *autoinc, sl_buf *create, sl_buf *idx, sl_buf *fks)
{
    sl_error err;
    assert_int_equal(sl_mydump_create_split(ddl, autoinc, create, idx, fks, &err), 0);
}

static void
test_keys_and_foreign_keys_move_out(void **state)
{
    (void)state;
    sl_buf c = SL_BUF_INIT, i = SL_BUF_INIT, f = SL_BUF_INIT;
    split("CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `a` varchar(10) DEFAULT 'x,(y',\n"
          "  PRIMARY KEY (`id`),\n  UNIQUE KEY `u` (`a`),\n  KEY `k` (`a`(3)) COMMENT 'c,)',\n"
          "  FULLTEXT KEY `ft` (`a`),\n  CONSTRAINT `chk` CHECK (`id` > 0),\n"
          "  CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `o`.`p` (`id`) ON DELETE CASCADE\n"
          ") ENGINE=InnoDB PARTITION BY HASH (`id`)",
          NULL, &c, &i, &f);
    assert_string_equal(c.data, "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n"
                                "  `a` varchar(10) DEFAULT 'x,(y',\n  PRIMARY KEY (`id`),\n"
                                "  CONSTRAINT `chk` CHECK (`id` > 0)\n"
                                ") ENGINE=InnoDB PARTITION BY HASH (`id`)");
    assert_string_equal(i.data, "ADD UNIQUE KEY `u` (`a`),\n  ADD KEY `k` (`a`(3)) COMMENT "
                                "'c,)',\n  ADD FULLTEXT KEY `ft` (`a`)");
    assert_string_equal(f.data, "ADD CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `o`.`p` "
                                "(`id`) ON DELETE CASCADE");
    sl_buf_free(&c);
    sl_buf_free(&i);
    sl_buf_free(&f);
}

/* Names holding newlines, commas, parentheses, backticks and the word KEY at a line start
 * never cut an element. */
static void
test_hostile_names_stay_whole(void **state)
{
    (void)state;
    sl_buf c = SL_BUF_INIT, i = SL_BUF_INIT, f = SL_BUF_INIT;
    split("CREATE TABLE `a``(b` (\n  `x,\n  KEY ``k`` (y),` int,\n  `(` int,\n"
          "  KEY `k\n  CONSTRAINT` (`(`)\n)",
          NULL, &c, &i, &f);
    assert_string_equal(c.data, "CREATE TABLE `a``(b` (\n  `x,\n  KEY ``k`` (y),` int,\n"
                                "  `(` int\n)");
    assert_string_equal(i.data, "ADD KEY `k\n  CONSTRAINT` (`(`)");
    assert_int_equal(f.len, 0);
    sl_buf_free(&c);
    sl_buf_free(&i);
    sl_buf_free(&f);
}

static void
test_autoincrement_key_stays(void **state)
{
    (void)state;
    sl_buf c = SL_BUF_INIT, i = SL_BUF_INIT, f = SL_BUF_INIT;
    split("CREATE TABLE `t` (\n  `k` int NOT NULL,\n  `n` int NOT NULL AUTO_INCREMENT,\n"
          "  PRIMARY KEY (`k`),\n  KEY `other` (`k`,`n`),\n  KEY `n` (`n`),\n  KEY `n2` (`n`)\n)",
          "n", &c, &i, &f);
    assert_non_null(strstr(c.data, "  KEY `n` (`n`)\n)"));
    assert_string_equal(i.data, "ADD KEY `other` (`k`,`n`),\n  ADD KEY `n2` (`n`)");
    sl_buf_reset(&c);
    split("CREATE TABLE `t` (\n  `n` int NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`n`),\n"
          "  KEY `n` (`n`)\n)", "n", &c, &i, &f);
    assert_string_equal(i.data, "ADD KEY `n` (`n`)");  /* the primary key has it already */
    sl_buf_free(&c);
    sl_buf_free(&i);
    sl_buf_free(&f);
}

static void
test_unexpected_shape_is_refused(void **state)
{
    (void)state;
    sl_buf c = SL_BUF_INIT, i = SL_BUF_INIT, f = SL_BUF_INIT;
    sl_error err;
    assert_int_equal(sl_mydump_create_split("CREATE TABLE `t` (`a` int", NULL, &c, &i, &f, &err),
                     -1);
    assert_int_equal(sl_mydump_create_split("CREATE TABLE `t` (`a` int, 'open)", NULL, &c, &i,
                                            &f, &err), -1);
    assert_int_equal(err.kind, SL_E_UNSUPPORTED);
    sl_buf_free(&c);
    sl_buf_free(&i);
    sl_buf_free(&f);
}

static void
test_unqualify_only_the_own_database(void **state)
{
    (void)state;
    sl_buf out = SL_BUF_INIT;
    sl_mydump_unqualify("select `db`.`t`.`a` AS `a`,'`db`.x' AS `s`,`db2`.`t`.`b` from "
                        "(`db`.`t` join `o`.`db` on(`db`.`t`.`a` = `o`.`db`.`a`)) /* `db`. */",
                        "db", &out);
    assert_string_equal(out.data, "select `t`.`a` AS `a`,'`db`.x' AS `s`,`db2`.`t`.`b` from "
                                  "(`t` join `o`.`db` on(`t`.`a` = `o`.`db`.`a`)) /* `db`. */");
    sl_mydump_unqualify("select `we``ird`.`t`.`x` from `we``ird`.`t`", "we`ird", &out);
    assert_string_equal(out.data, "select `t`.`x` from `t`");
    sl_buf_free(&out);
}

static int64_t
count_rows(const char *text, size_t chunk, bool *complete)
{
    sl_mysql_insertscan s = {0};
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += chunk)
        sl_mysql_insertscan_feed(&s, text + off, len - off < chunk ? len - off : chunk);
    *complete = sl_mysql_insertscan_finish(&s);
    return s.rows;
}

static void
test_insert_rows_are_counted_in_any_chunks(void **state)
{
    (void)state;
    const char *text = "INSERT INTO `t(` (`a`,`b`) VALUES\n(1,'x),(''y\\'),('),\n(NULL,0x00),"
                       "\n((2),\"q\"\"(\");\nINSERT INTO `u` VALUES\n(3);\n";
    for (size_t chunk = 1; chunk <= strlen(text); chunk++) {
        bool complete;
        assert_int_equal(count_rows(text, chunk, &complete), 4);
        assert_true(complete);
    }
    bool complete;
    assert_int_equal(count_rows("INSERT INTO `t` VALUES\n(1),\n('open", 7, &complete), 2);
    assert_false(complete);
    count_rows("INSERT INTO `t` VALUES\n(1)", 7, &complete);
    assert_false(complete);  /* no ';': cut short */
    assert_int_equal(count_rows("", 1, &complete), 0);
    assert_true(complete);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_foreign_keys_move_out),
        cmocka_unit_test(test_hostile_names_stay_whole),
        cmocka_unit_test(test_autoincrement_key_stays),
        cmocka_unit_test(test_unexpected_shape_is_refused),
        cmocka_unit_test(test_unqualify_only_the_own_database),
        cmocka_unit_test(test_insert_rows_are_counted_in_any_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
