/* ocr_emit.c - word boxes back to native plane coordinates, to the sink. */
#include "ocr_internal.h"

#include <math.h>
#include <stdio.h>
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

static int send(ocr_emitter *e, const mv_box *b) {
  if (e->stopped) return 1;
  if (e->sink(e->ud, b) != 0) e->stopped = 1;
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
    if (x->line > max_line) max_line = x->line;
    /* Both buffers hold 256 bytes; the word was cut at a UTF-8 boundary. */
    memcpy(b.text, x->text, sizeof b.text);
    b.text[sizeof b.text - 1] = 0;
    if (send(e, &b)) return 1;
  }
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
