/* tests/unit/test_workers.c: pg/workers.h -- threads, the first error under contention, the
 * cancel that reaches every running worker, and a signal that stops the run.
 * No PostgreSQL server: a small in-process fake speaks just enough of the protocol (startup,
 * BackendKeyData, a query that waits until its cancel request arrives) for libpq to connect,
 * run a statement and cancel it. Nothing waits on a clock: every step waits for the event it
 * needs (a query has arrived, a cancel has arrived). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "pg/workers.h"

#define NWORKERS 4
#define MAX_BACKENDS 64

/* ---- the fake server ------------------------------------------------------------------- */

typedef struct fake {
    int listen_fd;
    int port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int backends;                    /* connections that completed startup */
    int waiting;                     /* queries received and not yet answered */
    bool canceled[MAX_BACKENDS];     /* a cancel request came for backend i */
    int cancels;                     /* cancel requests received in all */
} fake;

static fake srv;

static bool
read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got <= 0)
            return false;
        p += got;
        n -= (size_t)got;
    }
    return true;
}

static void
write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put <= 0)
            return;
        p += put;
        n -= (size_t)put;
    }
}

static void
put32(char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

static uint32_t
get32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

/* A message: type, length, body. */
static void
send_msg(int fd, char type, const void *body, uint32_t len)
{
    char head[5];
    head[0] = type;
    put32(head + 1, len + 4);
    write_full(fd, head, 5);
    write_full(fd, body, len);
}

static void
answer_canceled(int fd)
{
    static const char err[] = "SERROR\0C57014\0Mcanceling statement due to user request\0";
    send_msg(fd, 'E', err, sizeof err);  /* the final NUL ends the field list */
    send_msg(fd, 'Z', "I", 1);
}

/* One client connection: a startup or a cancel request, then queries until Terminate. */
static void *
serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char head[8];
    if (!read_full(fd, head, 8))
        goto done;
    uint32_t len = get32(head), code = get32(head + 4);
    if (len < 8 || len > 10000)
        goto done;
    char *rest = malloc(len - 8 + 1);
    bool ok = read_full(fd, rest, len - 8);
    if (ok && code == 80877102 && len == 16) {  /* CancelRequest: pid, key */
        uint32_t pid = get32(rest), key = get32(rest + 4);
        pthread_mutex_lock(&srv.mu);
        srv.cancels++;
        if (pid < MAX_BACKENDS && key == pid * 7 + 1)
            srv.canceled[pid] = true;
        pthread_cond_broadcast(&srv.cv);
        pthread_mutex_unlock(&srv.mu);
    }
    free(rest);
    if (!ok || code != 196608)
        goto done;
    pthread_mutex_lock(&srv.mu);
    uint32_t pid = (uint32_t)srv.backends++;
    pthread_mutex_unlock(&srv.mu);
    char auth[4], keydata[8];
    put32(auth, 0);
    put32(keydata, pid);
    put32(keydata + 4, pid * 7 + 1);
    send_msg(fd, 'R', auth, 4);
    send_msg(fd, 'K', keydata, 8);
    send_msg(fd, 'Z', "I", 1);
    for (;;) {
        char mh[5];
        if (!read_full(fd, mh, 5))
            break;
        uint32_t mlen = get32(mh + 1);
        char *body = malloc(mlen);
        ok = mlen >= 4 && read_full(fd, body, mlen - 4);
        free(body);
        if (!ok || mh[0] == 'X')
            break;
        if (mh[0] != 'Q')
            continue;
        /* every query runs until it is canceled */
        pthread_mutex_lock(&srv.mu);
        srv.waiting++;
        pthread_cond_broadcast(&srv.cv);
        while (!srv.canceled[pid])
            pthread_cond_wait(&srv.cv, &srv.mu);
        srv.canceled[pid] = false;
        srv.waiting--;
        pthread_mutex_unlock(&srv.mu);
        answer_canceled(fd);
    }
done:
    close(fd);
    return NULL;
}

static void *
accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(srv.listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;  /* the listening socket was shut down */
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
}

static int
fake_start(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof srv);
    pthread_mutex_init(&srv.mu, NULL);
    pthread_cond_init(&srv.cv, NULL);
    srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (srv.listen_fd < 0 || bind(srv.listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(srv.listen_fd, 64) != 0 ||
        getsockname(srv.listen_fd, (struct sockaddr *)&a, &alen) != 0)
        return -1;
    srv.port = ntohs(a.sin_port);
    return pthread_create(&srv.acceptor, NULL, accept_loop, NULL);
}

static int
fake_stop(void **state)
{
    (void)state;
    shutdown(srv.listen_fd, SHUT_RDWR);
    close(srv.listen_fd);
    pthread_join(srv.acceptor, NULL);
    return 0;
}

static PGconn *
fake_connect(void)
{
    char dsn[160];
    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d user=u dbname=d sslmode=disable "
             "gssencmode=disable", srv.port);
    PGconn *pg = PQconnectdb(dsn);
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("could not connect to the fake server: %s", PQerrorMessage(pg));
    return pg;
}

/* Blocks until n queries are waiting for their cancel. */
static void
wait_for_queries(int n)
{
    pthread_mutex_lock(&srv.mu);
    while (srv.waiting < n)
        pthread_cond_wait(&srv.cv, &srv.mu);
    pthread_mutex_unlock(&srv.mu);
}

/* ---- threads ------------------------------------------------------------------------- */

typedef struct seen {
    atomic_int calls[8];
    pthread_t ids[8];
} seen;

static void
note_call(void *arg, int i)
{
    seen *s = arg;
    atomic_fetch_add(&s->calls[i], 1);
    s->ids[i] = pthread_self();
}

static void
test_run_calls_each_index_once(void **state)
{
    (void)state;
    sl_workers *w = sl_workers_new(NULL);
    seen s = {0};
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_workers_run(w, 5, note_call, &s, &err), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(atomic_load(&s.calls[i]), i < 5 ? 1 : 0);
    for (int i = 0; i < 5; i++)
        assert_false(pthread_equal(s.ids[i], pthread_self()));
    /* one worker runs on the caller's thread */
    seen one = {0};
    assert_int_equal(sl_workers_run(w, 1, note_call, &one, &err), 0);
    assert_int_equal(atomic_load(&one.calls[0]), 1);
    assert_true(pthread_equal(one.ids[0], pthread_self()));
    assert_false(sl_workers_stopping(w));
    assert_false(sl_workers_first_error(w, &err));
    assert_int_equal(err.kind, SL_E_NONE);
    sl_workers_free(w);
}

/* ---- first error under contention ------------------------------------------------------ */

#define RACERS 8

typedef struct race {
    sl_workers *w;
    pthread_barrier_t start;
    atomic_int winners;
    atomic_int winner;
    atomic_int cancels;
} race;

static void
count_cancel(void *arg)
{
    race *r = arg;
    atomic_fetch_add(&r->cancels, 1);
}

static void
fail_at_once(void *arg, int i)
{
    race *r = arg;
    sl_error err;
    sl_error_set(&err, SL_E_SERVER, "worker %d failed", i);
    pthread_barrier_wait(&r->start);  /* every racer fails at the same moment */
    if (sl_workers_fail(r->w, &err)) {
        atomic_fetch_add(&r->winners, 1);
        atomic_store(&r->winner, i);
    }
    assert_true(sl_workers_stopping(r->w));
}

static void
test_first_error_wins_under_contention(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        race r = {0};
        r.w = sl_workers_new(SL_WORKERS_OPTS(.cancel = count_cancel, .cancel_arg = &r));
        pthread_barrier_init(&r.start, NULL, RACERS);
        sl_error err;
        sl_error_clear(&err);
        assert_int_equal(sl_workers_run(r.w, RACERS, fail_at_once, &r, &err), 0);
        assert_int_equal(atomic_load(&r.winners), 1);
        assert_int_equal(atomic_load(&r.cancels), 1);  /* one cancel, by the first failure */
        assert_true(sl_workers_first_error(r.w, &err));
        char want[32];
        snprintf(want, sizeof want, "worker %d failed", atomic_load(&r.winner));
        assert_string_equal(err.message, want);
        assert_int_equal(err.kind, SL_E_SERVER);
        assert_false(sl_workers_signaled(r.w));
        pthread_barrier_destroy(&r.start);
        sl_workers_free(r.w);
    }
}

/* ---- cancel reaches every running worker ----------------------------------------------- */

typedef struct query_run {
    sl_workers *w;
    PGconn *conns[NWORKERS];
    char sqlstate[NWORKERS][6];
    bool raise_signal;  /* worker 0 stops the run with a signal instead of an error */
} query_run;

static void
query_or_stop(void *arg, int i)
{
    query_run *q = arg;
    if (i > 0) {  /* a statement that runs until it is canceled */
        PGresult *res = PQexec(q->conns[i], "SELECT pg_sleep(3600)");
        const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        snprintf(q->sqlstate[i], sizeof q->sqlstate[i], "%s", st ? st : "");
        PQclear(res);
        return;
    }
    wait_for_queries(NWORKERS - 1);
    if (q->raise_signal) {
        raise(SIGUSR1);
        return;
    }
    sl_error err;
    sl_error_set(&err, SL_E_SERVER, "worker 0 failed");
    assert_true(sl_workers_fail(q->w, &err));
}

static void
run_queries(query_run *q)
{
    for (int i = 0; i < NWORKERS; i++) {
        q->conns[i] = fake_connect();
        assert_true(sl_workers_watch(q->w, q->conns[i]) >= 0);
    }
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(sl_workers_run(q->w, NWORKERS, query_or_stop, q, &err), 0);
    for (int i = 1; i < NWORKERS; i++)
        assert_string_equal(q->sqlstate[i], "57014");  /* query_canceled */
    assert_true(sl_workers_stopping(q->w));
    for (int i = 0; i < NWORKERS; i++)
        PQfinish(q->conns[i]);
}

static void
test_cancel_reaches_every_running_worker(void **state)
{
    (void)state;
    query_run q = {.w = sl_workers_new(NULL)};
    run_queries(&q);
    sl_error err;
    assert_true(sl_workers_first_error(q.w, &err));
    assert_string_equal(err.message, "worker 0 failed");
    sl_workers_disarm(q.w);
    assert_false(sl_workers_signaled(q.w));
    sl_workers_free(q.w);
}

static void
on_signal(int sig)
{
    (void)sig;
    (void)sl_workers_interrupt();
}

static void
test_signal_stops_the_run(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = on_signal}, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    query_run q = {.w = sl_workers_new(NULL), .raise_signal = true};
    run_queries(&q);
    sl_error err;
    sl_error_clear(&err);
    assert_false(sl_workers_first_error(q.w, &err));  /* a handler records no error */
    assert_true(sl_workers_signaled(q.w));
    sl_workers_disarm(q.w);
    assert_true(sl_workers_signaled(q.w));  /* still known after disarm */
    sl_workers_free(q.w);
    /* a later run starts clean and a signal after disarm no longer reaches it */
    sl_workers *next = sl_workers_new(NULL);
    assert_false(sl_workers_signaled(next));
    assert_false(sl_workers_stopping(next));
    sl_workers_free(next);
    assert_false(sl_workers_interrupt());
    sigaction(SIGUSR1, &old, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_calls_each_index_once),
        cmocka_unit_test(test_first_error_wins_under_contention),
        cmocka_unit_test(test_cancel_reaches_every_running_worker),
        cmocka_unit_test(test_signal_stops_the_run),
    };
    return cmocka_run_group_tests(tests, fake_start, fake_stop);
}
