/* mv_png.c - PNG output for review previews. */
#include "mv_png.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mv_png_write(const char *path, const mv_image *img) {
  if (!img || !img->data || img->bits != 8 ||
      (img->samples != 1 && img->samples != 3))
    return MV_EINVAL;
  FILE *f = fopen(path, "wbx");
  if (!f) return MV_EIO;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL,
                                            NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fclose(f);
    remove(path);
    return MV_EIO;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, img->width, img->height, 8,
               img->samples == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  for (uint32_t y = 0; y < img->height; y++)
    png_write_row(png, (png_const_bytep)img->data + (size_t)y * img->stride);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return fclose(f) == 0 ? MV_OK : MV_EIO;
}

/* Nearest-neighbour copy of src (grey or RGB) into an RGB canvas at
 * (ox, 0), scaled by 1/div. */
static void blit(uint8_t *canvas, size_t cstride, const mv_image *src,
                 unsigned ox, unsigned div) {
  uint32_t w = src->width / div, h = src->height / div;
  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *row = (const uint8_t *)src->data + (size_t)y * div * src->stride;
    uint8_t *dst = canvas + (size_t)y * cstride + (size_t)ox * 3;
    for (uint32_t x = 0; x < w; x++) {
      const uint8_t *p = row + (size_t)x * div * src->samples;
      dst[3 * x] = p[0];
      dst[3 * x + 1] = src->samples == 3 ? p[1] : p[0];
      dst[3 * x + 2] = src->samples == 3 ? p[2] : p[0];
    }
  }
}

static void outline(uint8_t *canvas, size_t cstride, uint32_t cw, uint32_t ch,
                    unsigned ox, unsigned div, uint32_t half_w,
                    const mv_mark *m) {
  static const uint8_t colour[3][3] = {{255, 0, 0}, {0, 200, 0}, {255, 0, 255}};
  const uint8_t *c = colour[m->kind >= 0 && m->kind <= 2 ? m->kind : 0];
  int x0 = m->r.x / (int)div, y0 = m->r.y / (int)div;
  int x1 = (m->r.x + m->r.w - 1) / (int)div, y1 = (m->r.y + m->r.h - 1) / (int)div;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 >= (int)half_w) x1 = (int)half_w - 1;
  if (y1 >= (int)ch) y1 = (int)ch - 1;
  if (x1 < x0 || y1 < y0) return;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      if (y != y0 && y != y1 && x != x0 && x != x1) continue;
      uint32_t cx = ox + (uint32_t)x;
      if (cx >= cw) continue;
      uint8_t *p = canvas + (size_t)y * cstride + (size_t)cx * 3;
      memcpy(p, c, 3);
    }
}

int mv_png_preview(const char *path, const mv_image *before,
                   const mv_image *after, const mv_mark *marks, size_t n,
                   unsigned max_width) {
  if (!before || !after || before->width != after->width ||
      before->height != after->height)
    return MV_EINVAL;
  unsigned div = 1;
  while (before->width / div > max_width && div < 64) div++;
  uint32_t hw = before->width / div, h = before->height / div, gap = 8;
  if (hw == 0 || h == 0) return MV_EINVAL;
  uint32_t cw = hw * 2 + gap;
  size_t cstride = (size_t)cw * 3;
  uint8_t *canvas = calloc((size_t)h, cstride);
  if (!canvas) return MV_ENOMEM;
  memset(canvas, 128, (size_t)h * cstride); /* grey gap */
  blit(canvas, cstride, before, 0, div);
  blit(canvas, cstride, after, hw + gap, div);
  for (size_t i = 0; i < n; i++) {
    outline(canvas, cstride, cw, h, 0, div, hw, &marks[i]);
    outline(canvas, cstride, cw, h, hw + gap, div, hw, &marks[i]);
  }
  mv_image img = {.width = cw, .height = h, .samples = 3, .bits = 8,
                  .bits_stored = 8, .stride = cstride, .data = canvas};
  int rc = mv_png_write(path, &img);
  free(canvas);
  return rc;
}
