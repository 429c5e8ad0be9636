#include "base/progress.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/escape.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/units.h"

struct sl_progress {
    sl_progress_opts opts;
    _Atomic int64_t items_done, items_total, rows, bytes_in, bytes_total, bytes_out;
    struct timespec started;
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

/* The bar is drawn by one progress object at a time; the log clears it through this. */
static _Atomic int bar_drawn;

static void
clear_bar(void)
{
    if (atomic_exchange(&bar_drawn, 0))
        fputs("\r\033[K", stderr);
}

static double
seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

sl_progress *
sl_progress_new(const sl_progress_opts *opts)
{
    sl_progress *p = sl_calloc(1, sizeof *p);
    p->opts = *opts;
    if (p->opts.interval_s <= 0)
        p->opts.interval_s = 10;
    clock_gettime(CLOCK_MONOTONIC, &p->started);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p;
}

void
sl_progress_free(sl_progress *p)
{
    if (!p)
        return;
    sl_progress_stop(p);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

void
sl_progress_set_totals(sl_progress *p, int64_t items, int64_t bytes)
{
    atomic_store(&p->items_total, items);
    atomic_store(&p->bytes_total, bytes);
}

void
sl_progress_add(sl_progress *p, int64_t rows, int64_t bytes_in)
{
    atomic_fetch_add_explicit(&p->rows, rows, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->bytes_in, bytes_in, memory_order_relaxed);
}

void
sl_progress_item_done(sl_progress *p)
{
    atomic_fetch_add(&p->items_done, 1);
}

void
sl_progress_set_bytes_out(sl_progress *p, int64_t bytes_out)
{
    atomic_store(&p->bytes_out, bytes_out);
}

void
sl_progress_read(sl_progress *p, sl_progress_figures *out)
{
    out->items_done = atomic_load(&p->items_done);
    out->items_total = atomic_load(&p->items_total);
    out->rows = atomic_load(&p->rows);
    out->bytes_in = atomic_load(&p->bytes_in);
    out->bytes_total = atomic_load(&p->bytes_total);
    out->bytes_out = atomic_load(&p->bytes_out);
    out->elapsed_s = seconds_since(&p->started);
}

/* "ETA 1:02:03" from the share of bytes read; empty when the total is unknown. */
static void
format_eta(const sl_progress_figures *f, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (f->bytes_total <= 0 || f->bytes_in <= 0 || f->elapsed_s < 1)
        return;
    double rate = f->bytes_in / f->elapsed_s;
    double left = (double)(f->bytes_total - f->bytes_in) / rate;
    if (left < 0)
        left = 0;
    long s = (long)left;
    snprintf(buf, cap, " ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}

static void
format_line(sl_progress *p, const sl_progress_figures *f, char *line, size_t cap)
{
    char in[32], out[32], rate[32], eta[32];
    double mbs = f->elapsed_s > 0 ? f->bytes_in / f->elapsed_s : 0;
    format_eta(f, eta, sizeof eta);
    snprintf(line, cap, "%s: %lld/%lld done, %lld rows, %s read, %s written, %s/s%s",
             p->opts.label, (long long)f->items_done, (long long)f->items_total,
             (long long)f->rows, sl_units_bytes(f->bytes_in, in, sizeof in),
             sl_units_bytes(f->bytes_out, out, sizeof out),
             sl_units_bytes((int64_t)mbs, rate, sizeof rate), eta);
}

static void
draw_bar(sl_progress *p, const sl_progress_figures *f)
{
    char line[256];
    char bar[24];
    double share = f->bytes_total > 0 ? (double)f->bytes_in / f->bytes_total : 0;
    if (share > 1)
        share = 1;
    int fill = (int)(share * 20);
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[20] = '\0';
    format_line(p, f, line, sizeof line);
    sl_buf safe = SL_BUF_INIT;  /* the bar bypasses the logger, which escapes everything else */
    sl_escape_text(&safe, line, strlen(line));
    sl_log_lock();
    fprintf(stderr, "\r\033[K[%s] %s", bar, safe.data);
    fflush(stderr);
    atomic_store(&bar_drawn, 1);
    sl_log_unlock();
    sl_buf_free(&safe);
}

static char *
figures_json(sl_progress *p, const sl_progress_figures *f)
{
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "op", p->opts.label,
                          "done", (json_int_t)f->items_done, "total", (json_int_t)f->items_total,
                          "rows", (json_int_t)f->rows, "bytes_in", (json_int_t)f->bytes_in,
                          "bytes_total", (json_int_t)f->bytes_total, "bytes_out",
                          (json_int_t)f->bytes_out, "elapsed_s", f->elapsed_s);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void *
reporter(void *arg)
{
    sl_progress *p = arg;
    double last_line = 0, last_cb = 0;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &until);
        if (p->stopping)
            break;
        pthread_mutex_unlock(&p->mu);
        sl_progress_figures f;
        sl_progress_read(p, &f);
        if (!p->opts.quiet && p->opts.tty) {
            draw_bar(p, &f);
        } else if (!p->opts.quiet && f.elapsed_s - last_line >= p->opts.interval_s) {
            char line[256];
            format_line(p, &f, line, sizeof line);
            SL_INFO("%s", line);
            last_line = f.elapsed_s;
        }
        if (p->opts.callback && f.elapsed_s - last_cb >= p->opts.interval_s) {
            char *js = figures_json(p, &f);
            if (js)
                p->opts.callback(js, p->opts.callback_arg);
            free(js);
            last_cb = f.elapsed_s;
        }
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void
sl_progress_start(sl_progress *p)
{
    if (p->running)
        return;
    if (p->opts.tty)
        sl_log_set_clear_hook(clear_bar);
    p->stopping = false;
    p->running = pthread_create(&p->thread, NULL, reporter, p) == 0;
}

void
sl_progress_stop(sl_progress *p)
{
    if (!p->running)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->running = false;
    if (p->opts.callback) {
        sl_progress_figures f;
        sl_progress_read(p, &f);
        char *js = figures_json(p, &f);
        if (js)
            p->opts.callback(js, p->opts.callback_arg);
        free(js);
    }
    sl_log_lock();
    clear_bar();
    sl_log_unlock();
    sl_log_set_clear_hook(NULL);
}

void
sl_progress_summary(sl_progress *p, const char *items_name, sl_buf *out)
{
    sl_progress_figures f;
    sl_progress_read(p, &f);
    char in[32], wr[32], rate[32];
    double mbs = f.elapsed_s > 0 ? f.bytes_in / f.elapsed_s : 0;
    sl_buf_printf(out, "%lld %s, %lld rows, %s read, %s written in %.1f s (%s/s)",
                  (long long)f.items_done, items_name, (long long)f.rows,
                  sl_units_bytes(f.bytes_in, in, sizeof in),
                  sl_units_bytes(f.bytes_out, wr, sizeof wr), f.elapsed_s,
                  sl_units_bytes((int64_t)mbs, rate, sizeof rate));
}
