/* ocr_emit.c - word boxes back to native plane coordinates, to the sink. */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Undo the quarter turns: (u,v) in the rotated image to (x,y) in the padded
 * clip of size W x H (pixRotateOrth turns clockwise). */
static void unrotate(int quads, int W, int H, int u, int v, int *x, int *y) {
  switch (quads & 3) {
  case 1: *x = v; *y = H - 1 - u; break;
  case 2: *x = W - 1 - u; *y = H - 1 - v; break;
  case 3: *x = W - 1 - v; *y = u; break;
  default: *x = u; *y = v; break;
  }
}

int ocr_emit_map(const ocr_xform *t, int x1, int y1, int x2, int y2,
                 mv_rect *r) {
  if (x2 <= x1 || y2 <= y1) return 0;
  int W = t->cw + 2 * t->pad, H = t->ch + 2 * t->pad;
  int ax, ay, bx, by;
  unrotate(t->quads, W, H, x1, y1, &ax, &ay);
  unrotate(t->quads, W, H, x2 - 1, y2 - 1, &bx, &by);
  /* Padded (scaled) clip -> work image (inclusive corners to half-open). */
  double ls = t->lscale > 0 ? t->lscale : 1;
  double wx1 = ((ax < bx ? ax : bx) - t->pad) / ls + t->cx;
  double wy1 = ((ay < by ? ay : by) - t->pad) / ls + t->cy;
  double wx2 = ((ax > bx ? ax : bx) + 1 - t->pad) / ls + t->cx;
  double wy2 = ((ay > by ? ay : by) + 1 - t->pad) / ls + t->cy;
  /* Work image -> native: round outwards so the box covers the ink. */
  double s = t->scale > 0 ? t->scale : 1;
  long nx1 = (long)floor(wx1 / s) + t->ox, ny1 = (long)floor(wy1 / s) + t->oy;
  long nx2 = (long)ceil(wx2 / s) + t->ox, ny2 = (long)ceil(wy2 / s) + t->oy;
  if (nx1 < 0) nx1 = 0;
  if (ny1 < 0) ny1 = 0;
  if (nx2 > t->plane_w) nx2 = t->plane_w;
  if (ny2 > t->plane_h) ny2 = t->plane_h;
  if (nx2 <= nx1 || ny2 <= ny1) return 0;
  r->x = (int32_t)nx1;
  r->y = (int32_t)ny1;
  r->w = (int32_t)(nx2 - nx1);
  r->h = (int32_t)(ny2 - ny1);
  return 1;
}

/* Area common to a and b. */
static long overlap_area(const mv_rect *a, const mv_rect *b) {
  long x1 = a->x > b->x ? a->x : b->x, y1 = a->y > b->y ? a->y : b->y;
  long x2 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
  long y2 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
  return x2 > x1 && y2 > y1 ? (x2 - x1) * (y2 - y1) : 0;
}

int ocr_emit_add_shaped(ocr_emitter *e, const mv_rect *r) {
  if (e->nshaped == e->capshaped) {
    size_t cap = e->capshaped ? 2 * e->capshaped : 16;
    mv_rect *v = realloc(e->shaped, cap * sizeof *v);
    if (!v) return MV_ENOMEM;
    e->shaped = v;
    e->capshaped = cap;
  }
  e->shaped[e->nshaped++] = *r;
  return MV_OK;
}

/* Area of r inside the chains of characters (overlaps counted twice). */
static long shaped_area(const ocr_emitter *e, const mv_rect *r) {
  long a = 0;
  for (size_t i = 0; i < e->nshaped; i++) {
    const mv_rect *s = &e->shaped[i];
    a += overlap_area(r, s);
  }
  return a;
}

static void remember(ocr_emitter *e, const mv_rect *r) {
  if (e->nsent == e->capsent) {
    size_t cap = e->capsent ? 2 * e->capsent : 64;
    mv_rect *v = realloc(e->sent, cap * sizeof *v);
    if (!v) return; /* not remembered: more unread boxes, never fewer */
    e->sent = v;
    e->capsent = cap;
  }
  e->sent[e->nsent++] = *r;
}

/* The chain r overlaps most, or -1 when it overlaps none. */
static long best_chain(const ocr_emitter *e, const mv_rect *r) {
  long best = -1, most = 0;
  for (size_t i = 0; i < e->nshaped; i++) {
    long a = overlap_area(r, &e->shaped[i]);
    if (a > most) most = a, best = (long)i;
  }
  return best;
}

/* Clip r across the chains of characters it overlaps (its height for a
 * row, its width for a column), with 1 pixel to spare: word boxes grown
 * over the ink of a clip take in the anatomy above and below a line, and
 * the chains know where their characters end. Returns the index of the
 * chain it overlaps most, or -1 (nothing cut) when it lies mostly outside
 * that chain's band: a word of the next row. */
static long clip_across(const ocr_emitter *e, mv_rect *r) {
  long best = best_chain(e, r);
  if (best < 0) return -1;
  /* Chains found twice (in another polarity or channel) share most of
   * their band: the tighter one holds. Chains side by side across (the two
   * halves of a line on a banner's edge) add up. */
  const mv_rect *c0 = &e->shaped[best];
  int tall = c0->h > 2 * c0->w;
  int32_t lo = tall ? c0->x : c0->y;
  int32_t hi = tall ? c0->x + c0->w : c0->y + c0->h;
  for (size_t i = 0; i < e->nshaped; i++) {
    const mv_rect *s = &e->shaped[i];
    if ((long)i == best || !overlap_area(r, s) || (s->h > 2 * s->w) != tall)
      continue;
    int32_t a = tall ? s->x : s->y, b = tall ? s->x + s->w : s->y + s->h;
    int32_t o = (b < hi ? b : hi) - (a > lo ? a : lo);
    int32_t small = b - a < hi - lo ? b - a : hi - lo;
    if (2 * o >= small) {
      if (a > lo) lo = a;
      if (b < hi) hi = b;
    } else if (o > -3) { /* touching: the other half of the line */
      if (a < lo) lo = a;
      if (b > hi) hi = b;
    }
  }
  lo -= 1, hi += 1;
  int32_t *p = tall ? &r->x : &r->y, *len = tall ? &r->w : &r->h;
  /* A word mostly outside the band belongs to the next row: not cut. */
  int32_t o = (*p + *len < hi ? *p + *len : hi) - (*p > lo ? *p : lo);
  if (2 * o < *len) return -1;
  int32_t a = *p > lo ? *p : lo, b = *p + *len < hi ? *p + *len : hi;
  if (b > a) *p = a, *len = b - a;
  /* Along: no further than one thickness past the ends of the chains of
   * its band (a word box grown over the ink of its clip can run on into
   * the anatomy; pieces of one line found apart are one line). */
  int32_t blo = lo, bhi = hi, th = hi - lo;
  lo = INT32_MAX, hi = INT32_MIN;
  for (size_t i = 0; i < e->nshaped; i++) {
    const mv_rect *c = &e->shaped[i];
    if (!overlap_area(r, c) || (c->h > 2 * c->w) != tall) continue;
    int32_t a = tall ? c->x : c->y, b = tall ? c->x + c->w : c->y + c->h;
    if ((b < bhi ? b : bhi) - (a > blo ? a : blo) <= 0) continue;
    a = tall ? c->y : c->x, b = tall ? c->y + c->h : c->x + c->w;
    if (a < lo) lo = a;
    if (b > hi) hi = b;
  }
  if (lo >= hi) return best;
  lo -= th, hi += th;
  p = tall ? &r->y : &r->x, len = tall ? &r->h : &r->w;
  a = *p > lo ? *p : lo, b = *p + *len < hi ? *p + *len : hi;
  if (b > a) *p = a, *len = b - a;
  return best;
}

int ocr_emit_in_chains(const ocr_emitter *e, const mv_rect *r) {
  return e->nshaped && 4 * shaped_area(e, r) >= (long)r->w * r->h;
}

static int send(ocr_emitter *e, const mv_box *in) {
  if (e->stopped) return 1;
  mv_box copy = *in;
  long chain = ocr_emit_in_chains(e, &in->r) ? clip_across(e, &copy.r) : -1;
  if (chain >= 0) {
    copy.flags |= MV_BOX_SHAPED;
    /* The words of one chain are one line for the core, which redacts a
     * line whole: "Dr. E." goes with "LINDQVIST" even when tesseract
     * reads them as two lines. */
    if (copy.line < OCR_CHAIN_LINE) copy.line = OCR_CHAIN_LINE + (uint32_t)chain;
  }
  remember(e, &copy.r);
  if (e->sink(e->ud, &copy) != 0) e->stopped = 1;
  e->emitted++;
  return e->stopped;
}

static void box_init(mv_box *b, const ocr_emitter *e) {
  memset(b, 0, sizeof *b);
  b->plane = e->plane;
  snprintf(b->label, sizeof b->label, "ocr");
}

/* A doubtful "word" thicker (across its line) than any burned-in font, or
 * covering a good part of the plane, is a block of anatomy read as text
 * (the core judges such words noise too). */
static int too_big_for_a_word(const ocr_xform *t, const mv_rect *r) {
  /* The short side: a tall line may read best upright ("1", "I"). */
  int across = r->h < r->w ? r->h : r->w;
  if (across > OCR_MAX_WORD_ACROSS) return 1;
  return (double)r->w * r->h > 0.05 * (double)t->plane_w * t->plane_h;
}

int ocr_emit_words(ocr_emitter *e, const ocr_xform *t, const ocr_words *w,
                   int rotated) {
  int max_line = -1;
  for (size_t i = 0; i < w->n; i++)
    if (w->v[i].line > max_line) max_line = w->v[i].line;
  /* A reading line with a word in a chain is that chain's line, all its
   * words: tesseract joins "Dr. E." to "LINDQVIST" where the chain breaks
   * at the wide gap of a monospaced font. */
  long *chain = max_line >= 0 && e->nshaped
                    ? malloc((size_t)(max_line + 1) * sizeof *chain)
                    : NULL;
  for (int l = 0; chain && l <= max_line; l++) chain[l] = -1;
  for (size_t i = 0; chain && i < w->n; i++) {
    const ocr_word *x = &w->v[i];
    mv_rect r;
    if (x->line < 0 || chain[x->line] >= 0 ||
        !ocr_emit_map(t, x->x1, x->y1, x->x2, x->y2, &r))
      continue;
    chain[x->line] = ocr_emit_in_chains(e, &r) ? best_chain(e, &r) : -1;
  }
  max_line = -1;
  for (size_t i = 0; i < w->n; i++) {
    const ocr_word *x = &w->v[i];
    mv_box b;
    box_init(&b, e);
    if (!ocr_emit_map(t, x->x1, x->y1, x->x2, x->y2, &b.r)) continue;
    if (b.r.w <= 2 && b.r.h <= 2) continue; /* specks, not text */
    if (x->conf < OCR_SURE_WORD && too_big_for_a_word(t, &b.r))
      continue;
    b.confidence = x->conf / 100.0f;
    b.flags = MV_BOX_TEXT | (rotated ? MV_BOX_ROTATED : 0);
    b.line = e->next_line + (uint32_t)x->line;
    if (chain && x->line >= 0 && chain[x->line] >= 0)
      b.line = OCR_CHAIN_LINE + (uint32_t)chain[x->line];
    if (x->line > max_line) max_line = x->line;
    /* Both buffers hold 256 bytes; the word was cut at a UTF-8 boundary. */
    memcpy(b.text, x->text, sizeof b.text);
    b.text[sizeof b.text - 1] = 0;
    if (send(e, &b)) {
      free(chain);
      return 1;
    }
  }
  free(chain);
  e->next_line += (uint32_t)(w->lines > max_line + 1 ? w->lines : max_line + 1);
  return 0;
}

int ocr_emit_unread(ocr_emitter *e, const mv_rect *r) {
  mv_box b;
  box_init(&b, e);
  b.r = *r;
  b.flags = MV_BOX_UNREAD;
  b.line = e->next_line++;
  return send(e, &b);
}

int ocr_emit_unread_box(ocr_emitter *e, const ocr_xform *base, int x, int y,
                        int w, int h) {
  ocr_xform t = *base;
  t.cx = t.cy = t.cw = t.ch = t.pad = t.quads = 0;
  t.lscale = 1;
  mv_rect r;
  if (!ocr_emit_map(&t, x, y, x + w, y + h, &r)) return 0;
  return ocr_emit_unread(e, &r);
}

void ocr_emit_free(ocr_emitter *e) {
  free(e->shaped);
  free(e->sent);
  e->shaped = e->sent = NULL;
  e->nshaped = e->capshaped = e->nsent = e->capsent = 0;
}

static int covered(const ocr_emitter *e, const mv_rect *r) {
  int32_t cx = r->x + r->w / 2, cy = r->y + r->h / 2;
  for (size_t i = 0; i < e->nsent; i++) {
    const mv_rect *s = &e->sent[i];
    if (cx >= s->x && cx < s->x + s->w && cy >= s->y && cy < s->y + s->h)
      return 1;
  }
  return 0;
}

int ocr_emit_uncovered(ocr_emitter *e, const ocr_xform *base, BOXA *glyphs) {
  l_int32 n = glyphs ? boxaGetCount(glyphs) : 0;
  mv_rect run = {0, 0, 0, 0};
  int open = 0;
  for (l_int32 i = 0; i <= n && !e->stopped; i++) {
    mv_rect r;
    int uncovered = 0;
    if (i < n) {
      l_int32 x, y, w, h;
      if (boxaGetBoxGeometry(glyphs, i, &x, &y, &w, &h) == 0 &&
          ocr_emit_map(base, x, y, x + w, y + h, &r))
        uncovered = !covered(e, &r);
    }
    if (uncovered) {
      if (!open) {
        run = r;
        open = 1;
      } else {
        int32_t x1 = run.x < r.x ? run.x : r.x, y1 = run.y < r.y ? run.y : r.y;
        int32_t x2 = run.x + run.w > r.x + r.w ? run.x + run.w : r.x + r.w;
        int32_t y2 = run.y + run.h > r.y + r.h ? run.y + run.h : r.y + r.h;
        run.x = x1, run.y = y1, run.w = x2 - x1, run.h = y2 - y1;
      }
      continue;
    }
    if (open && ocr_emit_unread(e, &run)) return 1;
    open = 0;
  }
  return e->stopped;
}
