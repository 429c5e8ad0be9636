/* dump/textsearch.h: text search parsers, templates, dictionaries and configurations (with
 * their token mappings), for dump/routine.h. Internal to the routine reader:
 * sl_dump_read_routines() calls sl__textsearch_read(); the rules on what is read, filters and
 * errors are routine.h's. */
#ifndef SL_DUMP_TEXTSEARCH_H
#define SL_DUMP_TEXTSEARCH_H

#include "base/error.h"
#include "dump/item.h"
#include "pg/conn.h"
#include "pg/pattern.h"

SL_MUSTCHECK int sl__textsearch_read(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out,
                                     sl_error *err);

#endif
