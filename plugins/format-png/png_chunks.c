/* png_chunks.c - the PNG container: signature, chunks, CRCs, order.
 * Everything is checked against the file's length before it is read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "png_internal.h"

static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A,
                                     '\n'};

uint32_t mvpng_crc(const uint8_t *p, size_t n) {
  return (uint32_t)crc32(0L, p, (uInt)n);
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* The fuzz target turns CRCs off so mutations get past them. */
static int crc_checked(void) {
#ifdef MVPNG_FUZZ_NO_CRC
  return 0;
#else
  return 1;
#endif
}

static int type_ok(const uint8_t *t) {
  for (int i = 0; i < 4; i++) {
    int c = t[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return 0;
  }
  return 1;
}

void mvpng_chunk_free(mvpng_chunk *c) {
  free(c->owned);
  free(c->name);
  free(c->text);
  free(c->lang);
  memset(c, 0, sizeof *c);
}

void mvpng_chunk_set_data(mvpng_chunk *c, uint8_t *data, uint32_t len) {
  free(c->owned);
  c->owned = data;
  c->data = data;
  c->len = len;
}

static mvpng_chunk *grow(mv_doc *d) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 32;
    mvpng_chunk *g = realloc(d->chunks, cap * sizeof *g);
    if (!g) return NULL;
    d->chunks = g;
    d->cap = cap;
  }
  mvpng_chunk *c = &d->chunks[d->n];
  memset(c, 0, sizeof *c);
  return c;
}

mvpng_chunk *mvpng_insert_before_iend(mv_doc *d, const char *type,
                                      uint8_t *data, uint32_t len) {
  if (!grow(d)) return NULL;
  size_t at = d->n;
  for (size_t i = 0; i < d->n; i++)
    if (memcmp(d->chunks[i].type, "IEND", 4) == 0) at = i;
  memmove(&d->chunks[at + 1], &d->chunks[at], (d->n - at) * sizeof *d->chunks);
  d->n++;
  mvpng_chunk *c = &d->chunks[at];
  memset(c, 0, sizeof *c);
  memcpy(c->type, type, 4);
  mvpng_chunk_set_data(c, data, len);
  return c;
}

/* IHDR fields; the combination of depth and colour type is checked. */
static int check_ihdr(mv_doc *d, const uint8_t *p, char *err, size_t errlen) {
  d->width = be32(p);
  d->height = be32(p + 4);
  d->bit_depth = p[8];
  d->color_type = p[9];
  d->interlace = p[12];
  if (d->width == 0 || d->height == 0 || d->width > 0x7FFFFFFFu ||
      d->height > 0x7FFFFFFFu) {
    snprintf(err, errlen, "IHDR: invalid image size");
    return MV_EFORMAT;
  }
  if (d->width > MVPNG_MAX_SIDE || d->height > MVPNG_MAX_SIDE ||
      (uint64_t)d->width * d->height > MVPNG_MAX_PIXELS) {
    snprintf(err, errlen,
             "IHDR declares %ux%u pixels, over the limit (%u per side, %u "
             "in all); refused before decoding",
             d->width, d->height, MVPNG_MAX_SIDE, MVPNG_MAX_PIXELS);
    return MV_ELIMIT;
  }
  int bd = d->bit_depth, ok = 0;
  switch (d->color_type) {
    case 0: ok = bd == 1 || bd == 2 || bd == 4 || bd == 8 || bd == 16; break;
    case 3: ok = bd == 1 || bd == 2 || bd == 4 || bd == 8; break;
    case 2: case 4: case 6: ok = bd == 8 || bd == 16; break;
  }
  if (!ok || p[10] != 0 || p[11] != 0 || d->interlace > 1) {
    snprintf(err, errlen, "IHDR: invalid colour type, bit depth or method");
    return MV_EFORMAT;
  }
  return MV_OK;
}

int mvpng_check_head(mv_doc *d, const uint8_t *p, size_t n, char *err,
                     size_t errlen) {
  if (n < 8 || memcmp(p, signature, 8) != 0) {
    snprintf(err, errlen, "not a PNG file (bad signature)");
    return MV_EFORMAT;
  }
  if (n < 33) {
    snprintf(err, errlen, "truncated: no complete IHDR chunk");
    return MV_EFORMAT;
  }
  if (be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0) {
    snprintf(err, errlen, "the first chunk is not a 13-byte IHDR");
    return MV_EFORMAT;
  }
  if (crc_checked() && mvpng_crc(p + 12, 17) != be32(p + 29)) {
    snprintf(err, errlen, "IHDR: CRC mismatch");
    return MV_EFORMAT;
  }
  return check_ihdr(d, p + 16, err, errlen);
}

int mvpng_parse(mv_doc *d, char *err, size_t errlen) {
  int rc = mvpng_check_head(d, d->file, d->file_len, err, errlen);
  if (rc != MV_OK) return rc;
  size_t off = 8;
  int seen_iend = 0, seen_plte = 0, idat_runs = 0;
  const char *prev = "";
  while (!seen_iend) {
    if (d->file_len - off < 12) {
      snprintf(err, errlen, "truncated: %s at offset %zu",
               off == d->file_len ? "no IEND chunk" : "incomplete chunk header",
               off);
      return MV_EFORMAT;
    }
    uint32_t len = be32(d->file + off);
    const uint8_t *type = d->file + off + 4;
    if (len > 0x7FFFFFFFu || !type_ok(type)) {
      snprintf(err, errlen, "corrupt chunk header at offset %zu", off);
      return MV_EFORMAT;
    }
    if ((size_t)len > d->file_len - off - 12) {
      snprintf(err, errlen,
               "truncated: chunk %.4s at offset %zu runs past the end", type,
               off);
      return MV_EFORMAT;
    }
    if (crc_checked() &&
        mvpng_crc(type, (size_t)len + 4) != be32(d->file + off + 8 + len)) {
      snprintf(err, errlen, "chunk %.4s at offset %zu: CRC mismatch", type,
               off);
      return MV_EFORMAT;
    }
    if (d->n >= MVPNG_MAX_CHUNKS) {
      snprintf(err, errlen, "more than %u chunks", MVPNG_MAX_CHUNKS);
      return MV_ELIMIT;
    }
    int critical = type[0] >= 'A' && type[0] <= 'Z';
    int is_ihdr = memcmp(type, "IHDR", 4) == 0;
    int is_idat = memcmp(type, "IDAT", 4) == 0;
    if (is_ihdr != (d->n == 0)) {
      snprintf(err, errlen, "IHDR must come first, once");
      return MV_EFORMAT;
    }
    if (critical && !is_ihdr && !is_idat && memcmp(type, "PLTE", 4) != 0 &&
        memcmp(type, "IEND", 4) != 0) {
      snprintf(err, errlen, "unknown critical chunk %.4s", type);
      return MV_EFORMAT;
    }
    if (is_idat && strcmp(prev, "IDAT") != 0 && ++idat_runs > 1) {
      snprintf(err, errlen, "IDAT chunks are not consecutive");
      return MV_EFORMAT;
    }
    if (memcmp(type, "PLTE", 4) == 0) {
      if (seen_plte || idat_runs || len == 0 || len % 3 || len > 768 ||
          d->color_type == 0 || d->color_type == 4) {
        snprintf(err, errlen, "invalid or misplaced PLTE chunk");
        return MV_EFORMAT;
      }
      seen_plte = (int)(len / 3);
    }
    /* Image chunks are copied as they are: no room for bytes that mean
     * nothing (and could carry anything). */
    if (memcmp(type, "tRNS", 4) == 0) {
      int ct = d->color_type;
      if ((ct == 0 && len != 2) || (ct == 2 && len != 6) ||
          (ct == 3 && (!seen_plte || len > (uint32_t)seen_plte)) || ct == 4 ||
          ct == 6 || idat_runs) {
        snprintf(err, errlen, "invalid or misplaced tRNS chunk");
        return MV_EFORMAT;
      }
    }
    if (memcmp(type, "IEND", 4) == 0 && len != 0) {
      snprintf(err, errlen, "IEND chunk with data");
      return MV_EFORMAT;
    }
    mvpng_chunk *c = grow(d);
    if (!c) return MV_ENOMEM;
    memcpy(c->type, type, 4);
    c->len = len;
    c->data = d->file + off + 8;
    d->n++;
    prev = is_idat ? "IDAT" : "";
    seen_iend = memcmp(type, "IEND", 4) == 0;
    off += (size_t)len + 12;
  }
  /* Bytes after IEND are not part of the image and are never copied. */
  if (!idat_runs) {
    snprintf(err, errlen, "no image data (IDAT)");
    return MV_EFORMAT;
  }
  if (d->color_type == 3 && !seen_plte) {
    snprintf(err, errlen, "palette image without PLTE");
    return MV_EFORMAT;
  }
  return MV_OK;
}

int mvpng_serialize(const mv_doc *d, uint8_t **out, size_t *outlen) {
  size_t total = 8;
  for (size_t i = 0; i < d->n; i++)
    if (!d->chunks[i].removed) total += (size_t)d->chunks[i].len + 12;
  uint8_t *buf = malloc(total);
  if (!buf) return MV_ENOMEM;
  memcpy(buf, signature, 8);
  size_t o = 8;
  for (size_t i = 0; i < d->n; i++) {
    const mvpng_chunk *c = &d->chunks[i];
    if (c->removed) continue;
    put32(buf + o, c->len);
    memcpy(buf + o + 4, c->type, 4);
    if (c->len) memcpy(buf + o + 8, c->data, c->len);
    put32(buf + o + 8 + c->len, mvpng_crc(buf + o + 4, (size_t)c->len + 4));
    o += (size_t)c->len + 12;
  }
  *out = buf;
  *outlen = total;
  return MV_OK;
}
