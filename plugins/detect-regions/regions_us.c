/* regions_us.c - "keep only the ultrasound regions": the complement of the
 * union of the SequenceOfUltrasoundRegions rectangles within the image.
 *
 * Coordinate compression: the rectangles' edges cut the image into a grid
 * of at most (2n+1)^2 cells; uncovered cells are merged into runs along a
 * row band, and runs with the same x-extent in consecutive bands into one
 * rectangle. The result is a set of disjoint rectangles. */
#include "regions_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static size_t uniq(uint32_t *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_u32);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!k || v[k - 1] != v[i]) v[k++] = v[i];
  return k;
}

static size_t index_of(const uint32_t *v, size_t n, uint32_t x) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (v[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int rx_complement(uint32_t W, uint32_t H, const mv_rect *keep, size_t n_keep,
                  mv_rect **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  if (!W || !H) return MV_OK;
  /* Clip the kept rectangles; the empty ones do not count. */
  uint32_t (*k)[4] = calloc(n_keep ? n_keep : 1, sizeof *k);
  uint32_t *xs = malloc((2 * n_keep + 2) * sizeof *xs);
  uint32_t *ys = malloc((2 * n_keep + 2) * sizeof *ys);
  size_t nk = 0, nx = 0, ny = 0;
  int rc = MV_ENOMEM;
  unsigned char *covered = NULL;
  mv_rect *res = NULL;
  size_t *act = NULL, *nxt = NULL;
  if (!k || !xs || !ys) goto done;
  xs[nx++] = 0, xs[nx++] = W, ys[ny++] = 0, ys[ny++] = H;
  for (size_t i = 0; i < n_keep; i++) {
    int64_t x0 = keep[i].x, y0 = keep[i].y;
    int64_t x1 = x0 + keep[i].w, y1 = y0 + keep[i].h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > W) x1 = W;
    if (y1 > H) y1 = H;
    if (x1 <= x0 || y1 <= y0) continue;
    k[nk][0] = (uint32_t)x0, k[nk][1] = (uint32_t)y0;
    k[nk][2] = (uint32_t)x1, k[nk][3] = (uint32_t)y1;
    xs[nx++] = k[nk][0], xs[nx++] = k[nk][2];
    ys[ny++] = k[nk][1], ys[ny++] = k[nk][3];
    nk++;
  }
  nx = uniq(xs, nx);
  ny = uniq(ys, ny);
  const size_t cx = nx - 1, cy = ny - 1; /* cells per row / column */
  covered = calloc(cx * cy, 1);
  res = malloc(cx * cy * sizeof *res);
  if (!covered || !res) goto done;
  for (size_t i = 0; i < nk; i++) {
    size_t a = index_of(xs, nx, k[i][0]), b = index_of(xs, nx, k[i][2]);
    size_t c = index_of(ys, ny, k[i][1]), d = index_of(ys, ny, k[i][3]);
    for (size_t y = c; y < d; y++) memset(covered + y * cx + a, 1, b - a);
  }
  /* `act` lists the rectangles whose bottom edge is the current band's top:
   * only they can grow into this band. */
  act = malloc(cx * sizeof *act);
  nxt = malloc(cx * sizeof *nxt);
  if (!act || !nxt) goto done;
  size_t n = 0, n_act = 0;
  for (size_t y = 0; y < cy; y++) {
    size_t n_nxt = 0;
    for (size_t x = 0; x < cx;) {
      if (covered[y * cx + x]) {
        x++;
        continue;
      }
      size_t e = x;
      while (e < cx && !covered[y * cx + e]) e++;
      const int32_t rx = (int32_t)xs[x], rw = (int32_t)(xs[e] - xs[x]);
      const int32_t bh = (int32_t)(ys[y + 1] - ys[y]);
      size_t j;
      for (j = 0; j < n_act; j++)
        if (res[act[j]].x == rx && res[act[j]].w == rw) break;
      if (j < n_act) {
        res[act[j]].h += bh;
        nxt[n_nxt++] = act[j];
      } else {
        res[n] = (mv_rect){rx, (int32_t)ys[y], rw, bh};
        nxt[n_nxt++] = n++;
      }
      x = e;
    }
    memcpy(act, nxt, n_nxt * sizeof *act);
    n_act = n_nxt;
  }
  *out = res;
  *n_out = n;
  res = NULL;
  rc = MV_OK;
done:
  free(k);
  free(xs);
  free(ys);
  free(covered);
  free(res);
  free(act);
  free(nxt);
  return rc;
}

/* An unsigned decimal value, or -1. */
static int64_t as_uint(const char *v, size_t len) {
  if (len == 0 || len > 10) return -1;
  int64_t x = 0;
  for (size_t i = 0; i < len; i++) {
    if (v[i] < '0' || v[i] > '9') return -1;
    x = x * 10 + (v[i] - '0');
  }
  return x <= (1 << 24) ? x : -1;
}

int rx_us_regions(rx_attrs *attrs, mv_rect *out, size_t max, size_t *n_out) {
  /* RegionLocationMinX0, MinY0, MaxX1, MaxY1 of each item. */
  static const char *const el[4] = {"6018", "601A", "601C", "601E"};
  *n_out = 0;
  for (size_t i = 0; i < max; i++) {
    int64_t v[4];
    int absent = 0;
    for (int k = 0; k < 4; k++) {
      char key[48];
      snprintf(key, sizeof key, "(0018,6011)[%zu].(0018,%s)", i, el[k]);
      const char *s = NULL;
      size_t len = 0;
      int rc = rx_attrs_get(attrs, key, &s, &len);
      if (rc == MV_ENOTFOUND || rc == MV_EUNSUPPORTED) {
        absent++;
        v[k] = -1;
      } else if (rc != MV_OK) {
        return rc;
      } else {
        v[k] = as_uint(s, len);
      }
    }
    if (absent == 4) break; /* past the last item */
    /* Max corners are inclusive pixel coordinates. A malformed item keeps
     * nothing, so its area is covered: the safe side. */
    if (v[0] < 0 || v[1] < 0 || v[2] < v[0] || v[3] < v[1]) continue;
    out[(*n_out)++] = (mv_rect){(int32_t)v[0], (int32_t)v[1],
                                (int32_t)(v[2] - v[0] + 1), (int32_t)(v[3] - v[1] + 1)};
  }
  return MV_OK;
}
