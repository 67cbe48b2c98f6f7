/* jpegblock_test.c - tests of plugins/shared/mv_jpegblock (block-domain
 * JPEG redaction). Built by plugins/shared/CMakeLists.txt, not by the
 * test_*.c glob, because it links the static helper and libjpeg.
 *
 * For each JPEG (synthetic ones made here with libjpeg, real ones taken from
 * pydicom's test files and, when present, ../shared/corpus/pixel):
 * decode, paint rectangles with a uniform colour, redact, decode the result
 * and check
 *   1. pixels outside the changed units are bit-identical (no fancy
 *      upsampling), and identical outside the units dilated by one pixel
 *      with libjpeg's default fancy upsampling;
 *   2. units wholly inside a painted rectangle decode close to the colour;
 *   3. coefficients of every block outside the changed units are identical.
 * Plus refusals (progressive, arithmetic, 12-bit, lossless), corrupt input,
 * limits and the dropping of COM/APPn text. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jpeglib.h>

#include "medveil/errors.h"
#include "mv_jpegblock.h"
#include "mv_test.h"

/* Error names without linking medveil_core (this test does not). */
static const char *mv_errname_local(int rc) {
#define MV__NAME(name, value, msg) if (rc == value) return #name;
  MV_ERR_MAP(MV__NAME)
#undef MV__NAME
  return "?";
}

/* ---- small libjpeg helpers for the test itself ---------------------------- */

typedef struct test_err {
  struct jpeg_error_mgr pub;
  jmp_buf jb;
} test_err;

static void test_error_exit(j_common_ptr c) {
  longjmp(((test_err *)c->err)->jb, 1);
}
static void test_silent(j_common_ptr c) { (void)c; }

static struct jpeg_error_mgr *test_err_init(test_err *e) {
  jpeg_std_error(&e->pub);
  e->pub.error_exit = test_error_exit;
  e->pub.output_message = test_silent;
  return &e->pub;
}

typedef struct enc_opts {
  int comps;        /* 1 or 3 */
  int h0, v0;       /* luma sampling factors (chroma 1x1) */
  int quality;
  int progressive, arith, rgb; /* rgb: Adobe transform 0, no YCbCr */
  int restart_rows;
  int text_markers; /* add a COM and an APP1 carrying "SECRET-TEXT" */
} enc_opts;

static const char secret[] = "SECRET-TEXT";

/* Encodes px (interleaved) with libjpeg; malloc'd result, NULL on error. */
static uint8_t *encode(const uint8_t *px, uint32_t W, uint32_t H,
                       const enc_opts *o, size_t *n) {
  struct jpeg_compress_struct c;
  test_err e;
  unsigned char *buf = NULL;
  unsigned long sz = 0;
  c.err = test_err_init(&e);
  if (setjmp(e.jb)) {
    jpeg_destroy_compress(&c);
    free(buf);
    return NULL;
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &buf, &sz);
  c.image_width = W;
  c.image_height = H;
  c.input_components = o->comps;
  c.in_color_space = o->comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, o->quality, TRUE);
  if (o->comps == 3) {
    if (o->rgb)
      jpeg_set_colorspace(&c, JCS_RGB);
    c.comp_info[0].h_samp_factor = o->h0;
    c.comp_info[0].v_samp_factor = o->v0;
  }
  if (o->progressive)
    jpeg_simple_progression(&c);
  c.arith_code = o->arith ? TRUE : FALSE;
  c.restart_in_rows = o->restart_rows;
  jpeg_start_compress(&c, TRUE);
  if (o->text_markers) {
    jpeg_write_marker(&c, JPEG_COM, (const JOCTET *)secret, sizeof secret);
    jpeg_write_marker(&c, JPEG_APP0 + 1, (const JOCTET *)secret,
                      sizeof secret);
  }
  while (c.next_scanline < H) {
    JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * W * o->comps);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  *n = sz;
  return buf;
}

/* libjpeg's default decode (fancy upsampling on), as a viewer would do. */
static int decode_fancy(const uint8_t *jpg, size_t n, mvjb_image *img) {
  struct jpeg_decompress_struct d;
  test_err e;
  memset(img, 0, sizeof *img);
  d.err = test_err_init(&e);
  if (setjmp(e.jb)) {
    jpeg_destroy_decompress(&d);
    mvjb_image_free(img);
    return -1;
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, jpg, (unsigned long)n);
  jpeg_read_header(&d, TRUE);
  d.out_color_space = d.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&d);
  img->width = d.output_width;
  img->height = d.output_height;
  img->samples = d.output_components;
  img->stride = (size_t)img->width * img->samples;
  img->data = malloc(img->stride * img->height);
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = img->data + (size_t)d.output_scanline * img->stride;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return 0;
}

/* All quantised coefficients of a JPEG, per component. */
typedef struct coefset {
  int ncomp, hmax, vmax, h[3], v[3];
  uint32_t W, H, bw[3], bh[3];
  JCOEF *blocks[3]; /* bw * bh blocks of 64 */
  uint16_t q00[3];
} coefset;

static void coefset_free(coefset *cs) {
  for (int i = 0; i < 3; i++)
    free(cs->blocks[i]);
  memset(cs, 0, sizeof *cs);
}

static int read_coefs(const uint8_t *jpg, size_t n, coefset *cs) {
  struct jpeg_decompress_struct d;
  test_err e;
  memset(cs, 0, sizeof *cs);
  d.err = test_err_init(&e);
  if (setjmp(e.jb)) {
    jpeg_destroy_decompress(&d);
    coefset_free(cs);
    return -1;
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, jpg, (unsigned long)n);
  jpeg_read_header(&d, TRUE);
  jvirt_barray_ptr *coef = jpeg_read_coefficients(&d);
  cs->ncomp = d.num_components;
  cs->hmax = d.max_h_samp_factor;
  cs->vmax = d.max_v_samp_factor;
  cs->W = d.image_width;
  cs->H = d.image_height;
  for (int ci = 0; ci < cs->ncomp && ci < 3; ci++) {
    jpeg_component_info *comp = &d.comp_info[ci];
    cs->h[ci] = comp->h_samp_factor;
    cs->v[ci] = comp->v_samp_factor;
    cs->bw[ci] = comp->width_in_blocks;
    cs->bh[ci] = comp->height_in_blocks;
    cs->q00[ci] = comp->quant_table->quantval[0];
    cs->blocks[ci] = malloc((size_t)cs->bw[ci] * cs->bh[ci] * 64 *
                            sizeof(JCOEF));
    for (JDIMENSION by = 0; by < comp->height_in_blocks; by++) {
      JBLOCKARRAY rows = (*d.mem->access_virt_barray)((j_common_ptr)&d,
                                                      coef[ci], by, 1, FALSE);
      memcpy(cs->blocks[ci] + (size_t)by * cs->bw[ci] * 64, rows[0][0],
             (size_t)cs->bw[ci] * 64 * sizeof(JCOEF));
    }
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return 0;
}

/* ---- the unit map, computed here independently of the library ------------- */

typedef struct unitmap {
  uint32_t uw, uh, ux, uy;
  uint8_t *on;
} unitmap;

static void unitmap_build(unitmap *m, const coefset *cs, const mvjb_rect *r,
                          size_t nr) {
  m->uw = cs->ncomp == 1 ? 8 : 8u * cs->hmax;
  m->uh = cs->ncomp == 1 ? 8 : 8u * cs->vmax;
  m->ux = (cs->W + m->uw - 1) / m->uw;
  m->uy = (cs->H + m->uh - 1) / m->uh;
  m->on = calloc((size_t)m->ux * m->uy, 1);
  for (uint32_t uy = 0; uy < m->uy; uy++)
    for (uint32_t ux = 0; ux < m->ux; ux++)
      for (size_t k = 0; k < nr; k++) {
        int64_t x0 = (int64_t)ux * m->uw, y0 = (int64_t)uy * m->uh;
        int64_t x1 = x0 + m->uw, y1 = y0 + m->uh;
        int64_t rx1 = (int64_t)r[k].x + r[k].w, ry1 = (int64_t)r[k].y + r[k].h;
        if (r[k].w > 0 && r[k].h > 0 && r[k].x < x1 && rx1 > x0 &&
            r[k].y < y1 && ry1 > y0)
          m->on[uy * m->ux + ux] = 1;
      }
}

static int unit_at(const unitmap *m, int64_t x, int64_t y) {
  if (x < 0 || y < 0 || x >= (int64_t)m->ux * m->uw ||
      y >= (int64_t)m->uy * m->uh)
    return 0;
  return m->on[(y / m->uh) * m->ux + x / m->uw];
}

/* ---- the core check ------------------------------------------------------- */

typedef struct case_result {
  size_t changed_blocks; /* blocks whose coefficients differ */
  size_t changed_units;
  int max_fill_err;
} case_result;

static void paint(mvjb_image *img, const mvjb_rect *r, size_t nr,
                  const uint8_t colour[3]) {
  for (size_t k = 0; k < nr; k++)
    for (int64_t y = r[k].y; y < (int64_t)r[k].y + r[k].h; y++)
      for (int64_t x = r[k].x; x < (int64_t)r[k].x + r[k].w; x++) {
        if (x < 0 || y < 0 || x >= img->width || y >= img->height)
          continue;
        uint8_t *p = img->data + y * img->stride + x * img->samples;
        for (uint32_t s = 0; s < img->samples; s++)
          p[s] = colour[s];
      }
}

/* Is unit (ux, uy) wholly inside the image and one painted rectangle? */
static int unit_painted(const unitmap *m, uint32_t ux, uint32_t uy,
                        const mvjb_image *img, const mvjb_rect *r, size_t nr) {
  int64_t x0 = (int64_t)ux * m->uw, y0 = (int64_t)uy * m->uh;
  int64_t x1 = x0 + m->uw, y1 = y0 + m->uh;
  if (x1 > img->width || y1 > img->height)
    return 0;
  for (size_t k = 0; k < nr; k++)
    if (r[k].x <= x0 && r[k].y <= y0 && (int64_t)r[k].x + r[k].w >= x1 &&
        (int64_t)r[k].y + r[k].h >= y1)
      return 1;
  return 0;
}

/* Runs the whole redaction check on one JPEG. Returns 0 when the library
 * accepted the file. With paint_all the whole edited image (not just the
 * rectangles) is painted: then every block of every component in a changed
 * unit must change, which catches a unit/sampling mix-up that leaves some
 * chroma blocks behind. */
static int check_redaction(const char *name, const uint8_t *jpg, size_t n,
                           const mvjb_rect *rects, size_t nr,
                           const uint8_t colour[3], int tol, int paint_all,
                           case_result *res) {
  char err[256];
  mvjb_image a, edited, b;
  memset(res, 0, sizeof *res);
  int rc = mvjb_decode(jpg, n, &a, err, sizeof err);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) {
    fprintf(stderr, "%s: decode failed: %s\n", name, err);
    return -1;
  }
  edited = a;
  edited.data = malloc(a.stride * a.height);
  memcpy(edited.data, a.data, a.stride * a.height);
  const mvjb_rect whole = {0, 0, (int32_t)a.width, (int32_t)a.height};
  const mvjb_rect *painted = paint_all ? &whole : rects;
  size_t npainted = paint_all ? 1 : nr;
  paint(&edited, painted, npainted, colour);

  uint8_t *out = NULL;
  size_t outlen = 0;
  rc = mvjb_redact(jpg, n, &edited, rects, nr, &out, &outlen, err,
                   sizeof err);
  CHECK(rc == MV_OK);
  if (rc != MV_OK) {
    fprintf(stderr, "%s: redact failed: %s\n", name, err);
    mvjb_image_free(&a);
    mvjb_image_free(&edited);
    return -1;
  }
  rc = mvjb_decode(out, outlen, &b, err, sizeof err);
  CHECK(rc == MV_OK);
  CHECK(b.width == a.width && b.height == a.height && b.samples == a.samples);

  coefset ci, co;
  CHECK(read_coefs(jpg, n, &ci) == 0);
  CHECK(read_coefs(out, outlen, &co) == 0);
  unitmap m;
  unitmap_build(&m, &ci, rects, nr);
  for (size_t k = 0; k < (size_t)m.ux * m.uy; k++)
    res->changed_units += m.on[k];

  if (rc == MV_OK && b.width == a.width && b.height == a.height &&
      b.samples == a.samples) {
    /* 1. exact outside the changed units; 2. the painted units */
    size_t outside_diff = 0;
    for (uint32_t y = 0; y < a.height; y++)
      for (uint32_t x = 0; x < a.width; x++) {
        const uint8_t *pa = a.data + y * a.stride + x * a.samples;
        const uint8_t *pb = b.data + y * b.stride + x * b.samples;
        if (!unit_at(&m, x, y)) {
          outside_diff += memcmp(pa, pb, a.samples) != 0;
        } else if (unit_painted(&m, x / m.uw, y / m.uh, &a, painted,
                                npainted)) {
          for (uint32_t s = 0; s < a.samples; s++) {
            int e = abs((int)pb[s] - colour[s]);
            if (e > res->max_fill_err)
              res->max_fill_err = e;
          }
        }
      }
    CHECK(outside_diff == 0);
    CHECK(res->max_fill_err <= tol);
    if (outside_diff || res->max_fill_err > tol)
      fprintf(stderr, "%s: %zu pixels differ outside, fill error %d\n", name,
              outside_diff, res->max_fill_err);
  }

  /* 1b. with libjpeg's default fancy upsampling: exact outside the changed
   * units dilated by one pixel */
  mvjb_image fa, fb;
  if (decode_fancy(jpg, n, &fa) == 0 && decode_fancy(out, outlen, &fb) == 0) {
    size_t diff = 0;
    for (uint32_t y = 0; y < fa.height; y++)
      for (uint32_t x = 0; x < fa.width; x++) {
        int near = 0;
        for (int dy = -1; dy <= 1 && !near; dy++)
          for (int dx = -1; dx <= 1 && !near; dx++)
            near = unit_at(&m, (int64_t)x + dx, (int64_t)y + dy);
        if (!near)
          diff += memcmp(fa.data + y * fa.stride + x * fa.samples,
                         fb.data + y * fb.stride + x * fb.samples,
                         fa.samples) != 0;
      }
    CHECK(diff == 0);
    if (diff)
      fprintf(stderr, "%s: %zu fancy-decoded pixels differ outside\n", name,
              diff);
    mvjb_image_free(&fa);
    mvjb_image_free(&fb);
  } else {
    CHECK(!"fancy decode failed");
  }

  /* 3. coefficients identical outside the changed units */
  CHECK(ci.ncomp == co.ncomp);
  for (int c = 0; c < ci.ncomp && c < co.ncomp && c < 3; c++) {
    CHECK(ci.bw[c] == co.bw[c] && ci.bh[c] == co.bh[c]);
    if (ci.bw[c] != co.bw[c] || ci.bh[c] != co.bh[c])
      continue;
    /* pixels per block of this component */
    uint32_t pw = 8u * ci.hmax / ci.h[c], ph = 8u * ci.vmax / ci.v[c];
    if (ci.ncomp == 1)
      pw = ph = 8;
    size_t bad = 0, kept = 0;
    for (uint32_t by = 0; by < ci.bh[c]; by++)
      for (uint32_t bx = 0; bx < ci.bw[c]; bx++) {
        size_t off = ((size_t)by * ci.bw[c] + bx) * 64;
        int same = !memcmp(ci.blocks[c] + off, co.blocks[c] + off,
                           64 * sizeof(JCOEF));
        if (unit_at(&m, (int64_t)bx * pw, (int64_t)by * ph)) {
          res->changed_blocks += !same;
          kept += same;
        } else
          bad += !same;
      }
    CHECK(bad == 0);
    if (paint_all)
      CHECK(kept == 0);
    if (paint_all && kept)
      fprintf(stderr, "%s: %zu blocks of changed units kept (comp %d)\n",
              name, kept, c);
    if (bad)
      fprintf(stderr, "%s: %zu untouched blocks changed (comp %d)\n", name,
              bad, c);
  }
  /* a real redaction changes something */
  if (res->changed_units)
    CHECK(res->changed_blocks > 0);

  free(m.on);
  coefset_free(&ci);
  coefset_free(&co);
  free(out);
  mvjb_image_free(&a);
  mvjb_image_free(&b);
  mvjb_image_free(&edited);
  return 0;
}

/* ---- synthetic images ----------------------------------------------------- */

/* Gradient, deterministic noise and thin bright strokes ("text"), so
 * blocks carry real AC energy. */
static uint8_t *make_pixels(uint32_t W, uint32_t H, int comps) {
  uint8_t *px = malloc((size_t)W * H * comps);
  uint32_t seed = 12345;
  for (uint32_t y = 0; y < H; y++)
    for (uint32_t x = 0; x < W; x++)
      for (int c = 0; c < comps; c++) {
        seed = seed * 1103515245u + 12345u;
        int v = (int)((x * 200) / (W ? W : 1) + (c * 60) + (y * 40) / H) % 230;
        v += (seed >> 16) % 24;
        if ((x / 2 + y / 3) % 9 == 0 && (y % 11) < 7)
          v = 250 - c * 40;
        px[((size_t)y * W + x) * comps + c] = (uint8_t)(v > 255 ? 255 : v);
      }
  return px;
}

static const mvjb_rect rect_std[] = {{13, 5, 40, 17}};

static void synthetic_case(const char *name, uint32_t W, uint32_t H,
                           enc_opts o, const mvjb_rect *r, size_t nr,
                           const uint8_t colour[3], int tol) {
  uint8_t *px = make_pixels(W, H, o.comps);
  size_t n = 0;
  uint8_t *jpg = encode(px, W, H, &o, &n);
  CHECK(jpg != NULL);
  if (jpg) {
    case_result res;
    check_redaction(name, jpg, n, r, nr, colour, tol, 1, &res);
    check_redaction(name, jpg, n, r, nr, colour, tol, 0, &res);
    printf("  %-28s %4ux%-4u units %3zu blocks %4zu fill err %d\n", name, W,
           H, res.changed_units, res.changed_blocks, res.max_fill_err);
  }
  free(jpg);
  free(px);
}

static void synthetic_cases(void) {
  static const uint8_t grey[3] = {200, 200, 200}, black[3] = {0, 0, 0};
  static const uint8_t colour[3] = {40, 90, 200}, white[3] = {255, 255, 255};
  const mvjb_rect edges[] = {{-5, -7, 20, 20}, {90, 50, 100, 100}};
  const mvjb_rect many[] = {{0, 0, 1, 1}, {30, 30, 33, 2}, {64, 16, 16, 16}};
  const mvjb_rect all[] = {{0, 0, 1000, 1000}};
  const mvjb_rect none[] = {{500, 500, 10, 10}, {10, 10, 0, 5}};
  printf("synthetic:\n");
  synthetic_case("grey q85", 101, 67, (enc_opts){.comps = 1, .h0 = 1, .v0 = 1, .quality = 85}, rect_std, 1,
                 grey, 2);
  synthetic_case("grey q50 black", 101, 67, (enc_opts){.comps = 1, .h0 = 1, .v0 = 1, .quality = 50}, rect_std,
                 1, black, 2);
  synthetic_case("grey edges", 101, 67, (enc_opts){.comps = 1, .h0 = 1, .v0 = 1, .quality = 75}, edges, 2,
                 white, 2);
  synthetic_case("grey many", 101, 67, (enc_opts){.comps = 1, .h0 = 1, .v0 = 1, .quality = 90}, many, 3, grey,
                 2);
  synthetic_case("grey whole image", 37, 29, (enc_opts){.comps = 1, .h0 = 1, .v0 = 1, .quality = 90}, all, 1,
                 grey, 2);
  synthetic_case("grey nothing", 37, 29, (enc_opts){.comps = 1, .h0 = 1, .v0 = 1, .quality = 90}, none, 2,
                 grey, 2);
  synthetic_case("grey 3x3", 3, 3, (enc_opts){.comps = 1, .h0 = 1, .v0 = 1, .quality = 90}, all, 1, grey, 2);
  synthetic_case("grey restart", 101, 67,
                 (enc_opts){.comps = 1, .h0 = 1, .v0 = 1, .quality = 80, .restart_rows = 1}, rect_std, 1,
                 grey, 2);
  synthetic_case("ycc 4:4:4", 101, 67, (enc_opts){.comps = 3, .h0 = 1, .v0 = 1, .quality = 90}, rect_std, 1,
                 colour, 4);
  synthetic_case("ycc 4:2:2", 101, 67, (enc_opts){.comps = 3, .h0 = 2, .v0 = 1, .quality = 75}, rect_std, 1,
                 colour, 4);
  synthetic_case("ycc 4:2:0", 99, 61, (enc_opts){.comps = 3, .h0 = 2, .v0 = 2, .quality = 50}, rect_std, 1,
                 colour, 4);
  synthetic_case("ycc 4:2:0 edges", 99, 61, (enc_opts){.comps = 3, .h0 = 2, .v0 = 2, .quality = 85}, edges, 2,
                 colour, 4);
  synthetic_case("ycc 4:2:0 many", 99, 61, (enc_opts){.comps = 3, .h0 = 2, .v0 = 2, .quality = 85}, many, 3,
                 white, 4);
  synthetic_case("ycc 4:4:0", 50, 37, (enc_opts){.comps = 3, .h0 = 1, .v0 = 2, .quality = 85}, rect_std, 1,
                 colour, 4);
  synthetic_case("ycc 4:1:1", 70, 20, (enc_opts){.comps = 3, .h0 = 4, .v0 = 1, .quality = 85}, rect_std, 1,
                 colour, 4);
  synthetic_case("rgb (adobe 0) 4:4:4", 64, 48,
                 (enc_opts){.comps = 3, .h0 = 1, .v0 = 1, .quality = 85, .rgb = 1}, rect_std, 1, colour, 4);
  synthetic_case("ycc whole image", 45, 33, (enc_opts){.comps = 3, .h0 = 2, .v0 = 2, .quality = 90}, all, 1,
                 black, 4);
}

/* ---- refusals, corrupt input, limits, markers ----------------------------- */

static void expect_refusal(const char *name, const uint8_t *jpg, size_t n,
                           int want) {
  char err[256] = "";
  mvjb_image img;
  int rc = mvjb_decode(jpg, n, &img, err, sizeof err);
  CHECK(rc == want);
  CHECK(img.data == NULL);
  CHECK(err[0] != '\0');
  if (rc != want)
    fprintf(stderr, "%s: decode rc %d (%s), want %d\n", name, rc, err, want);
  mvjb_image dummy = {1, 1, 1, 1, (uint8_t[1]){0}};
  uint8_t *out = (uint8_t *)1;
  size_t outlen = 1;
  rc = mvjb_redact(jpg, n, &dummy, rect_std, 1, &out, &outlen, err,
                   sizeof err);
  CHECK(rc == want);
  CHECK(out == NULL && outlen == 0);
  printf("  %-28s -> %s: %s\n", name, mv_errname_local(rc), err);
}

static void refusal_cases(void) {
  printf("refusals:\n");
  uint8_t *px = make_pixels(40, 24, 3);
  size_t n;
  uint8_t *jpg = encode(px, 40, 24, &(enc_opts){.comps = 3, .h0 = 2, .v0 = 2, .quality = 80, .progressive = 1},
                        &n);
  expect_refusal("progressive", jpg, n, MV_EUNSUPPORTED);
  free(jpg);
  jpg = encode(px, 40, 24, &(enc_opts){.comps = 3, .h0 = 2, .v0 = 2, .quality = 80, .arith = 1}, &n);
  expect_refusal("arithmetic", jpg, n, MV_EUNSUPPORTED);
  free(jpg);

  /* a valid stream, then damaged in several ways */
  jpg = encode(px, 40, 24, &(enc_opts){.comps = 3, .h0 = 2, .v0 = 2, .quality = 80}, &n);
  expect_refusal("truncated", jpg, n / 2, MV_EFORMAT);
  expect_refusal("no SOI", jpg + 2, n - 2, MV_EFORMAT);
  /* SOF with 12-bit precision / huge size */
  uint8_t *copy = malloc(n);
  size_t sof = 0;
  for (size_t i = 2; i + 9 < n; i++)
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
      sof = i;
      break;
    }
  CHECK(sof != 0);
  memcpy(copy, jpg, n);
  copy[sof + 4] = 12;
  expect_refusal("12-bit", copy, n, MV_EUNSUPPORTED);
  memcpy(copy, jpg, n);
  copy[sof + 5] = copy[sof + 6] = copy[sof + 7] = copy[sof + 8] = 0xFF;
  expect_refusal("huge dimensions", copy, n, MV_ELIMIT);
  memcpy(copy, jpg, n);
  copy[sof + 5] = copy[sof + 7] = 0xFD; /* 65000 x 65000 */
  copy[sof + 6] = copy[sof + 8] = 0xE8;
  expect_refusal("too many samples", copy, n, MV_ELIMIT);
  memcpy(copy, jpg, n);
  copy[sof + 5] = copy[sof + 7] = 0x1F; /* 8000 x 8000 from ~1 KB */
  copy[sof + 6] = copy[sof + 8] = 0x40;
  expect_refusal("too short for its size", copy, n, MV_EFORMAT);
  memcpy(copy, jpg, n);
  copy[sof + 1] = 0xC3;
  expect_refusal("lossless marker", copy, n, MV_EUNSUPPORTED);

  /* flipped bytes anywhere: an error or a clean result, never a crash */
  mvjb_image good;
  char err[256];
  CHECK(mvjb_decode(jpg, n, &good, err, sizeof err) == MV_OK);
  size_t ok = 0, failed = 0;
  for (size_t i = 2; i < n; i += 3) {
    memcpy(copy, jpg, n);
    copy[i] ^= (uint8_t)(0x5A + i);
    mvjb_image img;
    int rc = mvjb_decode(copy, n, &img, err, sizeof err);
    mvjb_image_free(&img);
    uint8_t *out = NULL;
    size_t outlen = 0;
    int rc2 = mvjb_redact(copy, n, &good, rect_std, 1, &out, &outlen, err,
                          sizeof err);
    CHECK((rc2 == MV_OK) == (out != NULL));
    free(out);
    if (rc == MV_OK)
      ok++;
    else
      failed++;
    (void)rc2;
  }
  printf("  %-28s %zu decoded, %zu refused\n", "byte flips", ok, failed);
  CHECK(failed > 0);

  /* edited image of the wrong size */
  mvjb_image small = good;
  small.width--;
  uint8_t *out = NULL;
  size_t outlen = 0;
  CHECK(mvjb_redact(jpg, n, &small, rect_std, 1, &out, &outlen, err,
                    sizeof err) == MV_EINVAL);
  CHECK(mvjb_redact(jpg, n, &good, NULL, 1, &out, &outlen, err,
                    sizeof err) == MV_EINVAL);
  CHECK(mvjb_decode(NULL, 0, &small, err, sizeof err) == MV_EINVAL);
  mvjb_image_free(&good);
  free(copy);
  free(jpg);
  free(px);
}

static void marker_case(void) {
  printf("markers:\n");
  uint8_t *px = make_pixels(48, 32, 3);
  size_t n;
  uint8_t *jpg = encode(px, 48, 32, &(enc_opts){.comps = 3, .h0 = 2, .v0 = 2, .quality = 80, .text_markers = 1},
                        &n);
  CHECK(memmem(jpg, n, secret, strlen(secret)) != NULL);
  mvjb_image img;
  char err[256];
  CHECK(mvjb_decode(jpg, n, &img, err, sizeof err) == MV_OK);
  uint8_t *out = NULL;
  size_t outlen = 0;
  CHECK(mvjb_redact(jpg, n, &img, NULL, 0, &out, &outlen, err, sizeof err) ==
        MV_OK);
  CHECK(out && memmem(out, outlen, secret, strlen(secret)) == NULL);
  CHECK(out && memmem(out, outlen, "JFIF", 4) != NULL); /* kept */
  /* no rectangles: a lossless copy, identical pixels */
  mvjb_image b;
  CHECK(out && mvjb_decode(out, outlen, &b, err, sizeof err) == MV_OK);
  CHECK(b.data && !memcmp(b.data, img.data, img.stride * img.height));
  printf("  COM/APP1 dropped, JFIF kept, %zu -> %zu bytes\n", n, outlen);
  mvjb_image_free(&b);
  mvjb_image_free(&img);
  free(out);
  free(jpg);
  free(px);
}

/* ---- real JPEG bitstreams ------------------------------------------------- */

/* Extracts each frame of the DICOM files into dir as <name>.jpg and writes
 * dir/manifest lines "<name> <ok|unsupported>". */
static const char extract_py[] =
    "import os, sys, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "import pydicom\n"
    "from pydicom.encaps import generate_pixel_data_frame\n"
    "out, corpus = sys.argv[1], sys.argv[2]\n"
    "tf = os.path.join(os.path.dirname(pydicom.__file__), 'data', "
    "'test_files')\n"
    "items = [(tf, f, 'ok') for f in ('SC_rgb_jpeg_dcmtk.dcm',\n"
    "  'SC_jpeg_no_color_transform.dcm', 'SC_jpeg_no_color_transform_2.dcm',\n"
    "  'SC_rgb_jpeg.dcm', 'SC_rgb_jpeg_app14_dcmd.dcm',\n"
    "  'SC_rgb_jpeg_lossy_gdcm.dcm', 'SC_rgb_dcmtk_+eb+cy+s2.dcm',\n"
    "  'SC_rgb_dcmtk_+eb+cy+s4.dcm', 'SC_rgb_small_odd_jpeg.dcm')]\n"
    "items += [(tf, 'JPEG-lossy.dcm', 'unsupported'),\n"
    "          (tf, 'SC_rgb_jpeg_gdcm.dcm', 'unsupported')]\n"
    "items += [(corpus, 'image1.dcm', 'ok'), (corpus, 'US-GE-4AICL142.dcm', "
    "'ok'),\n"
    "          (corpus, 'kwargs_test.jpg', 'ok')]\n"
    "with open(os.path.join(out, 'manifest'), 'w') as m:\n"
    "  for d, f, exp in items:\n"
    "    p = os.path.join(d, f)\n"
    "    if not os.path.exists(p): continue\n"
    "    base = f.rsplit('.', 1)[0].replace('+', '_')\n"
    "    if f.endswith('.jpg'):\n"
    "      frames = [open(p, 'rb').read()]\n"
    "    else:\n"
    "      ds = pydicom.dcmread(p)\n"
    "      nf = int(getattr(ds, 'NumberOfFrames', 1) or 1)\n"
    "      frames = generate_pixel_data_frame(ds.PixelData, nf)\n"
    "    for i, fr in enumerate(frames):\n"
    "      name = '%s_f%d' % (base, i)\n"
    "      open(os.path.join(out, name + '.jpg'), 'wb').write(fr)\n"
    "      m.write('%s %s\\n' % (name, exp))\n";

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = sz > 0 ? malloc((size_t)sz) : NULL;
  if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *n = buf ? (size_t)sz : 0;
  return buf;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* image1 (2048x1536): block redaction vs decode + re-encode at q95 with
 * the same sampling, for a 64-pixel band over the whole width. */
static void timing_case(const uint8_t *jpg, size_t n) {
  const mvjb_rect band[] = {{0, 0, 2048, 64}};
  static const uint8_t black[3] = {0, 0, 0};
  char err[256];
  const int reps = 3;
  double t_dec = 0, t_red = 0, t_full = 0;
  size_t outlen = 0, relen = 0;
  coefset cs;
  if (read_coefs(jpg, n, &cs) != 0) {
    CHECK(!"image1 coefficients");
    return;
  }
  for (int i = 0; i < reps; i++) {
    mvjb_image img;
    double t0 = now_s();
    if (mvjb_decode(jpg, n, &img, err, sizeof err) != MV_OK) {
      CHECK(!"image1 decode");
      break;
    }
    double t1 = now_s();
    paint(&img, band, 1, black);
    uint8_t *out = NULL;
    double t2 = now_s();
    CHECK(mvjb_redact(jpg, n, &img, band, 1, &out, &outlen, err,
                      sizeof err) == MV_OK);
    double t3 = now_s();
    t_dec += t1 - t0;
    t_red += t3 - t2;
    free(out);
    mvjb_image_free(&img);

    t0 = now_s();
    if (decode_fancy(jpg, n, &img) != 0) {
      CHECK(!"image1 fancy decode");
      break;
    }
    paint(&img, band, 1, black);
    uint8_t *re = encode(img.data, img.width, img.height,
                         &(enc_opts){.comps = 3, .h0 = cs.h[0],
                                     .v0 = cs.v[0], .quality = 95},
                         &relen);
    t_full += now_s() - t0;
    free(re);
    mvjb_image_free(&img);
  }
  case_result res;
  check_redaction("image1 band", jpg, n, band, 1, black, 6, 0, &res);
  printf("  timing image1 (%zu bytes in), band 2048x64: decode %.1f ms + "
         "block redact %.1f ms (%zu units, %zu blocks changed, %zu bytes "
         "out); decode + re-encode q95 %.1f ms (%zu bytes out)\n",
         n, t_dec / reps * 1e3, t_red / reps * 1e3, res.changed_units,
         res.changed_blocks, outlen, t_full / reps * 1e3, relen);
  coefset_free(&cs);
}

static void real_cases(void) {
  char dir[] = "/tmp/mvjb_test_XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(!"mkdtemp");
    return;
  }
  char path[512], cmd[1024];
  snprintf(path, sizeof path, "%s/extract.py", dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f)
    return;
  fputs(extract_py, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s/../shared/corpus/pixel",
           path, dir, MV_SOURCE_DIR);
  printf("real files:\n");
  if (system(cmd) != 0) {
    printf("  SKIP: python3 with pydicom unavailable\n");
  } else {
    snprintf(path, sizeof path, "%s/manifest", dir);
    FILE *m = fopen(path, "r");
    char name[200], expect[32];
    int count = 0;
    while (m && fscanf(m, "%199s %31s", name, expect) == 2) {
      size_t n = 0;
      snprintf(path, sizeof path, "%s/%s.jpg", dir, name);
      uint8_t *jpg = read_all(path, &n);
      CHECK(jpg != NULL);
      if (!jpg)
        continue;
      count++;
      if (!strcmp(expect, "unsupported")) {
        expect_refusal(name, jpg, n, MV_EUNSUPPORTED);
      } else {
        static const uint8_t grey[3] = {128, 128, 128};
        static const uint8_t colour[3] = {230, 200, 30};
        const mvjb_rect rects[] = {{13, 5, 40, 17}, {60, 64, 48, 33}};
        coefset cs;
        int is_grey = read_coefs(jpg, n, &cs) == 0 && cs.ncomp == 1;
        coefset_free(&cs);
        case_result res;
        check_redaction(name, jpg, n, rects, 2, is_grey ? grey : colour,
                        is_grey ? 2 : 6, 0, &res);
        printf("  %-28s units %3zu blocks %4zu fill err %d\n", name,
               res.changed_units, res.changed_blocks, res.max_fill_err);
        if (!strncmp(name, "image1", 6))
          timing_case(jpg, n);
      }
      free(jpg);
      unlink(path);
    }
    if (m)
      fclose(m);
    CHECK(count >= 9); /* the pydicom files at least */
  }
  snprintf(path, sizeof path, "%s/manifest", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/extract.py", dir);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  synthetic_cases();
  refusal_cases();
  marker_case();
  real_cases();
  TEST_MAIN_END();
}
