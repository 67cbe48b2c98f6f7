/* format-png: attributes and edits of every text chunk kind, pixels of
 * every colour type through acquire/release/write, IDAT copied unchanged
 * when pixels are not, hostile files refused with reasons; and the policy's
 * `named` rules (exact, longest prefix, remove when unnamed). */
#define MV_TEST_PLUGINS
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_policy.h"
#include "mv_registry.h"
#include "mv_test.h"

static const mv_format_ops *F;
static char dir[] = "/tmp/mvpngXXXXXX";

/* ---------------------------------------------------------------------- */
/* Fixtures, written with libpng.                                          */

typedef struct spec {
  uint32_t w, h;
  int ct, bd, interlace;
  int meta;    /* text chunks, tIME, gAMA, eXIf, a private chunk */
  int trns;    /* palette: tRNS */
} spec;

static uint16_t sample(uint32_t x, uint32_t y, int c, int bd) {
  uint32_t max = (1u << bd) - 1;
  return (uint16_t)(((x * 7 + y * 13 + (uint32_t)c * 31) * 2654435761u >> 7) %
                    (max + 1));
}

static int channels_of(int ct) {
  return ct == 0 ? 1 : ct == 2 ? 3 : ct == 3 ? 1 : ct == 4 ? 2 : 4;
}

static const char *write_png(const char *name, const spec *s) {
  static char path[4300];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, 0, 0, 0);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    fclose(f);
    return NULL;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, s->w, s->h, s->bd, s->ct,
               s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (s->ct == 3) {
    png_color pal[16];
    png_byte alpha[16];
    for (int i = 0; i < 16; i++) {
      pal[i].red = (png_byte)(i * 16);
      pal[i].green = (png_byte)(255 - i * 16);
      pal[i].blue = (png_byte)(i * 5);
      alpha[i] = (png_byte)(i * 17);
    }
    png_set_PLTE(png, info, pal, 1 << (s->bd < 4 ? s->bd : 4));
    if (s->trns) png_set_tRNS(png, info, alpha, 1 << (s->bd < 4 ? s->bd : 4), NULL);
  }
  if (s->meta) {
    png_text t[3];
    memset(t, 0, sizeof t);
    t[0].compression = PNG_TEXT_COMPRESSION_NONE;
    t[0].key = "Comment";
    t[0].text = "Patient ZZTEXT\xe9 1961";
    t[1].compression = PNG_TEXT_COMPRESSION_zTXt;
    t[1].key = "Author";
    t[1].text = "ZZZTXT author";
    t[2].compression = PNG_ITXT_COMPRESSION_NONE;
    t[2].key = "Description";
    t[2].text = "ZZITXT \xc3\xa4";
    t[2].lang = "en";
    t[2].lang_key = "ZZLANGKEY";
    png_set_text(png, info, t, 3);
    png_time tm = {1977, 3, 12, 10, 20, 30};
    png_set_tIME(png, info, &tm);
    png_set_gAMA_fixed(png, info, 45455);
    png_byte exif[] = "MM\0*ZZEXIF";
    png_set_eXIf_1(png, info, sizeof exif, exif);
    png_unknown_chunk u;
    memset(&u, 0, sizeof u);
    memcpy(u.name, "prVt", 5);
    u.data = (png_byte *)"ZZPRIVATE";
    u.size = 9;
    u.location = PNG_HAVE_IHDR;
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS,
                                (png_const_bytep) "prVt", 1);
    png_set_unknown_chunks(png, info, &u, 1);
  }
  png_write_info(png, info);
  int ch = channels_of(s->ct);
  size_t bps = s->bd == 16 ? 2 : 1;
  png_byte *row = calloc((size_t)s->w * (size_t)ch * bps + 8, 1);
  png_bytep *rows = calloc(s->h, sizeof *rows);
  for (uint32_t y = 0; y < s->h; y++) {
    rows[y] = calloc((size_t)s->w * (size_t)ch * bps + 8, 1);
    for (uint32_t x = 0; x < s->w; x++)
      for (int c = 0; c < ch; c++) {
        int bd = s->ct == 3 ? (s->bd < 4 ? s->bd : 4) : s->bd;
        uint16_t v = sample(x, y, c, bd);
        if (bps == 2) {
          rows[y][(x * ch + c) * 2] = (png_byte)(v >> 8);
          rows[y][(x * ch + c) * 2 + 1] = (png_byte)v;
        } else if (s->bd < 8) {
          int per = 8 / s->bd;
          rows[y][x / per] |= (png_byte)(v << ((per - 1 - x % per) * s->bd));
        } else {
          rows[y][x * ch + c] = (png_byte)v;
        }
      }
  }
  png_write_image(png, rows);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  fclose(f);
  for (uint32_t y = 0; y < s->h; y++) free(rows[y]);
  free(rows);
  free(row);
  return path;
}

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  *n = fread(b, 1, (size_t)len, f);
  fclose(f);
  return b;
}

static void spit(const char *path, const uint8_t *b, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

/* All IDAT payloads of a file, concatenated. */
static uint8_t *idat_of(const char *path, size_t *n) {
  size_t len;
  uint8_t *b = slurp(path, &len);
  uint8_t *out = malloc(len);
  *n = 0;
  for (size_t o = 8; o + 12 <= len;) {
    uint32_t l = (uint32_t)b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3];
    if (!memcmp(b + o + 4, "IDAT", 4)) {
      memcpy(out + *n, b + o + 8, l);
      *n += l;
    }
    o += l + 12;
  }
  free(b);
  return out;
}

static int contains(const char *path, const char *needle) {
  size_t n;
  uint8_t *b = slurp(path, &n);
  int found = memmem(b, n, needle, strlen(needle)) != NULL;
  free(b);
  return found;
}

/* ---------------------------------------------------------------------- */
/* Visitors.                                                               */

typedef struct seen {
  char names[32][80];
  char values[32][80];
  int binary[32];
  int n;
} seen;

static int collect(void *ud, const mv_attr *a, void *h) {
  (void)h;
  seen *s = ud;
  if (s->n < 32) {
    snprintf(s->names[s->n], 80, "%s", a->name ? a->name : "?");
    snprintf(s->values[s->n], 80, "%.*s", a->value ? (int)a->len : 0,
             a->value ? a->value : "");
    s->binary[s->n] = a->value == NULL;
    s->n++;
  }
  return a->tag == 0 && a->name && !a->vr[0] ? MV_VISIT_KEEP : MV_VISIT_ABORT;
}

static int find(const seen *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->names[i], name)) return i;
  return -1;
}

/* Remove the Comment, rewrite Author with a non-Latin-1 value, empty the
 * Description, keep the rest. */
static int edit(void *ud, const mv_attr *a, void *h) {
  if (!strcmp(a->name, "png:tEXt:Comment")) return MV_VISIT_REMOVE;
  if (!strcmp(a->name, "png:zTXt:Author")) {
    CHECK(F->set_value(((mv_doc **)ud)[0], h, "\xe2\x82\xac new", 7) ==
          MV_OK);
    return MV_VISIT_KEEP;
  }
  if (!strcmp(a->name, "png:iTXt:Description")) return MV_VISIT_EMPTY;
  if (!strcmp(a->name, "png:chunk:prVt")) return MV_VISIT_REMOVE;
  if (!strcmp(a->name, "png:eXIf")) return MV_VISIT_REMOVE;
  return MV_VISIT_KEEP;
}

static mv_doc *open_ok(const char *path) {
  mv_doc *d = NULL;
  char err[512] = "";
  int rc = F->open(NULL, path, &d, err, sizeof err);
  if (rc != MV_OK) fprintf(stderr, "open %s: %s\n", path, err);
  CHECK(rc == MV_OK && d);
  return d;
}

static void test_metadata(void) {
  spec s = {64, 40, 2, 8, 0, 1, 0};
  const char *in = write_png("meta.png", &s);
  CHECK(in != NULL);
  uint8_t head[16];
  size_t hn;
  uint8_t *b = slurp(in, &hn);
  memcpy(head, b, 16);
  free(b);
  CHECK(F->probe(NULL, head, 16) == 100);
  CHECK(F->probe(NULL, (const uint8_t *)"GIF89a\0\0\0\0\0\0\0\0\0\0", 16) == 0);
  mv_doc *d = open_ok(in);
  if (!d) return;
  seen sn = {0};
  CHECK(F->visit(d, collect, &sn) == MV_OK);
  int i;
  CHECK((i = find(&sn, "png:tEXt:Comment")) >= 0 &&
        !strcmp(sn.values[i], "Patient ZZTEXT\xc3\xa9 1961")); /* Latin-1 -> UTF-8 */
  CHECK((i = find(&sn, "png:zTXt:Author")) >= 0 &&
        !strcmp(sn.values[i], "ZZZTXT author"));
  CHECK((i = find(&sn, "png:iTXt:Description")) >= 0 &&
        !strcmp(sn.values[i], "ZZITXT \xc3\xa4"));
  CHECK((i = find(&sn, "png:tIME")) >= 0 &&
        !strcmp(sn.values[i], "1977-03-12T10:20:30"));
  CHECK((i = find(&sn, "png:gAMA")) >= 0 && !strcmp(sn.values[i], "0.45455"));
  CHECK((i = find(&sn, "png:eXIf")) >= 0 && sn.binary[i]);
  CHECK((i = find(&sn, "png:chunk:prVt")) >= 0 && sn.binary[i]);
  const char *v;
  size_t n;
  CHECK(F->get(d, "Modality", &v, &n) == MV_OK && n == 2 && !memcmp(v, "OT", 2));
  CHECK(F->get(d, "png:zTXt:Author", &v, &n) == MV_OK && n == 13);
  CHECK(F->get(d, "png:eXIf", &v, &n) == MV_EUNSUPPORTED);
  CHECK(F->get(d, "PatientName", &v, &n) == MV_ENOTFOUND);
  uint32_t tag;
  char vr[4];
  CHECK(F->resolve(NULL, "PatientName", &tag, vr) == MV_ENOTFOUND);

  mv_doc *ud[1] = {d};
  CHECK(F->visit(d, edit, ud) == MV_OK);
  /* tIME by key: only its own form is accepted. */
  CHECK(F->set(d, "png:tIME", NULL, "2001-02-03T04:05:06", 19) == MV_OK);
  CHECK(F->set(d, "png:tIME", NULL, "yesterday", 9) != MV_OK);
  CHECK(F->set(d, "png:tEXt:Software", NULL, "medveil", 7) == MV_OK);
  CHECK(F->remove(d, "png:gAMA") == MV_OK);
  CHECK(F->remove(d, "png:gAMA") == MV_ENOTFOUND);
  char out[4300], err[256];
  snprintf(out, sizeof out, "%s/meta-out.png", dir);
  CHECK(F->write(d, out, err, sizeof err) == MV_OK);
  F->close(d);

  CHECK(!contains(out, "ZZTEXT") && !contains(out, "ZZZTXT") &&
        !contains(out, "ZZITXT") && !contains(out, "ZZLANGKEY") &&
        !contains(out, "ZZEXIF") && !contains(out, "ZZPRIVATE"));
  size_t a, bb;
  uint8_t *ia = idat_of(in, &a), *ib = idat_of(out, &bb);
  CHECK(a == bb && a > 0 && !memcmp(ia, ib, a)); /* image data byte-identical */
  free(ia);
  free(ib);
  d = open_ok(out);
  if (!d) return;
  seen s2 = {0};
  CHECK(F->visit(d, collect, &s2) == MV_OK);
  CHECK(find(&s2, "png:tEXt:Comment") < 0 && find(&s2, "png:eXIf") < 0 &&
        find(&s2, "png:chunk:prVt") < 0 && find(&s2, "png:gAMA") < 0);
  /* not Latin-1: the zTXt became a (compressed) iTXt of the same keyword */
  CHECK((i = find(&s2, "png:iTXt:Author")) >= 0 &&
        !strcmp(s2.values[i], "\xe2\x82\xac new"));
  CHECK((i = find(&s2, "png:iTXt:Description")) >= 0 && !s2.values[i][0]);
  CHECK((i = find(&s2, "png:tIME")) >= 0 &&
        !strcmp(s2.values[i], "2001-02-03T04:05:06"));
  CHECK((i = find(&s2, "png:tEXt:Software")) >= 0 &&
        !strcmp(s2.values[i], "medveil"));
  F->close(d);
}

/* Pixels of one colour type: the plane is what libpng decodes; a released
 * rectangle is written back (opaque), the rest is unchanged; without a
 * change the IDAT stream is copied. */
static void test_pixels(const char *name, spec s) {
  const char *in = write_png(name, &s);
  CHECK(in != NULL);
  mv_doc *d = open_ok(in);
  if (!d) return;
  mv_pixel_info info = {.size = sizeof info};
  CHECK(F->pixel_info(d, &info) == MV_OK);
  CHECK(info.planes == 1 && info.width == s.w && info.height == s.h);
  int colour = s.ct == 2 || s.ct == 3 || s.ct == 6;
  CHECK(info.samples == (colour ? 3u : 1u));
  mv_image img;
  char err[256];
  CHECK(F->acquire(d, 0, &img, err, sizeof err) == MV_OK);
  CHECK(img.width == s.w && img.samples == info.samples);
  CHECK(img.bits == (s.bd == 16 && !colour ? 16u : 8u));
  /* unchanged release: byte-identical image data */
  CHECK(F->release(d, 0, NULL, 0, err, sizeof err) == MV_OK);
  char out[4300];
  snprintf(out, sizeof out, "%s/%s-same.png", dir, name);
  CHECK(F->write(d, out, err, sizeof err) == MV_OK);
  size_t a, b;
  uint8_t *ia = idat_of(in, &a), *ib = idat_of(out, &b);
  CHECK(a == b && !memcmp(ia, ib, a));
  free(ia);
  free(ib);
  /* keep a copy of the plane, then fill a rectangle with 0 */
  CHECK(F->acquire(d, 0, &img, err, sizeof err) == MV_OK);
  size_t bytes = img.stride * img.height;
  uint8_t *before = malloc(bytes);
  memcpy(before, img.data, bytes);
  mv_rect r = {3, 2, 10, 5};
  size_t px = img.bits / 8 * img.samples;
  for (int y = r.y; y < r.y + r.h; y++)
    memset((uint8_t *)img.data + img.stride * (size_t)y + px * (size_t)r.x, 0,
           px * (size_t)r.w);
  CHECK(F->release(d, 0, &r, 1, err, sizeof err) == MV_OK);
  snprintf(out, sizeof out, "%s/%s-red.png", dir, name);
  CHECK(F->write(d, out, err, sizeof err) == MV_OK);
  F->close(d);
  d = open_ok(out);
  if (!d) {
    free(before);
    return;
  }
  CHECK(F->acquire(d, 0, &img, err, sizeof err) == MV_OK);
  int inside_ok = 1, outside_ok = 1;
  for (uint32_t y = 0; y < img.height; y++)
    for (uint32_t x = 0; x < img.width; x++) {
      const uint8_t *p = (const uint8_t *)img.data + img.stride * y + px * x;
      const uint8_t *q = before + img.stride * y + px * x;
      int in_r = (int)x >= r.x && (int)x < r.x + r.w && (int)y >= r.y &&
                 (int)y < r.y + r.h;
      for (size_t k = 0; k < px; k++) {
        if (in_r && p[k] != 0) inside_ok = 0;
        if (!in_r && p[k] != q[k]) outside_ok = 0;
      }
    }
  CHECK(inside_ok);  /* redacted and opaque: black over any background */
  CHECK(outside_ok); /* everything else as before */
  CHECK(F->release(d, 0, NULL, 0, err, sizeof err) == MV_OK);
  F->close(d);
  /* the re-encoded file is not interlaced and keeps its bit depth
   * (palettes become RGB or RGBA) */
  size_t n;
  uint8_t *o = slurp(out, &n);
  CHECK(n > 33 && o[28] == 0);
  CHECK(o[24] == (s.ct == 3 ? 8 : s.bd));
  CHECK(o[25] == (s.ct == 3 ? (s.trns ? 6 : 2) : s.ct));
  free(o);
  free(before);
}

static void expect_refused(const char *path, int code, const char *want) {
  mv_doc *d = NULL;
  char err[512] = "";
  int rc = F->open(NULL, path, &d, err, sizeof err);
  CHECK(rc != MV_OK && d == NULL);
  if (code) CHECK(rc == code);
  if (want && !strstr(err, want))
    fprintf(stderr, "reason '%s' lacks '%s'\n", err, want);
  CHECK(!want || strstr(err, want) != NULL);
  CHECK(err[0] != 0);
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
  p[3] = (uint8_t)v;
}

static void test_hostile(void) {
  spec s = {48, 30, 2, 8, 0, 1, 0};
  const char *in = write_png("host.png", &s);
  size_t n;
  uint8_t *b = slurp(in, &n);
  char p[4300];
  snprintf(p, sizeof p, "%s/bad.png", dir);
  /* a huge declared size: refused from IHDR, before decoding */
  uint8_t *big = malloc(n);
  memcpy(big, b, n);
  put32(big + 16, 60000);
  put32(big + 20, 60000);
  put32(big + 29, crc32_of(big + 12, 17));
  spit(p, big, n);
  expect_refused(p, MV_ELIMIT, "limit");
  put32(big + 16, 20000);
  put32(big + 20, 20000); /* each side fine, 4e8 pixels in all: not */
  put32(big + 29, crc32_of(big + 12, 17));
  spit(p, big, n);
  expect_refused(p, MV_ELIMIT, "limit");
  free(big);
  /* truncated anywhere: refused with a reason */
  int all = 1;
  for (size_t cut = 0; cut < n; cut += (cut < 64 ? 1 : 7)) {
    spit(p, b, cut);
    mv_doc *d = NULL;
    char err[512] = "";
    int rc = F->open(NULL, p, &d, err, sizeof err);
    if (rc == MV_OK || !err[0]) all = 0;
    if (d) F->close(d);
  }
  CHECK(all);
  /* bytes after the zlib stream inside IDAT: decodable, but re-encoded
   * so they do not travel */
  {
    size_t o = 8, at = 0;
    uint32_t l = 0;
    while (o + 12 <= n) {
      l = (uint32_t)b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3];
      if (!memcmp(b + o + 4, "IDAT", 4)) { at = o; break; }
      o += l + 12;
    }
    CHECK(at > 0);
    uint8_t *e = malloc(n + 16);
    memcpy(e, b, at + 8 + l);
    memcpy(e + at + 8 + l, "ZZHIDDENPAYLOAD!", 16);
    put32(e + at, l + 16);
    put32(e + at + 8 + l + 16, crc32_of(e + at + 4, l + 16 + 4));
    memcpy(e + at + 12 + l + 16, b + at + 12 + l, n - (at + 12 + l));
    spit(p, e, n + 16);
    free(e);
    mv_doc *d = open_ok(p);
    if (d) {
      char out[4300], err[256];
      snprintf(out, sizeof out, "%s/hidden-out.png", dir);
      CHECK(F->write(d, out, err, sizeof err) == MV_OK);
      F->close(d);
      CHECK(!contains(out, "ZZHIDDENPAYLOAD"));
      d = open_ok(out);
      if (d) F->close(d);
    }
  }
  /* a flipped byte inside a chunk: CRC mismatch */
  uint8_t *x = malloc(n);
  memcpy(x, b, n);
  x[40] ^= 0x55;
  spit(p, x, n);
  expect_refused(p, MV_EFORMAT, NULL);
  free(x);
  free(b);
}

/* ---------------------------------------------------------------------- */
/* Policy: named rules.                                                    */

static int named(const mv_policy *p, const char *name) {
  return mv_policy_lookup_named(p, name)->kind;
}

static void test_policy(void) {
  mv_registry *reg = mv_registry_new();
  char err[2048];
  CHECK(mv_registry_load(reg, MV_BUILD_PLUGIN_DIR "/format-dicom.so", NULL, err,
                         sizeof err) == MV_OK);
  mv_policy_env env = {.scripts_dir = MV_SOURCE_DIR "/scripts",
                       .rules_dir = MV_SOURCE_DIR "/rules",
                       .registry = reg};
  const char *profiles[] = {"basic", "research", "hipaa"};
  for (int i = 0; i < 3; i++) {
    mv_policy *p = NULL;
    CHECK(mv_policy_load(&env, profiles[i], &p, err, sizeof err) == MV_OK);
    if (!p) continue;
    CHECK(named(p, "png:iCCP") == MV_ACT_KEEP);
    CHECK(named(p, "png:gAMA") == MV_ACT_KEEP);
    CHECK(named(p, "png:pHYs") == MV_ACT_KEEP);
    CHECK(named(p, "jpeg:exif:Orientation") == MV_ACT_KEEP);
    CHECK(named(p, "png:tEXt:Comment") == MV_ACT_REMOVE);
    CHECK(named(p, "png:eXIf") == MV_ACT_REMOVE);
    CHECK(named(p, "png:tIME") == MV_ACT_REMOVE);
    CHECK(named(p, "jpeg:exif:GPSLatitude") == MV_ACT_REMOVE);
    CHECK(named(p, "nifti:descrip") == MV_ACT_EMPTY);
    CHECK(named(p, "nifti:ext:4") == MV_ACT_REMOVE);
    CHECK(named(p, NULL) == MV_ACT_REMOVE);
    CHECK(mv_policy_lookup(p, 0, NULL, "")->kind == MV_ACT_REMOVE);
    /* PNG answers OT, JPEG XC: cleaned (all text) by research and hipaa */
    int cleans = i > 0;
    CHECK(mv_policy_pixel_modality(p, "OT") == cleans);
    CHECK(mv_policy_pixel_modality(p, "XC") == cleans);
    CHECK(mv_pixpolicy_mode(mv_policy_pixel_settings(p), "OT") == MV_PHI_ALL_TEXT);
    CHECK(mv_pixpolicy_mode(mv_policy_pixel_settings(p), "XC") == MV_PHI_ALL_TEXT);
    mv_policy_free(p);
  }
  char path[4300];
  snprintf(path, sizeof path, "%s/site.lua", dir);
  FILE *f = fopen(path, "w");
  fputs("local mv = require \"medveil\"\n"
        "return mv.profile \"research\" {\n"
        "  private = mv.keep,\n"
        "  named = { [\"png:*\"] = mv.keep, [\"png:tEXt:*\"] = mv.clean,\n"
        "            [\"png:tEXt:Author\"] = mv.pseudonym \"A\",\n"
        "            [\"png:iCCP\"] = mv.remove },\n"
        "}\n", f);
  fclose(f);
  mv_policy *p = NULL;
  CHECK(mv_policy_load(&env, path, &p, err, sizeof err) == MV_OK);
  if (p) {
    CHECK(named(p, "png:tEXt:Author") == MV_ACT_PSEUDONYM); /* exact */
    CHECK(named(p, "png:tEXt:Comment") == MV_ACT_CLEAN);    /* longest prefix */
    CHECK(named(p, "png:zTXt:Comment") == MV_ACT_KEEP);     /* png:* */
    CHECK(named(p, "png:iCCP") == MV_ACT_REMOVE);           /* overrides default */
    CHECK(named(p, "png:gAMA") == MV_ACT_KEEP);
    CHECK(named(p, "jpeg:com") == MV_ACT_REMOVE);           /* not private's keep */
    mv_policy_free(p);
  }
  const char *bad[] = {
      "return { named = { [\"Comment\"] = { action = \"keep\" } } }",
      "return { named = { [\"png:*:x\"] = { action = \"keep\" } } }",
      "return { named = { [\"png:tIME\"] = { action = \"shift\" } } }",
      "return { named = { [\"png:x\"] = function() return nil end } }",
      "return { named = { [1] = { action = \"keep\" } } }",
      "return { named = 5 }",
      "local mv = require \"medveil\"\n"
      "return mv.profile \"basic\" { named = { [\"png:\"] = mv.keep } }",
      "local mv = require \"medveil\"\n"
      "return mv.profile \"basic\" { named = { [\"png:tIME\"] = mv.uid } }",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    f = fopen(path, "w");
    fputs(bad[i], f);
    fclose(f);
    p = NULL;
    int rc = mv_policy_load(&env, path, &p, err, sizeof err);
    if (rc == MV_OK) fprintf(stderr, "loaded, expected failure: %s\n", bad[i]);
    CHECK(rc != MV_OK && strstr(err, "named") != NULL);
    mv_policy_free(p);
  }
  mv_registry_free(reg);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL);
  const mv_plugin *P = mv_test_load_plugin(MV_BUILD_PLUGIN_DIR "/format-png.so");
  CHECK(P != NULL);
  if (!P) TEST_MAIN_END();
  void *state = NULL;
  char err[256];
  static const mv_host host = {MV_PLUGIN_ABI, sizeof(mv_host), NULL, malloc,
                               free};
  CHECK(P->init(&host, NULL, &state, err, sizeof err) == MV_OK);
  F = P->format;
  CHECK(F && !strcmp(F->extension, "png"));

  test_metadata();
  test_pixels("rgb8.png", (spec){40, 30, 2, 8, 0, 0, 0});
  test_pixels("rgba16.png", (spec){40, 30, 6, 16, 0, 0, 0});
  test_pixels("grey16.png", (spec){40, 30, 0, 16, 0, 0, 0});
  test_pixels("grey2.png", (spec){40, 30, 0, 2, 0, 0, 0});
  test_pixels("ga8.png", (spec){40, 30, 4, 8, 0, 0, 0});
  test_pixels("pal4.png", (spec){40, 30, 3, 4, 0, 0, 0});
  test_pixels("pal8trns.png", (spec){40, 30, 3, 8, 0, 0, 1});
  test_pixels("rgb8-adam7.png", (spec){40, 30, 2, 8, 1, 1, 0});
  test_hostile();
  test_policy();
  P->fini(state);
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
  TEST_MAIN_END();
}
