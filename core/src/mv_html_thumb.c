/* mv_html_thumb.c - before/after thumbnails as PNG data: URIs (see
 * mv_html_thumb.h). */
#include "mv_html_thumb.h"

#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A thumbnail: RGB, tightly packed. */
typedef struct thumb {
  uint32_t w, h;
  unsigned div; /* source pixels per thumbnail pixel, each way */
  uint8_t *rgb;
} thumb;

/* Area-average `src` (grey or RGB, 8-bit) down by t->div into t->rgb. */
static void shrink(const mv_image *src, thumb *t) {
  for (uint32_t ty = 0; ty < t->h; ty++) {
    uint32_t y0 = ty * t->div, y1 = y0 + t->div;
    if (y1 > src->height) y1 = src->height;
    if (y0 >= y1) y0 = y1 ? y1 - 1 : 0;
    for (uint32_t tx = 0; tx < t->w; tx++) {
      uint32_t x0 = tx * t->div, x1 = x0 + t->div;
      if (x1 > src->width) x1 = src->width;
      if (x0 >= x1) x0 = x1 ? x1 - 1 : 0;
      unsigned long sum[3] = {0, 0, 0}, n = 0;
      for (uint32_t y = y0; y < y1; y++) {
        const uint8_t *row = (const uint8_t *)src->data + (size_t)y * src->stride;
        for (uint32_t x = x0; x < x1; x++) {
          const uint8_t *p = row + (size_t)x * src->samples;
          sum[0] += p[0];
          sum[1] += src->samples == 3 ? p[1] : p[0];
          sum[2] += src->samples == 3 ? p[2] : p[0];
          n++;
        }
      }
      uint8_t *d = t->rgb + ((size_t)ty * t->w + tx) * 3;
      for (int c = 0; c < 3; c++) d[c] = n ? (uint8_t)(sum[c] / n) : 0;
    }
  }
}

/* A mark in thumbnail pixels, [x0,x1) x [y0,y1); 0 when it falls outside. */
static int box_of(const thumb *t, const mv_mark *m, uint32_t *x0, uint32_t *y0,
                  uint32_t *x1, uint32_t *y1) {
  int64_t d = t->div;
  int64_t ax = m->r.x, ay = m->r.y;
  int64_t bx = ax + (m->r.w > 0 ? m->r.w : 0), by = ay + (m->r.h > 0 ? m->r.h : 0);
  if (ax < 0) ax = 0;
  if (ay < 0) ay = 0;
  ax /= d, ay /= d;
  bx = (bx + d - 1) / d, by = (by + d - 1) / d;
  if (bx > t->w) bx = t->w;
  if (by > t->h) by = t->h;
  if (ax >= bx || ay >= by) return 0;
  *x0 = (uint32_t)ax, *y0 = (uint32_t)ay, *x1 = (uint32_t)bx, *y1 = (uint32_t)by;
  return 1;
}

/* Replace [x0,x1) x [y0,y1) by square cells `cell` pixels wide, each
 * filled with its mean. */
static void pixelate_rect(thumb *t, uint32_t x0, uint32_t y0, uint32_t x1,
                          uint32_t y1, uint32_t cell) {
  for (uint32_t cy = y0; cy < y1; cy += cell)
    for (uint32_t cx = x0; cx < x1; cx += cell) {
      uint32_t ex = cx + cell < x1 ? cx + cell : x1;
      uint32_t ey = cy + cell < y1 ? cy + cell : y1;
      unsigned long sum[3] = {0, 0, 0}, n = 0;
      for (uint32_t y = cy; y < ey; y++)
        for (uint32_t x = cx; x < ex; x++, n++)
          for (int c = 0; c < 3; c++)
            sum[c] += t->rgb[((size_t)y * t->w + x) * 3 + c];
      for (uint32_t y = cy; y < ey; y++)
        for (uint32_t x = cx; x < ex; x++)
          for (int c = 0; c < 3; c++)
            t->rgb[((size_t)y * t->w + x) * 3 + c] = (uint8_t)(sum[c] / n);
    }
}

static int differs(const thumb *a, const thumb *b, uint32_t x, uint32_t y) {
  const uint8_t *p = a->rgb + ((size_t)y * a->w + x) * 3;
  const uint8_t *q = b->rgb + ((size_t)y * b->w + x) * 3;
  for (int c = 0; c < 3; c++)
    if (abs((int)p[c] - (int)q[c]) > 8) return 1;
  return 0;
}

/* Hide what a box held in `t`: its interior, grown to the pixels around
 * it (up to a box height away) that differ in `other` - the redactor pads
 * its fill, and text reaching past the detector's box is under it too.
 * Cells as tall as the box (at least 4 pixels), each filled with its mean:
 * a line of text becomes a few flat patches and cannot be read. */
static void hide_box(thumb *t, const thumb *other, const mv_mark *m) {
  uint32_t x0, y0, x1, y1;
  if (!box_of(t, m, &x0, &y0, &x1, &y1)) return;
  uint32_t cell = y1 - y0 < 4 ? 4 : y1 - y0;
  if (other) {
    uint32_t g = cell;
    uint32_t sx0 = x0 > g ? x0 - g : 0, sy0 = y0 > g ? y0 - g : 0;
    uint32_t sx1 = x1 + g < t->w ? x1 + g : t->w;
    uint32_t sy1 = y1 + g < t->h ? y1 + g : t->h;
    for (uint32_t y = sy0; y < sy1; y++)
      for (uint32_t x = sx0; x < sx1; x++)
        if (differs(t, other, x, y)) {
          if (x < x0) x0 = x;
          if (x >= x1) x1 = x + 1;
          if (y < y0) y0 = y;
          if (y >= y1) y1 = y + 1;
        }
  }
  pixelate_rect(t, x0, y0, x1, y1, cell);
}

static void outline(thumb *t, const mv_mark *m) {
  static const uint8_t colour[3][3] = {{255, 0, 0}, {0, 200, 0}, {255, 0, 255}};
  const uint8_t *c = colour[m->kind >= 0 && m->kind <= 2 ? m->kind : 0];
  uint32_t x0, y0, x1, y1;
  if (!box_of(t, m, &x0, &y0, &x1, &y1)) return;
  for (uint32_t y = y0; y < y1; y++)
    for (uint32_t x = x0; x < x1; x++)
      if (y == y0 || y == y1 - 1 || x == x0 || x == x1 - 1)
        memcpy(t->rgb + ((size_t)y * t->w + x) * 3, c, 3);
}

/* ---------------------------------------------------------------------- */
/* PNG into memory.                                                        */

typedef struct membuf {
  unsigned char *data;
  size_t len, cap;
  int failed;
} membuf;

static void mem_write(png_structp png, png_bytep data, png_size_t n) {
  membuf *b = png_get_io_ptr(png);
  if (b->failed) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    unsigned char *g = realloc(b->data, cap);
    if (!g) {
      b->failed = 1;
      return;
    }
    b->data = g, b->cap = cap;
  }
  memcpy(b->data + b->len, data, n);
  b->len += n;
}

static void mem_flush(png_structp png) { (void)png; }

static int encode_png(const thumb *t, membuf *out) {
  memset(out, 0, sizeof *out);
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    free(out->data);
    out->data = NULL;
    return -1;
  }
  png_set_write_fn(png, out, mem_write, mem_flush);
  png_set_IHDR(png, info, t->w, t->h, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 9);
  png_write_info(png, info);
  for (uint32_t y = 0; y < t->h; y++)
    png_write_row(png, t->rgb + (size_t)y * t->w * 3);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  if (out->failed) {
    free(out->data);
    out->data = NULL;
    return -1;
  }
  return 0;
}

static void base64(FILE *f, const unsigned char *p, size_t n) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char q[4];
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < n) v |= p[i + 2];
    q[0] = tab[v >> 18 & 63];
    q[1] = tab[v >> 12 & 63];
    q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
    q[3] = i + 2 < n ? tab[v & 63] : '=';
    fwrite(q, 1, 4, f);
  }
}

static int usable(const mv_image *img) {
  return img && img->data && img->bits == 8 && img->width && img->height &&
         (img->samples == 1 || img->samples == 3) &&
         img->stride >= (size_t)img->width * img->samples;
}

static int make_thumb(const mv_image *src, unsigned div, thumb *t) {
  t->div = div;
  t->w = src->width / div ? src->width / div : 1;
  t->h = src->height / div ? src->height / div : 1;
  t->rgb = malloc((size_t)t->w * t->h * 3);
  if (!t->rgb) return -1;
  shrink(src, t);
  return 0;
}

int mv_html_thumb_pair(FILE *f, const mv_pixel_result *px,
                       unsigned max_width) {
  const mv_image *b = &px->before.img, *a = &px->after.img;
  if (!usable(b) || !usable(a) || b->width != a->width ||
      b->height != a->height || max_width < 16)
    return -1;
  /* Width at most max_width, height at most twice that. */
  unsigned div = (b->width + max_width - 1) / max_width;
  unsigned dh = (b->height + 2 * max_width - 1) / (2 * max_width);
  if (dh > div) div = dh;
  if (div < 1) div = 1;
  thumb tb, ta;
  if (make_thumb(b, div, &tb) != 0) return -1;
  if (make_thumb(a, div, &ta) != 0) {
    free(tb.rgb);
    return -1;
  }
  /* Before: every box hidden (compared with after, so the redactor's
   * padding is covered). After: uncertain boxes, which a held object may
   * still show. Outlines last, on both. */
  for (size_t i = 0; i < px->nmarks; i++) {
    hide_box(&tb, &ta, &px->marks[i]);
    if (px->marks[i].kind == MV_MARK_UNCERTAIN)
      hide_box(&ta, NULL, &px->marks[i]);
  }
  for (size_t i = 0; i < px->nmarks; i++) {
    outline(&tb, &px->marks[i]);
    outline(&ta, &px->marks[i]);
  }
  membuf pb, pa;
  int rc = encode_png(&tb, &pb);
  if (rc == 0 && encode_png(&ta, &pa) != 0) {
    free(pb.data);
    rc = -1;
  }
  free(tb.rgb);
  free(ta.rgb);
  if (rc != 0) return -1;
  unsigned w = b->width / div ? b->width / div : 1;
  unsigned h = b->height / div ? b->height / div : 1;
  fprintf(f, "<img alt=\"before (boxes pixelated)\" width=\"%u\" height=\"%u\" "
             "src=\"data:image/png;base64,", w, h);
  base64(f, pb.data, pb.len);
  fprintf(f, "\"> <img alt=\"after\" width=\"%u\" height=\"%u\" "
             "src=\"data:image/png;base64,", w, h);
  base64(f, pa.data, pa.len);
  fputs("\">", f);
  free(pb.data);
  free(pa.data);
  return 0;
}
