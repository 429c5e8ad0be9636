/* Unit tests for io/retention.c's policy: which backups of a group are kept, by last, daily
 * and weekly counts, with the newest always kept; and the one time format it reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io/retention.h"

#define DAY 86400

/* Backups of one group at the given times (newest first), the policy applied. */
static void
run(const int64_t *times, size_t n, sl_retention_policy p, bool *keep)
{
    sl_retention_item items[64];
    memset(items, 0, sizeof items);
    for (size_t i = 0; i < n; i++) {
        items[i].group = "cluster";
        items[i].time = times[i];
    }
    sl_retention_apply(items, n, &p);
    for (size_t i = 0; i < n; i++)
        keep[i] = items[i].keep;
}

static void
test_parse_time(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_true(sl_retention_parse_time("1970-01-02T00:00:00Z", &t));
    assert_int_equal(t, DAY);
    assert_true(sl_retention_parse_time("2026-12-02T10:30:00Z", &t));
    assert_int_equal(t, 1796207400);
    assert_false(sl_retention_parse_time("2026-12-02 10:30:00", &t));
    assert_false(sl_retention_parse_time("2026-12-02T10:30:00Zjunk", &t));
    assert_false(sl_retention_parse_time("", &t));
    assert_false(sl_retention_parse_time(NULL, &t));
}

static void
test_keep_last(void **state)
{
    (void)state;
    const int64_t t[] = {10 * DAY, 9 * DAY, 8 * DAY, 7 * DAY};
    bool keep[4];
    run(t, 4, (sl_retention_policy){.keep_last = 2}, keep);
    assert_true(keep[0] && keep[1] && !keep[2] && !keep[3]);
    run(t, 4, (sl_retention_policy){.keep_last = 0}, keep);  /* the newest, always */
    assert_true(keep[0] && !keep[1] && !keep[2] && !keep[3]);
}

static void
test_keep_daily_takes_the_newest_of_each_day(void **state)
{
    (void)state;
    /* three on day 20, one on day 19, two on day 17, one on day 10 */
    const int64_t t[] = {20 * DAY + 300, 20 * DAY + 200, 20 * DAY + 100, 19 * DAY + 5,
                         17 * DAY + 9,   17 * DAY + 1,   10 * DAY};
    bool keep[7];
    run(t, 7, (sl_retention_policy){.keep_daily = 3}, keep);
    const bool want[] = {true, false, false, true, true, false, false};
    for (int i = 0; i < 7; i++)
        assert_int_equal(keep[i], want[i]);
}

static void
test_keep_weekly_by_iso_week(void **state)
{
    (void)state;
    /* 1970-01-05 (day 4) is a Monday: days 4..10 are one ISO week, 11..17 the next */
    const int64_t t[] = {17 * DAY, 11 * DAY, 10 * DAY, 4 * DAY, 3 * DAY};
    bool keep[5];
    run(t, 5, (sl_retention_policy){.keep_weekly = 2}, keep);
    const bool want[] = {true, false, true, false, false};
    for (int i = 0; i < 5; i++)
        assert_int_equal(keep[i], want[i]);
    run(t, 5, (sl_retention_policy){.keep_weekly = 3}, keep);
    assert_true(keep[4]);  /* day 3, a Sunday, is in the week before */
}

static void
test_groups_are_separate(void **state)
{
    (void)state;
    sl_retention_item items[4];
    memset(items, 0, sizeof items);
    const char *groups[] = {"cluster", "cluster", "database a", "database a"};
    for (int i = 0; i < 4; i++) {
        items[i].group = (char *)groups[i];
        items[i].time = (10 - i % 2) * DAY;
    }
    sl_retention_apply(items, 4, &(sl_retention_policy){.keep_last = 1});
    assert_true(items[0].keep && !items[1].keep && items[2].keep && !items[3].keep);
    assert_string_equal(items[0].why, "last");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_keep_last),
        cmocka_unit_test(test_keep_daily_takes_the_newest_of_each_day),
        cmocka_unit_test(test_keep_weekly_by_iso_week),
        cmocka_unit_test(test_groups_are_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
