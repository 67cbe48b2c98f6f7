/* mv_flatink.c - faint ink on a flat ground (see mv_flatink.h). */
#include "mv_flatink.h"

#include <stdlib.h>
#include <string.h>

#include "mv_linewalk.h"

#define BLOCK 16
#define FLAT_SHARE 0.5 /* of a block within one level of its mode */
#define INK_LEAST 0.05 /* band share of ink pixels */
#define INK_MOST 0.6   /* a band mostly off the ground is not faint text */
#define ROUGH 0.10     /* band share not on a flat ground at all */
#define SIDE_ROUGH 0.15 /* each side: a flat ground (or another line on it) */
#define SIDE_TEXTURE 0.5 /* or, one side only, mostly texture */
#define STROKES 1.5    /* ink/ground changes per band row */
#define SHADE_OFF 4.0  /* grey levels a window's ink may differ from the */
#define SHADE_SHARE 0.75 /* line's, or this share of its contrast if more */

static int luma_at(const mv_image *v, uint32_t x, uint32_t y) {
  const uint8_t *p = (const uint8_t *)v->data + (size_t)y * v->stride +
                     (size_t)x * v->samples;
  return v->samples == 3 ? (p[0] + 2 * p[1] + p[2]) / 4 : p[0];
}

/* The histogram of luma in block (i, j); its pixel count returned. */
static unsigned block_hist(const mv_image *view, uint32_t i, uint32_t j,
                           unsigned hist[256]) {
  memset(hist, 0, 256 * sizeof *hist);
  uint32_t x0 = i * BLOCK, y0 = j * BLOCK;
  uint32_t x1 = x0 + BLOCK < view->width ? x0 + BLOCK : view->width;
  uint32_t y1 = y0 + BLOCK < view->height ? y0 + BLOCK : view->height;
  for (uint32_t y = y0; y < y1; y++)
    for (uint32_t x = x0; x < x1; x++) hist[luma_at(view, x, y)]++;
  return (x1 - x0) * (y1 - y0);
}

/* The most common level of a histogram; *near gets how many lie within
 * one level of it. */
static int hist_mode(const unsigned hist[256], unsigned *near) {
  int mode = 0;
  for (int i = 1; i < 256; i++)
    if (hist[i] > hist[mode]) mode = i;
  *near = hist[mode] + (mode > 0 ? hist[mode - 1] : 0) +
          (mode < 255 ? hist[mode + 1] : 0);
  return mode;
}

/* The ground of a block flat by itself: its most common level, when half
 * the block is within one level of it; -1 otherwise. */
static int own_ground(const unsigned hist[256], unsigned npix) {
  unsigned near;
  int mode = hist_mode(hist, &near);
  return near >= FLAT_SHARE * npix ? mode : -1;
}

/* A block over the characters of a faint line is often less than half
 * ground (a 22 px monospaced date), yet it lies on the ground of its
 * neighbours: it takes a flat neighbour's ground `g` when a quarter of it
 * is at that level and nearly all the rest is faint ink of one colour.
 * Texture, or the edge of a picture, spreads far off that level. */
#define TAKE_GROUND 0.25 /* of the block within a level of g */
#define TAKE_FAINT 24    /* levels off g, at most, for its ink */
#define TAKE_ALL 0.97    /* of the block: ground, or faint ink of one colour */

static int takes_ground(const unsigned hist[256], unsigned npix, int g) {
  unsigned at = 0, lighter = 0, darker = 0;
  for (int i = g - TAKE_FAINT; i <= g + TAKE_FAINT; i++) {
    if (i < 0 || i > 255) continue;
    if (i >= g - 1 && i <= g + 1) at += hist[i];
    else if (i > g) lighter += hist[i];
    else darker += hist[i];
  }
  unsigned ink = lighter > darker ? lighter : darker;
  return at >= TAKE_GROUND * npix && at + ink >= TAKE_ALL * npix;
}

unsigned char *mv_flatink_map(const mv_image *view) {
  if (!view || !view->data || view->bits != 8 ||
      (view->samples != 1 && view->samples != 3) || !view->width ||
      !view->height)
    return NULL;
  uint32_t w = view->width, h = view->height;
  uint32_t nbx = (w + BLOCK - 1) / BLOCK, nby = (h + BLOCK - 1) / BLOCK;
  size_t nb = (size_t)nbx * nby;
  unsigned char *m = malloc((size_t)w * h);
  int *own = malloc(nb * sizeof *own), *ground = malloc(nb * sizeof *ground);
  if (!m || !own || !ground) {
    free(m);
    free(own);
    free(ground);
    return NULL;
  }
  unsigned hist[256];
  for (uint32_t j = 0; j < nby; j++)
    for (uint32_t i = 0; i < nbx; i++) {
      unsigned npix = block_hist(view, i, j, hist);
      own[(size_t)j * nbx + i] = own_ground(hist, npix);
    }
  /* Only blocks flat by themselves lend their ground, so ink cannot creep
   * from block to block across a picture. */
  static const int di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1};
  for (uint32_t j = 0; j < nby; j++)
    for (uint32_t i = 0; i < nbx; i++) {
      size_t k = (size_t)j * nbx + i;
      ground[k] = own[k];
      if (own[k] >= 0) continue;
      unsigned npix = block_hist(view, i, j, hist);
      for (int d = 0; d < 4; d++) {
        long ni = (long)i + di[d], nj = (long)j + dj[d];
        if (ni < 0 || nj < 0 || ni >= (long)nbx || nj >= (long)nby) continue;
        int g = own[(size_t)nj * nbx + (size_t)ni];
        if (g >= 0 && takes_ground(hist, npix, g)) {
          ground[k] = g;
          break;
        }
      }
    }
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      int g = ground[(size_t)(y / BLOCK) * nbx + x / BLOCK];
      int d = luma_at(view, x, y) - g;
      m[(size_t)y * w + x] = g < 0                ? MV_FLAT_TEXTURE
                             : d <= 1 && d >= -1 ? MV_FLAT_GROUND
                                                 : MV_FLAT_INK;
    }
  free(own);
  free(ground);
  return m;
}

/* The shade of the line being followed at each end (its ink's and its
 * ground's): a row can join lines of two shades, and each end is followed
 * in its own. */
typedef struct line_shade {
  double ink[2], ground[2];
  int known[2];
  int32_t mid; /* windows from here on continue the far end */
} line_shade;

/* Mean luma of the ink in a window, 0 when there is none. */
static int ink_shade(const mv_line_view *v, int32_t c0, int32_t c1, int32_t a0,
                     int32_t a1, double *ink, double *ground) {
  return mv_line_shades(v, c0, c1, a0, a1, MV_FLAT_INK, MV_FLAT_INK, ink,
                        ground);
}

/* Faint strokes across the band on a flat ground that runs on above and
 * below it, in the shade of the line's own (a blob of noise on the same
 * ground is another shade). */
static int faint_strokes(const mv_line_view *v, int32_t c0, int32_t c1,
                         int32_t a0, int32_t a1, void *ud) {
  const line_shade *line = ud;
  int end = c0 >= line->mid;
  if (!line->known[end]) return 0;
  int32_t t = a1 - a0;
  long nin, nup, ndown, n;
  long ink = mv_line_count(v, c0, c1, a0, a1, MV_FLAT_INK, MV_FLAT_INK, &nin);
  long rough = mv_line_count(v, c0, c1, a0, a1, MV_FLAT_TEXTURE,
                             MV_FLAT_TEXTURE, &n);
  if (!nin || ink < INK_LEAST * nin || ink > INK_MOST * nin ||
      rough > ROUGH * nin)
    return 0;
  /* The ground runs on above and below; a line of text close by may sit
   * on it, with less ink than this one's band. One side may be texture
   * instead (a line along the edge of a banner, the picture below it),
   * when what flat ground it has is as clean as the band: a side of
   * ground strewn with ink is not that. */
  int clean = 0;
  for (int side = 0; side < 2; side++) {
    int32_t s0 = side ? a1 : a0 - t, s1 = side ? a1 + t : a0;
    long *ns = side ? &ndown : &nup;
    long srough = mv_line_count(v, c0, c1, s0, s1, MV_FLAT_TEXTURE,
                                MV_FLAT_TEXTURE, ns);
    long sink = mv_line_count(v, c0, c1, s0, s1, MV_FLAT_INK, MV_FLAT_INK, &n);
    if (2 * *ns < nin) return 0;
    if (srough > SIDE_TEXTURE * *ns) {
      if ((double)sink * nin > (double)ink * (*ns - srough)) return 0;
      continue;
    }
    if (srough > SIDE_ROUGH * *ns || (double)sink / *ns >= (double)ink / nin)
      return 0;
    clean++;
  }
  if (!clean) return 0;
  if (mv_line_crossings(v, c0, c1, a0, a1, MV_FLAT_INK, MV_FLAT_INK) <
      STROKES)
    return 0;
  double shade, ground;
  if (!ink_shade(v, c0, c1, a0, a1, &shade, &ground)) return 0;
  /* Same polarity, and near the line's shade: anti-aliased strokes of a
   * small font are paler than a larger one's. */
  double contrast = line->ink[end] - line->ground[end],
         off = shade - line->ink[end];
  if ((shade - ground) * contrast <= 0) return 0;
  if (contrast < 0) contrast = -contrast;
  if (off < 0) off = -off;
  return off <= (contrast * SHADE_SHARE > SHADE_OFF ? contrast * SHADE_SHARE
                                                   : SHADE_OFF);
}

int mv_flatink_complete(const unsigned char *map, const mv_image *view,
                        mv_rect *r, int vertical) {
  if (!map || !view || !view->data || !r) return 0;
  mv_line_view v = mv_line_view_of(map, view, vertical);
  /* The line's own faint ink near each end (two heights in): none,
   * nothing to follow there. */
  line_shade line;
  int32_t c0 = vertical ? r->y : r->x, a0 = vertical ? r->x : r->y;
  int32_t c1 = c0 + (vertical ? r->h : r->w), a1 = a0 + (vertical ? r->w : r->h);
  int32_t t = a1 - a0;
  line.mid = (c0 + c1) / 2;
  line.known[0] = ink_shade(&v, c0, c0 + 2 * t < c1 ? c0 + 2 * t : c1, a0, a1,
                            &line.ink[0], &line.ground[0]);
  line.known[1] = ink_shade(&v, c1 - 2 * t > c0 ? c1 - 2 * t : c0, c1, a0, a1,
                            &line.ink[1], &line.ground[1]);
  if (!line.known[0] && !line.known[1]) return 0;
  return mv_line_walk(&v, r, faint_strokes, &line);
}

/* ---- Lines found on the map alone. ---- */

#define JOIN_GAP 5      /* pixels between characters (and words) of a line */
#define LINE_THIN 5
#define LINE_THICK 40
#define LINE_INK_LEAST 0.08
/* A small font's anti-aliased strokes ink 70% of its box (seed 3: +5
 * boxes against 60%, +0.004 points of over-redaction). */
#define LINE_INK_MOST 0.75
#define RING_GROUND 0.9 /* of the 3 px ring: within a level of one grey */
#define FAINT 24.0      /* mean grey levels of a line's ink off its ground */
#define ONE_SIDE 0.9    /* of its ink lighter than the ground, or darker */
#define RING_INK 0.05   /* of the 3 px ring: ink (another line touching) */
#define LINE_STROKES 1.0 /* ink/ground changes per row and line height */

typedef struct run {
  int32_t along, from, to; /* row (or column) and its span [from, to) */
  int32_t parent;
} run;

static int32_t root(run *r, int32_t i) {
  while (r[i].parent != i) i = r[i].parent = r[r[i].parent].parent;
  return i;
}

/* Map byte at (x, y) when scanning rows (transposed: columns). */
static unsigned char map_at(const unsigned char *m, uint32_t w, int transposed,
                            int32_t along, int32_t across) {
  return transposed ? m[(size_t)across * w + (uint32_t)along]
                    : m[(size_t)along * w + (uint32_t)across];
}

/* The ring [box grown by 3] minus the box: one flat ground all around,
 * most of it within one level of a single grey (an edge between two flat
 * areas of different greys is not a line on a ground), and no ink (another
 * line touching). */
static int one_ground_around(const unsigned char *m, const mv_image *view,
                             mv_rect b, int *ground) {
  uint32_t w = view->width, h = view->height;
  int32_t x0 = b.x - 3 < 0 ? 0 : b.x - 3, y0 = b.y - 3 < 0 ? 0 : b.y - 3;
  int32_t x1 = b.x + b.w + 3 > (int32_t)w ? (int32_t)w : b.x + b.w + 3;
  int32_t y1 = b.y + b.h + 3 > (int32_t)h ? (int32_t)h : b.y + b.h + 3;
  unsigned hist[256];
  memset(hist, 0, sizeof hist);
  long n = 0, ni = 0;
  for (int32_t y = y0; y < y1; y++)
    for (int32_t x = x0; x < x1; x++) {
      if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) continue;
      n++;
      ni += m[(size_t)y * w + (uint32_t)x] == MV_FLAT_INK;
      hist[luma_at(view, (uint32_t)x, (uint32_t)y)]++;
    }
  if (!n || ni > RING_INK * n) return 0;
  unsigned near;
  *ground = hist_mode(hist, &near);
  return near >= RING_GROUND * n;
}

static int line_shaped(const unsigned char *m, const mv_image *view,
                       mv_rect b, int vertical) {
  uint32_t w = view->width;
  int32_t thick = vertical ? b.w : b.h, len = vertical ? b.h : b.w;
  if (thick < LINE_THIN || thick > LINE_THICK || len < 2 * thick) return 0;
  long ink = 0, n = (long)b.w * b.h, cross = 0;
  for (int32_t y = b.y; y < b.y + b.h; y++)
    for (int32_t x = b.x; x < b.x + b.w; x++) {
      int is = m[(size_t)y * w + (uint32_t)x] == MV_FLAT_INK;
      ink += is;
      int32_t px = vertical ? x : x - 1, py = vertical ? y - 1 : y;
      if ((vertical ? y > b.y : x > b.x) &&
          is != (m[(size_t)py * w + (uint32_t)px] == MV_FLAT_INK))
        cross++;
    }
  if (ink < LINE_INK_LEAST * n || ink > LINE_INK_MOST * n) return 0;
  if ((double)cross < LINE_STROKES * len) return 0; /* per row, per height */
  int ground;
  if (!one_ground_around(m, view, b, &ground)) return 0;
  /* Faint: what stands out more is the readers' and the strokes' to find,
   * and a flat ground strewn with dark and light specks is not a line. */
  /* And of one colour: its ink all on one side of the ground (blotches of
   * noise are darker and lighter at once). */
  double off = 0;
  long lighter = 0;
  for (int32_t y = b.y; y < b.y + b.h; y++)
    for (int32_t x = b.x; x < b.x + b.w; x++)
      if (m[(size_t)y * w + (uint32_t)x] == MV_FLAT_INK) {
        int d = luma_at(view, (uint32_t)x, (uint32_t)y) - ground;
        off += d < 0 ? -d : d;
        lighter += d > 0;
      }
  long side = lighter > ink - lighter ? lighter : ink - lighter;
  return off <= FAINT * ink && side >= ONE_SIDE * ink;
}

/* Runs of ink joined across small gaps, scanned along rows (or columns),
 * grouped into 8-connected components; their boxes that look like lines
 * are appended to *out. */
static int scan_lines(const unsigned char *m, const mv_image *view,
                      int transposed, mv_rect **out, size_t *n) {
  uint32_t w = view->width, h = view->height;
  int32_t nalong = (int32_t)(transposed ? w : h);
  int32_t nacross = (int32_t)(transposed ? h : w);
  run *runs = NULL;
  size_t nruns = 0, cap = 0;
  int rc = MV_OK;
  size_t prev_first = 0, prev_end = 0;
  for (int32_t a = 0; a < nalong && rc == MV_OK; a++) {
    size_t first = nruns;
    for (int32_t c = 0; c < nacross;) {
      if (map_at(m, w, transposed, a, c) != MV_FLAT_INK) {
        c++;
        continue;
      }
      int32_t from = c, last = c;
      for (c++; c < nacross && c - last <= JOIN_GAP; c++)
        if (map_at(m, w, transposed, a, c) == MV_FLAT_INK) last = c;
      if (nruns == cap) {
        cap = cap ? 2 * cap : 1024;
        run *g = realloc(runs, cap * sizeof *g);
        if (!g) {
          rc = MV_ENOMEM;
          break;
        }
        runs = g;
      }
      runs[nruns] = (run){a, from, last + 1, (int32_t)nruns};
      /* 8-connected with the previous row's runs. */
      for (size_t k = prev_first; k < prev_end; k++)
        if (runs[k].from <= last + 1 && from <= runs[k].to) {
          int32_t x = root(runs, (int32_t)k), y = root(runs, (int32_t)nruns);
          if (x != y) runs[x > y ? x : y].parent = x < y ? x : y;
        }
      nruns++;
      c = last + 1;
    }
    prev_first = first;
    prev_end = nruns;
  }
  mv_rect *box = rc == MV_OK && nruns ? malloc(nruns * sizeof *box) : NULL;
  if (nruns && rc == MV_OK && !box) rc = MV_ENOMEM;
  for (size_t i = 0; rc == MV_OK && i < nruns; i++) box[i].w = -1;
  for (size_t i = 0; rc == MV_OK && i < nruns; i++) {
    int32_t r = root(runs, (int32_t)i);
    /* (x, y) = (across, along) when scanning rows. */
    int32_t x0 = runs[i].from, x1 = runs[i].to, y = runs[i].along;
    mv_rect *b = &box[r];
    if (b->w < 0) {
      *b = (mv_rect){x0, y, x1 - x0, 1};
      continue;
    }
    int32_t bx1 = b->x + b->w, by1 = b->y + b->h;
    if (x0 < b->x) b->x = x0;
    if (y < b->y) b->y = y;
    if (x1 > bx1) bx1 = x1;
    if (y + 1 > by1) by1 = y + 1;
    b->w = bx1 - b->x;
    b->h = by1 - b->y;
  }
  for (size_t i = 0; rc == MV_OK && i < nruns; i++) {
    if (root(runs, (int32_t)i) != (int32_t)i) continue;
    mv_rect b = box[i];
    if (transposed) b = (mv_rect){b.y, b.x, b.h, b.w};
    if (!line_shaped(m, view, b, transposed)) continue;
    mv_rect *g = realloc(*out, (*n + 1) * sizeof *g);
    if (!g) {
      rc = MV_ENOMEM;
      break;
    }
    *out = g;
    (*out)[(*n)++] = b;
  }
  free(box);
  free(runs);
  return rc;
}

int mv_flatink_lines(const unsigned char *map, const mv_image *view,
                     mv_rect **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!map || !view || !view->data) return MV_OK;
  int rc = scan_lines(map, view, 0, out, n);
  if (rc == MV_OK) rc = scan_lines(map, view, 1, out, n);
  if (rc != MV_OK) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}
