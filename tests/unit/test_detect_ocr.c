/* test_detect_ocr.c - the detect-ocr plugin on generated and real images.
 *
 * dlopens build/plugins/detect-ocr.so, generates images with known words at
 * known places (tests/unit/gen_ocr_images.py: light on dark, dark on light,
 * turned words, a small font, RGB with a light header bar, light text over
 * grey anatomy with small vertical words) and checks that
 * every word comes back with a box covering it and a matching reading.
 * When ../shared/corpus/pixel exists, GREYSCALE_IMAGE.dcm is rendered with
 * dcm2pnm and its header bar must come back. Output names no OCR text of
 * the real image (only token numbers). */
#include <dlfcn.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medveil/plugin.h"
#include "mv_test.h"

static const mv_plugin *P;
static const mv_detector_ops *D;
static void *S;

/* ---------------------------------------------------------------- boxes */

#define MAX_BOXES 512
typedef struct {
  mv_box v[MAX_BOXES];
  size_t n;
} boxes;

static int collect(void *ud, const mv_box *b) {
  boxes *bs = ud;
  if (bs->n < MAX_BOXES) bs->v[bs->n++] = *b;
  return 0;
}

/* ---------------------------------------------------------------- images */

typedef struct {
  uint32_t w, h, samples;
  uint8_t *data;
} pnm;

/* Binary PGM (P5) or PPM (P6), maxval 255. */
static int read_pnm(const char *path, pnm *out) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char magic[3] = {0};
  unsigned w, h, maxv;
  int ok = fscanf(f, "%2s %u %u %u", magic, &w, &h, &maxv) == 4 &&
           (magic[1] == '5' || magic[1] == '6') && maxv == 255 && w && h &&
           w < 20000 && h < 20000;
  if (ok) fgetc(f); /* the single whitespace after maxval */
  if (ok) {
    out->w = w;
    out->h = h;
    out->samples = magic[1] == '6' ? 3 : 1;
    size_t n = (size_t)w * h * out->samples;
    out->data = malloc(n);
    ok = out->data && fread(out->data, 1, n, f) == n;
  }
  fclose(f);
  if (!ok) {
    free(out->data);
    out->data = NULL;
    return -1;
  }
  return 0;
}

static mv_image as_image(const pnm *p) {
  mv_image img;
  memset(&img, 0, sizeof img);
  img.width = p->w;
  img.height = p->h;
  img.samples = p->samples;
  img.bits = img.bits_stored = 8;
  img.stride = (size_t)p->w * p->samples;
  img.data = p->data;
  return img;
}

static int detect(void *ctx, const mv_image *img, const mv_rect *roi,
                  size_t n_roi, boxes *out, char *err, size_t errlen) {
  mv_detect_input in;
  memset(&in, 0, sizeof in);
  in.size = sizeof in;
  in.image = img;
  in.native = img;
  in.roi = roi;
  in.n_roi = n_roi;
  out->n = 0;
  err[0] = 0;
  return D->detect(ctx, &in, collect, out, err, errlen);
}

/* ---------------------------------------------------------------- matching */

/* Letters and digits only, upper case: OCR punctuation varies. */
static void fold(const char *s, char *out, size_t outlen) {
  size_t n = 0;
  for (; *s && n + 1 < outlen; s++)
    if (isalnum((unsigned char)*s)) out[n++] = (char)toupper((unsigned char)*s);
  out[n] = 0;
}

static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return 99;
  int d[65][65];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
      d[i][j] = c;
    }
  return d[la][lb];
}

/* Fuzzy: one edit allowed from 5 characters on; a reading that glued the
 * word to a neighbour ("3:PELVIS") still counts. */
static int text_matches(const char *got, const char *want) {
  char g[300], w[300];
  fold(got, g, sizeof g);
  fold(want, w, sizeof w);
  if (!w[0] || !g[0]) return 0;
  if (strstr(g, w)) return 1;
  return edit_distance(g, w) <= (strlen(w) >= 5 ? 1 : 0);
}

static long inter(const mv_rect *a, const mv_rect *b) {
  long x1 = a->x > b->x ? a->x : b->x, y1 = a->y > b->y ? a->y : b->y;
  long x2 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
  long y2 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
  return x2 > x1 && y2 > y1 ? (x2 - x1) * (y2 - y1) : 0;
}

/* A box covers a word when it holds 70% of the word's ink box and is not
 * more than 4x its size (one box per word, not per page). */
static int covers(const mv_rect *box, const mv_rect *word) {
  long wa = (long)word->w * word->h, ba = (long)box->w * box->h;
  return inter(box, word) * 10 >= wa * 7 && ba <= 4 * wa;
}

static const mv_box *find_word(const boxes *bs, const char *word,
                               const mv_rect *where) {
  for (size_t i = 0; i < bs->n; i++)
    if ((bs->v[i].flags & MV_BOX_TEXT) && text_matches(bs->v[i].text, word) &&
        (!where || covers(&bs->v[i].r, where)))
      return &bs->v[i];
  return NULL;
}

/* Every box: inside the image, flags and label as documented. */
static void check_boxes_sane(const boxes *bs, const mv_image *img) {
  for (size_t i = 0; i < bs->n; i++) {
    const mv_box *b = &bs->v[i];
    CHECK(b->r.w > 0 && b->r.h > 0 && b->r.x >= 0 && b->r.y >= 0);
    CHECK((uint32_t)(b->r.x + b->r.w) <= img->width);
    CHECK((uint32_t)(b->r.y + b->r.h) <= img->height);
    CHECK(!strcmp(b->label, "ocr"));
    CHECK(b->confidence >= 0 && b->confidence <= 1);
    CHECK(memchr(b->text, 0, sizeof b->text) != NULL);
    if (b->flags & MV_BOX_UNREAD) CHECK(b->text[0] == 0 && b->confidence == 0);
    else CHECK((b->flags & MV_BOX_TEXT) && b->text[0]);
    /* A doubtful word thicker than any font, or covering 5% of the image,
     * is anatomy read as text: the plugin drops those. */
    if ((b->flags & MV_BOX_TEXT) && b->confidence < 0.9f) {
      CHECK((b->r.w < b->r.h ? b->r.w : b->r.h) <= 64);
      CHECK((double)b->r.w * b->r.h <= 0.05 * img->width * img->height);
    }
  }
}

/* ---------------------------------------------------------------- fixtures */

typedef struct {
  char file[64], word[64];
  mv_rect r;
  int angle;
} truth;

static int run(const char *cmd) {
  int rc = system(cmd);
  return rc == 0 ? 0 : -1;
}

static void test_generated(void *ctx, const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/truth.txt", dir);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  if (!f) return;
  truth t[64];
  size_t nt = 0;
  while (nt < 64 && fscanf(f, "%63s %63s %d %d %d %d %d", t[nt].file, t[nt].word,
                           &t[nt].r.x, &t[nt].r.y, &t[nt].r.w, &t[nt].r.h,
                           &t[nt].angle) == 7)
    nt++;
  fclose(f);
  CHECK(nt >= 20);

  char last[64] = "";
  pnm img = {0};
  boxes *bs = calloc(1, sizeof *bs);
  char err[256];
  for (size_t i = 0; i < nt; i++) {
    if (strcmp(last, t[i].file)) {
      free(img.data);
      snprintf(path, sizeof path, "%s/%s", dir, t[i].file);
      CHECK(read_pnm(path, &img) == 0);
      if (!img.data) return;
      snprintf(last, sizeof last, "%s", t[i].file);
      mv_image mi = as_image(&img);
      int rc = detect(ctx, &mi, NULL, 0, bs, err, sizeof err);
      CHECK(rc == MV_OK);
      check_boxes_sane(bs, &mi);
    }
    const mv_box *b = find_word(bs, t[i].word, &t[i].r);
    if (!b) fprintf(stderr, "%s: word '%s' not found at %d,%d %dx%d\n",
                    t[i].file, t[i].word, t[i].r.x, t[i].r.y, t[i].r.w, t[i].r.h);
    for (size_t k = 0; !b && k < bs->n; k++) /* what is there instead */
      if (inter(&bs->v[k].r, &t[i].r) > 0)
        fprintf(stderr, "  box %d,%d %dx%d conf %.2f flags %u line %u\n",
                bs->v[k].r.x, bs->v[k].r.y, bs->v[k].r.w, bs->v[k].r.h,
                bs->v[k].confidence, bs->v[k].flags, bs->v[k].line);
    CHECK(b != NULL);
    if (b && t[i].angle) CHECK(b->flags & MV_BOX_ROTATED);
    if (b && !t[i].angle) CHECK(!(b->flags & MV_BOX_ROTATED));
  }
  free(img.data);

  /* Words of one printed line share a line number; other lines differ. */
  snprintf(path, sizeof path, "%s/dark_on_light.pgm", dir);
  CHECK(read_pnm(path, &img) == 0);
  if (img.data) {
    mv_image mi = as_image(&img);
    CHECK(detect(ctx, &mi, NULL, 0, bs, err, sizeof err) == MV_OK);
    const mv_box *a = find_word(bs, "KOWALSKI", NULL);
    const mv_box *b = find_word(bs, "MARGARET", NULL);
    const mv_box *c = find_word(bs, "48213377", NULL);
    CHECK(a && b && c);
    if (a && b && c) {
      CHECK(a->line == b->line);
      CHECK(a->line != c->line);
    }
    free(img.data);
  }

  /* Large monospaced words with wide gaps ("Dr. E. LINDQVIST" at 30 px)
   * are one line, covered whole: the gap between "E." and the name is two
   * advances wide. Checked by place (2x-upscaled mono reads poorly). */
  snprintf(path, sizeof path, "%s/large_faint.pgm", dir);
  CHECK(read_pnm(path, &img) == 0);
  if (img.data) {
    mv_image mi = as_image(&img);
    CHECK(detect(ctx, &mi, NULL, 0, bs, err, sizeof err) == MV_OK);
    const mv_rect first = {40, 415, 54, 20}, name = {166, 415, 162, 26};
    const mv_rect row = {40, 415, 288, 26};
    const mv_box *a = NULL, *b = NULL;
    long cov = 0;
    for (size_t i = 0; i < bs->n; i++) {
      if (!(bs->v[i].flags & MV_BOX_TEXT)) continue;
      if (!a && covers(&bs->v[i].r, &first)) a = &bs->v[i];
      if (!b && covers(&bs->v[i].r, &name)) b = &bs->v[i];
      cov += inter(&bs->v[i].r, &row); /* the boxes of a row do not overlap */
    }
    CHECK(a && b);
    if (a && b) CHECK(a->line == b->line);
    CHECK(cov * 10 >= (long)row.w * row.h * 9);
    free(img.data);
  }

  /* Regions of interest: only the ROI is read, coordinates stay native. */
  snprintf(path, sizeof path, "%s/light_on_dark.pgm", dir);
  CHECK(read_pnm(path, &img) == 0);
  if (img.data) {
    mv_image mi = as_image(&img);
    mv_rect roi = {400, 0, 200, 40};
    CHECK(detect(ctx, &mi, &roi, 1, bs, err, sizeof err) == MV_OK);
    mv_rect word = {420, 12, 126, 13};
    CHECK(find_word(bs, "00571234987", &word) != NULL);
    CHECK(find_word(bs, "BRANDVOLD", NULL) == NULL);
    for (size_t i = 0; i < bs->n; i++) {
      CHECK(bs->v[i].r.x >= 400 - 4 && bs->v[i].r.x + bs->v[i].r.w <= 600 + 4);
      CHECK(bs->v[i].r.y + bs->v[i].r.h <= 40 + 4);
    }
    /* Several ROIs, one outside the image, one degenerate. */
    mv_rect rois[3] = {{0, 540, 200, 60}, {5000, 5000, 10, 10}, {10, 10, 0, 5}};
    CHECK(detect(ctx, &mi, rois, 3, bs, err, sizeof err) == MV_OK);
    mv_rect date = {12, 563, 92, 13};
    CHECK(find_word(bs, "03/11/1948", &date) != NULL);
    free(img.data);
  }
  free(bs);
}

/* ---------------------------------------------------------------- robustness */

static void test_robust(void *ctx) {
  char err[256];
  boxes *bs = calloc(1, sizeof *bs);
  uint8_t px[64 * 64 * 3];
  memset(px, 0, sizeof px);
  mv_image img;
  memset(&img, 0, sizeof img);
  img.bits = img.bits_stored = 8;
  img.samples = 1;
  img.data = px;

  /* 1x1 and 0x0: nothing to find, no error. */
  img.width = img.height = 1;
  img.stride = 1;
  CHECK(detect(ctx, &img, NULL, 0, bs, err, sizeof err) == MV_OK && bs->n == 0);
  img.width = img.height = 0;
  CHECK(detect(ctx, &img, NULL, 0, bs, err, sizeof err) == MV_OK && bs->n == 0);
  /* Flat 64x64 grey and RGB: no text. */
  img.width = img.height = 64;
  img.stride = 64;
  CHECK(detect(ctx, &img, NULL, 0, bs, err, sizeof err) == MV_OK);
  img.samples = 3;
  img.stride = 64 * 3;
  memset(px, 200, sizeof px);
  CHECK(detect(ctx, &img, NULL, 0, bs, err, sizeof err) == MV_OK);
  /* 16-bit or 2-sample input, short stride: refused with a reason. */
  img.samples = 1;
  img.bits = 16;
  CHECK(detect(ctx, &img, NULL, 0, bs, err, sizeof err) == MV_EINVAL && err[0]);
  img.bits = 8;
  img.samples = 2;
  CHECK(detect(ctx, &img, NULL, 0, bs, err, sizeof err) == MV_EINVAL);
  img.samples = 1;
  img.stride = 10;
  CHECK(detect(ctx, &img, NULL, 0, bs, err, sizeof err) == MV_EINVAL);
  /* A huge plane is refused before any pixel is read. */
  img.width = img.height = 60000;
  img.stride = 60000;
  CHECK(detect(ctx, &img, NULL, 0, bs, err, sizeof err) == MV_ELIMIT && err[0]);
  /* Detection image and plane disagree. */
  mv_image native = img;
  img.width = img.height = 64;
  img.stride = 64;
  native.width = 65;
  mv_detect_input in;
  memset(&in, 0, sizeof in);
  in.size = sizeof in;
  in.image = &img;
  in.native = &native;
  CHECK(D->detect(ctx, &in, collect, bs, err, sizeof err) == MV_EINVAL);
  /* ROI count without ROIs. */
  in.native = &img;
  in.n_roi = 2;
  CHECK(D->detect(ctx, &in, collect, bs, err, sizeof err) == MV_EINVAL);
  free(bs);
}

static void test_options(void) {
  char err[256] = "";
  void *ctx = NULL;
  CHECK(D->ctx_new(S, "lang=eng;frobnicate=1", &ctx, err, sizeof err) ==
        MV_EINVAL);
  CHECK(ctx == NULL && strstr(err, "frobnicate"));
  err[0] = 0;
  CHECK(D->ctx_new(S, "lang=zzq", &ctx, err, sizeof err) != MV_OK);
  CHECK(strstr(err, "zzq") && strstr(err, "tesseract-ocr-zzq"));
  CHECK(D->ctx_new(S, "lang=../eng", &ctx, err, sizeof err) == MV_EINVAL);
  CHECK(D->ctx_new(S, "rotate=maybe", &ctx, err, sizeof err) == MV_EINVAL);
  CHECK(D->ctx_new(S, "mode", &ctx, err, sizeof err) == MV_EINVAL);
  CHECK(D->ctx_new(S, " lang = eng ; mode=sparse;rotate=0;upscale=1;", &ctx,
                   err, sizeof err) == MV_OK);
  D->ctx_free(ctx);
}

/* ---------------------------------------------------------------- chains */

/* Overlapping elliptic blobs of random size and brightness on dark grey
 * (ultrasound speckle is blobs of every grey): no text. */
static void speckle(uint8_t *sp, int W, int H, unsigned seed) {
  for (int i = 0; i < W * H; i++) {
    seed = seed * 1103515245u + 12345u;
    sp[i] = (uint8_t)(40 + ((seed >> 16) & 15));
  }
  for (int k = 0; k < 900; k++) {
    seed = seed * 1103515245u + 12345u;
    int cx = (int)((seed >> 8) % W), cy = (int)((seed >> 20) % H);
    int rx = 2 + (int)(seed % 7), ry = 1 + (int)((seed >> 4) % 3);
    seed = seed * 1103515245u + 12345u;
    int v = 90 + (int)((seed >> 16) % 140);
    for (int y = cy - ry; y <= cy + ry; y++)
      for (int x = cx - rx; x <= cx + rx; x++) {
        double dx = (double)(x - cx) / rx, dy = (double)(y - cy) / ry;
        if (x >= 0 && y >= 0 && x < W && y < H && dx * dx + dy * dy <= 1.0)
          sp[y * W + x] = (uint8_t)v;
      }
  }
}

/* Chains of characters (ocr_cc.c): the words of clean text come flagged
 * MV_BOX_SHAPED, in both layouts; text with the luma of its ground is
 * found in a colour channel; speckle holds no chain. */
static void test_chains(const char *dir) {
  char err[256], path[600];
  boxes *bs = calloc(1, sizeof *bs);
  void *chains = NULL, *bad = NULL;
  CHECK(D->ctx_new(S, "layout=sideways", &bad, err, sizeof err) ==
        MV_EINVAL && bad == NULL && strstr(err, "layout"));
  CHECK(D->ctx_new(S, "layout=chains", &chains, err, sizeof err) == MV_OK);
  snprintf(path, sizeof path, "%s/rgb.ppm", dir);
  pnm img;
  if (chains && read_pnm(path, &img) == 0) {
    mv_image mi = as_image(&img);
    CHECK(detect(chains, &mi, NULL, 0, bs, err, sizeof err) == MV_OK);
    mv_rect date = {420, 12, 116, 15};
    const mv_box *b = find_word(bs, "2019-08-30", &date);
    CHECK(b != NULL && (b->flags & MV_BOX_SHAPED));
    free(img.data);
  }

  /* Grey "characters" with the luma of their yellow ground: only the blue
   * channel (0 on the ground) shows them. Drawn as bars, no font needed. */
  enum { W = 320, H = 120 };
  uint8_t *px = malloc(W * H * 3);
  for (int i = 0; i < W * H; i++) { /* yellow: luma about 226 */
    px[3 * i] = 255, px[3 * i + 1] = 255, px[3 * i + 2] = 0;
  }
  /* Seven 14x20 "characters" (boxes with a hole: stroke 3) 8 px apart, in
   * grey 226 (same luma, but blue 226 instead of 0). */
  for (int k = 0; k < 7; k++)
    for (int y = 40; y < 60; y++)
      for (int x = 30 + 22 * k; x < 44 + 22 * k; x++) {
        int inner = y >= 43 && y < 57 && x >= 33 + 22 * k && x < 41 + 22 * k;
        if (inner) continue;
        uint8_t *q = px + 3 * (y * W + x);
        q[0] = q[1] = q[2] = 226;
      }
  mv_image ci;
  memset(&ci, 0, sizeof ci);
  ci.width = W, ci.height = H, ci.samples = 3, ci.bits = ci.bits_stored = 8;
  ci.stride = W * 3, ci.data = px;
  if (chains) {
    CHECK(detect(chains, &ci, NULL, 0, bs, err, sizeof err) == MV_OK);
    const mv_rect row = {30, 40, 146, 20};
    long cov = 0;
    for (size_t i = 0; i < bs->n; i++)
      if (bs->v[i].flags & MV_BOX_SHAPED) cov += inter(&bs->v[i].r, &row);
    CHECK(cov * 10 >= (long)row.w * row.h * 8);
  }

  /* A line that runs from a flat ground onto speckle crossed by a tissue
   * line, its first two characters (too few for a chain of their own) a
   * wide gap before the rest, as "Dr. E." before a name: found whole.
   * (test_ocr_ccgrow checks the growth steps themselves.) */
  uint8_t *sp = malloc(W * H);
  speckle(sp, W, H, 2024u);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      uint8_t *q = sp + y * W + x;
      if (x >= 118) *q = 40;                 /* flat ground */
      else if (y >= 48 && y < 51) *q = 130;  /* the tissue line */
      else *q = (uint8_t)(40 + (*q - 40) * 5 / 8); /* speckle up to ~155 */
    }
  for (int k = 0; k < 7; k++) {
    int x0 = k < 2 ? 64 + 22 * k : 136 + 22 * (k - 2); /* a 36 px gap */
    for (int y = 40; y < 60; y++)
      for (int x = x0; x < x0 + 14; x++) {
        int inner = y >= 43 && y < 57 && x >= x0 + 3 && x < x0 + 11;
        if (!inner) sp[y * W + x] = 230;
      }
  }
  if (chains) {
    mv_image li = ci;
    li.samples = 1, li.stride = W, li.data = sp;
    CHECK(detect(chains, &li, NULL, 0, bs, err, sizeof err) == MV_OK);
    const mv_rect on_speckle = {64, 40, 36, 20};
    long cov = 0;
    for (size_t i = 0; i < bs->n; i++)
      if (bs->v[i].flags & MV_BOX_SHAPED) cov += inter(&bs->v[i].r, &on_speckle);
    fprintf(stderr, "line onto speckle: %ld of %ld pixels shaped\n", cov,
            (long)on_speckle.w * on_speckle.h);
    CHECK(cov * 10 >= (long)on_speckle.w * on_speckle.h * 9);
  }

  /* Speckle (four seeds): no shaped box. */
  static const unsigned seeds[] = {12345u, 777u, 4242u, 99991u};
  for (size_t k = 0; chains && k < sizeof seeds / sizeof *seeds; k++) {
    speckle(sp, W, H, seeds[k]);
    mv_image si = ci;
    si.samples = 1, si.stride = W, si.data = sp;
    CHECK(detect(chains, &si, NULL, 0, bs, err, sizeof err) == MV_OK);
    size_t shaped = 0;
    for (size_t i = 0; i < bs->n; i++) {
      if (!(bs->v[i].flags & MV_BOX_SHAPED)) continue;
      shaped++;
      fprintf(stderr, "speckle %u: shaped box %d,%d %dx%d\n", seeds[k],
              bs->v[i].r.x, bs->v[i].r.y, bs->v[i].r.w, bs->v[i].r.h);
    }
    CHECK(shaped == 0);
  }
  free(sp);
  free(px);
  if (chains) D->ctx_free(chains);
  free(bs);
}

/* ---------------------------------------------------------------- corpus */

static void test_corpus(void *ctx, const char *dir) {
  const char *dcm = MV_SOURCE_DIR "/../shared/corpus/pixel/GREYSCALE_IMAGE.dcm";
  if (access(dcm, R_OK) != 0) {
    printf("corpus absent: skipping GREYSCALE_IMAGE\n");
    return;
  }
  char cmd[1024], out[512];
  snprintf(out, sizeof out, "%s/greyscale.pgm", dir);
  snprintf(cmd, sizeof cmd,
           "dcm2pnm --write-raw-pnm --min-max-window '%s' '%s' 2>/dev/null",
           dcm, out);
  CHECK(run(cmd) == 0);
  pnm img;
  CHECK(read_pnm(out, &img) == 0);
  if (!img.data) return;
  mv_image mi = as_image(&img);
  boxes *bs = calloc(1, sizeof *bs);
  char err[256];
  CHECK(detect(ctx, &mi, NULL, 0, bs, err, sizeof err) == MV_OK);
  check_boxes_sane(bs, &mi);
  /* Fake test PHI of the public file's header bar (see SOURCES.txt). */
  static const char *bar[] = {"ZZZ", "TEST", "00079241539", "08/29/1951"};
  mv_rect top = {0, 0, (int32_t)mi.width, 40};
  for (size_t i = 0; i < sizeof bar / sizeof *bar; i++) {
    const mv_box *b = find_word(bs, bar[i], NULL);
    if (!b || inter(&b->r, &top) != (long)b->r.w * b->r.h)
      fprintf(stderr, "GREYSCALE_IMAGE: header token #%zu not found in the "
              "top bar\n", i);
    CHECK(b != NULL && b->r.y + b->r.h <= 40);
  }
  /* The same through a ROI on the top band (the verification pass). */
  mv_rect band = {0, 0, (int32_t)mi.width, 30};
  CHECK(detect(ctx, &mi, &band, 1, bs, err, sizeof err) == MV_OK);
  for (size_t i = 0; i < sizeof bar / sizeof *bar; i++)
    CHECK(find_word(bs, bar[i], NULL) != NULL);
  free(bs);
  free(img.data);
  unlink(out);
}

/* ---------------------------------------------------------------- main */

static void host_log(int level, const char *who, const char *fmt, ...) {
  (void)level;
  (void)who;
  (void)fmt;
}
static const mv_host host = {MV_PLUGIN_ABI, sizeof(mv_host), host_log, malloc,
                             free};

int main(void) {
  const char *so = MV_BUILD_PLUGIN_DIR "/detect-ocr.so";
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "cannot load %s: %s\n", so, dlerror());
    return 1;
  }
  mv_plugin_entry_fn entry =
      (mv_plugin_entry_fn)dlsym(h, MV_PLUGIN_ENTRY_SYMBOL);
  CHECK(entry != NULL);
  if (!entry) TEST_MAIN_END();
  P = entry();
  CHECK(P->abi == MV_PLUGIN_ABI);
  CHECK_STR(P->name, "detect-ocr");
  CHECK(P->kinds == MV_KIND_DETECTOR);
  CHECK(P->size >= offsetof(mv_plugin, detector) + sizeof P->detector);
  D = P->detector;
  CHECK(D && D->size >= sizeof(mv_detector_ops));
  CHECK_STR(D->method, "ocr");

  char err[256] = "";
  int rc = P->init(&host, "models=" MV_SOURCE_DIR "/models\nother=1", &S, err,
                   sizeof err);
  CHECK(rc == MV_OK);
  if (rc) {
    fprintf(stderr, "init: %s\n", err);
    TEST_MAIN_END();
  }
  test_options();
  void *ctx = NULL;
  rc = D->ctx_new(S, "lang=eng", &ctx, err, sizeof err);
  CHECK(rc == MV_OK);
  if (rc) {
    fprintf(stderr, "ctx_new: %s\n", err);
    P->fini(S);
    TEST_MAIN_END();
  }

  char dir[] = "/tmp/mv_ocr_test_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'",
           MV_SOURCE_DIR "/tests/unit/gen_ocr_images.py", dir);
  int gen = run(cmd);
  CHECK(gen == 0); /* PIL and the fonts come with scripts/install-deps.sh */
  if (gen == 0) test_generated(ctx, dir);
  if (gen == 0) test_chains(dir);
  test_robust(ctx);
  test_corpus(ctx, dir);

  /* sparse mode also reads the generated light-on-dark image. */
  void *ctx2 = NULL;
  if (gen == 0 && D->ctx_new(S, "mode=sparse", &ctx2, err, sizeof err) == MV_OK) {
    char path[600];
    snprintf(path, sizeof path, "%s/light_on_dark.pgm", dir);
    pnm img;
    if (read_pnm(path, &img) == 0) {
      mv_image mi = as_image(&img);
      boxes *bs = calloc(1, sizeof *bs);
      CHECK(detect(ctx2, &mi, NULL, 0, bs, err, sizeof err) == MV_OK);
      mv_rect word = {420, 12, 126, 13};
      CHECK(find_word(bs, "00571234987", &word) != NULL);
      free(bs);
      free(img.data);
    }
    D->ctx_free(ctx2);
  } else {
    CHECK(0);
  }

  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  run(cmd);
  D->ctx_free(ctx);
  P->fini(S);
  dlclose(h);
  TEST_MAIN_END();
}
