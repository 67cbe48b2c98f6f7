/* mv_textnet.c - the text-line network (see mv_textnet.h). */
#include "mv_textnet.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TN_MAX_LAYERS 16
#define TN_MAX_CHANNELS 64
#define TN_MAX_KERNEL 7
#define TN_MAX_DILATION 64

typedef struct tn_layer {
  int cin, cout, k, dil;
  float *w; /* [cout][cin][k][k] */
  float *b; /* [cout] */
} tn_layer;

struct mv_textnet {
  int nlayers;
  tn_layer layer[TN_MAX_LAYERS];
};

void mv_textnet_free(mv_textnet *n) {
  if (!n) return;
  for (int i = 0; i < n->nlayers; i++) {
    free(n->layer[i].w);
    free(n->layer[i].b);
  }
  free(n);
}

int mv_textnet_radius(const mv_textnet *n) {
  int r = 0;
  for (int i = 0; i < n->nlayers; i++)
    r += (n->layer[i].k / 2) * n->layer[i].dil;
  return r;
}

static int read_floats(FILE *f, float *v, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (fscanf(f, "%f", &v[i]) != 1 || !isfinite(v[i])) return -1;
  }
  return 0;
}

int mv_textnet_load(const char *path, mv_textnet **out, char *err,
                    size_t errlen) {
  *out = NULL;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return MV_EIO;
  }
  mv_textnet *n = calloc(1, sizeof *n);
  int version = 0, nl = 0, rc = MV_EFORMAT;
  if (!n) {
    rc = MV_ENOMEM;
    goto fail;
  }
  if (fscanf(f, "medveil-textnet %d %d", &version, &nl) != 2 || version != 1 ||
      nl < 1 || nl > TN_MAX_LAYERS) {
    snprintf(err, errlen, "%s: not a medveil-textnet 1 model", path);
    goto fail;
  }
  int prev = 2; /* luma, chroma */
  for (int i = 0; i < nl; i++) {
    tn_layer *l = &n->layer[i];
    if (fscanf(f, " conv %d %d %d %d", &l->cin, &l->cout, &l->k, &l->dil) != 4 ||
        l->cin != prev || l->cout < 1 || l->cout > TN_MAX_CHANNELS ||
        l->k < 1 || l->k > TN_MAX_KERNEL || l->k % 2 == 0 || l->dil < 1 ||
        l->dil > TN_MAX_DILATION) {
      snprintf(err, errlen, "%s: layer %d: bad shape", path, i + 1);
      goto fail;
    }
    size_t nw = (size_t)l->cout * l->cin * l->k * l->k;
    l->w = malloc(nw * sizeof *l->w);
    l->b = malloc((size_t)l->cout * sizeof *l->b);
    n->nlayers = i + 1; /* so free() sees what was allocated */
    if (!l->w || !l->b) {
      rc = MV_ENOMEM;
      goto fail;
    }
    if (read_floats(f, l->w, nw) || read_floats(f, l->b, (size_t)l->cout)) {
      snprintf(err, errlen, "%s: layer %d: short or bad weights", path, i + 1);
      goto fail;
    }
    prev = l->cout;
  }
  if (prev != 1) {
    snprintf(err, errlen, "%s: the last layer must give one channel", path);
    goto fail;
  }
  fclose(f);
  *out = n;
  return MV_OK;
fail:
  if (rc == MV_ENOMEM) snprintf(err, errlen, "%s: out of memory", path);
  fclose(f);
  mv_textnet_free(n);
  return rc;
}

/* out[c] (w x h) = layer over in[c] (w x h), zero outside the window.
 * Row by row and TN_BLOCK columns at a time, every output channel of the
 * block together: the input rows read and the sums stay in the first-level
 * cache (plane by plane, a layer streamed its input through memory once
 * per output channel and ran at a third of this speed). */
#define TN_BLOCK 64
/* On x86-64, a second build of the loop for processors with AVX2, picked
 * at load time: 1.45 times faster there. No fused multiply-add, so the
 * logits are the same bit for bit on every processor. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static void run_layer(const tn_layer *l, const float *restrict in,
                      float *restrict out, int w, int h, int relu) {
  size_t plane = (size_t)w * h;
  int half = l->k / 2, kk = l->k * l->k;
  float acc[TN_MAX_CHANNELS][TN_BLOCK];
  for (int y = 0; y < h; y++) {
    for (int bx = 0; bx < w; bx += TN_BLOCK) {
      int nb = w - bx < TN_BLOCK ? w - bx : TN_BLOCK;
      for (int co = 0; co < l->cout; co++)
        for (int i = 0; i < nb; i++) acc[co][i] = l->b[co];
      for (int ci = 0; ci < l->cin; ci++) {
        for (int ky = 0; ky < l->k; ky++) {
          int yy = y + (ky - half) * l->dil;
          if (yy < 0 || yy >= h) continue;
          const float *restrict src = in + ci * plane + (size_t)yy * w;
          for (int kx = 0; kx < l->k; kx++) {
            int dx = (kx - half) * l->dil;
            /* columns bx + i with 0 <= bx + i + dx < w */
            int i0 = -dx - bx > 0 ? -dx - bx : 0;
            int i1 = w - dx - bx < nb ? w - dx - bx : nb;
            if (i1 <= i0) continue;
            const float *restrict s = src + bx + dx;
            const float *wk = l->w + (size_t)ci * kk + ky * l->k + kx;
            for (int co = 0; co < l->cout; co++) {
              float wv = wk[(size_t)co * l->cin * kk];
              float *restrict a = acc[co];
              for (int i = i0; i < i1; i++) a[i] += wv * s[i];
            }
          }
        }
      }
      for (int co = 0; co < l->cout; co++) {
        float *restrict o = out + co * plane + (size_t)y * w + bx;
        for (int i = 0; i < nb; i++)
          o[i] = relu && acc[co][i] < 0 ? 0 : acc[co][i];
      }
    }
  }
}

int mv_textnet_logits(const mv_textnet *n, const mv_image *view, mv_rect r,
                      float *out) {
  if (!n || !view || !view->data || view->bits != 8 ||
      (view->samples != 1 && view->samples != 3) || r.w <= 0 || r.h <= 0 ||
      r.x < 0 || r.y < 0 || r.x + r.w > (int32_t)view->width ||
      r.y + r.h > (int32_t)view->height)
    return MV_EINVAL;
  /* The window: r and the network's reach around it, inside the image.
   * Past the image the network saw zeros in training too; past the window
   * inside the image the error stays within the reach, outside r. */
  int rad = mv_textnet_radius(n);
  int32_t wx0 = r.x - rad < 0 ? 0 : r.x - rad;
  int32_t wy0 = r.y - rad < 0 ? 0 : r.y - rad;
  int32_t wx1 = r.x + r.w + rad, wy1 = r.y + r.h + rad;
  if (wx1 > (int32_t)view->width) wx1 = (int32_t)view->width;
  if (wy1 > (int32_t)view->height) wy1 = (int32_t)view->height;
  int w = wx1 - wx0, h = wy1 - wy0, widest = 2;
  for (int i = 0; i < n->nlayers; i++)
    if (n->layer[i].cout > widest) widest = n->layer[i].cout;
  size_t plane = (size_t)w * h;
  float *a = malloc(plane * widest * sizeof *a);
  float *b = malloc(plane * widest * sizeof *b);
  if (!a || !b) {
    free(a);
    free(b);
    return MV_ENOMEM;
  }
  for (int y = 0; y < h; y++) {
    const uint8_t *row =
        (const uint8_t *)view->data + (size_t)(wy0 + y) * view->stride;
    for (int x = 0; x < w; x++) {
      float luma, chroma = 0;
      if (view->samples == 1) {
        luma = row[wx0 + x];
      } else {
        const uint8_t *p = row + (size_t)(wx0 + x) * 3;
        int hi = p[0], lo = p[0];
        for (int c = 1; c < 3; c++) {
          if (p[c] > hi) hi = p[c];
          if (p[c] < lo) lo = p[c];
        }
        luma = (float)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
        chroma = (float)(hi - lo);
      }
      a[(size_t)y * w + x] = luma / 255.0f;
      a[plane + (size_t)y * w + x] = chroma / 255.0f;
    }
  }
  for (int i = 0; i < n->nlayers; i++) {
    run_layer(&n->layer[i], a, b, w, h, i + 1 < n->nlayers);
    float *t = a;
    a = b;
    b = t;
  }
  for (int32_t y = 0; y < r.h; y++)
    memcpy(out + (size_t)y * r.w,
           a + (size_t)(r.y - wy0 + y) * w + (r.x - wx0),
           (size_t)r.w * sizeof *out);
  free(a);
  free(b);
  return MV_OK;
}

/* How far a line may be followed past each end, in line heights, and the
 * widest gap bridged (a word space is under one height). A column of the
 * line is text when half its rows are marked with logit 1 (p > 0.73).
 * Measured on generated seeds 1 and 3 (seed 1: gaps of 1.5 heights, +0.06
 * points of over-redaction for no box; logit 0, +0.06 points, one box
 * fewer). */
#define TN_REACH_HEIGHTS 20
/* Thicker than the largest characters (30 px fonts): several lines or not
 * text (a Doppler spectrum's lower band grew along itself). */
#define TN_MAX_THICK 32
#define TN_GAP_HEIGHTS 1.0
#define TN_COLUMN_LOGIT 1.0f
#define TN_COLUMN_SHARE 0.5

/* The map is computed in tiles so a large plane (a 4000 x 3000 scan)
 * needs two tiles' worth of layer buffers, not two planes' (128 bytes a
 * pixel with 16 channels: 90 MB for a 768 px tile and its reach): each
 * tile recomputes the network's reach around it, about 17% more work at
 * this size; planes up to one tile are done in one go. */
#define TN_TILE 768

int mv_textnet_map(const mv_textnet *n, const mv_image *view, float **out) {
  *out = NULL;
  if (!view || !view->width || !view->height) return MV_EINVAL;
  int32_t W = (int32_t)view->width, H = (int32_t)view->height;
  float *m = malloc((size_t)W * H * sizeof *m);
  float *tile = malloc((size_t)TN_TILE * TN_TILE * sizeof *tile);
  int rc = m && tile ? MV_OK : MV_ENOMEM;
  for (int32_t ty = 0; rc == MV_OK && ty < H; ty += TN_TILE)
    for (int32_t tx = 0; rc == MV_OK && tx < W; tx += TN_TILE) {
      mv_rect r = {tx, ty, W - tx < TN_TILE ? W - tx : TN_TILE,
                   H - ty < TN_TILE ? H - ty : TN_TILE};
      if ((rc = mv_textnet_logits(n, view, r, tile)) != MV_OK) break;
      for (int32_t y = 0; y < r.h; y++)
        memcpy(m + (size_t)(ty + y) * W + tx, tile + (size_t)y * r.w,
               (size_t)r.w * sizeof *m);
    }
  free(tile);
  if (rc != MV_OK) {
    free(m);
    return rc;
  }
  *out = m;
  return MV_OK;
}

int mv_textnet_complete(const mv_textnet *n, const mv_image *view,
                        const float *map, mv_rect *r, int vertical) {
  if (!n || !view || r->w <= 0 || r->h <= 0) return 0;
  vertical = vertical || r->h >= 2 * r->w;
  int32_t along0 = vertical ? r->y : r->x, len = vertical ? r->h : r->w;
  int32_t across0 = vertical ? r->x : r->y, thick = vertical ? r->w : r->h;
  int32_t limit = (int32_t)(vertical ? view->height : view->width);
  int32_t lim_across = (int32_t)(vertical ? view->width : view->height);
  if (across0 < 0) thick += across0, across0 = 0;
  if (across0 + thick > lim_across) thick = lim_across - across0;
  if (along0 < 0) len += along0, along0 = 0;
  if (along0 + len > limit) len = limit - along0;
  if (thick <= 0 || len <= 0 || thick > TN_MAX_THICK) return 0;
  int32_t reach = thick * TN_REACH_HEIGHTS;
  int32_t a0 = along0 - reach < 0 ? 0 : along0 - reach;
  int32_t a1 = along0 + len + reach > limit ? limit : along0 + len + reach;
  mv_rect win = vertical ? (mv_rect){across0, a0, thick, a1 - a0}
                         : (mv_rect){a0, across0, a1 - a0, thick};
  /* The plane's map when the caller has one, else just this window's. */
  float *own = NULL;
  const float *logit;
  size_t stride;
  if (map) {
    logit = map + (size_t)win.y * view->width + win.x;
    stride = view->width;
  } else {
    own = malloc((size_t)win.w * win.h * sizeof *own);
    if (!own) return MV_ENOMEM;
    int rc = mv_textnet_logits(n, view, win, own);
    if (rc != MV_OK) {
      free(own);
      return rc == MV_EINVAL ? 0 : rc;
    }
    logit = own;
    stride = (size_t)win.w;
  }
  unsigned char *text = malloc((size_t)(a1 - a0));
  if (!text) {
    free(own);
    return MV_ENOMEM;
  }
  for (int32_t p = 0; p < a1 - a0; p++) {
    int marked = 0;
    for (int32_t q = 0; q < thick; q++)
      marked += (vertical ? logit[(size_t)p * stride + q]
                          : logit[(size_t)q * stride + p]) > TN_COLUMN_LOGIT;
    text[p] = marked >= TN_COLUMN_SHARE * thick;
  }
  free(own);
  int32_t gap = (int32_t)(TN_GAP_HEIGHTS * thick + 0.5);
  if (gap < 3) gap = 3;
  int32_t lo = along0, hi = along0 + len; /* [lo, hi) */
  for (int32_t p = hi, last = hi - 1; p < a1 && p - last <= gap; p++)
    if (text[p - a0]) hi = p + 1, last = p;
  for (int32_t p = lo - 1, last = lo; p >= a0 && last - p <= gap; p--)
    if (text[p - a0]) lo = p, last = p;
  free(text);
  if (lo == along0 && hi == along0 + len) return 0;
  if (vertical) r->y = lo, r->h = hi - lo;
  else r->x = lo, r->w = hi - lo;
  return 1;
}

/* A line by itself must be marked surely (a third of it at logit 1.5:
 * p > 0.82) and look like one. Measured on generated seeds 1, 3 and 7
 * with the 8-channel model:
 * filled to 63% of its box (at 55%, seed 7's blocky picture gave lines of
 * its own: over-redaction 2.06% against 1.75%, one box more; at 70%,
 * 4, 1 and 1 boxes fewer); logit 3, seed 1: 8 boxes fewer for 0.12 points
 * less; without the hysteresis, 3 boxes fewer. */
#define TN_LINE_LOGIT 1.5f
/* Marked, for the hysteresis: logit 0.4 (p > 0.6). With the 16-channel
 * model, logit 0 let lines spread into their ground: seeds 1/3/7 at 0.4
 * lose 2/2/1 boxes and 0.10/0.11/0.04 points of over-redaction. */
#define TN_LINE_MARK 0.4f
#define TN_LINE_MIN_SURE 0.3 /* share of its pixels marked surely */
#define TN_LINE_MIN_THICK 5
#define TN_LINE_MAX_THICK 48
#define TN_LINE_MIN_FILL 0.63
/* A line's fringe: rows (columns, for a turned line) marked over less than
 * this share of its length. Marks that bleed into a busy ground beside a
 * small line (colour flow under an accession number) make its box three
 * times as thick as the text and under-filled; its core is the line. */
#define TN_LINE_FRINGE 0.3
#define TN_CORE_MIN_SURE 0.7

/* The component's core: trim fringe rows (columns when it is taller than
 * long) off both sides; `prof` holds its marked count per row (column)
 * from its box's top (left). */
static mv_rect line_core(mv_rect box, const int32_t *prof, size_t *count) {
  int vertical = box.h > box.w;
  int32_t across = vertical ? box.w : box.h, len = vertical ? box.h : box.w;
  int32_t lo = 0, hi = across;
  while (lo < hi && prof[lo] < TN_LINE_FRINGE * len) *count -= prof[lo++];
  while (hi > lo && prof[hi - 1] < TN_LINE_FRINGE * len) *count -= prof[--hi];
  if (vertical) box.x += lo, box.w = hi - lo;
  else box.y += lo, box.h = hi - lo;
  return box;
}

static int line_shaped(mv_rect b, size_t count) {
  int32_t thick = b.w < b.h ? b.w : b.h, len = b.w < b.h ? b.h : b.w;
  return thick >= TN_LINE_MIN_THICK && thick <= TN_LINE_MAX_THICK &&
         len >= 2 * thick && count >= TN_LINE_MIN_FILL * b.w * b.h;
}

int mv_textnet_lines(const float *logit, size_t stride, mv_rect area,
                     mv_rect **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  if (area.w <= 0 || area.h <= 0) return MV_OK;
  size_t np = (size_t)area.w * area.h;
  int32_t *stack = malloc(np * sizeof *stack);
  /* The component's marked pixels per row and per column of the area,
   * cleared over its box after each one. */
  int32_t *rows = calloc((size_t)area.h, sizeof *rows);
  int32_t *cols = calloc((size_t)area.w, sizeof *cols);
  unsigned char *mark = malloc(np);
  int rc = MV_ENOMEM;
  size_t cap = 0;
  if (!stack || !rows || !cols || !mark) goto done;
  /* Hysteresis: a line is the marked pixels joined to sure ones; faint
   * characters between sure ones stay in it. */
  for (int32_t y = 0; y < area.h; y++)
    for (int32_t x = 0; x < area.w; x++)
      mark[(size_t)y * area.w + x] = logit[(size_t)y * stride + x] > TN_LINE_MARK;
  for (size_t seed = 0; seed < np; seed++) {
    if (mark[seed] != 1 ||
        logit[(seed / area.w) * stride + seed % area.w] <= TN_LINE_LOGIT)
      continue;
    /* Flood fill (4-connected); mark 2 = visited. */
    size_t top = 0, count = 0, sure = 0;
    int32_t x0 = area.w, y0 = area.h, x1 = -1, y1 = -1;
    stack[top++] = (int32_t)seed;
    mark[seed] = 2;
    while (top) {
      int32_t i = stack[--top], x = i % area.w, y = i / area.w;
      count++;
      rows[y]++;
      cols[x]++;
      sure += logit[(size_t)y * stride + x] > TN_LINE_LOGIT;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      int32_t nb[4] = {x > 0 ? i - 1 : -1, x + 1 < area.w ? i + 1 : -1,
                       y > 0 ? i - area.w : -1, y + 1 < area.h ? i + area.w : -1};
      for (int k = 0; k < 4; k++)
        if (nb[k] >= 0 && mark[nb[k]] == 1) {
          mark[nb[k]] = 2;
          stack[top++] = nb[k];
        }
    }
    mv_rect box = {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
    int keep = sure >= TN_LINE_MIN_SURE * count;
    if (keep && !line_shaped(box, count)) {
      /* Only a line too thinly filled is trimmed, and only a surely
       * marked one: the blocks of a coarse JPEG picture fill a box as
       * well, but half as surely. */
      size_t core = count;
      keep = line_shaped(box, (size_t)box.w * box.h) &&
             sure >= TN_CORE_MIN_SURE * count;
      if (keep) {
        box = line_core(box, box.h > box.w ? cols + x0 : rows + y0, &core);
        keep = line_shaped(box, core);
      }
    }
    memset(rows + y0, 0, (size_t)(y1 - y0 + 1) * sizeof *rows);
    memset(cols + x0, 0, (size_t)(x1 - x0 + 1) * sizeof *cols);
    if (!keep) continue;
    if (*nout == cap) {
      size_t nc = cap ? 2 * cap : 8;
      mv_rect *g = realloc(*out, nc * sizeof *g);
      if (!g) goto done;
      *out = g;
      cap = nc;
    }
    (*out)[(*nout)++] = (mv_rect){area.x + box.x, area.y + box.y, box.w, box.h};
  }
  rc = MV_OK;
done:
  if (rc != MV_OK) {
    free(*out);
    *out = NULL;
    *nout = 0;
  }
  free(stack);
  free(rows);
  free(cols);
  free(mark);
  return rc;
}
