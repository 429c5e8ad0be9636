/* pg/notifier.h: progress as NOTIFY messages, for a program listening on a channel.
 * Calling order: sl_notifier_open() -> sl_notifier_send()* (e.g. as base/progress.h's
 *   callback) -> sl_notifier_close().
 * Each message is sent with pg_notify(channel, json) on a connection of its own, outside the
 * work's transactions, so listeners see it at once. A failed send is logged once as a warning
 * and ends the notifications; the work goes on.
 * Ownership: the notifier owns its connection and a copy of the channel; _close() accepts
 * NULL. _send() is called by one thread at a time. */
#ifndef SL_PG_NOTIFIER_H
#define SL_PG_NOTIFIER_H

#include "base/error.h"
#include "pg/conn.h"

typedef struct sl_notifier sl_notifier;

SL_MUSTCHECK int sl_notifier_open(sl_notifier **out, const sl_conninfo *ci,
                                  const sl_conn_opts *conn_opts, const char *channel,
                                  sl_error *err);
/* arg is the sl_notifier (the signature of a progress callback). */
void sl_notifier_send(const char *json, void *arg);
void sl_notifier_close(sl_notifier *n);

#endif
