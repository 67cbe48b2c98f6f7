/* ocr_opt.c - options ("lang=eng+deu;rotate=1") and models/ocr.conf.
 *
 * The same keys are accepted in both places; ocr.conf sets the defaults a
 * policy's options string then overrides. */
#include "ocr_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Debian's tesseract-ocr 5 data directory. */
#define OCR_DEBIAN_TESSDATA "/usr/share/tesseract-ocr/5/tessdata"

void ocr_set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

void ocr_opt_defaults(ocr_opts *o) {
  memset(o, 0, sizeof *o);
  snprintf(o->lang, sizeof o->lang, "eng");
  const char *env = getenv("TESSDATA_PREFIX");
  snprintf(o->tessdata, sizeof o->tessdata, "%s",
           env && *env ? env : OCR_DEBIAN_TESSDATA);
  o->mode = OCR_MODE_LINES;
  o->rotate = 1;
  o->upscale = 1;
  o->budget_ms = 30000;
}

static int parse_bool(const char *v, int *out) {
  if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true")) {
    *out = 1;
    return 1;
  }
  if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false")) {
    *out = 0;
    return 1;
  }
  return 0;
}

/* Language codes are tessdata file stems: letters, digits, '_' and '-',
 * joined by '+'. Anything else (a path, "..") is refused. */
static int valid_lang(const char *v) {
  if (!*v || *v == '+') return 0;
  for (const char *p = v; *p; p++) {
    if (*p == '+') {
      if (p[1] == '+' || p[1] == 0) return 0;
      continue;
    }
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') return 0;
  }
  return 1;
}

static int apply_kv(ocr_opts *o, const char *k, const char *v, char *err,
                    size_t errlen) {
  int b;
  if (!strcmp(k, "lang")) {
    if (strlen(v) >= sizeof o->lang || !valid_lang(v)) {
      ocr_set_err(err, errlen, "option 'lang': expected codes like eng+deu");
      return MV_EINVAL;
    }
    snprintf(o->lang, sizeof o->lang, "%s", v);
  } else if (!strcmp(k, "tessdata")) {
    if (!*v || strlen(v) >= sizeof o->tessdata) {
      ocr_set_err(err, errlen, "option 'tessdata': empty or too long");
      return MV_EINVAL;
    }
    snprintf(o->tessdata, sizeof o->tessdata, "%s", v);
  } else if (!strcmp(k, "mode")) {
    if (!strcmp(v, "lines")) o->mode = OCR_MODE_LINES;
    else if (!strcmp(v, "sparse")) o->mode = OCR_MODE_SPARSE;
    else {
      ocr_set_err(err, errlen, "option 'mode': expected lines or sparse");
      return MV_EINVAL;
    }
  } else if (!strcmp(k, "rotate") || !strcmp(k, "upscale")) {
    if (!parse_bool(v, &b)) {
      ocr_set_err(err, errlen, "option '%s': expected 0 or 1", k);
      return MV_EINVAL;
    }
    if (k[0] == 'r') o->rotate = b;
    else o->upscale = b;
  } else if (!strcmp(k, "threshold")) {
    if (!strcmp(v, "otsu")) o->threshold = 0;
    else if (!strcmp(v, "adaptive")) o->threshold = 1;
    else if (!strcmp(v, "sauvola")) o->threshold = 2;
    else {
      ocr_set_err(err, errlen, "option 'threshold': expected otsu, adaptive or sauvola");
      return MV_EINVAL;
    }
  } else if (!strcmp(k, "layout")) {
    if (!strcmp(v, "full")) o->layout = OCR_LAYOUT_FULL;
    else if (!strcmp(v, "chains")) o->layout = OCR_LAYOUT_CHAINS;
    else {
      ocr_set_err(err, errlen, "option 'layout': expected full or chains");
      return MV_EINVAL;
    }
  } else if (!strcmp(k, "budget_ms")) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 100 || n > 3600000) {
      ocr_set_err(err, errlen, "option 'budget_ms': expected 100..3600000");
      return MV_EINVAL;
    }
    o->budget_ms = (int)n;
  } else {
    ocr_set_err(err, errlen, "unknown option '%.40s' (known: lang, tessdata, "
                "mode, layout, rotate, upscale, threshold, budget_ms)", k);
    return MV_EINVAL;
  }
  return MV_OK;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  size_t i = 0;
  while (s[i] && isspace((unsigned char)s[i])) i++;
  if (i) memmove(s, s + i, n - i + 1);
}

int ocr_opt_parse(ocr_opts *o, const char *text, char sep, char *err,
                  size_t errlen) {
  if (!text) return MV_OK;
  const char *p = text;
  while (*p) {
    const char *end = strchr(p, sep);
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char item[OCR_PATH_MAX + 64];
    if (n >= sizeof item) {
      ocr_set_err(err, errlen, "option item too long");
      return MV_EINVAL;
    }
    memcpy(item, p, n);
    item[n] = 0;
    trim(item);
    if (item[0] && item[0] != '#') {
      char *eq = strchr(item, '=');
      if (!eq) {
        ocr_set_err(err, errlen, "option '%.40s': expected key=value", item);
        return MV_EINVAL;
      }
      *eq = 0;
      trim(item);
      char *v = eq + 1;
      trim(v);
      int rc = apply_kv(o, item, v, err, errlen);
      if (rc) return rc;
    }
    if (!end) break;
    p = end + 1;
  }
  return MV_OK;
}

int ocr_opt_load_conf(ocr_opts *o, const char *models_dir, char *err,
                      size_t errlen) {
  if (!models_dir || !*models_dir) return MV_OK;
  char path[OCR_PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/ocr.conf", models_dir);
  FILE *f = fopen(path, "rb");
  if (!f) return errno == ENOENT ? MV_OK : MV_EIO;
  char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  int toolong = !feof(f);
  fclose(f);
  if (toolong) {
    ocr_set_err(err, errlen, "ocr.conf larger than %zu bytes", sizeof buf - 1);
    return MV_ELIMIT;
  }
  buf[n] = 0;
  int rc = ocr_opt_parse(o, buf, '\n', err, errlen);
  if (rc) {
    /* Say where the bad key came from. */
    char why[200];
    snprintf(why, sizeof why, "%s", err ? err : "");
    ocr_set_err(err, errlen, "ocr.conf: %s", why);
  }
  return rc;
}

int ocr_opt_check_langs(const ocr_opts *o, char *err, size_t errlen) {
  char langs[OCR_LANG_MAX];
  snprintf(langs, sizeof langs, "%s", o->lang);
  for (char *save = NULL, *l = strtok_r(langs, "+", &save); l;
       l = strtok_r(NULL, "+", &save)) {
    char path[OCR_PATH_MAX + OCR_LANG_MAX + 32];
    snprintf(path, sizeof path, "%s/%s.traineddata", o->tessdata, l);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
      ocr_set_err(err, errlen,
                  "OCR language '%s' not installed (no %s.traineddata in %s; "
                  "on Debian install package tesseract-ocr-%s)",
                  l, l, o->tessdata, l);
      return MV_ENOTFOUND;
    }
  }
  return MV_OK;
}
