/* sluice/proxy.h: sluice's PostgreSQL wire-protocol proxy, embedded in a C program.
 * The proxy runs on threads of its own inside the application's process and relays each client
 * connection to a server connection of its own, authentication included. Clients reach it
 * through a private Unix socket directory (libpq in the same process connects with
 * "host=DIR port=PORT") or through descriptors the application hands it (one end of a
 * socketpair(2), or a connection the application accepted).
 *
 * Calling order:
 *   sluice_proxy_new() -> [sluice_proxy_listen_unix()] -> sluice_proxy_start()
 *     -> sluice_proxy_serve_fd()* -> sluice_proxy_stop() -> [sluice_proxy_wait()]
 *     -> sluice_proxy_free()
 *   sluice_proxy_free() alone also works at any point: it stops the proxy at once first.
 *
 * Stopping: SLUICE_PROXY_DRAIN stops accepting clients and lets the connected ones finish
 *   (sluice_proxy_wait() returns when the last one has left); SLUICE_PROXY_IMMEDIATE closes
 *   every connection. An immediate stop may follow a drain, e.g. when a drain takes too long.
 *
 * Threads and signals: new, listen_unix, start, free and the getters are called from one
 *   thread at a time (the one that owns the handle). sluice_proxy_serve_fd(),
 *   sluice_proxy_stop(), sluice_proxy_wait() and sluice_proxy_clients() may be called from any
 *   thread, concurrently. The proxy installs no signal handler and changes no signal
 *   disposition: the application owns signals. The threads it starts block every signal, so
 *   the application's handlers run on the application's threads, and writing to a client that
 *   went away gives the proxy an error (EPIPE), never a SIGPIPE that ends the process.
 *
 * Errors: the functions that can fail return -1; for new, listen_unix and start,
 *   sluice_proxy_error() then gives one line in English naming what failed (never a password:
 *   the proxy is given addresses, not connection strings; never a key's content). Warnings
 *   about a client or the server while running (e.g. the server cannot be reached, a failed
 *   TLS handshake) go to standard error.
 *
 * Ownership: the handle owns its threads, its sockets and the socket directory it made; the
 *   strings of the configuration are copied by sluice_proxy_new() (the TLS files are read
 *   there: a change to them later takes a new handle).
 */
#ifndef SLUICE_PROXY_H
#define SLUICE_PROXY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sluice_proxy sluice_proxy;

/* Start from SLUICE_PROXY_CONFIG_INIT: `size` tells the library which fields the application
 * knows, so that fields added later (a cache, for one) read as zero, their default, for a
 * program built against this header. Zero is the default of every field. */
typedef struct sluice_proxy_config {
    size_t size;               /* sizeof(sluice_proxy_config), set by SLUICE_PROXY_CONFIG_INIT */
    const char *upstream;      /* the server: "HOST:PORT", "[IPV6]:PORT", or its socket
                                * directory as libpq's host= ("/dir" or "/dir:PORT", port
                                * 5432 by default) */
    int threads;               /* event-loop threads; 0: one per core */
    uint32_t max_message_size; /* the largest message taken from either side, in bytes (1024
                                * at least); 0: the server's own limit (1 GB) */
    /* TLS for clients (a TCP connection handed to sluice_proxy_serve_fd(); libpq asks for no
     * TLS over a Unix socket). With both files set, a client's SSLRequest is answered 'S' and
     * TLS (1.2 at least) is terminated in the proxy; NULL: answered 'N'. The server
     * connection stays plain. The files are checked by sluice_proxy_new() as the server
     * checks its own: the key PEM without a passphrase, not readable by group or others,
     * matching the certificate. */
    const char *tls_cert_file; /* PEM: the certificate, then its chain */
    const char *tls_key_file;  /* PEM: its private key */
    const char *tls_ca_file;   /* PEM or NULL: clients must show a certificate it signed */
} sluice_proxy_config;

#define SLUICE_PROXY_CONFIG_INIT { .size = sizeof(sluice_proxy_config) }

typedef enum sluice_proxy_stop_mode {
    SLUICE_PROXY_DRAIN,     /* no new client; the connected ones stay until they leave */
    SLUICE_PROXY_IMMEDIATE, /* every connection is closed now */
} sluice_proxy_stop_mode;

/* Makes a proxy (not running yet) from cfg. Sets *out in every case but an out-of-memory
 * (*out NULL): on -1 the configuration was refused, sluice_proxy_error(*out) says why, and the
 * handle is only good for sluice_proxy_free(). */
int sluice_proxy_new(sluice_proxy **out, const sluice_proxy_config *cfg);

/* Clients will connect through the socket DIR/.s.PGSQL.PORT. dir NULL: the proxy makes a
 * private directory (mode 0700, under $TMPDIR or /tmp) and removes it in sluice_proxy_free();
 * sluice_proxy_socket_dir() names it. port 0: 5432. Before sluice_proxy_start(), once. */
int sluice_proxy_listen_unix(sluice_proxy *p, const char *dir, int port);
/* The directory and port to give libpq as host= and port= ("" and 0 when not listening). */
const char *sluice_proxy_socket_dir(const sluice_proxy *p);
int sluice_proxy_port(const sluice_proxy *p);

/* Binds the socket (if any) and starts the threads; returns when the proxy accepts clients. */
int sluice_proxy_start(sluice_proxy *p);

/* Serves one connected client socket (AF_UNIX or TCP), e.g. one end of a socketpair(2) whose
 * other end the application speaks the protocol on. On 0 the proxy owns fd and closes it when
 * the client's session ends; -1 (the proxy is not running or stopping, or fd is not a stream
 * socket) leaves fd to the caller. */
int sluice_proxy_serve_fd(sluice_proxy *p, int fd);

/* Starts a stop and returns when it has taken effect: for DRAIN, no client is accepted any
 * more (the socket file is gone); for IMMEDIATE, every connection is closed and the threads
 * have ended. 0, or -1 when the proxy was never started (it is then marked stopped). */
int sluice_proxy_stop(sluice_proxy *p, sluice_proxy_stop_mode mode);
/* Returns when the proxy has stopped (after a drain: once the last client has left). Call it
 * after sluice_proxy_stop(); a proxy that was never started returns at once. */
void sluice_proxy_wait(sluice_proxy *p);
/* Clients connected now (accepted or served and not yet closed). */
int sluice_proxy_clients(const sluice_proxy *p);

/* The message of the last failure of new, listen_unix or start; "" when none. The string
 * belongs to the handle and stays valid until the next call on it. */
const char *sluice_proxy_error(const sluice_proxy *p);

/* Stops the proxy at once if it runs, waits for its threads, removes its socket and the
 * directory it made, and frees it. NULL is a no-op. */
void sluice_proxy_free(sluice_proxy *p);

#ifdef __cplusplus
}
#endif

#endif
