/* mv_json.h - writing JSON strings safely, whatever bytes a path holds. */
#ifndef MV_JSON_H
#define MV_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Receives the escaped literal in pieces. */
typedef void (*mv_json_emit)(void *ud, const char *piece, size_t n);

/* Hand s to emit as a JSON string literal, quotes included. Invalid UTF-8
 * bytes become the code point of the same number (Latin-1), so the output
 * is always valid JSON. */
void mv_json_escape(const char *s, mv_json_emit emit, void *ud);

/* mv_json_escape onto a stream. */
void mv_json_string(FILE *f, const char *s);

#endif
