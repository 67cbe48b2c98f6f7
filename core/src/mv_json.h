/* mv_json.h - writing JSON strings safely, whatever bytes a path holds. */
#ifndef MV_JSON_H
#define MV_JSON_H

#include <stdio.h>

/* Write s as a JSON string literal. Invalid UTF-8 bytes are written as the
 * code point of the same number (Latin-1), so the output is always valid
 * JSON. */
void mv_json_string(FILE *f, const char *s);

#endif
