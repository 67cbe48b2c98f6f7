/* mv_xwalk_record.c - one crosswalk record: a flat JSON object of strings,
 * padded, sealed for the recipient, base64 on one line. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medveil/errors.h"
#include "mv_crosswalk.h"
#include "mv_json.h"

const char *const mv_xwalk_field_names[MV_XF__COUNT] = {
    [MV_XF_KIND] = "kind",
    [MV_XF_JOB] = "job",
    [MV_XF_TIME] = "time",
    [MV_XF_OUT_DIR] = "out_dir",
    [MV_XF_STATUS] = "status",
    [MV_XF_INPUT] = "input",
    [MV_XF_INPUT_SHA256] = "input_sha256",
    [MV_XF_OUTPUT] = "output",
    [MV_XF_OUTPUT_SHA256] = "output_sha256",
    [MV_XF_REVIEW_ID] = "review_id",
    [MV_XF_SUBJECT] = "subject",
    [MV_XF_PATIENT_NAME] = "patient_name",
    [MV_XF_PATIENT_ID] = "patient_id",
    [MV_XF_ACCESSION] = "accession_number",
    [MV_XF_STUDY_UID] = "study_uid",
    [MV_XF_SERIES_UID] = "series_uid",
    [MV_XF_SOP_UID] = "sop_uid",
    [MV_XF_NEW_PATIENT_NAME] = "new_patient_name",
    [MV_XF_NEW_PATIENT_ID] = "new_patient_id",
    [MV_XF_NEW_ACCESSION] = "new_accession_number",
    [MV_XF_NEW_STUDY_UID] = "new_study_uid",
    [MV_XF_NEW_SERIES_UID] = "new_series_uid",
    [MV_XF_NEW_SOP_UID] = "new_sop_uid",
    [MV_XF_FROM] = "from",
    [MV_XF_TO] = "to",
};

#define PAD_BLOCK 256

/* Plaintext is wiped before its memory goes back to the allocator. */
static void wipe_buf(void *p, size_t n) {
  if (!p) return;
  sodium_memzero(p, n);
  free(p);
}
#define RECORD_VERSION "1"

/* ---- encoding ---------------------------------------------------------- */

typedef struct buf {
  unsigned char *p;
  size_t n, cap;
  int full;
} buf;

static void put(buf *b, const void *s, size_t n) {
  if (b->full || b->n + n > b->cap) {
    b->full = 1;
    return;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void put_piece(void *ud, const char *piece, size_t n) {
  put((buf *)ud, piece, n);
}

/* mv_json_escape into our own buffer: no stdio copies of the values are
 * left behind unwiped. */
static void put_json_string(buf *b, const char *str) {
  mv_json_escape(str, put_piece, b);
}

int mv_xwalk_seal(const mv_xwalk_pub *pub,
                  const char *const fields[MV_XF__COUNT], char **line,
                  size_t *len, char *err, size_t errlen) {
  *line = NULL;
  *len = 0;
  size_t cap = MV_XWALK_MAX_PLAIN;
  unsigned char *plain = malloc(cap);
  if (!plain) {
    snprintf(err, errlen, "out of memory");
    return MV_ENOMEM;
  }
  buf b = {.p = plain, .cap = cap - PAD_BLOCK};
  put(&b, "{\"v\":\"" RECORD_VERSION "\"", 7 + strlen(RECORD_VERSION));
  for (int i = 0; i < MV_XF__COUNT; i++) {
    if (!fields[i]) continue;
    put(&b, ",\"", 2);
    put(&b, mv_xwalk_field_names[i], strlen(mv_xwalk_field_names[i]));
    put(&b, "\":", 2);
    put_json_string(&b, fields[i]);
  }
  put(&b, "}", 1);
  size_t padded = 0;
  if (b.full || sodium_pad(&padded, plain, b.n, PAD_BLOCK, cap) != 0) {
    wipe_buf(plain, cap);
    snprintf(err, errlen, "crosswalk record longer than %d bytes",
             MV_XWALK_MAX_PLAIN);
    return MV_ELIMIT;
  }
  size_t clen = padded + crypto_box_SEALBYTES;
  size_t b64len = sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_ORIGINAL);
  unsigned char *sealed = malloc(clen);
  char *out = malloc(sizeof MV_XWALK_MAGIC + MV_XWALK_FP_LEN + 2 + b64len);
  if (!sealed || !out ||
      crypto_box_seal(sealed, plain, padded, pub->pk) != 0) {
    wipe_buf(plain, cap);
    free(sealed);
    free(out);
    snprintf(err, errlen, "cannot seal a crosswalk record");
    return MV_ENOMEM;
  }
  wipe_buf(plain, cap);
  size_t n = (size_t)sprintf(out, "%s %s ", MV_XWALK_MAGIC, pub->fp);
  sodium_bin2base64(out + n, b64len, sealed, clen,
                    sodium_base64_VARIANT_ORIGINAL);
  free(sealed);
  n += strlen(out + n);
  out[n++] = '\n';
  out[n] = 0;
  *line = out;
  *len = n;
  return MV_OK;
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct parser {
  const char *s, *end;
} parser;

static void skip_ws(parser *p) {
  while (p->s < p->end &&
         (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
    p->s++;
}

static int hex4(const char *s, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    *v = *v << 4 | (unsigned)d;
  }
  return 0;
}

static void put_utf8(buf *b, unsigned cp) {
  unsigned char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (unsigned char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (unsigned char)(0xC0 | cp >> 6);
    u[1] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (unsigned char)(0xE0 | cp >> 12);
    u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (unsigned char)(0xF0 | cp >> 18);
    u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  put(b, u, n);
}

/* A JSON string at p->s into a new NUL-terminated malloc'd buffer. */
static char *parse_string(parser *p) {
  if (p->s >= p->end || *p->s != '"') return NULL;
  p->s++;
  size_t cap = (size_t)(p->end - p->s) + 1;
  buf b = {.p = malloc(cap), .cap = cap};
  if (!b.p) return NULL;
  while (p->s < p->end && *p->s != '"') {
    unsigned char c = (unsigned char)*p->s++;
    if (c < 0x20) goto bad;
    if (c != '\\') {
      put(&b, &c, 1);
      continue;
    }
    if (p->s >= p->end) goto bad;
    char e = *p->s++;
    unsigned cp;
    switch (e) {
      case '"': case '\\': case '/': put(&b, &e, 1); break;
      case 'b': put(&b, "\b", 1); break;
      case 'f': put(&b, "\f", 1); break;
      case 'n': put(&b, "\n", 1); break;
      case 'r': put(&b, "\r", 1); break;
      case 't': put(&b, "\t", 1); break;
      case 'u':
        if (p->end - p->s < 4 || hex4(p->s, &cp) != 0 || cp == 0) goto bad;
        p->s += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
          unsigned lo;
          if (p->end - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u' ||
              hex4(p->s + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
            goto bad;
          p->s += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          goto bad;
        }
        put_utf8(&b, cp);
        break;
      default: goto bad;
    }
  }
  if (p->s >= p->end || b.full) goto bad;
  p->s++;
  b.p[b.n] = 0;
  return (char *)b.p;
bad:
  sodium_memzero(b.p, b.cap);
  free(b.p);
  return NULL;
}

static int field_index(const char *name) {
  for (int i = 0; i < MV_XF__COUNT; i++)
    if (strcmp(mv_xwalk_field_names[i], name) == 0) return i;
  return -1;
}

static void wipe_free(char *s) {
  if (!s) return;
  sodium_memzero(s, strlen(s));
  free(s);
}

/* {"v":"1","key":"value",...}; unknown keys are skipped, so later
 * versions may add fields. */
static int parse_record(const char *s, size_t n, char *fields[]) {
  parser p = {s, s + n};
  int version_ok = 0;
  skip_ws(&p);
  if (p.s >= p.end || *p.s++ != '{') return -1;
  skip_ws(&p);
  if (p.s < p.end && *p.s == '}') return -1;
  for (;;) {
    skip_ws(&p);
    char *key = parse_string(&p);
    if (!key) return -1;
    skip_ws(&p);
    char *val = NULL;
    if (p.s < p.end && *p.s++ == ':') {
      skip_ws(&p);
      val = parse_string(&p);
    }
    if (!val) {
      free(key);
      return -1;
    }
    int i = field_index(key);
    if (strcmp(key, "v") == 0) {
      version_ok = strcmp(val, RECORD_VERSION) == 0;
      free(val);
    } else if (i >= 0 && !fields[i]) {
      fields[i] = val;
    } else {
      wipe_free(val);
    }
    free(key);
    skip_ws(&p);
    if (p.s >= p.end) return -1;
    char c = *p.s++;
    if (c == '}') break;
    if (c != ',') return -1;
  }
  skip_ws(&p);
  return p.s == p.end && version_ok && fields[MV_XF_KIND] ? 0 : -1;
}

int mv_xwalk_open(const mv_xwalk_secret *sec, const char *line, size_t len,
                  char *fields[MV_XF__COUNT],
                  char other_fp[MV_XWALK_FP_LEN + 1], char *err,
                  size_t errlen) {
  for (int i = 0; i < MV_XF__COUNT; i++) fields[i] = NULL;
  other_fp[0] = 0;
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
  size_t ml = strlen(MV_XWALK_MAGIC);
  if (len < ml + 2 + MV_XWALK_FP_LEN || memcmp(line, MV_XWALK_MAGIC, ml) ||
      line[ml] != ' ' || line[ml + 1 + MV_XWALK_FP_LEN] != ' ') {
    snprintf(err, errlen, "not a crosswalk record (expected '%s "
                          "<fingerprint> <sealed box>')", MV_XWALK_MAGIC);
    return MV_EFORMAT;
  }
  const char *fp = line + ml + 1;
  for (int i = 0; i < MV_XWALK_FP_LEN; i++)
    if (!strchr("0123456789abcdef", fp[i]) || !fp[i]) {
      snprintf(err, errlen, "damaged recipient fingerprint");
      return MV_EFORMAT;
    }
  if (memcmp(fp, sec->fp, MV_XWALK_FP_LEN) != 0) {
    memcpy(other_fp, fp, MV_XWALK_FP_LEN);
    other_fp[MV_XWALK_FP_LEN] = 0;
    snprintf(err, errlen, "sealed for recipient %s; this key is %s", other_fp,
             sec->fp);
    return MV_EKEY;
  }
  const char *b64 = fp + MV_XWALK_FP_LEN + 1;
  size_t b64len = len - (size_t)(b64 - line);
  size_t cap = b64len / 4 * 3 + 3, clen = 0;
  unsigned char *sealed = malloc(cap ? cap : 1);
  if (!sealed) {
    snprintf(err, errlen, "out of memory");
    return MV_ENOMEM;
  }
  const char *b64_end = NULL;
  if (sodium_base642bin(sealed, cap, b64, b64len, NULL, &clen, &b64_end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      b64_end != b64 + b64len || clen <= crypto_box_SEALBYTES ||
      clen - crypto_box_SEALBYTES > MV_XWALK_MAX_PLAIN) {
    free(sealed);
    snprintf(err, errlen, "damaged record (bad base64 or length)");
    return MV_EFORMAT;
  }
  size_t plen = clen - crypto_box_SEALBYTES;
  unsigned char *plain = malloc(plen + 1);
  if (!plain) {
    free(sealed);
    snprintf(err, errlen, "out of memory");
    return MV_ENOMEM;
  }
  int rc = crypto_box_seal_open(plain, sealed, clen, sec->pk, sec->sk);
  free(sealed);
  if (rc != 0) {
    wipe_buf(plain, plen + 1);
    snprintf(err, errlen, "damaged record (the sealed box does not open)");
    return MV_EDECRYPT;
  }
  size_t unpadded = 0;
  if (sodium_unpad(&unpadded, plain, plen, PAD_BLOCK) != 0 ||
      parse_record((const char *)plain, unpadded, fields) != 0) {
    wipe_buf(plain, plen + 1);
    mv_xwalk_fields_free(fields);
    snprintf(err, errlen, "damaged record (the contents do not parse)");
    return MV_EFORMAT;
  }
  wipe_buf(plain, plen + 1);
  return MV_OK;
}

void mv_xwalk_fields_free(char *fields[MV_XF__COUNT]) {
  for (int i = 0; i < MV_XF__COUNT; i++) {
    wipe_free(fields[i]);
    fields[i] = NULL;
  }
}
