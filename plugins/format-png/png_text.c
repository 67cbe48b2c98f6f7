/* png_text.c - what each metadata chunk says (its attribute name and
 * value) and edits of text chunks. PNG text is Latin-1 (tEXt, zTXt) or
 * UTF-8 (iTXt); attributes are UTF-8 either way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "png_internal.h"

/* ---------------------------------------------------------------------- */
/* Character sets.                                                         */

static char *latin1_to_utf8(const uint8_t *s, size_t n, size_t *outlen) {
  char *out = malloc(n * 2 + 1);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < 0x80) {
      out[o++] = (char)s[i];
    } else {
      out[o++] = (char)(0xC0 | (s[i] >> 6));
      out[o++] = (char)(0x80 | (s[i] & 0x3F));
    }
  }
  out[o] = 0;
  if (outlen) *outlen = o;
  return out;
}

/* UTF-8 to Latin-1 in place into `out` (n bytes at most); -1 when a
 * character has no Latin-1 form or the UTF-8 is malformed. */
static long utf8_to_latin1(const char *s, size_t n, uint8_t *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c < 0x80) {
      out[o++] = c;
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < n &&
               ((uint8_t)s[i + 1] & 0xC0) == 0x80) {
      out[o++] = (uint8_t)(((c & 0x1F) << 6) | ((uint8_t)s[i + 1] & 0x3F));
      i++;
    } else {
      return -1;
    }
  }
  return (long)o;
}

static int utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t k;
    uint32_t cp;
    if (c < 0x80) { i++; continue; }
    if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; }
    else return 0;
    if (n - i <= k) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
        (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += k + 1;
  }
  return 1;
}

/* ---------------------------------------------------------------------- */
/* zlib, bounded.                                                          */

/* Inflate into a new buffer of at most `cap` bytes. -1 on corrupt data,
 * -2 over the cap, -3 out of memory. */
static int inflate_bounded(const uint8_t *in, size_t n, size_t cap,
                           uint8_t **out, size_t *outlen) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit(&z) != Z_OK) return -3;
  size_t have = 0, size = n * 4 + 64 < cap ? n * 4 + 64 : cap;
  uint8_t *buf = malloc(size + 1);
  if (!buf) {
    inflateEnd(&z);
    return -3;
  }
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)n;
  int zr = Z_OK, rc = 0;
  for (;;) {
    if (have == size) {
      if (size >= cap) { rc = -2; break; }
      size_t ns = size * 2 < cap ? size * 2 : cap;
      uint8_t *g = realloc(buf, ns + 1);
      if (!g) { rc = -3; break; }
      buf = g;
      size = ns;
    }
    z.next_out = buf + have;
    z.avail_out = (uInt)(size - have);
    zr = inflate(&z, Z_NO_FLUSH);
    have = size - z.avail_out;
    if (zr == Z_STREAM_END) break;
    if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_out == 0)) {
      rc = -1;
      break;
    }
    if (z.avail_in == 0 && z.avail_out != 0) { rc = -1; break; }
  }
  inflateEnd(&z);
  if (rc) {
    free(buf);
    return rc;
  }
  buf[have] = 0;
  *out = buf;
  *outlen = have;
  return 0;
}

static int deflate_alloc(const uint8_t *in, size_t n, uint8_t **out,
                         size_t *outlen) {
  uLongf cap = compressBound((uLong)n);
  uint8_t *buf = malloc(cap ? cap : 1);
  if (!buf) return MV_ENOMEM;
  if (compress2(buf, &cap, in, (uLong)n, Z_BEST_COMPRESSION) != Z_OK) {
    free(buf);
    return MV_ENOMEM;
  }
  *out = buf;
  *outlen = cap;
  return MV_OK;
}

/* ---------------------------------------------------------------------- */
/* Describing chunks.                                                      */

/* A keyword: 1-79 Latin-1 printable bytes followed by NUL. Returns its
 * length or 0. */
static size_t keyword_len(const uint8_t *p, size_t n) {
  size_t k = 0;
  while (k < n && k < 80 && p[k]) {
    if (!((p[k] >= 32 && p[k] <= 126) || p[k] >= 161)) return 0;
    k++;
  }
  if (k == 0 || k > 79 || k >= n) return 0;
  return k;
}

static int set_name(mvpng_chunk *c, const char *prefix, const uint8_t *kw,
                    size_t kwlen) {
  char *u = latin1_to_utf8(kw, kwlen, NULL);
  if (!u) return MV_ENOMEM;
  size_t need = strlen(prefix) + strlen(u) + 1;
  c->name = malloc(need);
  if (!c->name) {
    free(u);
    return MV_ENOMEM;
  }
  snprintf(c->name, need, "%s%s", prefix, u);
  free(u);
  return MV_OK;
}

static int set_plain_name(mvpng_chunk *c, const char *name) {
  c->name = strdup(name);
  return c->name ? MV_OK : MV_ENOMEM;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static int set_text_value(mvpng_chunk *c, const char *fmt_buf) {
  c->text = strdup(fmt_buf);
  if (!c->text) return MV_ENOMEM;
  c->text_len = strlen(c->text);
  return MV_OK;
}

/* Anything not understood becomes a binary attribute png:chunk:<type>:
 * a text rule must not match a value that could not be read as text. */
static int as_binary(mvpng_chunk *c) {
  free(c->name);
  free(c->text);
  free(c->lang);
  c->name = c->text = c->lang = NULL;
  c->kind = MVPNG_BINARY;
  char n[20];
  snprintf(n, sizeof n, "png:chunk:%.4s", c->type);
  return set_plain_name(c, n);
}

static int describe_text(mvpng_chunk *c, size_t *budget) {
  const uint8_t *p = c->data;
  size_t n = c->len;
  size_t k = keyword_len(p, n);
  if (!k) return as_binary(c);
  const uint8_t *rest = p + k + 1;
  size_t rn = n - k - 1;
  char prefix[16];
  snprintf(prefix, sizeof prefix, "png:%.4s:", c->type);
  if (memcmp(c->type, "tEXt", 4) == 0) {
    if (memchr(rest, 0, rn)) return as_binary(c);
    c->text = latin1_to_utf8(rest, rn, &c->text_len);
    if (!c->text) return MV_ENOMEM;
  } else if (memcmp(c->type, "zTXt", 4) == 0) {
    if (rn < 1 || rest[0] != 0) return as_binary(c);
    uint8_t *raw;
    size_t rawlen;
    size_t cap = *budget < MVPNG_MAX_TEXT ? *budget : MVPNG_MAX_TEXT;
    int r = inflate_bounded(rest + 1, rn - 1, cap, &raw, &rawlen);
    if (r == -3) return MV_ENOMEM;
    if (r) return as_binary(c);
    *budget -= rawlen;
    if (memchr(raw, 0, rawlen)) {
      free(raw);
      return as_binary(c);
    }
    c->text = latin1_to_utf8(raw, rawlen, &c->text_len);
    free(raw);
    if (!c->text) return MV_ENOMEM;
    c->compressed = 1;
  } else { /* iTXt */
    if (rn < 2 || rest[0] > 1 || rest[1] != 0) return as_binary(c);
    int comp = rest[0];
    const uint8_t *lang = rest + 2;
    const uint8_t *e1 = memchr(lang, 0, rn - 2);
    if (!e1) return as_binary(c);
    const uint8_t *tk = e1 + 1;
    const uint8_t *e2 = memchr(tk, 0, (size_t)(p + n - tk));
    if (!e2) return as_binary(c);
    const uint8_t *txt = e2 + 1;
    size_t tn = (size_t)(p + n - txt);
    uint8_t *raw = NULL;
    size_t rawlen = tn;
    if (comp) {
      size_t cap = *budget < MVPNG_MAX_TEXT ? *budget : MVPNG_MAX_TEXT;
      int r = inflate_bounded(txt, tn, cap, &raw, &rawlen);
      if (r == -3) return MV_ENOMEM;
      if (r) return as_binary(c);
      *budget -= rawlen;
    } else {
      raw = malloc(tn + 1);
      if (!raw) return MV_ENOMEM;
      memcpy(raw, txt, tn);
      raw[tn] = 0;
    }
    if (memchr(raw, 0, rawlen) || !utf8_valid(raw, rawlen) ||
        !utf8_valid(tk, (size_t)(e2 - tk))) {
      free(raw);
      return as_binary(c);
    }
    c->text = (char *)raw;
    c->text_len = rawlen;
    c->compressed = comp;
    size_t ln = (size_t)(e1 - lang);
    c->lang = malloc(ln + 1);
    if (!c->lang) return MV_ENOMEM;
    memcpy(c->lang, lang, ln);
    c->lang[ln] = 0;
    for (size_t i = 0; i < ln; i++) /* a language tag: letters, digits, '-' */
      if (!((c->lang[i] >= 'a' && c->lang[i] <= 'z') ||
            (c->lang[i] >= 'A' && c->lang[i] <= 'Z') ||
            (c->lang[i] >= '0' && c->lang[i] <= '9') || c->lang[i] == '-'))
        c->lang[0] = 0;
  }
  c->kind = MVPNG_TEXT;
  return set_name(c, prefix, p, k);
}

int mvpng_describe(mv_doc *d, mvpng_chunk *c, size_t *budget) {
  (void)d;
  const char *t = c->type;
  c->kind = MVPNG_IMAGE;
  if (!memcmp(t, "IHDR", 4) || !memcmp(t, "PLTE", 4) || !memcmp(t, "tRNS", 4) ||
      !memcmp(t, "IDAT", 4) || !memcmp(t, "IEND", 4))
    return MV_OK;
  if (!memcmp(t, "tEXt", 4) || !memcmp(t, "zTXt", 4) || !memcmp(t, "iTXt", 4))
    return describe_text(c, budget);
  char buf[160];
  const uint8_t *p = c->data;
  if (!memcmp(t, "tIME", 4)) {
    if (c->len != 7) return as_binary(c);
    snprintf(buf, sizeof buf, "%04u-%02u-%02uT%02u:%02u:%02u",
             (unsigned)(p[0] << 8 | p[1]), p[2], p[3], p[4], p[5], p[6]);
    c->kind = MVPNG_TIME;
    int rc = set_text_value(c, buf);
    return rc ? rc : set_plain_name(c, "png:tIME");
  }
  if (!memcmp(t, "gAMA", 4) && c->len == 4) {
    snprintf(buf, sizeof buf, "%.5f", be32(p) / 100000.0);
  } else if (!memcmp(t, "cHRM", 4) && c->len == 32) {
    int o = 0;
    for (int i = 0; i < 8; i++)
      o += snprintf(buf + o, sizeof buf - (size_t)o, "%s%.5f", i ? " " : "",
                    be32(p + 4 * i) / 100000.0);
  } else if (!memcmp(t, "sRGB", 4) && c->len == 1) {
    snprintf(buf, sizeof buf, "%u", p[0]);
  } else if (!memcmp(t, "pHYs", 4) && c->len == 9) {
    snprintf(buf, sizeof buf, "%u %u %s", be32(p), be32(p + 4),
             p[8] == 1 ? "per-metre" : "unknown-unit");
  } else if (!memcmp(t, "gAMA", 4) || !memcmp(t, "cHRM", 4) ||
             !memcmp(t, "sRGB", 4) || !memcmp(t, "pHYs", 4) ||
             !memcmp(t, "iCCP", 4) || !memcmp(t, "sBIT", 4) ||
             !memcmp(t, "eXIf", 4)) {
    char n[16];
    snprintf(n, sizeof n, "png:%.4s", t);
    c->kind = MVPNG_BINARY;
    return set_plain_name(c, n);
  } else {
    return as_binary(c);
  }
  char n[16];
  snprintf(n, sizeof n, "png:%.4s", t);
  c->kind = MVPNG_INFO;
  int rc = set_text_value(c, buf);
  return rc ? rc : set_plain_name(c, n);
}

int mvpng_is_attribute(const mvpng_chunk *c) {
  return !c->removed && c->kind != MVPNG_IMAGE;
}

/* ---------------------------------------------------------------------- */
/* Edits.                                                                  */

static int parse_time(const char *v, size_t n, uint8_t out[7]) {
  unsigned y, mo, da, h, mi, s;
  char buf[32];
  if (n >= sizeof buf) return MV_EINVAL;
  memcpy(buf, v, n);
  buf[n] = 0;
  int used = 0;
  if (sscanf(buf, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &da, &h, &mi, &s,
             &used) != 6 || (size_t)used != n)
    return MV_EINVAL;
  if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60)
    return MV_EINVAL;
  out[0] = (uint8_t)(y >> 8);
  out[1] = (uint8_t)y;
  out[2] = (uint8_t)mo;
  out[3] = (uint8_t)da;
  out[4] = (uint8_t)h;
  out[5] = (uint8_t)mi;
  out[6] = (uint8_t)s;
  return MV_OK;
}

/* Rebuild a text chunk with `value` (UTF-8). tEXt and zTXt stay what they
 * are when the value fits Latin-1 and become iTXt otherwise. An iTXt loses
 * its translated keyword (it may repeat what the value said). */
static int rebuild_text(mvpng_chunk *c, const uint8_t *kw, size_t kwlen,
                        const char *value, size_t len) {
  uint8_t *latin = malloc(len + 1);
  if (!latin) return MV_ENOMEM;
  long ll = utf8_to_latin1(value, len, latin);
  int itxt = memcmp(c->type, "iTXt", 4) == 0 || ll < 0;
  const uint8_t *payload = itxt ? (const uint8_t *)value : latin;
  size_t plen = itxt ? len : (size_t)ll;
  uint8_t *z = NULL;
  size_t zlen = 0;
  if (c->compressed) {
    int rc = deflate_alloc(payload, plen, &z, &zlen);
    if (rc) {
      free(latin);
      return rc;
    }
    payload = z;
    plen = zlen;
  }
  const char *lang = itxt && c->lang ? c->lang : "";
  size_t head = kwlen + 1 + (itxt ? 2 + strlen(lang) + 1 + 1
                                  : (c->compressed ? 1 : 0));
  uint8_t *data = malloc(head + plen + 1);
  if (!data) {
    free(latin);
    free(z);
    return MV_ENOMEM;
  }
  size_t o = 0;
  memcpy(data, kw, kwlen);
  o = kwlen;
  data[o++] = 0;
  if (itxt) {
    data[o++] = (uint8_t)(c->compressed ? 1 : 0);
    data[o++] = 0;
    memcpy(data + o, lang, strlen(lang));
    o += strlen(lang);
    data[o++] = 0;
    data[o++] = 0; /* empty translated keyword */
  } else if (c->compressed) {
    data[o++] = 0; /* compression method */
  }
  if (plen) memcpy(data + o, payload, plen);
  o += plen;
  free(latin);
  free(z);
  char *copy = malloc(len + 1);
  if (!copy) {
    free(data);
    return MV_ENOMEM;
  }
  memcpy(copy, value, len);
  copy[len] = 0;
  if (itxt) memcpy(c->type, "iTXt", 4);
  mvpng_chunk_set_data(c, data, (uint32_t)o);
  free(c->text);
  c->text = copy;
  c->text_len = len;
  return MV_OK;
}

int mvpng_set_text(mvpng_chunk *c, const char *value, size_t len) {
  if (c->kind == MVPNG_TIME) {
    uint8_t t[7];
    int rc = parse_time(value, len, t);
    if (rc) return rc;
    uint8_t *data = malloc(7);
    char *copy = malloc(len + 1);
    if (!data || !copy) {
      free(data);
      free(copy);
      return MV_ENOMEM;
    }
    memcpy(data, t, 7);
    memcpy(copy, value, len);
    copy[len] = 0;
    mvpng_chunk_set_data(c, data, 7);
    free(c->text);
    c->text = copy;
    c->text_len = len;
    return MV_OK;
  }
  if (c->kind != MVPNG_TEXT) return MV_EUNSUPPORTED;
  if (len > MVPNG_MAX_TEXT || memchr(value, 0, len) ||
      !utf8_valid((const uint8_t *)value, len))
    return MV_EINVAL;
  uint8_t kw[80];
  size_t kwlen = keyword_len(c->data, c->len);
  if (!kwlen) return MV_EFORMAT;
  memcpy(kw, c->data, kwlen);
  return rebuild_text(c, kw, kwlen, value, len);
}

int mvpng_new_text(mv_doc *d, const char *name, const char *value,
                   size_t len) {
  const char *type;
  if (!strncmp(name, "png:tEXt:", 9)) type = "tEXt";
  else if (!strncmp(name, "png:zTXt:", 9)) type = "zTXt";
  else if (!strncmp(name, "png:iTXt:", 9)) type = "iTXt";
  else return MV_EUNSUPPORTED;
  const char *kwu = name + 9;
  uint8_t kw[81];
  size_t ku = strlen(kwu);
  if (ku == 0 || ku > 160) return MV_EINVAL;
  uint8_t tmp[161];
  long kl = utf8_to_latin1(kwu, ku, tmp);
  if (kl <= 0 || kl > 79) return MV_EINVAL;
  memcpy(kw, tmp, (size_t)kl);
  kw[kl] = 0;
  if (keyword_len(kw, (size_t)kl + 1) != (size_t)kl) return MV_EINVAL;
  uint8_t *data = malloc((size_t)kl + 1);
  if (!data) return MV_ENOMEM;
  memcpy(data, kw, (size_t)kl + 1);
  mvpng_chunk *c = mvpng_insert_before_iend(d, type, data, (uint32_t)kl + 1);
  if (!c) {
    free(data);
    return MV_ENOMEM;
  }
  c->kind = MVPNG_TEXT;
  c->compressed = type[0] == 'z';
  int rc = set_plain_name(c, name);
  if (rc == MV_OK) rc = mvpng_set_text(c, value, len);
  if (rc != MV_OK) c->removed = 1;
  return rc;
}
