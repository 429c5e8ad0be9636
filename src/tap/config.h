/* tap/config.h: the tap's config.json, read and checked once into typed fields.
 * Keys are pipelinewise-tap-postgres's, with its defaults and its required five (host, port,
 * user, password, dbname); sluice adds logical_decoding_plugin (wal2json | pgoutput),
 * publication_name, replication_slot_name, work_mem, poll_interval, fast_sync,
 * diagnostic_mode and secondary_catchup_seconds. Values are taken as leniently as pipelinewise
 * takes them where that is unambiguous: a port or an integer may be a JSON number or a string
 * of digits, a flag may be true/false or the strings "true"/"false"; a JSON null counts as
 * absent.
 * Keys it does not know are kept in `unknown` for the caller to warn about (pipelinewise
 * ignores them silently; a misspelt key should not go unnoticed).
 * Errors: SL_E_USAGE naming the file and what is wrong: the position of a JSON syntax error,
 * the missing keys, the key with a value of the wrong type. Never a value: a message must not
 * show the password, and a syntax error's text is cut before the input it quotes.
 * Ownership: sl_tap_config_load() hands over a config the caller frees with _free(), which
 * wipes the password. */
#ifndef SL_TAP_CONFIG_H
#define SL_TAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "pg/conninfo.h"

typedef enum {
    SL_TAP_METHOD_UNSET,       /* default_replication_method not given: the catalog says */
    SL_TAP_METHOD_FULL_TABLE,
    SL_TAP_METHOD_INCREMENTAL,
    SL_TAP_METHOD_LOG_BASED,
} sl_tap_method;

typedef enum {
    SL_TAP_PLUGIN_WAL2JSON,    /* pipelinewise's plugin (default) */
    SL_TAP_PLUGIN_PGOUTPUT,    /* the server's built-in one; needs a publication */
} sl_tap_plugin;

typedef struct sl_tap_config {
    char *host;
    char *port;                       /* as libpq takes it */
    char *user;
    char *password;
    char *dbname;
    bool ssl;                         /* sslmode=require */
    char **filter_schemas;            /* NULL: every schema; else n_filter_schemas names */
    size_t n_filter_schemas;
    sl_tap_method default_replication_method;
    int64_t max_run_seconds;          /* 43200 */
    double logical_poll_total_seconds;/* 0: pipelinewise's 10800 applies */
    bool break_at_end_lsn;            /* true */
    bool debug_lsn;                   /* false */
    char *tap_id;                     /* NULL */
    int64_t itersize;                 /* 20000 */
    bool use_secondary;               /* false; then secondary_host and _port are required */
    char *secondary_host;
    char *secondary_port;
    double secondary_catchup_seconds; /* 300: the replica's bound to replay to the slot */
    int64_t wal2json_message_format;  /* 1 or 2; 1 */
    sl_tap_plugin logical_decoding_plugin;
    char *publication_name;           /* NULL */
    char *replication_slot_name;      /* NULL: pipelinewise's name */
    char *work_mem;                   /* NULL: the server's; e.g. "64MB", set on every session */
    double poll_interval;             /* LOG_BASED status updates, seconds (> 0); 5 */
    bool fast_sync;                   /* false; true: a partitioned FULL_TABLE unsorted */
    bool diagnostic_mode;             /* false; true: log server settings and sizes */
    char **unknown;                   /* keys not recognised, n_unknown of them */
    size_t n_unknown;
} sl_tap_config;

/* Reads and checks the file at path. */
SL_MUSTCHECK int sl_tap_config_load(sl_tap_config **out, const char *path, sl_error *err);
/* The same from text in memory; name is what messages call it. */
SL_MUSTCHECK int sl_tap_config_parse(sl_tap_config **out, const char *text, const char *name,
                                     sl_error *err);
void sl_tap_config_free(sl_tap_config *c);
/* Where to connect: host, port, user, password, dbname (always a plain name), sslmode=require
 * when ssl is set, connect_timeout 30 like pipelinewise; secondary: the replica's host and
 * port instead. The caller frees it (sl_conninfo_free). */
sl_conninfo *sl_tap_config_conninfo(const sl_tap_config *c, bool secondary);
/* The keys sluice reads, for --about: name, JSON Schema type, whether required, what for. */
typedef struct sl_tap_config_key {
    const char *key;
    const char *type;      /* "string", "integer", "number", "boolean" */
    bool required;
    const char *help;
} sl_tap_config_key;
size_t sl_tap_config_keys(const sl_tap_config_key **out);
/* "FULL_TABLE", "INCREMENTAL", "LOG_BASED", or NULL for unset. */
const char *sl_tap_method_name(sl_tap_method m);

#endif
