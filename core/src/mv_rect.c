/* mv_rect.c - rectangle arithmetic for the pixel stage. */
#include "mv_rect.h"

int mv_rect_intersects(const mv_rect *a, const mv_rect *b) {
  return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h &&
         b->y < a->y + a->h;
}

int mv_rect_contains(const mv_rect *outer, const mv_rect *r) {
  return r->x >= outer->x && r->y >= outer->y &&
         r->x + r->w <= outer->x + outer->w &&
         r->y + r->h <= outer->y + outer->h;
}

double mv_rect_overlap(const mv_rect *a, const mv_rect *b) {
  int32_t x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
  int32_t x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
  int32_t y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
  return x1 > x0 && y1 > y0 ? (double)(x1 - x0) * (y1 - y0) : 0;
}

mv_rect mv_rect_union(const mv_rect *a, const mv_rect *b) {
  int32_t x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
  int32_t x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
  int32_t y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
  return (mv_rect){x0, y0, x1 - x0, y1 - y0};
}

mv_rect mv_rect_grow(mv_rect r, int by, uint32_t w, uint32_t h) {
  int32_t x0 = r.x - by, y0 = r.y - by, x1 = r.x + r.w + by,
          y1 = r.y + r.h + by;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > (int32_t)w) x1 = (int32_t)w;
  if (y1 > (int32_t)h) y1 = (int32_t)h;
  mv_rect o = {x0, y0, x1 - x0, y1 - y0};
  if (o.w < 0) o.w = 0;
  if (o.h < 0) o.h = 0;
  return o;
}
