/* jpeg_show.c - the text form of an attribute, as visit and get show it:
 * EXIF ASCII as its string, short EXIF number lists as "1\2\3" (rationals
 * "n/d"), COM and XMP as text when valid UTF-8. Everything else is binary
 * (value NULL, len = its byte size), so the core never sees bytes it cannot
 * treat as a string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg_internal.h"

int jpg_valid_utf8(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t k;
    if (c == 0) return 0;
    if (c < 0x80) k = 0;
    else if (c >= 0xC2 && c <= 0xDF) k = 1;
    else if (c >= 0xE0 && c <= 0xEF) k = 2;
    else if (c >= 0xF0 && c <= 0xF4) k = 3;
    else return 0;
    if (k > n - i - 1) return 0;
    for (size_t j = 1; j <= k; j++)
      if ((s[i + j] & 0xC0) != 0x80) return 0;
    if (k == 2 && c == 0xE0 && s[i + 1] < 0xA0) return 0;
    if (k == 2 && c == 0xED && s[i + 1] >= 0xA0) return 0;
    if (k == 3 && c == 0xF0 && s[i + 1] < 0x90) return 0;
    if (k == 3 && c == 0xF4 && s[i + 1] >= 0x90) return 0;
    i += k + 1;
  }
  return 1;
}

static void set_text(jpg_attr *a, const uint8_t *s, size_t n) {
  free(a->shown);
  a->shown = NULL;
  while (n && s[n - 1] == 0) n--; /* trailing NULs of C strings */
  if (!jpg_valid_utf8(s, n)) return;
  a->shown = malloc(n + 1);
  if (!a->shown) return;
  memcpy(a->shown, s, n);
  a->shown[n] = 0;
  a->shownlen = n;
}

static void show_numbers(mv_doc *d, jpg_attr *a, const uint8_t *v, size_t n) {
  static const size_t sz[13] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8};
  size_t w = sz[a->type], cnt = n / w;
  if (cnt == 0 || cnt > 16) return;
  char buf[16 * 24], *o = buf;
  for (size_t i = 0; i < cnt; i++) {
    const uint8_t *p = v + i * w;
    long long x;
    size_t room = sizeof buf - (size_t)(o - buf);
    if (i) *o++ = '\\', room--;
    switch (a->type) {
    case 1: x = p[0]; o += snprintf(o, room, "%lld", x); break;
    case 6: x = (int8_t)p[0]; o += snprintf(o, room, "%lld", x); break;
    case 3: x = jpg_rd16(d, p); o += snprintf(o, room, "%lld", x); break;
    case 8: x = (int16_t)jpg_rd16(d, p); o += snprintf(o, room, "%lld", x); break;
    case 4: x = jpg_rd32(d, p); o += snprintf(o, room, "%lld", x); break;
    case 9: x = (int32_t)jpg_rd32(d, p); o += snprintf(o, room, "%lld", x); break;
    case 5:
      o += snprintf(o, room, "%u/%u", jpg_rd32(d, p), jpg_rd32(d, p + 4));
      break;
    case 10:
      o += snprintf(o, room, "%d/%d", (int32_t)jpg_rd32(d, p),
                    (int32_t)jpg_rd32(d, p + 4));
      break;
    default: return;
    }
  }
  set_text(a, (const uint8_t *)buf, (size_t)(o - buf));
}

void jpg_attr_show(mv_doc *d, jpg_attr *a) {
  free(a->shown);
  a->shown = NULL;
  a->shownlen = 0;
  if (a->exif) {
    const uint8_t *v = a->has_new ? a->newval : a->raw;
    size_t n = a->has_new ? a->newlen : a->rawlen;
    if (a->type == 2) set_text(a, v, n);
    else if (a->type >= 1 && a->type <= 10 && a->type != 7 && a->type != 2)
      show_numbers(d, a, v, n);
    if (!a->shown) a->shownlen = n;
    return;
  }
  if (a->ifd == JPG_IFD1 || a->piece < 0) { /* thumbnail */
    a->shownlen = a->rawlen;
    return;
  }
  const jpg_piece *p = &d->pieces[a->piece];
  const uint8_t *v;
  size_t n;
  if (p->type == JPG_PIECE_TRAILER) {
    v = d->buf + p->off;
    n = p->len;
  } else {
    v = d->buf + p->off + 4 + a->hdr;
    n = p->len - 4 - a->hdr;
  }
  if (a->has_new) v = a->newval, n = a->newlen;
  int text = strcmp(a->name, "jpeg:com") == 0 || strcmp(a->name, "jpeg:xmp") == 0;
  if (text) set_text(a, v, n);
  if (!a->shown) {
    a->shownlen = n;
    if (strcmp(a->name, "jpeg:icc") == 0) { /* all chunks */
      a->shownlen = 0;
      for (size_t i = 0; i < d->npieces; i++)
        if (d->pieces[i].attr == (int)(a - d->attrs))
          a->shownlen += d->pieces[i].len - 4;
    }
  }
}
