/* cmd_crosswalk.c - medveil crosswalk lookup|export: the lookup office
 * opens the sealed crosswalk with the recipient's secret key.
 *
 * Two passes over the file keep memory flat however long it is: the
 * first collects the (few) rename records and the problems, the second
 * prints records with the renames that came after them applied. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "medveil/errors.h"
#include "mv_crosswalk.h"
#include "mv_fsutil.h"
#include "mv_json.h"

typedef struct rename_rec {
  unsigned long line;
  char *out_dir, *from, *to;
} rename_rec;

typedef struct other_fp {
  char fp[MV_XWALK_FP_LEN + 1];
  unsigned long count, first_line;
} other_fp;

typedef struct xw_cmd {
  const char *file;
  const mv_xwalk_secret *sec;
  /* pass 1 */
  rename_rec *renames;
  size_t nrenames;
  other_fp others[8];
  size_t nothers;
  unsigned long records, damaged, foreign;
  int oom;
  /* pass 2 */
  int export_mode;
  FILE *csv;
  char **values;     /* lookup values */
  char **value_abs;  /* each value as an absolute path */
  int nvalues;
  unsigned char *matched;
  unsigned long printed;
} xw_cmd;

static const char *problem_text(int code) {
  switch (code) {
    case MV_ELIMIT: return "line too long";
    case MV_EFORMAT: return "not a crosswalk record or damaged";
    case MV_EDECRYPT: return "the sealed box does not open (damaged)";
    default: return "cannot be read";
  }
}

static void on_problem(void *ud, unsigned long line, int code,
                       const char *fp) {
  xw_cmd *c = ud;
  if (code == MV_EKEY && fp) {
    c->foreign++;
    for (size_t i = 0; i < c->nothers; i++)
      if (strcmp(c->others[i].fp, fp) == 0) {
        c->others[i].count++;
        return;
      }
    if (c->nothers < sizeof c->others / sizeof c->others[0]) {
      other_fp *o = &c->others[c->nothers++];
      snprintf(o->fp, sizeof o->fp, "%s", fp);
      o->count = 1;
      o->first_line = line;
    }
    return;
  }
  c->damaged++;
  mv_cli_error("%s: line %lu: %s; skipped", c->file, line, problem_text(code));
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static int pass1_record(void *ud, unsigned long line, char *const *f) {
  xw_cmd *c = ud;
  c->records++;
  if (!f[MV_XF_KIND] || strcmp(f[MV_XF_KIND], "rename") != 0) return 0;
  if (!f[MV_XF_FROM] || !f[MV_XF_TO]) return 0;
  rename_rec *g = realloc(c->renames, (c->nrenames + 1) * sizeof *g);
  if (!g) {
    c->oom = 1;
    return 1;
  }
  c->renames = g;
  rename_rec *r = &g[c->nrenames];
  r->line = line;
  r->out_dir = dup_or_empty(f[MV_XF_OUT_DIR]);
  r->from = strdup(f[MV_XF_FROM]);
  r->to = strdup(f[MV_XF_TO]);
  if (!r->out_dir || !r->from || !r->to) {
    free(r->out_dir);
    free(r->from);
    free(r->to);
    c->oom = 1;
    return 1;
  }
  c->nrenames++;
  return 0;
}

/* The output's name now: every rename of the same OUT that comes after
 * the record, in file order (a swap is two renames). */
static const char *final_output(const xw_cmd *c, unsigned long line,
                                char *const *f) {
  const char *out = f[MV_XF_OUTPUT];
  if (!out) return NULL;
  const char *dir = f[MV_XF_OUT_DIR] ? f[MV_XF_OUT_DIR] : "";
  for (size_t i = 0; i < c->nrenames; i++) {
    const rename_rec *r = &c->renames[i];
    if (r->line > line && strcmp(r->out_dir, dir) == 0 &&
        strcmp(r->from, out) == 0)
      out = r->to;
  }
  return out;
}

static int eq(const char *a, const char *b) { return a && strcmp(a, b) == 0; }
static int eq_nocase(const char *a, const char *b) {
  return a && strcasecmp(a, b) == 0;
}

static int value_matches(const xw_cmd *c, int k, char *const *f,
                         const char *output, const char *output_abs) {
  const char *v = c->values[k];
  static const mv_xwalk_field exact[] = {
      MV_XF_SUBJECT, MV_XF_PATIENT_ID, MV_XF_NEW_PATIENT_ID, MV_XF_ACCESSION,
      MV_XF_NEW_ACCESSION, MV_XF_STUDY_UID, MV_XF_NEW_STUDY_UID,
      MV_XF_SERIES_UID, MV_XF_NEW_SERIES_UID, MV_XF_SOP_UID,
      MV_XF_NEW_SOP_UID, MV_XF_INPUT, MV_XF_INPUT_SHA256,
      MV_XF_OUTPUT_SHA256, MV_XF_REVIEW_ID};
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
    if (eq(f[exact[i]], v)) return 1;
  if (eq_nocase(f[MV_XF_PATIENT_NAME], v) ||
      eq_nocase(f[MV_XF_NEW_PATIENT_NAME], v))
    return 1;
  if (output && (eq(output, v) || eq(output_abs, v) ||
                 (c->value_abs[k] && eq(output_abs, c->value_abs[k]))))
    return 1;
  return 0;
}

static void json_line(const xw_cmd *c, unsigned long line, char *const *f,
                      const char *output, const char *output_abs) {
  (void)c;
  printf("{\"line\":%lu", line);
  for (int i = 0; i < MV_XF__COUNT; i++) {
    if (i == MV_XF_FROM || i == MV_XF_TO) continue;
    const char *v = i == MV_XF_OUTPUT ? output : f[i];
    if (!v) continue;
    printf(",\"%s\":", mv_xwalk_field_names[i]);
    mv_json_string(stdout, v);
    if (i == MV_XF_OUTPUT) {
      fputs(",\"output_path\":", stdout);
      mv_json_string(stdout, output_abs);
      if (f[MV_XF_OUTPUT] && strcmp(f[MV_XF_OUTPUT], output) != 0) {
        fputs(",\"output_first\":", stdout);
        mv_json_string(stdout, f[MV_XF_OUTPUT]);
      }
    }
  }
  fputs("}\n", stdout);
}

/* Export columns, in order. */
static const mv_xwalk_field csv_cols[] = {
    MV_XF_JOB, MV_XF_TIME, MV_XF_STATUS, MV_XF_SUBJECT,
    MV_XF_PATIENT_NAME, MV_XF_NEW_PATIENT_NAME, MV_XF_PATIENT_ID,
    MV_XF_NEW_PATIENT_ID, MV_XF_ACCESSION, MV_XF_NEW_ACCESSION,
    MV_XF_STUDY_UID, MV_XF_NEW_STUDY_UID, MV_XF_SERIES_UID,
    MV_XF_NEW_SERIES_UID, MV_XF_SOP_UID, MV_XF_NEW_SOP_UID, MV_XF_INPUT,
    MV_XF_INPUT_SHA256, MV_XF_OUT_DIR, MV_XF_OUTPUT, MV_XF_OUTPUT_SHA256,
    MV_XF_REVIEW_ID};
#define NCOLS (sizeof csv_cols / sizeof csv_cols[0])

/* RFC 4180: quote a field holding a comma, quote, CR or LF, or edge
 * spaces; double the quotes inside. */
static void csv_field(FILE *f, const char *s) {
  if (!s) s = "";
  size_t n = strlen(s);
  int quote = strpbrk(s, ",\"\r\n") != NULL ||
              (n && (s[0] == ' ' || s[n - 1] == ' '));
  if (!quote) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void csv_header(FILE *f) {
  for (size_t i = 0; i < NCOLS; i++) {
    if (i) fputc(',', f);
    fputs(mv_xwalk_field_names[csv_cols[i]], f);
  }
  fputs("\r\n", f);
}

static int pass2_record(void *ud, unsigned long line, char *const *f) {
  xw_cmd *c = ud;
  if (!f[MV_XF_KIND] || strcmp(f[MV_XF_KIND], "object") != 0) return 0;
  const char *output = final_output(c, line, f);
  char output_abs[8192] = "";
  if (output)
    snprintf(output_abs, sizeof output_abs, "%s/%s",
             f[MV_XF_OUT_DIR] ? f[MV_XF_OUT_DIR] : "", output);
  if (c->export_mode) {
    for (size_t i = 0; i < NCOLS; i++) {
      if (i) fputc(',', c->csv);
      csv_field(c->csv, csv_cols[i] == MV_XF_OUTPUT ? output : f[csv_cols[i]]);
    }
    fputs("\r\n", c->csv);
    c->printed++;
    return 0;
  }
  int hit = 0;
  for (int k = 0; k < c->nvalues; k++)
    if (value_matches(c, k, f, output, output_abs)) {
      c->matched[k] = 1;
      hit = 1;
    }
  if (hit) {
    json_line(c, line, f, output, output_abs);
    c->printed++;
  }
  return 0;
}

static void free_renames(xw_cmd *c) {
  for (size_t i = 0; i < c->nrenames; i++) {
    free(c->renames[i].out_dir);
    free(c->renames[i].from);
    free(c->renames[i].to);
  }
  free(c->renames);
}

/* Export to a new file only: write a 0600 temp file beside it, then link
 * it into place (never over an existing file). */
static FILE *csv_open_tmp(const char *out, char *tmp, size_t n) {
  snprintf(tmp, n, "%s.tmp-XXXXXX", out);
  int fd = mkstemp(tmp);
  if (fd < 0) return NULL;
  fchmod(fd, 0600);
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    unlink(tmp);
  }
  return f;
}

static int csv_place(FILE *f, const char *tmp, const char *out) {
  int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
  int e = errno;
  if (fclose(f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (bad) {
    unlink(tmp);
    mv_cli_error("%s: cannot write: %s", out, strerror(e));
    return -1;
  }
  if (link(tmp, out) != 0) {
    e = errno;
    unlink(tmp);
    mv_cli_error("%s: cannot create: %s", out,
                 e == EEXIST ? "it already exists (refusing to overwrite)"
                             : strerror(e));
    return -1;
  }
  unlink(tmp);
  return 0;
}

static void usage(FILE *f) {
  fputs(
      "usage: medveil crosswalk lookup --crosswalk FILE --secret PREFIX.key "
      "VALUE...\n"
      "       medveil crosswalk export --crosswalk FILE --secret PREFIX.key "
      "[--out CSV]\n"
      "\n"
      "Open a crosswalk written by 'medveil run --crosswalk' with the\n"
      "recipient's secret key (mode 0600). Only the lookup office should hold\n"
      "that key, and these commands print identifying values.\n"
      "\n"
      "  lookup  print, as JSON lines, every record that matches a VALUE: a\n"
      "          pseudonym (SUBJ...), a new or original UID, PatientID,\n"
      "          AccessionNumber, PatientName (any case), an output path (full,\n"
      "          or relative to OUT), an input path or a SHA-256\n"
      "  export  write every record as CSV (to a new file with --out, mode\n"
      "          0600; else to standard output), renames applied\n"
      "\n"
      "Exit status: 0 every line read and every VALUE found, 1 some line\n"
      "damaged or sealed for another recipient, or some VALUE not found, 2\n"
      "usage error, bad key, or no record in FILE for this key.\n",
      f);
}

int mv_cmd_crosswalk(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? MV_EXIT_CONFIG : MV_EXIT_OK;
  }
  int export_mode;
  if (strcmp(argv[1], "lookup") == 0)
    export_mode = 0;
  else if (strcmp(argv[1], "export") == 0)
    export_mode = 1;
  else {
    mv_cli_error("crosswalk: unknown action '%s' (lookup or export)", argv[1]);
    return MV_EXIT_CONFIG;
  }
  static const struct option opts[] = {
      {"crosswalk", required_argument, NULL, 'c'},
      {"secret", required_argument, NULL, 's'},
      {"out", required_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *file = NULL, *secret = NULL, *out = NULL;
  argc--;
  argv++;
  optind = 1;
  for (int o; (o = getopt_long(argc, argv, "c:s:o:h", opts, NULL)) != -1;) {
    switch (o) {
      case 'c': file = optarg; break;
      case 's': secret = optarg; break;
      case 'o': out = optarg; break;
      case 'h': usage(stdout); return MV_EXIT_OK;
      default: usage(stderr); return MV_EXIT_CONFIG;
    }
  }
  if (!file || !secret) {
    mv_cli_error("crosswalk %s needs --crosswalk FILE and --secret "
                 "PREFIX.key", argv[0]);
    return MV_EXIT_CONFIG;
  }
  if (!export_mode && (out || optind >= argc)) {
    mv_cli_error(out ? "crosswalk lookup takes no --out"
                     : "crosswalk lookup needs at least one VALUE");
    return MV_EXIT_CONFIG;
  }
  if (export_mode && optind < argc) {
    mv_cli_error("crosswalk export takes no VALUE");
    return MV_EXIT_CONFIG;
  }
  char err[4096];
  mv_xwalk_secret sec;
  if (mv_xwalk_load_secret(secret, &sec, err, sizeof err) != MV_OK) {
    mv_cli_error("%s", err);
    return MV_EXIT_CONFIG;
  }
  xw_cmd c;
  memset(&c, 0, sizeof c);
  c.file = file;
  c.sec = &sec;
  c.export_mode = export_mode;
  int exit_code = MV_EXIT_OK;
  mv_xwalk_visit v1 = {.ud = &c, .record = pass1_record,
                       .problem = on_problem};
  int rc = mv_xwalk_read(file, &sec, &v1, err, sizeof err);
  if (c.oom) {
    mv_cli_error("out of memory");
    exit_code = MV_EXIT_CONFIG;
    goto done;
  }
  if (rc != MV_OK) {
    mv_cli_error("%s", err);
    exit_code = MV_EXIT_CONFIG;
    goto done;
  }
  for (size_t i = 0; i < c.nothers; i++)
    mv_cli_error("%s: %lu line(s) from line %lu on are sealed for recipient "
                 "%s; this key is %s", file, c.others[i].count,
                 c.others[i].first_line, c.others[i].fp, sec.fp);
  if (c.records == 0) {
    if (c.foreign) {
      mv_cli_error("%s: no record is sealed for this key (%s); wrong secret "
                   "key?", file, sec.fp);
      exit_code = MV_EXIT_CONFIG;
      goto done;
    }
    if (!c.damaged) mv_cli_error("%s: holds no records", file);
  }
  if (c.foreign || c.damaged) exit_code = MV_EXIT_REJECTED;
  /* pass 2 */
  char tmp[4200] = "";
  if (export_mode) {
    c.csv = stdout;
    if (out && !(c.csv = csv_open_tmp(out, tmp, sizeof tmp))) {
      mv_cli_error("%s: cannot create: %s", out, strerror(errno));
      exit_code = MV_EXIT_CONFIG;
      goto done;
    }
    csv_header(c.csv);
  } else {
    c.values = argv + optind;
    c.nvalues = argc - optind;
    c.value_abs = calloc((size_t)c.nvalues, sizeof *c.value_abs);
    c.matched = calloc((size_t)c.nvalues, 1);
    if (!c.value_abs || !c.matched) {
      mv_cli_error("out of memory");
      exit_code = MV_EXIT_CONFIG;
      goto done;
    }
    for (int k = 0; k < c.nvalues; k++) {
      char abs[4096];
      if (strchr(c.values[k], '/') &&
          mv_abspath(c.values[k], abs, sizeof abs) == 0)
        c.value_abs[k] = strdup(abs);
    }
  }
  mv_xwalk_visit v2 = {.ud = &c, .record = pass2_record, .problem = NULL};
  rc = mv_xwalk_read(file, &sec, &v2, err, sizeof err);
  if (rc != MV_OK) {
    mv_cli_error("%s", err);
    exit_code = MV_EXIT_CONFIG;
  }
  if (export_mode && out) {
    if (rc != MV_OK) {
      fclose(c.csv);
      unlink(tmp);
    } else if (csv_place(c.csv, tmp, out) != 0) {
      exit_code = MV_EXIT_CONFIG;
    } else {
      fprintf(stderr, "medveil: %lu record(s) written to %s\n", c.printed,
              out);
    }
  } else if (export_mode) {
    fflush(stdout);
  }
  if (!export_mode) {
    /* Say which VALUE by position only: a value is patient data. */
    for (int k = 0; k < c.nvalues; k++)
      if (!c.matched[k]) {
        mv_cli_error("value %d of %d matches no record", k + 1, c.nvalues);
        if (exit_code == MV_EXIT_OK) exit_code = MV_EXIT_REJECTED;
      }
  }
done:
  if (c.value_abs)
    for (int k = 0; k < c.nvalues; k++) free(c.value_abs[k]);
  free(c.value_abs);
  free(c.matched);
  free_renames(&c);
  mv_xwalk_secret_wipe(&sec);
  return exit_code;
}
