/* proxy/framer.h: cuts one direction's byte stream into v3 protocol messages as it arrives,
 * whatever the read boundaries. Each length word is checked against the maximum as soon as
 * its header is in, before any of the body. A message the owner wants to read (ops->wants) is
 * kept whole and handed to ops->on_message, which appends what goes on (the same bytes or
 * others) to out; every other message streams through to out as its bytes come, so a 1 GiB
 * DataRow costs no more memory than a small one. Pure: no I/O.
 * Calling order: sl_framer_init -> sl_framer_feed* -> sl_framer_free. */
#ifndef SL_PROXY_FRAMER_H
#define SL_PROXY_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

typedef struct sl_framer_ops {
    /* Whether a message of this type is kept whole for on_message. */
    bool (*wants)(void *ctx, char type);
    /* A kept message, header included (msg[0] is its type); appends what goes on to out. */
    void (*on_message)(void *ctx, const uint8_t *msg, size_t len, sl_buf *out);
    /* Every message's header as it is taken (NULL: not called). */
    void (*on_header)(void *ctx, char type, size_t body_len);
} sl_framer_ops;

typedef struct sl_framer {
    uint32_t max;              /* the largest length word accepted */
    const sl_framer_ops *ops;
    void *ctx;
    uint8_t hdr[5];
    size_t hdr_have;
    bool in_body;              /* the header was taken: body_left bytes of it to come */
    size_t body_left;
    bool keep;                 /* the current message goes to msg, not out */
    sl_buf msg;
    uint32_t bad_length;       /* after a refusal: the length word refused */
    bool paused;               /* sl_framer_pause: feed takes nothing more */
    size_t unread;             /* after a feed: the bytes of it not taken (paused) */
} sl_framer;

void sl_framer_init(sl_framer *f, uint32_t max, const sl_framer_ops *ops, void *ctx);
void sl_framer_free(sl_framer *f);
/* 0, or -1 when a length word is refused (below 4 or over max: f->bad_length). The bytes of
 * the messages before the refused one are in out; nothing of the refused one is. */
int sl_framer_feed(sl_framer *f, const uint8_t *p, size_t n, sl_buf *out);
/* From on_message: the feed stops after this message and leaves the rest of its bytes
 * (f->unread of them, the last ones it was given) to the caller, until sl_framer_resume.
 * The owner holds them while it answers the message (a cache lookup), then feeds them again. */
void sl_framer_pause(sl_framer *f);
void sl_framer_resume(sl_framer *f);
/* No message is half passed on: something else may be put into the stream here. */
bool sl_framer_at_boundary(const sl_framer *f);

#endif
