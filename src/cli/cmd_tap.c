/* cli/cmd_tap.c: "sluice tap": sluice as a Singer tap, a drop-in for pipelinewise-tap-postgres
 * (its config keys, its catalog). Singer's conventions: messages and the catalog on stdout,
 * logs on stderr. This command parses flags and prints; tap/ does the work. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "tap/config.h"
#include "tap/catalog.h"
#include "tap/discover.h"
#include "tap/state.h"
#include "tap/sync.h"

static const char usage[] =
    "Run sluice as a Singer tap for PostgreSQL, compatible with pipelinewise-tap-postgres:\n"
    "the same config.json keys and the same catalog (streams, metadata, JSON Schema).\n\n"
    "Usage:\n"
    "  sluice tap --config CONFIG --discover > catalog.json\n"
    "  sluice tap --config CONFIG --catalog CATALOG [--state STATE] > messages\n"
    "  sluice tap --about [--format json|text]\n\n"
    "Options:\n"
    "  -c, --config=FILE          the tap's config.json (host, port, user, password, dbname,\n"
    "                             filter_schemas, ...; \"sluice tap --about\" lists the keys)\n"
    "  -d, --discover             write the catalog of the database's tables and views\n"
    "      --catalog=FILE         sync the streams the catalog selects (FULL_TABLE,\n"
    "                             INCREMENTAL, LOG_BASED): Singer messages on standard output\n"
    "  -p, --properties=FILE      the same as --catalog (Singer's older name)\n"
    "  -s, --state=FILE           resume from this state (the last STATE message's value)\n"
    "      --no-create-slot       LOG_BASED: fail when the replication slot does not exist\n"
    "                             instead of creating it\n"
    "      --about                describe the tap: version, capabilities, config keys\n"
    "      --format=text|json     --about's output (default text)\n"
    "  -v, --verbose              log statements\n"
    "  -q, --quiet                log only warnings and errors\n"
    "      --log-format=human|json  log lines for people or machines (default human)\n"
    "      --help                 show this help\n";

enum { OPT_ABOUT = SL_OPT_COMMAND_BASE, OPT_FORMAT, OPT_CATALOG, OPT_NO_CREATE_SLOT };

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"discover", no_argument, NULL, 'd'},
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"properties", required_argument, NULL, 'p'},
    {"state", required_argument, NULL, 's'},
    {"no-create-slot", no_argument, NULL, OPT_NO_CREATE_SLOT},
    {"about", no_argument, NULL, OPT_ABOUT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"log-format", required_argument, NULL, SL_OPT_LOG_FORMAT},
    {"help", no_argument, NULL, SL_OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct tap_args {
    const char *config;
    bool discover;
    bool about;
    const char *format;
    const char *catalog;
    const char *state;
    bool no_create_slot;
} tap_args;

static int
tap_opt(void *ctx, int opt, const char *arg, sl_error *err)
{
    tap_args *a = ctx;
    switch (opt) {
    case 'c':
        a->config = arg;
        return 0;
    case 'd':
        a->discover = true;
        return 0;
    case OPT_ABOUT:
        a->about = true;
        return 0;
    case OPT_CATALOG:
    case 'p':
        if (a->catalog) {
            sl_error_set(err, SL_E_USAGE, "give one of --catalog and --properties, once");
            return -1;
        }
        a->catalog = arg;
        return 0;
    case 's':
        a->state = arg;
        return 0;
    case OPT_NO_CREATE_SLOT:
        a->no_create_slot = true;
        return 0;
    case OPT_FORMAT:
        if (strcmp(arg, "json") != 0 && strcmp(arg, "text") != 0) {
            sl_error_set(err, SL_E_USAGE,
                         "invalid value \"%s\" for --format: expected text or json", arg);
            return -1;
        }
        a->format = arg;
        return 0;
    }
    sl_error_set(err, SL_E_INTERNAL, "option %d has no handler", opt);
    return -1;
}

/* ---- --about ---------------------------------------------------------------------------- */

static const char *const capabilities[] = {"about", "discover", "catalog", "properties",
                                           "state"};
static const char description[] =
    "PostgreSQL tap compatible with pipelinewise-tap-postgres";

static json_t *
about_doc(void)
{
    const sl_tap_config_key *keys;
    size_t n = sl_tap_config_keys(&keys);
    json_t *props = json_object(), *required = json_array(), *caps = json_array();
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(props, keys[i].key,
                            json_pack("{s:s, s:s}", "type", keys[i].type, "description",
                                      keys[i].help));
        if (keys[i].required)
            json_array_append_new(required, json_string(keys[i].key));
    }
    for (size_t i = 0; i < sizeof capabilities / sizeof capabilities[0]; i++)
        json_array_append_new(caps, json_string(capabilities[i]));
    return json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:o, s:o}}", "name", "tap-sluice",
                     "description", description, "version", SL_VERSION, "capabilities", caps,
                     "settings", "type", "object", "properties", props, "required", required);
}

static int
print_about(bool json)
{
    if (json) {
        json_t *doc = about_doc();
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (!text)
            return sl_error_exit_code(SL_E_INTERNAL);
        puts(text);
        free(text);
        return 0;
    }
    printf("Name: tap-sluice (sluice tap)\nVersion: %s\nDescription: %s\nCapabilities:",
           SL_VERSION, description);
    for (size_t i = 0; i < sizeof capabilities / sizeof capabilities[0]; i++)
        printf(" %s", capabilities[i]);
    printf("\nSettings:\n");
    const sl_tap_config_key *keys;
    size_t n = sl_tap_config_keys(&keys);
    for (size_t i = 0; i < n; i++)
        printf("  %-28s %-8s %s%s\n", keys[i].key, keys[i].type,
               keys[i].required ? "(required) " : "", keys[i].help);
    return 0;
}

/* ---- --discover ------------------------------------------------------------------------- */

static int
emit_stdout(void *ctx, const char *data, size_t len, sl_error *err)
{
    (void)ctx;
    if (fwrite(data, 1, len, stdout) != len) {
        sl_error_set(err, SL_E_IO, "could not write the catalog to standard output");
        return -1;
    }
    return 0;
}

static void
warn_unknown_keys(const sl_tap_config *cfg, const char *path)
{
    for (size_t i = 0; i < cfg->n_unknown; i++)
        SL_WARN("config \"%s\": unknown key \"%s\" ignored", path, cfg->unknown[i]);
}

/* The session settings every connection of the run gets (the replication one too): the
 * config's work_mem unless --work-mem was given. */
static void
apply_config_opts(const sl_tap_config *cfg, sl_cli_common *common)
{
    common->conn_opts.app_name = "sluice tap";
    if (cfg->work_mem && !common->conn_opts.work_mem)
        common->conn_opts.work_mem = cfg->work_mem;
}

static int
discover(const tap_args *a, sl_cli_common *common, sl_error *err)
{
    sl_tap_config *cfg = NULL;
    sl_conninfo *ci = NULL;
    sl_conn *c = NULL;
    size_t streams = 0;
    int rc = -1;
    if (sl_tap_config_load(&cfg, a->config, err) != 0)
        goto done;
    warn_unknown_keys(cfg, a->config);
    ci = sl_tap_config_conninfo(cfg, false);
    apply_config_opts(cfg, common);
    if (sl_conn_open(&c, ci, &common->conn_opts, err) != 0)
        goto done;
    SL_INFO("discovering database \"%s\" (%s)", cfg->dbname, sl_conn_describe(c));
    if (sl_tap_discover(c, cfg, emit_stdout, NULL, &streams, err) != 0)
        goto done;
    if (fflush(stdout) != 0) {
        sl_error_set(err, SL_E_IO, "could not write the catalog to standard output");
        goto done;
    }
    SL_INFO("discovered %zu streams", streams);
    rc = 0;
done:
    sl_conn_close(c);
    sl_conninfo_free(ci);
    sl_tap_config_free(cfg);
    return rc;
}

/* ---- sync ------------------------------------------------------------------------------- */

/* Messages go out as sync hands them over: a STATE must reach the reader when it is emitted. */
static int
emit_messages(void *ctx, const char *data, size_t len, sl_error *err)
{
    (void)ctx;
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
        sl_error_set(err, SL_E_IO, "could not write messages to standard output");
        return -1;
    }
    return 0;
}

static int
sync(const tap_args *a, sl_cli_common *common, sl_error *err)
{
    sl_tap_config *cfg = NULL;
    sl_tap_catalog *catalog = NULL;
    sl_tap_state *state = NULL;
    sl_conninfo *ci = NULL, *primary = NULL;
    sl_conn *c = NULL;
    int rc = -1;
    /* every file is read and checked before anything connects or is emitted */
    if (sl_tap_config_load(&cfg, a->config, err) != 0)
        goto done;
    warn_unknown_keys(cfg, a->config);
    if (sl_tap_catalog_load(&catalog, a->catalog, cfg->default_replication_method, err) != 0 ||
        sl_tap_state_load(&state, a->state, err) != 0)
        goto done;
    ci = sl_tap_config_conninfo(cfg, cfg->use_secondary);
    apply_config_opts(cfg, common);
    if (sl_conn_open(&c, ci, &common->conn_opts, err) != 0) {
        if (cfg->use_secondary)
            sl_error_prefix(err, "use_secondary: the secondary (secondary_host, secondary_port)");
        goto done;
    }
    SL_INFO("syncing %zu selected streams of database \"%s\" (%s%s)", catalog->nstreams,
            cfg->dbname, cfg->use_secondary ? "the secondary, " : "", sl_conn_describe(c));
    primary = sl_tap_config_conninfo(cfg, false);  /* replication reads the primary's slot */
    const sl_tap_sync_args args = {.cfg = cfg, .catalog = catalog, .catalog_name = a->catalog,
                                   .state = state, .emit = emit_messages,
                                   .logical = {.ci = primary, .opts = &common->conn_opts},
                                   .create_slot = !a->no_create_slot};
    rc = sl_tap_sync(c, &args, err);
done:
    sl_conn_close(c);
    sl_conninfo_free(ci);
    sl_conninfo_free(primary);
    sl_tap_state_free(state);
    sl_tap_catalog_free(catalog);
    sl_tap_config_free(cfg);
    return rc;
}

int
sl_cmd_tap(int argc, char **argv)
{
    sl_cli_common common;
    sl_cli_common_init(&common);
    tap_args args = {0};
    sl_error err;
    sl_error_clear(&err);
    int first = 0, code = 0;
    const sl_cli_spec spec = {.name = "tap", .longopts = longopts, .usage = usage,
                              .shortopts = "c:dp:s:", .on_opt = tap_opt, .ctx = &args,
                              .max_operands = 0};
    if (sl_cli_parse(&spec, &common, argc, argv, &first, &code) != 0)
        goto done;
    if (args.format && !args.about)
        code = sl_cli_usage_error("tap", "--format goes with --about");
    else if ((args.about ? 1 : 0) + (args.discover ? 1 : 0) + (args.catalog ? 1 : 0) > 1)
        code = sl_cli_usage_error("tap", "--about, --discover and --catalog are separate runs");
    else if (args.about)
        code = print_about(args.format && strcmp(args.format, "json") == 0);
    else if (args.state && !args.catalog)
        code = sl_cli_usage_error("tap", "--state goes with --catalog");
    else if (args.no_create_slot && !args.catalog)
        code = sl_cli_usage_error("tap", "--no-create-slot goes with --catalog");
    else if (!args.discover && !args.catalog)
        code = sl_cli_usage_error("tap", "nothing to do: give --discover or --catalog (with "
                                         "--config), or --about");
    else if (!args.config)
        code = sl_cli_usage_error("tap", args.discover ? "--discover needs --config FILE"
                                                       : "--catalog needs --config FILE");
    else if (sl_cli_common_finish(&common, &err) != 0 ||
             (args.discover ? discover(&args, &common, &err) : sync(&args, &common, &err)) != 0)
        code = sl_cli_fail(&err);
done:
    sl_cli_common_free(&common);
    return code;
}
