/* ocr_pix.c - from mv_image to a normalised 8 bpp leptonica Pix.
 *
 * Tesseract 4/5 wants dark text on a light background with a margin; the
 * dark frames of ultrasound/CT carry light text, so polarity is decided
 * here (never by tesseract's own invert retry, which costs 1.3-1.7x). */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>

int ocr_pix_from_image(const mv_image *img, int channels, struct Pix **out,
                       char *err, size_t errlen) {
  for (int i = 0; i < OCR_PLANES; i++) out[i] = NULL;
  if (!img || !img->data) {
    ocr_set_err(err, errlen, "no image");
    return MV_EINVAL;
  }
  if (img->bits != 8 || (img->samples != 1 && img->samples != 3)) {
    ocr_set_err(err, errlen, "detection image must be 8-bit grey or RGB "
                "(got %u samples of %u bits)", img->samples, img->bits);
    return MV_EINVAL;
  }
  uint64_t w = img->width, h = img->height;
  if (w * h > OCR_MAX_PIXELS || w > 65535 || h > 65535) {
    ocr_set_err(err, errlen, "image %llux%llu exceeds the OCR limit of %u "
                "pixels", (unsigned long long)w, (unsigned long long)h,
                OCR_MAX_PIXELS);
    return MV_ELIMIT;
  }
  if (img->stride < w * img->samples) {
    ocr_set_err(err, errlen, "image stride %zu shorter than a row",
                img->stride);
    return MV_EINVAL;
  }
  PIX *pix = pixCreate((l_int32)w, (l_int32)h, 8);
  if (!pix) return MV_ENOMEM;
  l_uint32 *data = pixGetData(pix);
  l_int32 wpl = pixGetWpl(pix);
  int colour = 0;
  for (uint64_t y = 0; y < h; y++) {
    const uint8_t *src = (const uint8_t *)img->data + y * img->stride;
    l_uint32 *line = data + y * (uint64_t)wpl;
    if (img->samples == 1) {
      for (uint64_t x = 0; x < w; x++) SET_DATA_BYTE(line, x, src[x]);
    } else {
      /* Rec. 601 luma in integers: coloured text keeps its contrast. */
      for (uint64_t x = 0; x < w; x++, src += 3) {
        unsigned v = (299u * src[0] + 587u * src[1] + 114u * src[2] + 500u) /
                     1000u;
        SET_DATA_BYTE(line, x, v);
        colour |= src[0] != src[1] || src[1] != src[2];
      }
    }
  }
  out[0] = pix;
  for (int ch = 0; channels && colour && ch < 3; ch++) {
    PIX *p = pixCreate((l_int32)w, (l_int32)h, 8);
    if (!p) break; /* the channels only add: luma alone still works */
    l_uint32 *pd = pixGetData(p);
    l_int32 pw = pixGetWpl(p);
    for (uint64_t y = 0; y < h; y++) {
      const uint8_t *src = (const uint8_t *)img->data + y * img->stride + ch;
      l_uint32 *line = pd + y * (uint64_t)pw;
      for (uint64_t x = 0; x < w; x++) SET_DATA_BYTE(line, x, src[3 * x]);
    }
    out[1 + ch] = p;
  }
  return MV_OK;
}

/* Subsampling factor keeping histogram work near 64k samples. */
static l_int32 sample_factor(PIX *pix) {
  l_int32 f = 1;
  while ((int64_t)(pixGetWidth(pix) / f) * (pixGetHeight(pix) / f) > 65536)
    f++;
  return f;
}

int ocr_pix_dark_background(PIX *pix) {
  l_int32 f = sample_factor(pix);
  l_uint32 med = 0, lo = 0, hi = 0;
  if (pixGetRankValue(pix, f, 0.5f, &med) || pixGetRankValue(pix, f, 0.02f, &lo)
      || pixGetRankValue(pix, f, 0.98f, &hi))
    return 0;
  /* The background is the bulk of the pixels; text sits at the far end.
   * Rank 0.02/0.98 ignore a few outliers. Ties (flat images) stay. */
  if (hi <= lo) return med < 128;
  return 2 * med < lo + hi;
}

PIX *ocr_pix_normalise(PIX *pix, int invert, int pad) {
  PIX *inv = invert ? pixInvert(NULL, pix) : pixClone(pix);
  if (!inv) return NULL;
  l_uint32 bg = 255;
  pixGetRankValue(inv, sample_factor(inv), 0.5f, &bg);
  PIX *out = pad > 0 ? pixAddBorder(inv, pad, bg) : pixClone(inv);
  pixDestroy(&inv);
  return out;
}

PIX *ocr_pix_strokes(PIX *norm, int dark, int size, int contrast,
                     double max_share) {
  /* A top-hat keeps what is thinner than `size` and differs from its
   * surroundings: text strokes, not the slow shading of anatomy. */
  PIX *th = pixTophat(norm, size | 1, size | 1,
                      dark ? L_TOPHAT_BLACK : L_TOPHAT_WHITE);
  if (!th) return NULL;
  /* Texture (ultrasound speckle) is strokes everywhere: raise the contrast
   * until at most max_share of the image remains; text is rarely more, and
   * burned-in text is usually the strongest contrast there is. */
  l_uint32 rank = 0;
  if (max_share > 0 &&
      !pixGetRankValue(th, sample_factor(th), (l_float32)(1.0 - max_share),
                       &rank) &&
      (int)rank + 1 > contrast)
    contrast = (int)rank + 1;
  PIX *bin = pixThresholdToBinary(th, contrast);
  pixDestroy(&th);
  if (!bin) return NULL;
  pixInvert(bin, bin); /* foreground (1) = strong strokes */
  /* Drop what is large both ways (the edges of organs, bones, the fan of
   * an ultrasound image): runs of characters stay, in either direction. */
  int big = 4 * size + 20;
  PIX *sel = pixSelectBySize(bin, big, big, 8, L_SELECT_IF_EITHER,
                             L_SELECT_IF_LTE, NULL);
  pixDestroy(&bin);
  if (!sel) return NULL;
  /* And specks (speckle, noise): each would be a "character" to lay out. */
  PIX *out = pixSelectBySize(sel, 3, 5, 8, L_SELECT_IF_EITHER,
                             L_SELECT_IF_GTE, NULL);
  pixDestroy(&sel);
  return out;
}

PIX *ocr_pix_chroma(PIX *const *rgb) {
  if (!rgb[0] || !rgb[1] || !rgb[2]) return NULL;
  l_int32 w = pixGetWidth(rgb[0]), h = pixGetHeight(rgb[0]);
  for (int i = 1; i < 3; i++)
    if (pixGetWidth(rgb[i]) != w || pixGetHeight(rgb[i]) != h) return NULL;
  PIX *out = pixCreate(w, h, 8);
  if (!out) return NULL;
  l_uint32 *od = pixGetData(out);
  l_int32 ow = pixGetWpl(out);
  l_uint32 *d[3];
  l_int32 wpl[3];
  for (int i = 0; i < 3; i++) d[i] = pixGetData(rgb[i]), wpl[i] = pixGetWpl(rgb[i]);
  for (l_int32 y = 0; y < h; y++)
    for (l_int32 x = 0; x < w; x++) {
      int lo = 255, hi = 0;
      for (int i = 0; i < 3; i++) {
        int v = GET_DATA_BYTE(d[i] + y * wpl[i], x);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      SET_DATA_BYTE(od + y * ow, x, hi - lo);
    }
  return out;
}
