/* proxy/tls.c: see tls.h. The SSL_CTX is made once and only read by the loops (OpenSSL allows
 * SSL_new on a shared context from several threads). Settings follow the server's: TLS 1.2 at
 * least, OpenSSL's cipher defaults, no renegotiation, no session resumption (no tickets, no
 * session cache: a session is one connection, as with the server). */
#include "proxy/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/mem.h"

enum { CHUNK = 16 * 1024 }; /* one TLS record's worth of plaintext */

struct sl_tls_config {
    SSL_CTX *ctx;
};

struct sl_tls {
    SSL *ssl;
    BIO *in, *out; /* owned by ssl */
};

/* ---- configuration ------------------------------------------------------------------------ */

/* The reason of the first error OpenSSL queued (the cause; later ones say where it surfaced),
 * never its data part, which may quote input; the queue is emptied. */
static const char *
ssl_reason(void)
{
    const char *r = NULL;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        if (!r)
            r = ERR_reason_error_string(e);
    }
    return r ? r : "unknown error";
}

/* No passphrase prompt: an encrypted key is refused rather than blocking on a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return -1;
}

static int
check_readable(const char *what, const char *path, sl_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        sl_error_set(err, SL_E_USAGE, "could not read the TLS %s file \"%s\": %s", what, path,
                     strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* The server's rule (be-secure-common.c): a key owned by the user running the program may have
 * no group or other permission; owned by root, group read at most; any other owner is
 * refused. */
static int
check_key_permissions(const char *path, sl_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        sl_error_set(err, SL_E_USAGE, "could not access the TLS private key file \"%s\": %s",
                     path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        sl_error_set(err, SL_E_USAGE, "the TLS private key file \"%s\" is not a regular file",
                     path);
        return -1;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        sl_error_set(err, SL_E_USAGE,
                     "the TLS private key file \"%s\" must be owned by the user running sluice "
                     "or by root", path);
        return -1;
    }
    if ((st.st_uid == geteuid() && (st.st_mode & (S_IRWXG | S_IRWXO))) ||
        (st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)))) {
        sl_error_set(err, SL_E_USAGE,
                     "the TLS private key file \"%s\" has group or world access: it must be "
                     "u=rw (0600) or less when owned by the user running sluice, u=rw,g=r "
                     "(0640) or less when owned by root", path);
        return -1;
    }
    return 0;
}

static int
mismatch(const sl_tls_files *f, sl_error *err)
{
    ERR_clear_error();
    sl_error_set(err, SL_E_USAGE,
                 "the TLS private key file \"%s\" does not match the certificate file \"%s\"",
                 f->key_file, f->cert_file);
    return -1;
}

static int
load_files(SSL_CTX *ctx, const sl_tls_files *f, sl_error *err)
{
    if (check_readable("certificate", f->cert_file, err) != 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, f->cert_file) != 1) {
        sl_error_set(err, SL_E_USAGE, "could not load the TLS certificate file \"%s\": %s",
                     f->cert_file, ssl_reason());
        return -1;
    }
    if (check_key_permissions(f->key_file, err) != 0 ||
        check_readable("private key", f->key_file, err) != 0)
        return -1;
    if (SSL_CTX_use_PrivateKey_file(ctx, f->key_file, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            return mismatch(f, err);
        sl_error_set(err, SL_E_USAGE,
                     "could not load the TLS private key file \"%s\": %s (expected a PEM key "
                     "without a passphrase)", f->key_file, ssl_reason());
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
        return mismatch(f, err);
    return 0;
}

/* Clients must show a certificate that a CA of the file signed. */
static int
load_ca(SSL_CTX *ctx, const char *path, sl_error *err)
{
    if (check_readable("CA", path, err) != 0)
        return -1;
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(path);
    if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1 || !names) {
        sl_error_set(err, SL_E_USAGE, "could not load the TLS CA file \"%s\": %s", path,
                     ssl_reason());
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return -1;
    }
    SSL_CTX_set_client_CA_list(ctx, names);  /* owned by ctx */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return 0;
}

int
sl_tls_config_load(sl_tls_config **out, const sl_tls_files *f, sl_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        sl_error_set(err, SL_E_INTERNAL, "could not make a TLS context: %s", ssl_reason());
        return -1;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* an idle connection keeps no record buffers */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (load_files(ctx, f, err) != 0 || (f->ca_file && load_ca(ctx, f->ca_file, err) != 0)) {
        SSL_CTX_free(ctx);
        return -1;
    }
    sl_tls_config *c = sl_calloc(1, sizeof *c);
    c->ctx = ctx;
    *out = c;
    return 0;
}

void
sl_tls_config_free(sl_tls_config *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

/* ---- a connection ------------------------------------------------------------------------- */

sl_tls *
sl_tls_new(sl_tls_config *c)
{
    sl_tls *t = sl_calloc(1, sizeof *t);
    t->ssl = SSL_new(c->ctx);
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->in || !t->out) {
        fprintf(stderr, "sluice: out of memory (TLS)\n");
        abort();
    }
    /* an empty input BIO means "more to come", not the end of the stream */
    BIO_set_mem_eof_return(t->in, -1);
    SSL_set_bio(t->ssl, t->in, t->out);
    SSL_set_accept_state(t->ssl);
    return t;
}

void
sl_tls_free(sl_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);  /* frees both BIOs */
    free(t);
}

bool
sl_tls_established(const sl_tls *t)
{
    return SSL_is_init_finished(t->ssl);
}

void
sl_tls_describe(const sl_tls *t, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
}

/* Moves what OpenSSL wrote for the client into out. */
static void
drain(sl_tls *t, sl_buf *out)
{
    char *p;
    long n = BIO_get_mem_data(t->out, &p);
    if (n > 0)
        sl_buf_append(out, p, (size_t)n);
    (void)BIO_reset(t->out);
}

static int
failed(sl_tls *t, int rc, const char *doing, char *why, size_t why_cap)
{
    int e = SSL_get_error(t->ssl, rc);
    if (e == SSL_ERROR_ZERO_RETURN)
        snprintf(why, why_cap, "the client closed TLS");
    else if (e == SSL_ERROR_SSL)
        snprintf(why, why_cap, "%s failed: %s", doing, ssl_reason());
    else
        snprintf(why, why_cap, "%s failed (OpenSSL error %d)", doing, e);
    ERR_clear_error();
    return -1;
}

/* One piece of input (at most CHUNK bytes, so the input BIO never holds more than about two
 * records): the handshake goes on, or records are decrypted. */
static int
input_piece(sl_tls *t, const uint8_t *data, size_t n, sl_buf *plain, char *why, size_t why_cap)
{
    if (BIO_write(t->in, data, (int)n) != (int)n) {
        snprintf(why, why_cap, "out of memory for TLS input");
        return -1;
    }
    if (!SSL_is_init_finished(t->ssl)) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1 && SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ)
            return failed(t, r, "the TLS handshake", why, why_cap);
    }
    while (SSL_is_init_finished(t->ssl)) {
        sl_buf_reserve(plain, CHUNK);
        int r = SSL_read(t->ssl, plain->data + plain->len, CHUNK);
        if (r <= 0)
            return SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ
                       ? 0
                       : failed(t, r, "reading TLS", why, why_cap);
        plain->len += (size_t)r;
        plain->data[plain->len] = '\0';
    }
    return 0;
}

int
sl_tls_input(sl_tls *t, const uint8_t *data, size_t n, sl_buf *plain, sl_buf *out, char *why,
             size_t why_cap)
{
    int rc = 0;
    while (rc == 0 && n > 0) {
        size_t piece = n > (size_t)CHUNK ? (size_t)CHUNK : n;
        rc = input_piece(t, data, piece, plain, why, why_cap);
        data += piece;
        n -= piece;
        drain(t, out);  /* the alert of a failure too */
    }
    return rc;
}

int
sl_tls_encrypt(sl_tls *t, const void *data, size_t n, sl_buf *out)
{
    const char *p = data;
    while (n > 0) {
        int chunk = n > (size_t)CHUNK ? CHUNK : (int)n;
        int r = SSL_write(t->ssl, p, chunk);
        if (r <= 0) {
            ERR_clear_error();
            return -1;
        }
        p += r;
        n -= (size_t)r;
        drain(t, out);
    }
    return 0;
}

void
sl_tls_close_notify(sl_tls *t, sl_buf *out)
{
    if (SSL_shutdown(t->ssl) < 0)
        ERR_clear_error();
    drain(t, out);
}
