/* ocr_cc.c - text lines from connected components of a stroke image.
 *
 * Tesseract's layout analysis is built for pages: on a medical image it
 * takes a skull and two vertical dates for one block, cuts a line at a
 * bright edge, or returns nothing for faint text. Burned-in text has a
 * simple shape that is cheap to find directly: components of about one
 * size (characters), side by side along a row or a column, with their
 * bottoms (or tops, or sides when turned) on one line. Chains of at least
 * three such components are candidate lines; speckle and tissue edges
 * rarely line up like that.
 */
#include "ocr_internal.h"

#include <leptonica/allheaders.h>

#include <stdlib.h>
#include <string.h>

/* Components beyond this are texture, not text: the image is skipped. */
#define CC_MAX 40000
/* Character size limits in native pixels (8 px fonts: 5 px digits; 30 px
 * fonts: glyphs with descenders about 34 px; merged runs of small glyphs
 * are long but never thicker). */
#define CC_MIN_THICK 4.5
#define CC_MAX_THICK 34.0
#define CC_MAX_RUN 24 /* length of a merged run, in thicknesses */
/* A line's stroke density inside, and how many times denser than in the
 * ring around it (measured on ultrasound speckle: chains there have 0.10
 * to 0.25 inside and a third of that or more around; text 0.24 to 0.71
 * inside, nearly nothing around; 60 generated images: a quarter). */
#define CC_MIN_DENSITY 0.22
#define CC_RING_RATIO 4.0
/* ... or, with a ring this clean, this dense inside (thin strokes). */
#define CC_CLEAN_RING 0.01
#define CC_MIN_DENSITY_CLEAN 0.12
/* A chain of three whose thicknesses spread more than this (median absolute
 * deviation over the mean) is blobs. Measured on 60 generated
 * images: the ring ratio 4 and this remove half the false chains' area, for
 * a tenth of the text chains (mostly found again in another channel). */
#define CC_SHORT_SPREAD 0.15
#define CC_SPREAD 0.35 /* for longer chains (Doppler, ECG traces) */
#define CC_SHORT_RING_RATIO 8.0

typedef struct cc_item {
  int x, y, w, h; /* work-image box */
  int parent;     /* union-find */
  int used;       /* taken by a horizontal line */
} cc_item;

static int find(cc_item *v, int i) {
  while (v[i].parent != i) {
    v[i].parent = v[v[i].parent].parent;
    i = v[i].parent;
  }
  return i;
}

static void unite(cc_item *v, int a, int b) {
  a = find(v, a), b = find(v, b);
  if (a != b) v[a < b ? b : a].parent = a < b ? a : b;
}

/* The geometry of item i in the frame of a line: s along, t across. */
typedef struct cc_geo {
  int s, sl, t, tl;
} cc_geo;

static cc_geo geo(const cc_item *c, int vertical) {
  cc_geo g;
  g.s = vertical ? c->y : c->x;
  g.sl = vertical ? c->h : c->w;
  g.t = vertical ? c->x : c->y;
  g.tl = vertical ? c->w : c->h;
  return g;
}

/* Character-sized in the frame of a line (`vertical`: a turned line). */
static int char_sized(const cc_item *c, int vertical, double scale) {
  cc_geo g = geo(c, vertical);
  if (g.tl < CC_MIN_THICK * scale || g.tl > CC_MAX_THICK * scale) return 0;
  return g.sl <= CC_MAX_RUN * g.tl;
}

/* a and b neighbours along one row (b after a): about one size, on one
 * row, and closer than a wide word gap. */
static int neighbours(const cc_item *a, const cc_item *b, int vertical) {
  cc_geo ga = geo(a, vertical), gb = geo(b, vertical);
  int lo = ga.tl < gb.tl ? ga.tl : gb.tl, hi = ga.tl > gb.tl ? ga.tl : gb.tl;
  if (10 * hi > 22 * lo) return 0; /* other sizes (or punctuation) */
  int o1 = ga.t > gb.t ? ga.t : gb.t;
  int o2 = ga.t + ga.tl < gb.t + gb.tl ? ga.t + ga.tl : gb.t + gb.tl;
  if (10 * (o2 - o1) < 6 * lo) return 0; /* not one row */
  int gap = gb.s - (ga.s + ga.sl);
  return gap >= -lo / 4 && 2 * gap <= 3 * hi;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Median absolute deviation of v[0..n) (v is sorted in place). */
static int mad(int *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_int);
  int med = v[n / 2];
  for (int i = 0; i < n; i++) v[i] = abs(v[i] - med);
  qsort(v, (size_t)n, sizeof *v, cmp_int);
  return v[n / 2];
}

/* Members m[0..n) form a line: enough of them, and one edge of the row
 * (baseline, cap line, or a side when turned) straight. */
static int line_like(const cc_item *v, const int *m, int n, int vertical,
                     int *scratch) {
  /* Three characters at least: two blobs side by side are any texture
   * (two streaks of speckle passed every other test; dropping two-member
   * chains cost one box of 583 on the generated set). */
  if (n < 3) return 0;
  int thick = 0;
  for (int i = 0; i < n; i++) {
    cc_geo g = geo(&v[m[i]], vertical);
    if (g.tl > thick) thick = g.tl;
  }
  for (int i = 0; i < n; i++) scratch[i] = geo(&v[m[i]], vertical).t;
  int d1 = mad(scratch, n);
  for (int i = 0; i < n; i++) {
    cc_geo g = geo(&v[m[i]], vertical);
    scratch[i] = g.t + g.tl;
  }
  int d2 = mad(scratch, n);
  int d = d1 < d2 ? d1 : d2;
  return 8 * d <= thick;
}

/* Stroke density inside a line box (`st`) and in the ring around it (grown
 * by half the line's thickness plus 2; counted in `ring_st`). */
static void ring_density(PIX *st, PIX *ring_st, int pad, int x, int y, int w,
                         int h, int vertical, double *din, double *dring) {
  int thick = vertical ? w : h, g = thick / 2 + 2;
  l_int32 n_in = 0, r_in = 0, r_out = 0;
  BOX *a = boxCreate(x + pad, y + pad, w, h);
  BOX *b = boxCreate(x + pad - g, y + pad - g, w + 2 * g, h + 2 * g);
  BOX *bc = b ? boxClipToRectangle(b, pixGetWidth(st), pixGetHeight(st)) : NULL;
  if (a) pixCountPixelsInRect(st, a, &n_in, NULL);
  if (a) pixCountPixelsInRect(ring_st, a, &r_in, NULL);
  if (bc) pixCountPixelsInRect(ring_st, bc, &r_out, NULL);
  long a_in = (long)w * h, a_out = bc ? (long)bc->w * bc->h : 0;
  *din = a_in > 0 ? (double)n_in / a_in : 0;
  *dring = a_out > a_in ? (double)(r_out - r_in) / (a_out - a_in) : 0;
  boxDestroy(&a);
  boxDestroy(&b);
  boxDestroy(&bc);
}

/* The band of a line across its direction: from the 20th percentile of
 * the characters' tops to the 80th of their bottoms (ascenders and
 * accents are few), widened by a tenth of its thickness either side. */
static void band(const cc_item *v, const int *m, int n, int vertical,
                 int *scratch, int *lo, int *hi) {
  for (int i = 0; i < n; i++) scratch[i] = geo(&v[m[i]], vertical).t;
  qsort(scratch, (size_t)n, sizeof *scratch, cmp_int);
  int top = scratch[n / 5];
  for (int i = 0; i < n; i++) {
    cc_geo g = geo(&v[m[i]], vertical);
    scratch[i] = g.t + g.tl;
  }
  qsort(scratch, (size_t)n, sizeof *scratch, cmp_int);
  int bottom = scratch[n - 1 - n / 5];
  int extra = (bottom - top) / 10 + 1;
  *lo = top - extra;
  *hi = bottom + extra;
}

/* Median absolute deviation of the members' thicknesses over their mean. */
static double size_spread(const cc_item *v, const int *m, int n, int vertical,
                          int *scratch) {
  double sum = 0;
  for (int i = 0; i < n; i++) {
    scratch[i] = geo(&v[m[i]], vertical).tl;
    sum += scratch[i];
  }
  return sum > 0 ? mad(scratch, n) / (sum / n) : 0;
}

/* The union box of members m[0..n). */
static void bounds(const cc_item *v, const int *m, int n, int *x1, int *y1,
                   int *x2, int *y2) {
  *x1 = v[m[0]].x, *y1 = v[m[0]].y;
  *x2 = *x1 + v[m[0]].w, *y2 = *y1 + v[m[0]].h;
  for (int j = 1; j < n; j++) {
    const cc_item *c = &v[m[j]];
    if (c->x < *x1) *x1 = c->x;
    if (c->y < *y1) *y1 = c->y;
    if (c->x + c->w > *x2) *x2 = c->x + c->w;
    if (c->y + c->h > *y2) *y2 = c->y + c->h;
  }
}

/* Members m[0..n) look like a line but for the ring around them: enough of
 * them with one edge straight, running the right way, of one height. Their
 * union box goes to (x1,y1)-(x2,y2). `scratch` holds n ints. */
static int candidate(const cc_item *v, const int *m, int n, int vertical,
                     int *scratch, int *x1, int *y1, int *x2, int *y2) {
  if (n == 0 || !line_like(v, m, n, vertical, scratch)) return 0;
  bounds(v, m, n, x1, y1, x2, y2);
  /* A turned line must come out tall, a row wide: otherwise it is a stack
   * of rows, which the other direction reads. */
  if (vertical != ocr_layout_tall(*x2 - *x1, *y2 - *y1)) return 0;
  /* Speckle is stretched across the beam: stacks of streaks look like
   * turned characters, so a turned line needs one more. */
  if (vertical && n < 4) return 0;
  /* "Characters" of different sizes are blobs: the characters of a line
   * are of one height, give or take an x-height. */
  double spread = size_spread(v, m, n, vertical, scratch);
  if (spread > (n <= 3 ? CC_SHORT_SPREAD : CC_SPREAD)) return 0;
  /* Three members: a median deviation cannot see one odd one out (13, 13
   * and 22 px: Doppler flames), so the extremes are compared. */
  if (n == 3) {
    int lo = geo(&v[m[0]], vertical).tl, hi = lo;
    for (int i = 1; i < n; i++) {
      int t = geo(&v[m[i]], vertical).tl;
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    if (2 * hi > 3 * lo) return 0;
  }
  return 1;
}

/* Chain char-sized items along rows (or columns) and add the lines.
 * `scratch` holds 3n ints. */
static void chain(PIX *strokes, int pad, cc_item *v, int n, int *order,
                  int vertical, double scale, BOXA *out, BOXAA *glyphs,
                  int *members, int *scratch) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    v[i].parent = i;
    if (!v[i].used && char_sized(&v[i], vertical, scale)) order[k++] = i;
  }
  /* Sort by position along the row (shell sort on key and order). */
  int *key = scratch;
  for (int i = 0; i < k; i++) key[i] = vertical ? v[order[i]].y : v[order[i]].x;
  for (int gapn = k / 2; gapn > 0; gapn /= 2)
    for (int i = gapn; i < k; i++)
      for (int j = i; j >= gapn && key[j - gapn] > key[j]; j -= gapn) {
        int t = key[j]; key[j] = key[j - gapn]; key[j - gapn] = t;
        t = order[j]; order[j] = order[j - gapn]; order[j - gapn] = t;
      }
  int reach = (int)(CC_MAX_THICK * scale * 1.5) + 1;
  for (int i = 0; i < k; i++) {
    const cc_item *a = &v[order[i]];
    cc_geo ga = geo(a, vertical);
    int end = ga.s + ga.sl;
    for (int j = i + 1; j < k; j++) {
      const cc_item *b = &v[order[j]];
      if (key[j] > end + reach) break;
      if (neighbours(a, b, vertical)) unite(v, order[i], order[j]);
    }
  }
  /* Each chain as a list: next[] links the members of one root, in order
   * along the row; head[] is indexed by item. */
  int *next = key, *head = scratch + n;
  for (int i = 0; i < n; i++) head[i] = -1;
  for (int i = k - 1; i >= 0; i--) {
    int r = find(v, order[i]);
    next[i] = head[r];
    head[r] = i;
  }
  /* Candidates: chains that look like lines but for their ring; their
   * first members are compacted into head[] (head[r] is read before
   * anything at r or above is written). Their boxes make a mask: each ring
   * is then counted without the strokes of the others (a line stacked
   * under another has that line in its ring). */
  int ncand = 0, x1, y1, x2, y2;
  PIX *mask = pixCreateTemplate(strokes);
  for (int r = 0; r < n; r++) {
    int nm = 0;
    for (int i = head[r]; i >= 0; i = next[i]) members[nm++] = order[i];
    if (!candidate(v, members, nm, vertical, scratch + 2 * n, &x1, &y1, &x2,
                   &y2))
      continue;
    head[ncand++] = head[r];
    if (mask)
      pixRasterop(mask, x1 + pad, y1 + pad, x2 - x1, y2 - y1, PIX_SET, NULL,
                  0, 0);
  }
  PIX *ring_st = mask ? pixSubtract(NULL, strokes, mask) : NULL;
  if (!ring_st) ring_st = pixClone(strokes);
  for (int ci = 0; ci < ncand; ci++) {
    int nm = 0;
    for (int i = head[ci]; i >= 0; i = next[i]) members[nm++] = order[i];
    bounds(v, members, nm, &x1, &y1, &x2, &y2);
    /* Standing out: dense strokes inside, few in the ring around. Chains
     * in speckle have about as many strokes around as inside. */
    double din, dring;
    ring_density(strokes, ring_st, pad, x1, y1, x2 - x1, y2 - y1, vertical,
                 &din, &dring);
    /* Thin fonts (a 16 px serif turned) are sparse inside: on a clean
     * ground they still stand out. */
    int clean = dring <= CC_CLEAN_RING && din >= CC_MIN_DENSITY_CLEAN;
    if ((din < CC_MIN_DENSITY && !clean) || dring * CC_RING_RATIO > din)
      continue;
    /* Three blobs side by side happen in any texture: a short chain needs
     * a cleaner ring still. */
    if (nm <= 3 && dring * CC_SHORT_RING_RATIO > din) continue;
    /* Across, the band of the characters, not of the union: a glyph
     * touching an edge of the anatomy in the stroke image is a tall
     * "character" that would widen the line over the picture. */
    int lo, hi;
    band(v, members, nm, vertical, scratch + 2 * n, &lo, &hi);
    if (vertical) {
      if (lo > x1) x1 = lo;
      if (hi < x2) x2 = hi;
    } else {
      if (lo > y1) y1 = lo;
      if (hi < y2) y2 = hi;
    }
    BOX *b = boxCreate(x1, y1, x2 - x1, y2 - y1);
    BOXA *g = glyphs ? boxaCreate(nm) : NULL;
    if (!b || (glyphs && !g)) {
      boxDestroy(&b);
      boxaDestroy(&g);
      continue;
    }
    for (int j = 0; j < nm; j++) {
      const cc_item *c = &v[members[j]];
      v[members[j]].used = 1;
      if (!g) continue;
      int gx1 = c->x > x1 ? c->x : x1, gy1 = c->y > y1 ? c->y : y1;
      int gx2 = c->x + c->w < x2 ? c->x + c->w : x2;
      int gy2 = c->y + c->h < y2 ? c->y + c->h : y2;
      if (gx2 > gx1 && gy2 > gy1)
        boxaAddBox(g, boxCreate(gx1, gy1, gx2 - gx1, gy2 - gy1), L_INSERT);
    }
    boxaAddBox(out, b, L_INSERT);
    if (g) boxaaAddBoxa(glyphs, g, L_INSERT);
  }
  pixDestroy(&ring_st);
  pixDestroy(&mask);
}

BOXA *ocr_cc_lines(PIX *strokes, int pad, double scale, BOXAA *glyphs) {
  BOXA *out = boxaCreate(16);
  if (!out || !strokes) return out;
  BOXA *cc = pixConnCompBB(strokes, 8);
  l_int32 n = cc ? boxaGetCount(cc) : 0;
  if (n <= 0 || n > CC_MAX) {
    boxaDestroy(&cc);
    return out;
  }
  cc_item *v = calloc((size_t)n, sizeof *v);
  int *order = malloc((size_t)n * sizeof *order);
  int *members = malloc((size_t)n * sizeof *members);
  int *scratch = malloc((size_t)n * 3 * sizeof *scratch);
  if (v && order && members && scratch) {
    int k = 0;
    for (l_int32 i = 0; i < n; i++) {
      l_int32 x, y, w, h;
      if (boxaGetBoxGeometry(cc, i, &x, &y, &w, &h)) continue;
      v[k].x = x - pad, v[k].y = y - pad, v[k].w = w, v[k].h = h;
      k++;
    }
    chain(strokes, pad, v, k, order, 0, scale, out, glyphs, members, scratch);
    chain(strokes, pad, v, k, order, 1, scale, out, glyphs, members, scratch);
  }
  free(v);
  free(order);
  free(members);
  free(scratch);
  boxaDestroy(&cc);
  return out;
}
