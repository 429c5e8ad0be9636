/* libFuzzer target for what the proxy's operations read from outside: the metrics responder's
 * request parser (any bytes a TCP peer sends, up to the bound) and the settings file parser
 * (any text in --config). Nothing may crash or read out of bounds; a parsed request has a
 * method and a path that starts with '/'; once a prefix is complete or refused, every longer
 * input reads the same; a refused settings file leaves the settings untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "proxy/metrics.h"
#include "proxy/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_request(const char *p, size_t len)
{
    sl_metrics_request r, whole;
    sl_metrics_status st = sl_metrics_parse(p, len, &whole);
    if (st == SL_METRICS_OK && (!whole.method[0] || whole.path[0] != '/'))
        abort();
    /* the verdict of the first prefix that is not NEED_MORE is the whole input's */
    for (size_t n = 0; n <= len; n++) {
        sl_metrics_status sp = sl_metrics_parse(p, n, &r);
        if (sp == SL_METRICS_NEED_MORE)
            continue;
        if (sp != st && !(sp == SL_METRICS_OK && st == SL_METRICS_OK))
            abort();
        break;
    }
}

static void
check_settings(const char *text)
{
    const sl_settings base = {.ttl_s = 11, .jitter_s = 2, .cache_max_entry = 4096,
                              .log_level = SL_LOG_WARN};
    sl_settings s = base;
    sl_error err;
    sl_error_clear(&err);
    if (sl_settings_parse(text, &s, &err) != 0) {
        if (err.kind != SL_E_USAGE || s.ttl_s != base.ttl_s || s.jitter_s != base.jitter_s ||
            s.cache_max_entry != base.cache_max_entry || s.log_level != base.log_level)
            abort();
    } else if (s.ttl_s < 1 || s.cache_max_entry < 1024 || s.cache_max_entry > (1u << 30)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SL_METRICS_MAX_REQUEST)
        return 0;
    check_request((const char *)data, size);
    char *text = sl_malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    check_settings(text);
    free(text);
    return 0;
}
