/* tap/state.c: see state.h. The document stays a jansson tree: it is small (one object per
 * stream), and jansson keeps members in the order they were added, as Python's dicts do. */
#include "tap/state.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "tap/jsondoc.h"

#define STATE_MAX_BYTES ((size_t)64 << 20)

struct sl_tap_state {
    json_t *doc;
};

static int
check(json_t *doc, const char *name, sl_error *err)
{
    if (!json_is_object(doc)) {
        sl_error_set(err, SL_E_USAGE, "state \"%s\": expected a JSON object", name);
        return -1;
    }
    json_t *bookmarks = json_object_get(doc, "bookmarks"), *v;
    if (!bookmarks || json_is_null(bookmarks))
        return 0;
    const char *key;
    if (!json_is_object(bookmarks)) {
        sl_error_set(err, SL_E_USAGE, "state \"%s\": \"bookmarks\" must be an object", name);
        return -1;
    }
    json_object_foreach(bookmarks, key, v) {
        if (!json_is_object(v) && !json_is_null(v)) {
            sl_error_set(err, SL_E_USAGE, "state \"%s\": the bookmark of stream \"%s\" must be "
                         "an object", name, key);
            return -1;
        }
    }
    return 0;
}

static int
adopt(sl_tap_state **out, json_t *doc, const char *name, sl_error *err)
{
    if (check(doc, name, err) != 0) {
        json_decref(doc);
        return -1;
    }
    sl_tap_state *s = sl_calloc(1, sizeof *s);
    s->doc = doc;
    *out = s;
    return 0;
}

int
sl_tap_state_parse(sl_tap_state **out, const char *text, const char *name, sl_error *err)
{
    json_t *doc = NULL;
    if (sl_tap_jsondoc_parse(&doc, text, strlen(text), "state", name, 0, err) != 0)
        return -1;
    return adopt(out, doc, name, err);
}

int
sl_tap_state_load(sl_tap_state **out, const char *path, sl_error *err)
{
    if (!path)
        return adopt(out, json_object(), "(none)", err);
    json_t *doc = NULL;
    if (sl_tap_jsondoc_load(&doc, path, "state", STATE_MAX_BYTES, 0, err) != 0)
        return -1;
    return adopt(out, doc, path, err);
}

void
sl_tap_state_free(sl_tap_state *s)
{
    if (!s)
        return;
    json_decref(s->doc);
    free(s);
}

json_t *
sl_tap_state_get(const sl_tap_state *s, const char *stream, const char *key)
{
    return json_object_get(json_object_get(json_object_get(s->doc, "bookmarks"), stream), key);
}

bool
sl_tap_state_missing(const sl_tap_state *s, const char *stream, const char *key)
{
    json_t *v = sl_tap_state_get(s, stream, key);
    return !v || json_is_null(v);
}

/* singer's ensure_bookmark_path: a member that is absent or null becomes {}. */
static json_t *
ensure_object(json_t *parent, const char *key)
{
    json_t *v = json_object_get(parent, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(parent, key, v);
    }
    return v;
}

json_t *
sl_tap_state_bookmark(sl_tap_state *s, const char *stream)
{
    return ensure_object(ensure_object(s->doc, "bookmarks"), stream);
}

void
sl_tap_state_set(sl_tap_state *s, const char *stream, const char *key, json_t *value)
{
    json_object_set_new(sl_tap_state_bookmark(s, stream), key, value);
}

void
sl_tap_state_reset(sl_tap_state *s, const char *stream)
{
    json_object_set_new(ensure_object(s->doc, "bookmarks"), stream, json_object());
}

const char *
sl_tap_state_currently_syncing(const sl_tap_state *s)
{
    return json_string_value(json_object_get(s->doc, "currently_syncing"));
}

void
sl_tap_state_set_currently_syncing(sl_tap_state *s, const char *stream)
{
    json_object_set_new(s->doc, "currently_syncing", stream ? json_string(stream) : json_null());
}

void
sl_tap_state_write(const sl_tap_state *s, sl_jsonw *w)
{
    sl_tap_jsondoc_write(w, s->doc);
}
