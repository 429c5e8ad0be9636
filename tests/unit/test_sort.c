/* Unit tests for dump/sort.c: dependency order, tie-breaks, phases, shells, cycles and the
 * completeness check, on hand-made items and pg_depend rows (no server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dump/sort.h"

enum { PRE = 10, DATA = 20, INDEX = 30, POST = 40, FINAL = 50 };
enum { REL = SL_CLASS_RELATION, PROC = SL_CLASS_PROC, TYPE = SL_CLASS_TYPE, CON = 2606 };

static void
add(sl_dump_items *l, const char *kind, const char *name, int phase, int prio, uint32_t classid,
    uint32_t objid, uint32_t ref_classid, uint32_t ref_objid)
{
    sl_dump_item it = {.phase = phase, .priority = prio, .kind = kind, .schema = "s",
                       .name = (char *)name, .sql = "x;\n", .classid = classid, .objid = objid,
                       .ref_classid = ref_classid, .ref_objid = ref_objid};
    sl_dump_items_add(l, &it);
}

static long
pos(const sl_dump_items *l, const char *kind, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].kind, kind) == 0 && strcmp(l->v[i].name, name) == 0)
            return (long)i;
    fail_msg("no %s %s", kind, name);
    return -1;
}

/* A view on a table whose rule references a function: view after both, through pg_rewrite. */
static void
test_follows_dependencies_through_internal_parts(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "VIEW", "a_view", PRE, 430, REL, 100, 0, 0);
    add(&l, "FUNCTION", "z_func", PRE, 310, PROC, 200, 0, 0);
    add(&l, "TABLE", "z_table", PRE, 410, REL, 300, 0, 0);
    sl_dump_deps_add(&d, 2618, 400, REL, 100, 'i');  /* _RETURN rule is part of the view */
    sl_dump_deps_add(&d, 2618, 400, REL, 300, 'n');  /* rule uses the table */
    sl_dump_deps_add(&d, 2618, 400, PROC, 200, 'n'); /* and the function */
    sl_dump_deps_add(&d, TYPE, 500, REL, 300, 'i');  /* the table's row type */
    sl_dump_deps_add(&d, PROC, 200, TYPE, 500, 'n'); /* function takes the row type */
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    assert_true(pos(&l, "TABLE", "z_table") < pos(&l, "FUNCTION", "z_func"));
    assert_true(pos(&l, "FUNCTION", "z_func") < pos(&l, "VIEW", "a_view"));
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

/* Without dependencies: (phase, priority, schema, name); the result is always the same. */
static void
test_tie_break_is_deterministic(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "INDEX", "b", INDEX, 600, REL, 1, 0, 0);
    add(&l, "TABLE", "b", PRE, 410, REL, 2, 0, 0);
    add(&l, "TABLE", "a", PRE, 410, REL, 3, 0, 0);
    add(&l, "SCHEMA", "z", PRE, 100, 2615, 4, 0, 0);
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    const char *want[] = {"z", "a", "b", "b"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(l.v[i].name, want[i]);
    assert_string_equal(l.v[3].kind, "INDEX");
    sl_dump_items_free(&l);
}

/* A view in pre-data that needs a primary key pulls the key into pre-data; a comment on a
 * foreign key (a secondary) never pulls the key's dependencies forward. */
static void
test_phases_follow_dependencies(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "TABLE", "t", PRE, 410, REL, 1, 0, 0);
    add(&l, "CONSTRAINT", "t_pkey", INDEX, 610, CON, 2, 0, 0);
    add(&l, "VIEW", "v", PRE, 430, REL, 3, 0, 0);
    add(&l, "CONSTRAINT", "u_key", INDEX, 610, CON, 5, 0, 0);
    add(&l, "FK CONSTRAINT", "fk", POST, 700, CON, 6, 0, 0);
    add(&l, "COMMENT", "fk", PRE, 1110, 0, 0, CON, 6);
    add(&l, "MATVIEW REFRESH", "v", FINAL, 800, REL, 3, REL, 3);
    sl_dump_deps_add(&d, CON, 2, REL, 1, 'a');
    sl_dump_deps_add(&d, 2618, 9, REL, 3, 'i');
    sl_dump_deps_add(&d, 2618, 9, CON, 2, 'n');
    sl_dump_deps_add(&d, CON, 6, CON, 5, 'n');
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    assert_int_equal(l.v[pos(&l, "CONSTRAINT", "t_pkey")].phase, PRE);
    assert_true(pos(&l, "CONSTRAINT", "t_pkey") < pos(&l, "VIEW", "v"));
    assert_int_equal(l.v[pos(&l, "CONSTRAINT", "u_key")].phase, INDEX);
    assert_int_equal(l.v[pos(&l, "COMMENT", "fk")].phase, POST);
    assert_true(pos(&l, "FK CONSTRAINT", "fk") < pos(&l, "COMMENT", "fk"));
    for (size_t i = 1; i < l.n; i++)
        assert_true(l.v[i - 1].phase <= l.v[i].phase);
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

/* Refreshes of materialized views follow each other in dependency order. */
static void
test_secondaries_follow_dependency_order(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "MATERIALIZED VIEW", "a_top", PRE, 440, REL, 1, 0, 0);
    add(&l, "MATERIALIZED VIEW", "b_base", PRE, 440, REL, 2, 0, 0);
    add(&l, "MATVIEW REFRESH", "a_top", FINAL, 800, REL, 1, REL, 1);
    add(&l, "MATVIEW REFRESH", "b_base", FINAL, 800, REL, 2, REL, 2);
    sl_dump_deps_add(&d, 2618, 7, REL, 1, 'i');
    sl_dump_deps_add(&d, 2618, 7, REL, 2, 'n');
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    assert_true(pos(&l, "MATVIEW REFRESH", "b_base") < pos(&l, "MATVIEW REFRESH", "a_top"));
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

/* A base type and its I/O functions: shell, functions, then the full type, then its users. */
static void
test_shell_type_breaks_the_io_function_cycle(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "SHELL TYPE", "t", PRE, 200, TYPE, 1, 0, 0);
    add(&l, "TYPE", "t", PRE, 210, TYPE, 1, 0, 0);
    add(&l, "FUNCTION", "t_in", PRE, 310, PROC, 2, 0, 0);
    add(&l, "TABLE", "a_user", PRE, 410, REL, 3, 0, 0);
    sl_dump_deps_add(&d, TYPE, 1, PROC, 2, 'n');
    sl_dump_deps_add(&d, PROC, 2, TYPE, 1, 'n');
    sl_dump_deps_add(&d, REL, 3, TYPE, 1, 'n');
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    assert_true(pos(&l, "SHELL TYPE", "t") < pos(&l, "FUNCTION", "t_in"));
    assert_true(pos(&l, "FUNCTION", "t_in") < pos(&l, "TYPE", "t"));
    assert_true(pos(&l, "TYPE", "t") < pos(&l, "TABLE", "a_user"));
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

/* A function on the type that the type does not name (an SQL function, which cannot take a
 * shell type) follows the full type; the type's own I/O function still comes before it. */
static void
test_other_functions_on_a_shell_type_follow_the_full_type(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "SHELL TYPE", "t", PRE, 200, TYPE, 1, 0, 0);
    add(&l, "TYPE", "t", PRE, 210, TYPE, 1, 0, 0);
    add(&l, "FUNCTION", "t_in", PRE, 310, PROC, 2, 0, 0);
    add(&l, "FUNCTION", "a_len", PRE, 310, PROC, 4, 0, 0);
    sl_dump_deps_add(&d, TYPE, 1, PROC, 2, 'n');
    sl_dump_deps_add(&d, PROC, 2, TYPE, 1, 'n');
    sl_dump_deps_add(&d, PROC, 4, TYPE, 1, 'n');
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    assert_true(pos(&l, "FUNCTION", "t_in") < pos(&l, "TYPE", "t"));
    assert_true(pos(&l, "TYPE", "t") < pos(&l, "FUNCTION", "a_len"));
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

static void
test_cycle_is_reported_with_its_objects(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "VIEW", "v1", PRE, 430, REL, 1, 0, 0);
    add(&l, "FUNCTION", "f", PRE, 310, PROC, 2, 0, 0);
    add(&l, "TABLE", "free", PRE, 410, REL, 3, 0, 0);
    sl_dump_deps_add(&d, REL, 1, PROC, 2, 'n');
    sl_dump_deps_add(&d, PROC, 2, REL, 1, 'n');
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_dump_sort(&l, &d, &err), -1);
    assert_int_equal(err.kind, SL_E_UNSUPPORTED);
    assert_non_null(strstr(err.message, "dependency cycle"));
    assert_non_null(strstr(err.message, "VIEW s.v1"));
    assert_non_null(strstr(err.message, "FUNCTION s.f"));
    assert_null(strstr(err.message, "free"));
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

static void
test_unhandled_objects_are_found(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "TABLE", "t", PRE, 410, REL, 1, 0, 0);
    add(&l, "COMMENT", "f", FINAL, 1110, 0, 0, PROC, 9); /* decorates, does not define, f */
    sl_dump_deps_add(&d, REL, 2, REL, 1, 'i');        /* toast table: part of t */
    sl_dump_deps_add(&d, TYPE, 3, 3079, 50, 'e');     /* extension member */
    sl_dump_deps_add(&d, TYPE, 4, TYPE, 3, 'i');      /* its array type */
    uint32_t handled[] = {REL, 1, REL, 2, TYPE, 3, TYPE, 4};
    assert_int_equal(sl_dump_find_unhandled(&l, &d, handled, 4), -1);
    uint32_t missing[] = {REL, 1, PROC, 9, REL, 2};
    assert_int_equal(sl_dump_find_unhandled(&l, &d, missing, 3), 1);
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

/* A trigger on a partitioned table is cloned to each partition; the clone is written as part
 * of the partition (deptype 'i' added by the reader) and has a 'P' row on the parent's trigger.
 * That row must not make the partition wait for the trigger: the trigger stays in POST. A clone
 * that is an item itself (the partition's index) still follows the parent's index. */
static void
test_partition_clone_does_not_pull_parent_trigger(void **state)
{
    (void)state;
    enum { TRG = 2620 };
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "TABLE", "p", PRE, 410, REL, 1, 0, 0);
    add(&l, "TABLE", "p1", PRE, 410, REL, 2, 0, 0);
    add(&l, "TRIGGER", "p_trg", POST, 710, TRG, 3, 0, 0);
    add(&l, "INDEX", "p_idx", INDEX, 600, REL, 5, 0, 0);
    add(&l, "INDEX", "a_p1_idx", INDEX, 600, REL, 6, 0, 0);
    sl_dump_deps_add(&d, REL, 2, REL, 1, 'n');   /* partition of p */
    sl_dump_deps_add(&d, TRG, 3, REL, 1, 'a');
    sl_dump_deps_add(&d, TRG, 4, REL, 2, 'i');   /* the clone, written with p1 */
    sl_dump_deps_add(&d, TRG, 4, TRG, 3, 'P');
    sl_dump_deps_add(&d, TRG, 4, REL, 2, 'S');
    sl_dump_deps_add(&d, REL, 6, REL, 5, 'P');   /* p1's index clones p's */
    sl_dump_deps_add(&d, REL, 6, REL, 2, 'S');
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    assert_int_equal(l.v[pos(&l, "TRIGGER", "p_trg")].phase, POST);
    assert_int_equal(l.v[pos(&l, "TABLE", "p1")].phase, PRE);
    assert_true(pos(&l, "INDEX", "p_idx") < pos(&l, "INDEX", "a_p1_idx"));
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

/* A foreign key to a partitioned table needs the partitions' indexes attached to the parent's
 * (post-data items of their own): it waits for them, in the next phase since post-data items
 * run at the same time. A comment on a policy shares the policy's segment and stays. A plain
 * index attached to the parent's is finished by its attachment too. */
static void
test_parallel_phase_dependencies_move_to_next_phase(void **state)
{
    (void)state;
    enum { POL = 3256 };
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "TABLE", "p", PRE, 410, REL, 1, 0, 0);
    add(&l, "TABLE", "p1", PRE, 410, REL, 2, 0, 0);
    add(&l, "CONSTRAINT", "p_pkey", INDEX, 610, CON, 3, 0, 0);
    add(&l, "CONSTRAINT", "p1_pkey", INDEX, 610, CON, 4, 0, 0);
    add(&l, "INDEX ATTACH", "p1_pkey", POST, 740, REL, 5, REL, 5);
    add(&l, "INDEX", "p_u", INDEX, 600, REL, 7, 0, 0);
    add(&l, "INDEX", "p1_u", INDEX, 600, REL, 8, 0, 0);
    add(&l, "INDEX ATTACH", "p1_u", POST, 740, REL, 8, REL, 8);
    add(&l, "FK CONSTRAINT", "a_fk", POST, 700, CON, 10, 0, 0);
    add(&l, "FK CONSTRAINT", "b_fk", POST, 700, CON, 11, 0, 0);
    add(&l, "FK CONSTRAINT", "c_fk", POST, 700, CON, 12, 0, 0);
    add(&l, "POLICY", "pol", POST, 1020, POL, 13, REL, 1);
    add(&l, "COMMENT", "pol", POST, 1110, 0, 0, POL, 13);
    sl_dump_deps_add(&d, REL, 5, CON, 4, 'i');    /* p1's pkey index, part of its constraint */
    sl_dump_deps_add(&d, REL, 6, CON, 3, 'i');    /* p's */
    sl_dump_deps_add(&d, REL, 5, REL, 6, 'P');
    sl_dump_deps_add(&d, REL, 8, REL, 7, 'P');
    sl_dump_deps_add(&d, CON, 10, REL, 6, 'n');   /* a_fk references p's pkey */
    sl_dump_deps_add(&d, CON, 20, CON, 10, 'i');  /* its clone for p1 (written with it) */
    sl_dump_deps_add(&d, CON, 20, REL, 5, 'n');
    sl_dump_deps_add(&d, CON, 11, REL, 7, 'n');   /* b_fk references the unique index p_u */
    sl_dump_deps_add(&d, CON, 21, CON, 11, 'i');
    sl_dump_deps_add(&d, CON, 21, REL, 8, 'n');
    sl_dump_deps_add(&d, CON, 12, CON, 3, 'n');   /* c_fk needs nothing of post-data */
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    assert_int_equal(l.v[pos(&l, "FK CONSTRAINT", "a_fk")].phase, FINAL);
    assert_int_equal(l.v[pos(&l, "FK CONSTRAINT", "b_fk")].phase, FINAL);
    assert_int_equal(l.v[pos(&l, "FK CONSTRAINT", "c_fk")].phase, POST);
    assert_int_equal(l.v[pos(&l, "COMMENT", "pol")].phase, POST);
    assert_int_equal(l.v[pos(&l, "INDEX ATTACH", "p1_u")].phase, POST);
    assert_true(pos(&l, "INDEX ATTACH", "p1_pkey") < pos(&l, "FK CONSTRAINT", "a_fk"));
    assert_true(pos(&l, "INDEX ATTACH", "p1_u") < pos(&l, "FK CONSTRAINT", "b_fk"));
    for (size_t i = 1; i < l.n; i++)
        assert_true(l.v[i - 1].phase <= l.v[i].phase);
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

/* An item that moves to a later phase needs more than its tables (an item of its old phase):
 * it keeps none, so a restore runs it after the phases before its own; one that stays keeps
 * them. */
static void
test_moved_items_forget_their_tables(void **state)
{
    (void)state;
    sl_dump_items l = SL_DUMP_ITEMS_INIT;
    sl_dump_deps d = SL_DUMP_DEPS_INIT;
    add(&l, "TABLE", "p", PRE, 410, REL, 1, 0, 0);
    add(&l, "INDEX", "p_u", INDEX, 600, REL, 7, 0, 0);
    add(&l, "INDEX ATTACH", "p1_u", POST, 740, REL, 8, REL, 8);
    add(&l, "FK CONSTRAINT", "moved", POST, 700, CON, 11, 0, 0);
    add(&l, "FK CONSTRAINT", "stays", POST, 700, CON, 12, 0, 0);
    for (size_t i = 3; i < 5; i++) {
        sl_dump_item *it = &l.v[i];
        it->tables[0] = strdup("s");
        it->tables[1] = strdup("t");
        it->tables[2] = strdup("s");
        it->tables[3] = strdup("p");
    }
    sl_dump_deps_add(&d, REL, 8, REL, 7, 'P');
    sl_dump_deps_add(&d, CON, 11, REL, 8, 'n');  /* needs the attachment, a post-data item */
    sl_dump_deps_add(&d, CON, 12, REL, 7, 'n');  /* needs an index-phase item only */
    sl_error err;
    assert_int_equal(sl_dump_sort(&l, &d, &err), 0);
    const sl_dump_item *moved = &l.v[pos(&l, "FK CONSTRAINT", "moved")];
    const sl_dump_item *stays = &l.v[pos(&l, "FK CONSTRAINT", "stays")];
    assert_int_equal(moved->phase, FINAL);
    for (size_t k = 0; k < 4; k++)
        assert_null(moved->tables[k]);
    assert_int_equal(stays->phase, POST);
    assert_string_equal(stays->tables[1], "t");
    assert_string_equal(stays->tables[3], "p");
    sl_dump_items_free(&l);
    sl_dump_deps_free(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follows_dependencies_through_internal_parts),
        cmocka_unit_test(test_tie_break_is_deterministic),
        cmocka_unit_test(test_phases_follow_dependencies),
        cmocka_unit_test(test_secondaries_follow_dependency_order),
        cmocka_unit_test(test_shell_type_breaks_the_io_function_cycle),
        cmocka_unit_test(test_other_functions_on_a_shell_type_follow_the_full_type),
        cmocka_unit_test(test_cycle_is_reported_with_its_objects),
        cmocka_unit_test(test_unhandled_objects_are_found),
        cmocka_unit_test(test_partition_clone_does_not_pull_parent_trigger),
        cmocka_unit_test(test_parallel_phase_dependencies_move_to_next_phase),
        cmocka_unit_test(test_moved_items_forget_their_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
