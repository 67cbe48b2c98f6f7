/* png_pixels.c - decode (libpng, bounded, setjmp-guarded), hand the image
 * to the pixel stage, take changed rectangles back, and re-encode only
 * when something changed.
 *
 * The image is decoded once at open: 8- or 16-bit samples, palette
 * expanded to RGB (RGBA with tRNS), grey below 8 bits expanded to 8.
 * acquire() gives the colour channels composited over white (what a viewer
 * shows; text drawn only in alpha becomes visible to the detectors);
 * release() writes the changed rectangles back and makes them opaque, so
 * no glyph survives in the alpha channel. */
#include <png.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png_internal.h"

typedef struct io_ctx {
  const uint8_t *p;
  size_t n, off;
  uint8_t *out; /* writer */
  size_t outn, outcap;
  char msg[160];
} io_ctx;

static void on_error(png_structp png, png_const_charp msg) {
  io_ctx *io = png_get_error_ptr(png);
  if (io) snprintf(io->msg, sizeof io->msg, "%s", msg ? msg : "libpng error");
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

static void mem_read(png_structp png, png_bytep out, size_t len) {
  io_ctx *io = png_get_io_ptr(png);
  if (len > io->n - io->off) png_error(png, "unexpected end of image data");
  memcpy(out, io->p + io->off, len);
  io->off += len;
}

static void mem_write(png_structp png, png_bytep data, size_t len) {
  io_ctx *io = png_get_io_ptr(png);
  if (len > io->outcap - io->outn) {
    size_t cap = io->outcap ? io->outcap : 65536;
    while (cap - io->outn < len) {
      if (cap > ((size_t)1 << 40)) png_error(png, "output too large");
      cap *= 2;
    }
    uint8_t *g = realloc(io->out, cap);
    if (!g) png_error(png, "out of memory");
    io->out = g;
    io->outcap = cap;
  }
  memcpy(io->out + io->outn, data, len);
  io->outn += len;
}

static void mem_flush(png_structp png) { (void)png; }

static int host_little_endian(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* The image chunks alone (IHDR, PLTE, tRNS, IDAT..., IEND) as a PNG
 * stream: libpng never sees the metadata. */
static uint8_t *image_stream(const mv_doc *d, size_t *len) {
  size_t total = 8;
  for (size_t i = 0; i < d->n; i++)
    if (d->chunks[i].kind == MVPNG_IMAGE && !d->chunks[i].removed)
      total += (size_t)d->chunks[i].len + 12;
  uint8_t *s = malloc(total);
  if (!s) return NULL;
  memcpy(s, d->file, 8);
  size_t o = 8;
  for (size_t i = 0; i < d->n; i++) {
    const mvpng_chunk *c = &d->chunks[i];
    if (c->kind != MVPNG_IMAGE || c->removed) continue;
    put32(s + o, c->len);
    memcpy(s + o + 4, c->type, 4);
    if (c->len) memcpy(s + o + 8, c->data, c->len);
    put32(s + o + 8 + c->len, mvpng_crc(s + o + 4, (size_t)c->len + 4));
    o += (size_t)c->len + 12;
  }
  *len = total;
  return s;
}

static int has_trns(const mv_doc *d) {
  for (size_t i = 0; i < d->n; i++)
    if (!memcmp(d->chunks[i].type, "tRNS", 4) && !d->chunks[i].removed)
      return 1;
  return 0;
}

typedef struct read_plan {
  int palette, alpha, grey_low, swap, channels;
  size_t stride;
} read_plan;

/* The libpng part of decoding, alone in its frame: nothing here changes
 * after setjmp, so nothing is clobbered by the longjmp of an error. */
static int read_rows(png_structp png, png_infop info, io_ctx *io,
                     const read_plan *plan, png_bytep *rows) {
  if (setjmp(png_jmpbuf(png))) return -1;
  png_set_user_limits(png, MVPNG_MAX_SIDE, MVPNG_MAX_SIDE);
  png_set_chunk_cache_max(png, 16);
  png_set_chunk_malloc_max(png, 8u * 1024u * 1024u);
  png_set_read_fn(png, io, mem_read);
  png_set_sig_bytes(png, 8);
  png_read_info(png, info);
  if (plan->palette) {
    png_set_palette_to_rgb(png);
    if (plan->alpha) png_set_tRNS_to_alpha(png);
  }
  if (plan->grey_low) png_set_expand_gray_1_2_4_to_8(png);
  if (plan->swap) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != plan->stride ||
      png_get_channels(png, info) != plan->channels)
    png_error(png, "unexpected decoded layout");
  png_read_image(png, rows);
  return 0;
}

/* Bytes the filtered image takes, passes and filter bytes included. */
static uint64_t raw_size(const mv_doc *d) {
  static const int ch[7] = {1, 0, 3, 1, 2, 0, 4};
  uint64_t bpp = (uint64_t)ch[d->color_type] * (uint64_t)d->bit_depth;
  static const uint32_t pass[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8},
                                      {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2},
                                      {0, 1, 1, 2}};
  if (!d->interlace)
    return (uint64_t)d->height * (1 + (d->width * bpp + 7) / 8);
  uint64_t total = 0;
  for (int i = 0; i < 7; i++) {
    uint32_t x0 = pass[i][0], y0 = pass[i][1], dx = pass[i][2], dy = pass[i][3];
    if (d->width <= x0 || d->height <= y0) continue;
    uint64_t pw = (d->width - x0 + dx - 1) / dx, ph = (d->height - y0 + dy - 1) / dy;
    total += ph * (1 + (pw * bpp + 7) / 8);
  }
  return total;
}

/* Whether the IDAT chunks hold one zlib stream of exactly the image and
 * nothing after it. libpng ignores extra bytes; a byte-for-byte copy would
 * carry them out, so a stream that is not exact is re-encoded at write. */
static int idat_exact(const mv_doc *d) {
  uint64_t want = raw_size(d), got = 0;
  enum { SCRATCH = 65536 };
  uint8_t *scratch = malloc(SCRATCH);
  z_stream z;
  memset(&z, 0, sizeof z);
  if (!scratch || inflateInit(&z) != Z_OK) {
    free(scratch);
    return 0; /* not proven exact: re-encode */
  }
  int ended = 0, exact = 1;
  for (size_t i = 0; i < d->n && exact; i++) {
    const mvpng_chunk *c = &d->chunks[i];
    if (memcmp(c->type, "IDAT", 4) != 0 || c->removed || !c->len) continue;
    if (ended) { exact = 0; break; }
    z.next_in = (Bytef *)c->data;
    z.avail_in = c->len;
    while (z.avail_in && !ended) {
      z.next_out = scratch;
      z.avail_out = SCRATCH;
      int r = inflate(&z, Z_NO_FLUSH);
      got += SCRATCH - z.avail_out;
      if (got > want) { exact = 0; break; }
      if (r == Z_STREAM_END) ended = 1;
      else if (r != Z_OK) { exact = 0; break; }
    }
    if (ended && z.avail_in) exact = 0;
  }
  inflateEnd(&z);
  free(scratch);
  return exact && ended && got == want;
}

int mvpng_decode(mv_doc *d, char *err, size_t errlen) {
  int ct = d->color_type;
  read_plan plan;
  memset(&plan, 0, sizeof plan);
  plan.palette = ct == 3;
  plan.alpha = ct == 4 || ct == 6 || (ct == 3 && has_trns(d));
  int colour = ct == 2 || ct == 3 || ct == 6;
  plan.channels = (colour ? 3 : 1) + plan.alpha;
  plan.grey_low = ct == 0 && d->bit_depth < 8;
  int bytes = d->bit_depth == 16 ? 2 : 1;
  plan.swap = bytes == 2 && host_little_endian();
  plan.stride = (size_t)d->width * (size_t)plan.channels * (size_t)bytes;
  if ((uint64_t)plan.stride * d->height > MVPNG_MAX_DECODED) {
    snprintf(err, errlen, "decoded image would take %llu bytes, over the "
                          "limit of %u",
             (unsigned long long)plan.stride * d->height, MVPNG_MAX_DECODED);
    return MV_ELIMIT;
  }
  size_t slen = 0;
  uint8_t *stream = image_stream(d, &slen);
  uint8_t *pix = malloc(plan.stride * d->height);
  png_bytep *rows = malloc(sizeof *rows * d->height);
  io_ctx io = {.p = stream, .n = slen, .off = 8};
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  int rc = MV_ENOMEM;
  if (stream && pix && rows && png && info) {
    for (uint32_t y = 0; y < d->height; y++) rows[y] = pix + plan.stride * y;
    rc = read_rows(png, info, &io, &plan, rows) == 0 ? MV_OK : MV_EFORMAT;
  }
  if (png) png_destroy_read_struct(&png, info ? &info : NULL, NULL);
  free(stream);
  free(rows);
  if (rc != MV_OK) {
    free(pix);
    if (rc == MV_EFORMAT)
      snprintf(err, errlen, "image data cannot be decoded: %s",
               io.msg[0] ? io.msg : "libpng error");
    return rc;
  }
  d->pix = pix;
  d->pix_stride = plan.stride;
  d->channels = plan.channels;
  d->depth16 = bytes == 2;
  d->has_alpha = plan.alpha;
  if (!idat_exact(d)) {
    d->pixels_changed = 1;
    if (mvpng_host && mvpng_host->log)
      mvpng_host->log(MV_LOG_INFO, "format-png",
                      "image data has bytes beyond the image; re-encoded");
  }
  return MV_OK;
}

int mvpng_pixel_info(mv_doc *d, mv_pixel_info *info) {
  if (!d->pix) return MV_ENOTFOUND;
  mv_pixel_info out;
  memset(&out, 0, sizeof out);
  out.size = info->size;
  out.planes = 1;
  out.frames = 1;
  out.width = d->width;
  out.height = d->height;
  out.samples = d->channels >= 3 ? 3 : 1;
  out.encoding = MV_PIXENC_LOSSLESS;
  snprintf(out.photometric, sizeof out.photometric, "%s",
           d->color_type == 3 ? "PALETTE COLOR"
           : out.samples == 3 ? "RGB"
                              : "MONOCHROME2");
  size_t n = info->size < sizeof out ? info->size : sizeof out;
  memcpy(info, &out, n);
  return MV_OK;
}

int mvpng_acquire(mv_doc *d, uint32_t plane, mv_image *img, char *err,
                  size_t errlen) {
  if (plane != 0 || !d->pix) {
    snprintf(err, errlen, "no such plane");
    return MV_ENOTFOUND;
  }
  int cc = d->channels >= 3 ? 3 : 1;
  /* Colour planes are 8-bit RGB for the stage; grey keeps 16 bits. */
  int out16 = d->depth16 && cc == 1;
  size_t wstride = (size_t)d->width * (size_t)cc * (out16 ? 2u : 1u);
  if (!d->work) {
    d->work = malloc(wstride * d->height);
    if (!d->work) return MV_ENOMEM;
    d->work_stride = wstride;
  }
  for (uint32_t y = 0; y < d->height; y++) {
    const uint8_t *src = d->pix + d->pix_stride * y;
    uint8_t *dst = d->work + wstride * y;
    for (uint32_t x = 0; x < d->width; x++) {
      if (d->depth16) {
        const uint16_t *s = (const uint16_t *)src + (size_t)x * d->channels;
        uint32_t a = d->has_alpha ? s[cc] : 65535u;
        for (int c = 0; c < cc; c++) {
          uint32_t v = (s[c] * a + 65535u * (65535u - a) + 32767u) / 65535u;
          if (out16) ((uint16_t *)dst)[x] = (uint16_t)v;
          else dst[(size_t)x * 3 + (size_t)c] = (uint8_t)(v >> 8);
        }
      } else {
        const uint8_t *s = src + (size_t)x * d->channels;
        uint32_t a = d->has_alpha ? s[cc] : 255u;
        for (int c = 0; c < cc; c++)
          dst[(size_t)x * cc + (size_t)c] =
              (uint8_t)((s[c] * a + 255u * (255u - a) + 127u) / 255u);
      }
    }
  }
  memset(img, 0, sizeof *img);
  img->width = d->width;
  img->height = d->height;
  img->samples = (uint32_t)cc;
  img->bits = out16 ? 16 : 8;
  img->bits_stored = out16 ? 16 : 8;
  img->stride = wstride;
  img->data = d->work;
  img->kind = MV_PLANE_FRAME;
  img->frame = 0;
  d->acquired = 1;
  return MV_OK;
}

int mvpng_release(mv_doc *d, uint32_t plane, const mv_rect *changed,
                  size_t n, char *err, size_t errlen) {
  if (plane != 0 || !d->acquired) {
    snprintf(err, errlen, "plane %u was not acquired", plane);
    return MV_EINVAL;
  }
  d->acquired = 0;
  int cc = d->channels >= 3 ? 3 : 1;
  int out16 = d->depth16 && cc == 1;
  for (size_t i = 0; i < n; i++) {
    int64_t x0 = changed[i].x, y0 = changed[i].y;
    int64_t x1 = x0 + changed[i].w, y1 = y0 + changed[i].h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > d->width) x1 = d->width;
    if (y1 > d->height) y1 = d->height;
    if (x0 >= x1 || y0 >= y1) continue;
    d->pixels_changed = 1;
    for (int64_t y = y0; y < y1; y++) {
      uint8_t *dst = d->pix + d->pix_stride * (size_t)y;
      const uint8_t *src = d->work + d->work_stride * (size_t)y;
      for (int64_t x = x0; x < x1; x++) {
        if (d->depth16) {
          uint16_t *p = (uint16_t *)dst + (size_t)x * d->channels;
          for (int c = 0; c < cc; c++)
            p[c] = out16 ? ((const uint16_t *)src)[x]
                         : (uint16_t)(src[(size_t)x * 3 + (size_t)c] * 257u);
          if (d->has_alpha) p[cc] = 65535u;
        } else {
          uint8_t *p = dst + (size_t)x * d->channels;
          for (int c = 0; c < cc; c++) p[c] = src[(size_t)x * cc + (size_t)c];
          if (d->has_alpha) p[cc] = 255u;
        }
      }
    }
  }
  return MV_OK;
}

int mvpng_drop_hidden(mv_doc *d, uint32_t *count) {
  /* APNG frames other than the default image: no redactor sees them. */
  uint32_t n = 0;
  for (size_t i = 0; i < d->n; i++) {
    mvpng_chunk *c = &d->chunks[i];
    if (c->removed) continue;
    if (!memcmp(c->type, "acTL", 4) || !memcmp(c->type, "fcTL", 4) ||
        !memcmp(c->type, "fdAT", 4)) {
      c->removed = 1;
      n++;
    }
  }
  *count = n;
  return MV_OK;
}

/* ---------------------------------------------------------------------- */
/* Re-encoding.                                                            */

/* The libpng part of encoding, alone in its frame (see read_rows). */
static int write_rows(png_structp png, png_infop info, io_ctx *io,
                      const mv_doc *d, int ct, int bd, uint8_t *packed) {
  if (setjmp(png_jmpbuf(png))) return -1;
  png_set_write_fn(png, io, mem_write, mem_flush);
  png_set_IHDR(png, info, d->width, d->height, bd, ct, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (packed) png_set_packing(png);
  if (bd == 16 && host_little_endian()) png_set_swap(png);
  for (uint32_t y = 0; y < d->height; y++) {
    const uint8_t *row = d->pix + d->pix_stride * y;
    if (packed) {
      /* Expanded grey (bit replication) back to its depth: exact. */
      for (uint32_t x = 0; x < d->width; x++)
        packed[x] = (uint8_t)(row[x] >> (8 - bd));
      row = packed;
    }
    png_write_row(png, (png_const_bytep)row);
  }
  png_write_end(png, NULL);
  return 0;
}

static int encode(mv_doc *d, int ct, int bd, io_ctx *io, char *err,
                  size_t errlen) {
  uint8_t *packed = bd < 8 ? malloc((size_t)d->width) : NULL;
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, io, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  int rc = MV_ENOMEM;
  if (png && info && (bd >= 8 || packed)) {
    rc = write_rows(png, info, io, d, ct, bd, packed) == 0 ? MV_OK : MV_EIO;
    if (rc != MV_OK)
      snprintf(err, errlen, "cannot encode the image: %s",
               io->msg[0] ? io->msg : "libpng error");
  }
  if (png) png_destroy_write_struct(&png, info ? &info : NULL);
  free(packed);
  return rc;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

int mvpng_reencode(mv_doc *d, char *err, size_t errlen) {
  int palette = d->color_type == 3;
  int colour = d->channels >= 3;
  int ct = colour ? (d->has_alpha ? 6 : 2) : (d->has_alpha ? 4 : 0);
  int bd = palette ? 8 : d->bit_depth;
  io_ctx io;
  memset(&io, 0, sizeof io);
  int rc = encode(d, ct, bd, &io, err, errlen);
  if (rc != MV_OK) {
    free(io.out);
    return rc;
  }
  /* The new stream's IHDR and IDATs replace the old ones in place; every
   * other chunk stays where it was. */
  size_t nidat = 0;
  const uint8_t *ihdr = NULL;
  for (size_t o = 8; o + 12 <= io.outn;) {
    uint32_t len = be32(io.out + o);
    if (!memcmp(io.out + o + 4, "IDAT", 4)) nidat++;
    if (!memcmp(io.out + o + 4, "IHDR", 4)) ihdr = io.out + o + 8;
    o += (size_t)len + 12;
  }
  size_t cap = d->n + nidat;
  mvpng_chunk *out = calloc(cap, sizeof *out);
  if (!out || !ihdr) {
    free(out);
    free(io.out);
    return MV_ENOMEM;
  }
  size_t k = 0;
  int placed = 0;
  for (size_t i = 0; i < d->n; i++) {
    mvpng_chunk *c = &d->chunks[i];
    int drop = 0;
    if (!memcmp(c->type, "IDAT", 4)) {
      drop = 1;
      if (!placed) {
        placed = 1;
        for (size_t o = 8; o + 12 <= io.outn;) {
          uint32_t len = be32(io.out + o);
          if (!memcmp(io.out + o + 4, "IDAT", 4)) {
            uint8_t *copy = malloc(len ? len : 1);
            if (!copy) {
              for (size_t j = 0; j < k; j++)
                if (!memcmp(out[j].type, "IDAT", 4)) free(out[j].owned);
              free(out);
              free(io.out);
              return MV_ENOMEM;
            }
            memcpy(copy, io.out + o + 8, len);
            mvpng_chunk *n = &out[k++];
            memcpy(n->type, "IDAT", 5);
            n->kind = MVPNG_IMAGE;
            mvpng_chunk_set_data(n, copy, len);
          }
          o += (size_t)len + 12;
        }
      }
    } else if (palette && (!memcmp(c->type, "PLTE", 4) ||
                           !memcmp(c->type, "tRNS", 4) ||
                           !memcmp(c->type, "bKGD", 4) ||
                           !memcmp(c->type, "hIST", 4))) {
      drop = 1; /* palette indices mean nothing in RGB */
    } else if (c->kind == MVPNG_BINARY && c->type[3] >= 'A' &&
               c->type[3] <= 'Z') {
      drop = 1; /* unsafe to copy once the image changed */
    }
    if (drop) {
      mvpng_chunk_free(c);
      continue;
    }
    out[k++] = *c;
  }
  free(d->chunks);
  d->chunks = out;
  d->n = k;
  d->cap = cap;
  for (size_t i = 0; i < d->n; i++) {
    mvpng_chunk *c = &d->chunks[i];
    if (!memcmp(c->type, "IHDR", 4)) {
      uint8_t *h = malloc(13);
      if (!h) {
        free(io.out);
        return MV_ENOMEM;
      }
      memcpy(h, ihdr, 13);
      mvpng_chunk_set_data(c, h, 13);
    } else if (palette && !memcmp(c->type, "sBIT", 4) && c->len == 3 &&
               d->has_alpha) {
      uint8_t *s = malloc(4);
      if (!s) {
        free(io.out);
        return MV_ENOMEM;
      }
      memcpy(s, c->data, 3);
      s[3] = 8;
      mvpng_chunk_set_data(c, s, 4);
    }
  }
  free(io.out);
  d->color_type = ct;
  d->bit_depth = bd;
  d->interlace = 0;
  return MV_OK;
}
