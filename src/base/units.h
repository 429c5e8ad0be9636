/* base/units.h: sizes for people, in IEC units everywhere (a KiB is 1024 bytes): the backup
 * and restore summaries, the progress lines and verify print the same bytes the same way. */
#ifndef SL_BASE_UNITS_H
#define SL_BASE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.5 KiB", "300.0 MiB", "1.2 GiB", up to TiB. Returns buf. */
const char *sl_units_bytes(int64_t bytes, char *buf, size_t cap);

#endif
