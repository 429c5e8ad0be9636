/* Unit tests for restore/graph.c: made-up graphs run by k simulated workers in a
 * discrete-event loop (each item takes a given time), checking at every step that no item starts
 * before what it depends on is done, that two items with one lock key never run together, that
 * no worker is left idle while an item could start, and that the heaviest runnable item is
 * handed out first; and that a cycle is refused naming an item in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "restore/graph.h"

#define MAXN 400
#define MAXK 8

/* A made-up graph, kept beside the sl_graph so that the simulation can check it. */
typedef struct model {
    size_t n;
    uint64_t weight[MAXN], lock[MAXN], duration[MAXN];
    bool dep[MAXN][MAXN];  /* dep[i][j]: i runs only after j */
} model;

typedef struct sim {
    int state[MAXN];  /* 0 not started, 1 running, 2 done */
    uint64_t start[MAXN], end[MAXN];
    size_t order[MAXN], norder;
} sim;

static uint64_t rng_state;

static uint64_t
rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return rng_state >> 33;
}

static sl_graph *
build(const model *m)
{
    sl_graph *g = sl_graph_new(m->n);
    for (size_t i = 0; i < m->n; i++) {
        sl_graph_item(g, i, m->weight[i], m->lock[i]);
        for (size_t j = 0; j < m->n; j++)
            if (m->dep[i][j])
                sl_graph_depend(g, i, j);
    }
    return g;
}

static bool
deps_done(const model *m, const sim *s, size_t i)
{
    for (size_t j = 0; j < m->n; j++)
        if (m->dep[i][j] && s->state[j] != 2)
            return false;
    return true;
}

static bool
lock_free(const model *m, const sim *s, size_t i)
{
    if (m->lock[i] == SL_GRAPH_NO_LOCK)
        return true;
    for (size_t j = 0; j < m->n; j++)
        if (s->state[j] == 1 && m->lock[j] == m->lock[i])
            return false;
    return true;
}

static bool
could_start(const model *m, const sim *s, size_t i)
{
    return s->state[i] == 0 && deps_done(m, s, i) && lock_free(m, s, i);
}

/* The item the contract says _take() must give: the heaviest that could start, then the
 * lowest index. */
static size_t
expected_take(const model *m, const sim *s)
{
    size_t best = SL_GRAPH_NONE;
    for (size_t i = 0; i < m->n; i++)
        if (could_start(m, s, i) && (best == SL_GRAPH_NONE || m->weight[i] > m->weight[best]))
            best = i;
    return best;
}

/* Runs the graph on k workers; fails the test on any broken promise. */
static void
simulate(const model *m, int k, sim *s)
{
    sl_graph *g = build(m);
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_graph_seal(g, &err), 0);
    memset(s, 0, sizeof *s);
    size_t running[MAXK];
    int nrun = 0;
    uint64_t now = 0;
    while (!sl_graph_finished(g)) {
        while (nrun < k) {  /* every free worker asks */
            size_t want = expected_take(m, s);
            size_t i = sl_graph_take(g);
            if (i != want)
                fail_msg("take gave %zu, expected %zu (at time %llu)", i, want,
                         (unsigned long long)now);
            if (i == SL_GRAPH_NONE)
                break;
            assert_true(deps_done(m, s, i));
            assert_true(lock_free(m, s, i));
            s->state[i] = 1;
            s->start[i] = now;
            s->order[s->norder++] = i;
            running[nrun++] = i;
        }
        assert_int_equal(sl_graph_running(g), (size_t)nrun);
        if (nrun == 0)
            fail_msg("nothing runs and the graph is not finished");
        int first = 0;  /* the next item to end: the earliest end, then the lowest index */
        for (int w = 1; w < nrun; w++) {
            size_t a = running[w], b = running[first];
            uint64_t ea = s->start[a] + m->duration[a], eb = s->start[b] + m->duration[b];
            if (ea < eb || (ea == eb && a < b))
                first = w;
        }
        size_t i = running[first];
        running[first] = running[--nrun];
        now = s->start[i] + m->duration[i];
        s->state[i] = 2;
        s->end[i] = now;
        sl_graph_done(g, i);
    }
    assert_int_equal(s->norder, m->n);
    assert_int_equal(sl_graph_take(g), SL_GRAPH_NONE);
    sl_graph_free(g);
}

/* Random DAGs (an edge always points to a lower index, with weights, durations and a few lock
 * keys), 1..8 workers: every promise is checked at every step by simulate(). */
static void
test_random_graphs_keep_every_promise(void **state)
{
    (void)state;
    static model m;
    static sim s;
    rng_state = 42;
    for (int round = 0; round < 60; round++) {
        memset(&m, 0, sizeof m);
        m.n = 1 + rng() % (round < 30 ? 30 : MAXN);
        unsigned density = 1 + rng() % 20;
        for (size_t i = 0; i < m.n; i++) {
            m.weight[i] = rng() % 5 == 0 ? 0 : rng() % 1000;
            m.duration[i] = 1 + rng() % 50;
            m.lock[i] = rng() % 3 == 0 ? 1 + rng() % 4 : SL_GRAPH_NO_LOCK;
            for (size_t j = 0; j < i; j++)
                m.dep[i][j] = rng() % 100 < density;
        }
        for (int k = 1; k <= MAXK; k++)
            simulate(&m, k, &s);
    }
}

/* Items without dependencies come out heaviest first, ties in file order. */
static void
test_heaviest_first_ties_in_file_order(void **state)
{
    (void)state;
    const uint64_t w[] = {5, 9, 1, 9, 7, 0, 5};
    const size_t want[] = {1, 3, 4, 0, 6, 2, 5};
    sl_graph *g = sl_graph_new(7);
    for (size_t i = 0; i < 7; i++)
        sl_graph_item(g, i, w[i], SL_GRAPH_NO_LOCK);
    sl_error err;
    assert_int_equal(sl_graph_seal(g, &err), 0);
    for (size_t k = 0; k < 7; k++)
        assert_int_equal(sl_graph_take(g), want[k]);
    assert_int_equal(sl_graph_take(g), SL_GRAPH_NONE);
    assert_int_equal(sl_graph_running(g), 7);
    for (size_t k = 0; k < 7; k++)
        sl_graph_done(g, k);
    assert_true(sl_graph_finished(g));
    sl_graph_free(g);
}

/* The restore's shape: a big table A and a small table B, each an index; two workers. The
 * index on B starts as soon as B's rows are in, while A's rows are still loading. */
static void
test_index_starts_beside_another_tables_data(void **state)
{
    (void)state;
    static model m;
    static sim s;
    memset(&m, 0, sizeof m);
    m.n = 5;  /* 0 pre-data, 1 data A, 2 data B, 3 index A, 4 index B */
    const uint64_t w[] = {10, 1000, 10, 1000, 10}, d[] = {1, 100, 5, 40, 3};
    memcpy(m.weight, w, sizeof w);
    memcpy(m.duration, d, sizeof d);
    m.dep[1][0] = m.dep[2][0] = true;
    m.dep[3][1] = m.dep[3][0] = true;
    m.dep[4][2] = m.dep[4][0] = true;
    simulate(&m, 2, &s);
    assert_true(s.start[4] < s.end[1]);  /* index on B before A's rows are done */
    assert_int_equal(s.start[3], s.end[1]);
}

/* Two items with one lock key never overlap; an item free of locks passes a locked one. */
static void
test_lock_keys_exclusive(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(4);
    sl_graph_item(g, 0, 100, 7);  /* two segments of one table */
    sl_graph_item(g, 1, 90, 7);
    sl_graph_item(g, 2, 10, SL_GRAPH_NO_LOCK);
    sl_graph_item(g, 3, 5, 8);
    sl_error err;
    assert_int_equal(sl_graph_seal(g, &err), 0);
    assert_int_equal(sl_graph_take(g), 0);
    assert_int_equal(sl_graph_take(g), 2);  /* 1 waits for 0's lock */
    assert_int_equal(sl_graph_take(g), 3);
    assert_int_equal(sl_graph_take(g), SL_GRAPH_NONE);
    sl_graph_done(g, 2);
    assert_int_equal(sl_graph_take(g), SL_GRAPH_NONE);  /* still locked out */
    sl_graph_done(g, 0);
    assert_int_equal(sl_graph_take(g), 1);
    sl_graph_done(g, 1);
    sl_graph_done(g, 3);
    assert_true(sl_graph_finished(g));
    sl_graph_free(g);
}

/* Repeated pairs, a self-dependency and out-of-range items change nothing; an empty graph is
 * finished at once. */
static void
test_repeated_pairs_are_harmless(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(2);
    sl_graph_item(g, 0, 1, SL_GRAPH_NO_LOCK);
    sl_graph_item(g, 1, 2, SL_GRAPH_NO_LOCK);
    for (int k = 0; k < 3; k++)
        sl_graph_depend(g, 1, 0);
    sl_graph_depend(g, 0, 0);
    sl_graph_depend(g, 0, 5);
    sl_error err;
    assert_int_equal(sl_graph_seal(g, &err), 0);
    assert_int_equal(sl_graph_take(g), 0);
    assert_int_equal(sl_graph_take(g), SL_GRAPH_NONE);
    sl_graph_done(g, 0);
    assert_int_equal(sl_graph_take(g), 1);  /* one done() releases all three pairs */
    sl_graph_done(g, 1);
    assert_true(sl_graph_finished(g));
    sl_graph_free(g);

    g = sl_graph_new(0);
    assert_int_equal(sl_graph_seal(g, &err), 0);
    assert_true(sl_graph_finished(g));
    assert_int_equal(sl_graph_take(g), SL_GRAPH_NONE);
    sl_graph_free(g);
}

/* 0 -> 1 -> 2 -> 3 -> 1 and 4 behind the cycle: refused, the message names 1, 2 or 3. */
static void
test_cycle_refused_naming_an_item_in_it(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(5);
    sl_graph_depend(g, 1, 0);
    sl_graph_depend(g, 2, 1);
    sl_graph_depend(g, 3, 2);
    sl_graph_depend(g, 1, 3);
    sl_graph_depend(g, 4, 3);
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_graph_seal(g, &err), -1);
    assert_int_equal(err.kind, SL_E_ARCHIVE);
    assert_non_null(strstr(err.message, "cycle"));
    const char *at = strstr(err.message, "item ");
    assert_non_null(at);
    int item = atoi(at + 5);
    if (item < 1 || item > 3)
        fail_msg("names item %d, not one in the cycle: %s", item, err.message);
    assert_non_null(strstr(err.message, "4 of 5 items"));
    sl_graph_free(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_graphs_keep_every_promise),
        cmocka_unit_test(test_heaviest_first_ties_in_file_order),
        cmocka_unit_test(test_index_starts_beside_another_tables_data),
        cmocka_unit_test(test_lock_keys_exclusive),
        cmocka_unit_test(test_repeated_pairs_are_harmless),
        cmocka_unit_test(test_cycle_refused_naming_an_item_in_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
