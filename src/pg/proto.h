/* pg/proto.h: the raw PostgreSQL v3 message codec, pure and bounded (no I/O, no libpq).
 * Framing:   sl_proto_frame() looks at the bytes received so far and answers OK (one whole
 *            typed message: type, body), NEED_MORE, or BAD (a length below 4 or over the
 *            caller's maximum), before anything is allocated. sl_proto_frame_startup() does
 *            the same for the untyped messages a connection starts with (StartupMessage,
 *            SSLRequest, GSSENCRequest, CancelRequest).
 * Reading:   sl_proto_reader over one body; every getter returns false and latches
 *            r->failed when it would read past the end, so a parser may read all its fields
 *            and check once.
 * Writing:   sl_proto_begin() -> sl_proto_put_*()* -> sl_proto_end() appends one message to
 *            an sl_buf and fills in its length; a message that would exceed the writer's
 *            maximum latches w->failed and sl_proto_end() removes it and returns -1.
 * Ownership: framed bodies and strings a reader returns point into the caller's bytes and live
 *            as long as they do.
 */
#ifndef SL_PG_PROTO_H
#define SL_PG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* The server's own limits: a startup packet (MAX_STARTUP_PACKET_LENGTH) and any message
 * (PQ_LARGE_MESSAGE_LIMIT, 1 GiB minus one). */
#define SL_PROTO_STARTUP_MAX 10000u
#define SL_PROTO_MESSAGE_MAX 0x3fffffffu

#define SL_PROTO_VERSION_3 196608u       /* 3.0 */
#define SL_PROTO_CANCEL_CODE 80877102u
#define SL_PROTO_SSL_CODE 80877103u
#define SL_PROTO_GSSENC_CODE 80877104u

typedef enum {
    SL_PROTO_OK,        /* one whole message framed */
    SL_PROTO_NEED_MORE, /* the bytes end inside a message: read more */
    SL_PROTO_BAD,       /* a length the protocol or the caller does not allow */
} sl_proto_status;

typedef struct sl_proto_msg {
    char type;           /* the type byte; 0 for a startup-phase message */
    const uint8_t *body; /* the bytes after the length word */
    size_t body_len;
    size_t total;        /* bytes the whole message takes: type, length and body */
} sl_proto_msg;

typedef enum {
    SL_PROTO_STARTUP,     /* StartupMessage, protocol 3.x: body holds parameters */
    SL_PROTO_SSL_REQUEST, /* SSLRequest */
    SL_PROTO_GSS_REQUEST, /* GSSENCRequest */
    SL_PROTO_CANCEL,      /* CancelRequest: pid and secret in the startup struct */
    SL_PROTO_UNKNOWN,     /* another protocol version or request code */
} sl_proto_startup_kind;

typedef struct sl_proto_startup {
    sl_proto_startup_kind kind;
    uint32_t code;        /* the protocol version or request code */
    const uint8_t *body;  /* after the code: the parameters of a StartupMessage */
    size_t body_len;
    size_t total;         /* bytes the whole packet takes */
    int32_t cancel_pid;   /* CancelRequest only */
    int32_t cancel_secret;
} sl_proto_startup;

/* Frames one typed message at data. max is the largest length word accepted (the length
 * counts itself and the body, not the type byte). Only the header is needed to answer BAD. */
sl_proto_status sl_proto_frame(const uint8_t *data, size_t len, uint32_t max,
                               sl_proto_msg *out);
/* Checks a typed message's 5-byte header alone: OK with *body_len set, or BAD. */
sl_proto_status sl_proto_header(const uint8_t header[5], uint32_t max, size_t *body_len);
/* Frames one startup-phase packet. A CancelRequest, SSLRequest or GSSENCRequest of the wrong
 * length is BAD, as is a packet below 8 bytes or over max. */
sl_proto_status sl_proto_frame_startup(const uint8_t *data, size_t len, uint32_t max,
                                       sl_proto_startup *out);

typedef struct sl_proto_reader {
    const uint8_t *data;
    size_t len;
    size_t off;
    bool failed; /* a getter went past the end */
} sl_proto_reader;

void sl_proto_reader_init(sl_proto_reader *r, const uint8_t *data, size_t len);
bool sl_proto_get_byte(sl_proto_reader *r, uint8_t *out);
bool sl_proto_get_int16(sl_proto_reader *r, int16_t *out);
bool sl_proto_get_int32(sl_proto_reader *r, int32_t *out);
/* A NUL-terminated string inside the body: *out points at it (no copy). */
bool sl_proto_get_cstring(sl_proto_reader *r, const char **out);
/* n bytes: *out points at them (no copy). */
bool sl_proto_get_bytes(sl_proto_reader *r, size_t n, const uint8_t **out);
size_t sl_proto_reader_left(const sl_proto_reader *r);

typedef struct sl_proto_writer {
    sl_buf *buf;
    size_t start;  /* where the current message begins in buf */
    size_t len_at; /* where its length word is */
    uint32_t max;  /* the largest length word the writer produces */
    bool open;     /* between begin and end */
    bool failed;   /* latched: a put overflowed max or came outside begin/end */
} sl_proto_writer;

/* type 0 writes an untyped (startup-phase) message. max 0 means SL_PROTO_MESSAGE_MAX. */
void sl_proto_begin(sl_proto_writer *w, sl_buf *buf, char type, uint32_t max);
void sl_proto_put_byte(sl_proto_writer *w, uint8_t v);
void sl_proto_put_int16(sl_proto_writer *w, int16_t v);
void sl_proto_put_int32(sl_proto_writer *w, int32_t v);
void sl_proto_put_cstring(sl_proto_writer *w, const char *s);
void sl_proto_put_bytes(sl_proto_writer *w, const void *p, size_t n);
/* 0 with the message complete in buf; -1 (failed latched) with buf as before begin. */
int sl_proto_end(sl_proto_writer *w);

/* Whole messages the server sends, appended to buf. severity is "ERROR", "FATAL"... */
void sl_proto_write_error(sl_buf *buf, const char *severity, const char *sqlstate,
                          const char *message);
void sl_proto_write_ready(sl_buf *buf, char tx_status);
void sl_proto_write_backend_key(sl_buf *buf, int32_t pid, int32_t secret);
void sl_proto_write_cancel(sl_buf *buf, int32_t pid, int32_t secret);

/* The parameters of a StartupMessage body: call with *off 0, then again while it returns 1
 * (name and value set); 0 at the end; -1 on a malformed list (no final NUL, a name without a
 * value). */
int sl_proto_startup_next(const sl_proto_startup *s, size_t *off, const char **name,
                          const char **value);
/* The value of one parameter ("user", "database"), or NULL when absent or malformed. */
const char *sl_proto_startup_get(const sl_proto_startup *s, const char *name);

/* A field of an ErrorResponse or NoticeResponse body ('S' severity, 'C' SQLSTATE, 'M'
 * message...), or NULL. */
const char *sl_proto_error_field(const uint8_t *body, size_t len, char field);

#endif
