/* mv_log.h - the one log sink. Messages carry tags, counts and reasons,
 * never attribute values: callers must not format patient data into them. */
#ifndef MV_LOG_H
#define MV_LOG_H

#include "medveil/plugin.h" /* MV_LOG_* levels */

/* Messages above this level are dropped (default MV_LOG_WARN). */
void mv_log_set_level(int level);
int mv_log_get_level(void);
void mv_log(int level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
