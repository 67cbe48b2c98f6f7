/* mv_json.c - JSON string escaping. */
#include "mv_json.h"

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s) {
  if (s[0] < 0x80) return 1;
  size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
           : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || (n == 2 && s[0] < 0xC2)) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return n;
}

static void emit_code(mv_json_emit emit, void *ud, unsigned char c) {
  char esc[8];
  snprintf(esc, sizeof esc, "\\u%04x", c);
  emit(ud, esc, 6);
}

void mv_json_escape(const char *str, mv_json_emit emit, void *ud) {
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  emit(ud, "\"", 1);
  while (*s) {
    unsigned char c = *s;
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      emit(ud, esc, 2);
      s++;
    } else if (c < 0x20 || c == 0x7F) {
      emit_code(emit, ud, c);
      s++;
    } else {
      size_t n = utf8_seq(s);
      if (n) {
        emit(ud, (const char *)s, n);
        s += n;
      } else {
        emit_code(emit, ud, c);
        s++;
      }
    }
  }
  emit(ud, "\"", 1);
}

static void to_stream(void *ud, const char *piece, size_t n) {
  fwrite(piece, 1, n, (FILE *)ud);
}

void mv_json_string(FILE *f, const char *s) { mv_json_escape(s, to_stream, f); }
