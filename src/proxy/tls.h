/* proxy/tls.h: TLS on the client side of a session, terminated in memory. OpenSSL reads the
 * client's ciphertext from one memory BIO and writes what goes back into another; the session
 * moves those bytes over its libuv stream. Nothing here touches a socket, so nothing blocks a
 * loop, and a connection costs no thread.
 * Config:     sl_tls_config_load() once at start (checks the files as the server does: the key
 *             must not be readable by group or others, and must match the certificate), shared
 *             read-only by every loop, sl_tls_config_free() after the loops have ended.
 * Connection: sl_tls_new() -> sl_tls_input()* (ciphertext in, plaintext out) and, once
 *             sl_tls_established(), sl_tls_encrypt()* -> [sl_tls_close_notify()] ->
 *             sl_tls_free(). After each call, the ciphertext for the client is in `out`.
 * Memory:     what OpenSSL keeps between calls is one partial record (16 kB) of input; output
 *             is handed over at every call, so the session's write queue bounds it.
 * Errors:     messages name the files, never their content (no key bytes: OpenSSL's reason
 *             strings only). */
#ifndef SL_PROXY_TLS_H
#define SL_PROXY_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

typedef struct sl_tls_config sl_tls_config;
typedef struct sl_tls sl_tls;

typedef struct sl_tls_files {
    const char *cert_file; /* PEM: the server certificate, then its chain */
    const char *key_file;  /* PEM, unencrypted */
    const char *ca_file;   /* PEM or NULL: when set, clients must show a certificate it signed */
} sl_tls_files;

SL_MUSTCHECK int sl_tls_config_load(sl_tls_config **out, const sl_tls_files *f, sl_error *err);
void sl_tls_config_free(sl_tls_config *c);

sl_tls *sl_tls_new(sl_tls_config *c);
void sl_tls_free(sl_tls *t);

/* Ciphertext from the client: the handshake goes on, or records are decrypted into plain.
 * Ciphertext to send back (handshake, alerts) is appended to out. 0, or -1 when the connection
 * is over for TLS (a failed handshake, a bad record, the client's close_notify): why names it. */
SL_MUSTCHECK int sl_tls_input(sl_tls *t, const uint8_t *data, size_t n, sl_buf *plain,
                              sl_buf *out, char *why, size_t why_cap);
/* Plaintext for the client (after the handshake only): its records appended to out. */
SL_MUSTCHECK int sl_tls_encrypt(sl_tls *t, const void *data, size_t n, sl_buf *out);
/* The close_notify alert, appended to out. */
void sl_tls_close_notify(sl_tls *t, sl_buf *out);

bool sl_tls_established(const sl_tls *t);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" once established, for the log. */
void sl_tls_describe(const sl_tls *t, char *dst, size_t cap);

#endif
