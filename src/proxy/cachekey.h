/* proxy/cachekey.h: the key of a cache entry.
 * A key is a SHA-256 over everything that can change the rows a read-only statement returns,
 * framed so that no two different inputs give the same bytes: a version tag, then each field
 * as a tag byte and a 64-bit length (or the NULL marker) before its bytes, and each list as a
 * count before its items. The fields: database, user, the protocol (simple or extended: their
 * answers differ), the SQL text, parameter type OIDs, parameter values (NULL distinct from
 * empty) and formats, result formats, the settings that change results (search_path, role,
 * TimeZone, DateStyle, IntervalStyle, client_encoding, standard_conforming_strings: NULL means
 * "not known", distinct from "") and any extra settings the caller passes (sorted by name
 * here, so their order does not matter; a name given twice is refused).
 * The text form is the Redis key pgproxy uses: "PGPROXY:<suffix>:<hash>" where the hash is
 * SHA-256 in base64 (standard alphabet, no padding: 43 characters) and the suffix is
 * "DEFAULT" unless a hint (CACHE_KEY:USER:1) names another. Suffixes "tables", "gen" and those
 * starting "tables:" or "gen:" are refused: the Redis store keeps its invalidation data there.
 * Calling order: fill an sl_cachekey_input (everything borrowed) -> sl_cachekey_make().
 * Errors: -1 with *err set: SL_E_USAGE for a bad suffix or a repeated extra setting,
 *         SL_E_INTERNAL for a digest failure; the key is then untouched. */
#ifndef SL_PROXY_CACHEKEY_H
#define SL_PROXY_CACHEKEY_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SL_CACHEKEY_HASH_LEN 32
#define SL_CACHEKEY_HASH_B64_LEN 43
#define SL_CACHEKEY_SUFFIX_MAX 200
/* "PGPROXY:" + suffix + ":" + hash + NUL */
#define SL_CACHEKEY_TEXT_MAX (8 + SL_CACHEKEY_SUFFIX_MAX + 1 + SL_CACHEKEY_HASH_B64_LEN + 1)

typedef enum {
    SL_CACHEKEY_SIMPLE,    /* a simple Query message */
    SL_CACHEKEY_EXTENDED,  /* Parse/Bind/Execute */
} sl_cachekey_protocol;

/* One parameter value as Bind carries it: len -1 is SQL NULL, 0 is the empty value. */
typedef struct {
    const uint8_t *data;
    int32_t len;
} sl_cachekey_value;

typedef struct {
    const char *name;
    const char *value;  /* NULL: not known */
} sl_cachekey_setting;

typedef struct {
    const char *database;
    const char *user;
    sl_cachekey_protocol protocol;
    const char *sql;
    size_t sql_len;
    const uint32_t *param_types;
    size_t n_param_types;
    const sl_cachekey_value *params;
    size_t n_params;
    const int16_t *param_formats;
    size_t n_param_formats;
    const int16_t *result_formats;
    size_t n_result_formats;
    /* The settings that change results; NULL: not known. */
    const char *search_path;
    const char *role;
    const char *timezone;
    const char *datestyle;
    const char *intervalstyle;
    const char *client_encoding;
    const char *standard_conforming_strings;
    const sl_cachekey_setting *extra;
    size_t n_extra;
    const char *suffix;  /* NULL: "DEFAULT" */
} sl_cachekey_input;

typedef struct sl_cachekey {
    uint8_t hash[SL_CACHEKEY_HASH_LEN];
    size_t text_len;
    char text[SL_CACHEKEY_TEXT_MAX];  /* "PGPROXY:<suffix>:<base64 hash>", NUL-terminated */
} sl_cachekey;

SL_MUSTCHECK int sl_cachekey_make(sl_cachekey *out, const sl_cachekey_input *in, sl_error *err);
/* Whether a hint's suffix may be used (length, no NUL, not reserved); why not in *err. */
SL_MUSTCHECK int sl_cachekey_check_suffix(const char *suffix, sl_error *err);

#endif
