/* Unit tests for proxy/hint: pgproxy's parameter hook read as pgproxy reads it (cases taken
 * from its parse rules: exact and case-sensitive parts, last CACHE_KEY/INVALIDATE wins, the
 * "PGPROXY," prefix, UTF-8 only), its Redis key names, and sluice's comment hints (found by the
 * scanner, so never inside a literal; malformed ones ignored with a reason). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/hint.h"

typedef struct {
    const char *name;
    const char *value;  /* NULL: SQL NULL */
    size_t len;         /* 0: strlen(value) */
    bool is_hook;
    bool no_cache;
    const char *key;    /* NULL: default */
    const char *inval;  /* NULL: none */
    size_t ignored;
    const char *reason; /* substring, or NULL when reason must be "" */
} param_case;

static const param_case params[] = {
    {"no cache", "PGPROXY,NO_CACHE", 0, true, true, NULL, NULL, 0, NULL},
    {"cache key", "PGPROXY,CACHE_KEY:USER:1", 0, true, false, "USER:1", NULL, 0, NULL},
    {"invalidate", "PGPROXY,INVALIDATE:USER:1", 0, true, false, NULL, "USER:1", 0, NULL},
    {"all three", "PGPROXY,NO_CACHE,CACHE_KEY:A,INVALIDATE:B", 0, true, true, "A", "B", 0, NULL},
    {"last cache key wins", "PGPROXY,CACHE_KEY:A,CACHE_KEY:B", 0, true, false, "B", NULL, 0,
     NULL},
    {"last invalidate wins", "PGPROXY,INVALIDATE:A,INVALIDATE:B", 0, true, false, NULL, "B", 0,
     NULL},
    {"empty cache key", "PGPROXY,CACHE_KEY:", 0, true, false, "", NULL, 0, NULL},
    {"prefix alone", "PGPROXY,", 0, true, false, NULL, NULL, 1, "unknown hook \"\""},
    {"lower case is unknown", "PGPROXY,no_cache", 0, true, false, NULL, NULL, 1, "no_cache"},
    {"blank around is unknown", "PGPROXY, NO_CACHE", 0, true, false, NULL, NULL, 1,
     "\" NO_CACHE\""},
    {"unknown part ignored, others kept", "PGPROXY,TTL:5,NO_CACHE", 0, true, true, NULL, NULL,
     1, "TTL:5"},
    {"empty part", "PGPROXY,,NO_CACHE", 0, true, true, NULL, NULL, 1, NULL},
    {"no prefix", "NO_CACHE", 0, false, false, NULL, NULL, 0, "prefix"},
    {"prefix needs its comma", "PGPROXY", 0, false, false, NULL, NULL, 0, "prefix"},
    {"prefix is case-sensitive", "pgproxy,NO_CACHE", 0, false, false, NULL, NULL, 0, "prefix"},
    {"ordinary value", "42", 0, false, false, NULL, NULL, 0, "prefix"},
    {"empty value", "", 0, false, false, NULL, NULL, 0, "prefix"},
    {"sql null", NULL, 0, false, false, NULL, NULL, 0, "NULL"},
    {"invalid utf-8", "PGPROXY,NO_CACHE\xff", 0, false, false, NULL, NULL, 0, "UTF-8"},
    {"overlong utf-8", "PGPROXY,\xc0\xaf", 0, false, false, NULL, NULL, 0, "UTF-8"},
    {"surrogate", "PGPROXY,\xed\xa0\x80", 0, false, false, NULL, NULL, 0, "UTF-8"},
    {"valid utf-8 key", "PGPROXY,CACHE_KEY:caf\xc3\xa9", 0, true, false, "caf\xc3\xa9", NULL, 0,
     NULL},
    {"nul byte", "PGPROXY,NO_CACHE\0x", 18, false, false, NULL, NULL, 0, "UTF-8"},
    {"value not nul-terminated", "PGPROXY,NO_CACHEXYZ", 16, true, true, NULL, NULL, 0, NULL},
};

static void
test_param_hooks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        const param_case *c = &params[i];
        sl_hint_param h;
        sl_error err;
        sl_error_clear(&err);
        size_t len = c->len ? c->len : c->value ? strlen(c->value) : 0;
        assert_int_equal(sl_hint_param_parse(c->value, len, &h, &err), 0);
        bool ok = h.is_hook == c->is_hook && h.no_cache == c->no_cache
                  && (c->key ? h.cache_key && strcmp(h.cache_key, c->key) == 0 : !h.cache_key)
                  && (c->inval ? h.invalidate && strcmp(h.invalidate, c->inval) == 0
                               : !h.invalidate)
                  && h.n_ignored == c->ignored
                  && (c->reason ? strstr(h.reason, c->reason) != NULL
                                : (c->ignored > 0) == (h.reason[0] != '\0'));
        if (!ok)
            fail_msg("%s: hook %d no_cache %d key %s inval %s ignored %zu reason \"%s\"", c->name,
                     h.is_hook, h.no_cache, h.cache_key ? h.cache_key : "(null)",
                     h.invalidate ? h.invalidate : "(null)", h.n_ignored, h.reason);
        sl_hint_param_free(&h);
    }
}

static void
test_positions_and_keys(void **state)
{
    (void)state;
    sl_hint_position pos;
    assert_int_equal(sl_hint_position_parse("first", &pos), 0);
    assert_int_equal(pos, SL_HINT_FIRST);
    assert_int_equal(sl_hint_position_parse("last", &pos), 0);
    assert_int_equal(pos, SL_HINT_LAST);
    assert_int_equal(sl_hint_position_parse("Last", &pos), -1);
    assert_int_equal(sl_hint_position_parse("", &pos), -1);
    assert_int_equal(sl_hint_position_parse(NULL, &pos), -1);
    assert_int_equal(sl_hint_position_index(SL_HINT_FIRST, 3), 0);
    assert_int_equal(sl_hint_position_index(SL_HINT_LAST, 3), 2);
    assert_int_equal(sl_hint_position_index(SL_HINT_LAST, 1), 0);

    char buf[64];
    assert_int_equal(sl_hint_redis_key(buf, sizeof buf, "USER:1", "abc"), 18);
    assert_string_equal(buf, "PGPROXY:USER:1:abc");
    sl_hint_redis_key(buf, sizeof buf, NULL, "abc");
    assert_string_equal(buf, "PGPROXY:DEFAULT:abc");
    sl_hint_redis_key(buf, sizeof buf, "", "abc");
    assert_string_equal(buf, "PGPROXY::abc");
    char small[8];
    assert_int_equal(sl_hint_redis_key(small, sizeof small, "USER:1", "abc"), 18);
    assert_string_equal(small, "PGPROXY");
}

typedef struct {
    const char *name;
    const char *sql;
    bool no_cache;
    int ttl;
    const char *key;
    size_t ignored;
    const char *reason; /* substring, or NULL when reason must be "" */
} comment_case;

static const comment_case comments[] = {
    {"no_cache", "/* sluice:no_cache */ SELECT 1", true, 0, "", 0, NULL},
    {"ttl", "SELECT 1 /* sluice:ttl=30 */", false, 30, "", 0, NULL},
    {"key", "/* sluice:key=USER:1 */ SELECT * FROM t", false, 0, "USER:1", 0, NULL},
    {"several in one comment", "/*sluice: no_cache, ttl=5 key=a.b-c_d*/ SELECT 1", true, 5,
     "a.b-c_d", 0, NULL},
    {"several comments", "/* sluice:ttl=5 */ SELECT /* sluice:key=k */ 1", false, 5, "k", 0,
     NULL},
    {"line comment", "SELECT 1 -- sluice:no_cache\n", true, 0, "", 0, NULL},
    {"case of prefix and directive", "/* SLUICE:NO_CACHE */ SELECT 1", true, 0, "", 0, NULL},
    {"last ttl wins", "/* sluice:ttl=5 */ /* sluice:ttl=7 */ SELECT 1", false, 7, "", 0, NULL},
    {"ordinary comment", "/* no_cache */ SELECT 1", false, 0, "", 0, NULL},
    {"hint inside a string literal", "SELECT '/* sluice:no_cache */'", false, 0, "", 0, NULL},
    {"hint inside a dollar quote", "SELECT $$ -- sluice:no_cache\n $$", false, 0, "", 0, NULL},
    {"hint inside a quoted identifier", "SELECT 1 AS \"/* sluice:no_cache */\"", false, 0, "",
     0, NULL},
    {"hint inside an E string", "SELECT E'\\' /* sluice:no_cache */'", false, 0, "", 0, NULL},
    {"nested comment is one comment", "/* a /* sluice:no_cache */ b */ SELECT 1", false, 0, "",
     0, NULL},
    {"ttl zero", "/* sluice:ttl=0 */ SELECT 1", false, 0, "", 1, "ttl takes"},
    {"ttl too large", "/* sluice:ttl=31536001 */ SELECT 1", false, 0, "", 1, "ttl takes"},
    {"ttl huge", "/* sluice:ttl=99999999999999999999999 */ SELECT 1", false, 0, "", 1,
     "ttl takes"},
    {"ttl not a number", "/* sluice:ttl=5s */ SELECT 1", false, 0, "", 1, "ttl=5s"},
    {"ttl negative", "/* sluice:ttl=-5 */ SELECT 1", false, 0, "", 1, "ttl takes"},
    {"key with a glob character", "/* sluice:key=a* */ SELECT 1", false, 0, "", 1, "key takes"},
    {"empty key", "/* sluice:key= */ SELECT 1", false, 0, "", 1, "unknown directive"},
    {"unknown directive kept apart", "/* sluice:nocache ttl=9 */ SELECT 1", false, 9, "", 1,
     "\"nocache\": unknown directive"},
    {"first malformed named", "/* sluice:bad1 bad2 */ SELECT 1", false, 0, "", 2, "bad1"},
    {"unterminated string has no hints", "/* sluice:no_cache */ SELECT 'x", false, 0, "", 0,
     "does not scan"},
    {"unterminated comment", "SELECT 1 /* sluice:no_cache", false, 0, "", 0, "does not scan"},
};

static void
test_comment_hints(void **state)
{
    (void)state;
    char longkey[300];
    for (size_t i = 0; i < sizeof comments / sizeof comments[0]; i++) {
        const comment_case *c = &comments[i];
        sl_hint_comment h;
        sl_error err;
        sl_error_clear(&err);
        assert_int_equal(sl_hint_comments(c->sql, false, &h, &err), 0);
        bool ok = h.no_cache == c->no_cache && h.ttl == c->ttl && strcmp(h.key, c->key) == 0
                  && h.n_ignored == c->ignored
                  && (c->reason ? strstr(h.reason, c->reason) != NULL : h.reason[0] == '\0');
        if (!ok)
            fail_msg("%s: no_cache %d ttl %d key \"%s\" ignored %zu reason \"%s\"", c->name,
                     h.no_cache, h.ttl, h.key, h.n_ignored, h.reason);
    }
    /* with standard_conforming_strings off, a backslash hides what the server sees */
    sl_hint_comment h;
    sl_error err;
    assert_int_equal(sl_hint_comments("SELECT 'a\\' /* sluice:no_cache */ '", true, &h, &err), 0);
    assert_false(h.no_cache);
    assert_non_null(strstr(h.reason, "standard_conforming_strings"));
    assert_int_equal(sl_hint_comments("/* sluice:no_cache */ SELECT 'a'", true, &h, &err), 0);
    assert_true(h.no_cache);
    /* a key of 200 characters is taken, 201 is not */
    for (size_t n = 200; n <= 201; n++) {
        int len = snprintf(longkey, sizeof longkey, "/* sluice:key=");
        memset(longkey + len, 'k', n);
        strcpy(longkey + len + n, " */ SELECT 1");
        sl_hint_comment h;
        sl_error err;
        assert_int_equal(sl_hint_comments(longkey, false, &h, &err), 0);
        assert_int_equal(strlen(h.key), n == 200 ? 200 : 0);
        assert_int_equal(h.n_ignored, n == 200 ? 0 : 1);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_hooks),
        cmocka_unit_test(test_positions_and_keys),
        cmocka_unit_test(test_comment_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
