/* ocr_read.c - tesseract on one prepared image: layout lines or words.
 *
 * Images are always whole (clipped with pixClipRectangle beforehand):
 * TessBaseAPISetRectangle gives garbage text with the LSTM engine
 * (tesseract #845), so it is never used. */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void ocr_words_free(ocr_words *w) {
  free(w->v);
  memset(w, 0, sizeof *w);
}

int ocr_words_push(ocr_words *w, const ocr_word *x) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 16;
    ocr_word *v = realloc(w->v, cap * sizeof *v);
    if (!v) return MV_ENOMEM;
    w->v = v;
    w->cap = cap;
  }
  w->v[w->n++] = *x;
  return MV_OK;
}

/* Copy at most dstlen-1 bytes of trimmed `src`, cut at a UTF-8 boundary. */
static void copy_utf8(char *dst, size_t dstlen, const char *src) {
  while (*src && isspace((unsigned char)*src)) src++;
  size_t n = strlen(src);
  while (n && isspace((unsigned char)src[n - 1])) n--;
  if (n > dstlen - 1) {
    n = dstlen - 1;
    /* src[n] is the first byte left out: back off a split character. */
    while (n && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
  }
  memcpy(dst, src, n);
  dst[n] = 0;
}

/* Noise: empty words and words without a letter or digit ("|", "-", "."),
 * which cannot carry identifying text. Non-ASCII bytes count as letters. */
static int is_noise(const char *t) {
  for (const unsigned char *p = (const unsigned char *)t; *p; p++)
    if (isalnum(*p) || *p >= 0x80) return 0;
  return 1;
}

int ocr_read(TessBaseAPI *api, PIX *pix, int psm, ocr_words *out) {
  TessBaseAPISetPageSegMode(api, (TessPageSegMode)psm);
  TessBaseAPISetImage2(api, pix);
  if (TessBaseAPIRecognize(api, NULL) != 0) {
    TessBaseAPIClear(api);
    return MV_EPLUGIN;
  }
  int rc = MV_OK;
  int line = -1;
  TessResultIterator *ri = TessBaseAPIGetIterator(api);
  if (ri) {
    const TessPageIterator *pi = TessResultIteratorGetPageIteratorConst(ri);
    do {
      if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) line++;
      char *t = TessResultIteratorGetUTF8Text(ri, RIL_WORD);
      if (!t) continue;
      ocr_word w;
      memset(&w, 0, sizeof w);
      copy_utf8(w.text, sizeof w.text, t);
      TessDeleteText(t);
      if (is_noise(w.text)) continue;
      if (!TessPageIteratorBoundingBox(pi, RIL_WORD, &w.x1, &w.y1, &w.x2,
                                       &w.y2))
        continue;
      w.conf = TessResultIteratorConfidence(ri, RIL_WORD);
      if (w.conf < 0) w.conf = 0;
      if (w.conf > 100) w.conf = 100;
      w.line = out->lines + (line < 0 ? 0 : line);
      rc = ocr_words_push(out, &w);
    } while (rc == MV_OK && TessResultIteratorNext(ri, RIL_WORD));
    TessResultIteratorDelete(ri);
  }
  out->lines += line + 1;
  TessBaseAPIClear(api);
  return rc;
}

double ocr_read_score(const ocr_words *w) {
  double sum = 0, chars = 0;
  for (size_t i = 0; i < w->n; i++) {
    double n = (double)strlen(w->v[i].text);
    sum += w->v[i].conf * n;
    chars += n;
  }
  if (chars == 0) return -1;
  /* A little credit for more text separates equal-confidence readings
   * (a wrong orientation tends to give a few short fragments). */
  return sum / chars + (chars < 20 ? chars : 20) * 0.5;
}

BOXA *ocr_read_layout(TessBaseAPI *api, PIX *pix, int psm) {
  TessBaseAPISetPageSegMode(api, (TessPageSegMode)psm);
  TessBaseAPISetImage2(api, pix);
  BOXA *lines = TessBaseAPIGetComponentImages(api, RIL_TEXTLINE, 1, NULL, NULL);
  TessBaseAPIClear(api);
  return lines;
}
