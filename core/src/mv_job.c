/* mv_job.c - the batch runner: walker, bounded queue, workers. */
#include "mv_job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mv_archive.h"
#include "mv_convert.h"
#include "mv_deid.h"
#include "mv_fsutil.h"
#include "mv_log.h"
#include "mv_review.h"

#define QUEUE_SLOTS 256

typedef struct job {
  const mv_job_config *cfg;
  mv_summary *sum;
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full;
  char *slots[QUEUE_SLOTS];
  size_t head, count;
  int closed;
  char tmp_dir[4096];
  mv_archive_limits archive_limits;
  char **collided; /* outputs (relative) that two inputs wanted */
  size_t ncollided;
  double started, last_progress;
} job;

static void note_collision(job *j, const char *rel);

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------- */
/* Queue.                                                                  */

static void queue_push(job *j, char *path) {
  pthread_mutex_lock(&j->lock);
  while (j->count == QUEUE_SLOTS) pthread_cond_wait(&j->not_full, &j->lock);
  j->slots[(j->head + j->count) % QUEUE_SLOTS] = path;
  j->count++;
  pthread_cond_signal(&j->not_empty);
  pthread_mutex_unlock(&j->lock);
}

static char *queue_pop(job *j) {
  pthread_mutex_lock(&j->lock);
  while (j->count == 0 && !j->closed)
    pthread_cond_wait(&j->not_empty, &j->lock);
  char *path = NULL;
  if (j->count) {
    path = j->slots[j->head];
    j->head = (j->head + 1) % QUEUE_SLOTS;
    j->count--;
    pthread_cond_signal(&j->not_full);
  }
  pthread_mutex_unlock(&j->lock);
  return path;
}

static void queue_close(job *j) {
  pthread_mutex_lock(&j->lock);
  j->closed = 1;
  pthread_cond_broadcast(&j->not_empty);
  pthread_mutex_unlock(&j->lock);
}

/* ---------------------------------------------------------------------- */
/* Reporting (serialised).                                                 */

static void progress_line(job *j, int final) {
  mv_summary *s = j->sum;
  double t = now_seconds();
  if (!final && t - j->last_progress < 0.25) return;
  j->last_progress = t;
  double rate = s->total / (t - j->started > 1e-3 ? t - j->started : 1e-3);
  fprintf(stderr, "\rmedveil: %lu files, %lu ok, %lu rejected, %.0f files/s%s",
          s->total, s->ok, s->rejected + s->review, rate, final ? "\n" : "");
  fflush(stderr);
}

/* The digest of the input this worker thread is processing (empty when
 * not computed): every row the thread finishes carries it. */
static __thread char tl_input_sha[65];

/* While an archive member is processed (from a temp file with a generated
 * name), the name it is reported and seeded under: "archive!member". */
static __thread const char *tl_shown;
static const char *shown_name(const char *path) {
  return tl_shown ? tl_shown : path;
}

static void notify(job *j, const mv_report_row *row, const mv_outcome *o,
                   const char *output_abs) {
  mv_job_event ev = {.row = row, .o = o, .output_abs = output_abs};
  for (int i = 0; i < j->cfg->nobservers; i++) {
    const mv_job_observer *ob = &j->cfg->observers[i];
    if (ob->object && ob->object(ob->ud, &ev) != 0) {
      if (j->sum->observer_errors++ == 0)
        mv_log(MV_LOG_ERROR, "job", "a job record (crosswalk, audit or jobs "
               "database) could not be written; see the summary");
    }
  }
}

static void finish_placed(job *j, const mv_report_row *in_row,
                          const mv_outcome *o, const char *output_abs) {
  mv_report_row rowc = *in_row;
  const mv_report_row *row = &rowc;
  if (!rowc.input_sha256 && tl_input_sha[0]) rowc.input_sha256 = tl_input_sha;
  if (tl_shown) rowc.input = tl_shown;
  pthread_mutex_lock(&j->lock);
  mv_report_add(j->cfg->report, row);
  notify(j, row, o, output_abs);
  mv_summary *s = j->sum;
  s->total++;
  s->bytes_in += row->bytes_in;
  if (strcmp(row->status, "ok") == 0) {
    s->ok++;
    s->bytes_out += row->bytes_out;
  } else if (strcmp(row->status, "review") == 0) {
    s->review++;
  } else {
    s->rejected++;
  }
  if (o) {
    for (int k = 0; k < MV_ACT__COUNT; k++) s->actions[k] += o->actions[k];
    s->scrubbed += o->scrubbed;
  }
  if (j->cfg->progress) progress_line(j, 0);
  pthread_mutex_unlock(&j->lock);
}

static void finish(job *j, const mv_report_row *row, const mv_outcome *o) {
  finish_placed(j, row, o, NULL);
}

/* ---------------------------------------------------------------------- */
/* One input.                                                              */

typedef struct worker {
  job *j;
  int index;
  unsigned long seq;
  mv_policy *policy;
  mv_engine *engine;
  mv_pixels *pixels; /* this worker's detectors, when the policy cleans */
} worker;

static void reject(job *j, const char *input, const char *format,
                   unsigned long long bytes_in, const char *reason,
                   const mv_outcome *o) {
  mv_report_row row = {.input = input, .status = "rejected",
                       .reason = reason, .format = format,
                       .bytes_in = bytes_in};
  finish(j, &row, o);
}

static void place_output(worker *w, const char *path, const char *fname,
                         const mv_loaded *fmt, mv_doc *doc,
                         unsigned long long bytes_in, const mv_outcome *o);

static void expand_archive(worker *w, const char *path);

/* One input file. `top`: a file from the walk, which may be an archive
 * (archive members come here with top = 0: mv_archive handles nesting). */
static void process(worker *w, const char *path, int top) {
  job *j = w->j;
  const mv_job_config *cfg = j->cfg;
  char reason[1024];
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(reason, sizeof reason, "cannot read: %s", strerror(errno));
    reject(j, path, NULL, 0, reason, NULL);
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    reject(j, path, NULL, 0, "not a regular file", NULL);
    return;
  }
  unsigned long long bytes_in = (unsigned long long)st.st_size;
  tl_input_sha[0] = 0;
  uint8_t head[MV_HEAD_BYTES];
  size_t n = 0;
  if (mv_read_head(path, head, &n) != 0) {
    snprintf(reason, sizeof reason, "cannot read: %s", strerror(errno));
    reject(j, path, NULL, bytes_in, reason, NULL);
    return;
  }
  /* One read and one probe decide: a file a format plugin claims is not
   * an archive (a .nii.gz is gzip). */
  const mv_loaded *fmt = n ? mv_registry_probe(cfg->registry, head, n) : NULL;
  if (top && !fmt && mv_archive_sniff(head, n) &&
      mv_archive_file_is_archive(path)) {
    expand_archive(w, path);
    return;
  }
  if (cfg->want_digests && mv_file_digest_hex(path, tl_input_sha, 64) != 0)
    tl_input_sha[0] = 0;
  if (n == 0) {
    reject(j, path, NULL, bytes_in, "empty file", NULL);
    return;
  }
  char note[256];
  const mv_loaded *main_fmt =
      fmt ? NULL : mv_registry_companion(cfg->registry, path, note, sizeof note);
  if (main_fmt) { /* a file read with its main file (NIfTI .img) */
    mv_report_row row = {.input = path, .status = "ok", .note = note,
                         .format = main_fmt->desc->name, .bytes_in = bytes_in};
    finish(j, &row, NULL);
    return;
  }
  if (!fmt) {
    reject(j, path, NULL, bytes_in,
           "not a recognised format (no plugin claims its content)", NULL);
    return;
  }
  const mv_format_ops *ops = fmt->desc->format;
  const char *fname = fmt->desc->name;
  mv_doc *doc = NULL;
  char why[512] = "";
  int rc = ops->open(fmt->state, path, &doc, why, sizeof why);
  if (rc != MV_OK || !doc) {
    snprintf(reason, sizeof reason, "cannot parse: %s",
             why[0] ? why : mv_strerror(rc));
    reject(j, path, fname, bytes_in, reason, NULL);
    return;
  }
  mv_outcome o;
  mv_deid_document(w->engine, fmt, doc, shown_name(path), 1, &o);
  if (o.rc != MV_OK) {
    ops->close(doc);
    reject(j, path, fname, bytes_in, o.reason, &o);
    mv_outcome_release(&o);
    return;
  }
  place_output(w, path, fname, fmt, doc, bytes_in, &o);
  mv_outcome_release(&o);
}

/* Hold a de-identified object for review instead of releasing it. */
static void hold_for_review(worker *w, const char *path, const char *fname,
                            const char *rel, const char *ext,
                            const char *tmp, unsigned long long bytes_in,
                            const mv_outcome *o) {
  job *j = w->j;
  char id[32], why[512] = "", reason[1024];
  mv_review_item it = {.rel_out = rel, .ext = ext, .object = tmp,
                       .reason = o->px.reason, .input = shown_name(path),
                       .px = &o->px};
  int rc = mv_review_hold(j->cfg->review_dir, &it, id, sizeof id, why,
                          sizeof why);
  if (rc != MV_OK) {
    unlink(tmp);
    snprintf(reason, sizeof reason, "held for review, but %s", why);
    reject(j, path, fname, bytes_in, reason, o);
    return;
  }
  mv_report_row row = {.input = path, .status = "review",
                       .reason = o->px.reason, .format = fname,
                       .bytes_in = bytes_in, .review_id = id,
                       .pixels = &o->px};
  finish(j, &row, o);
}

/* --compress: ask the format to store its pixels so. A document that
 * cannot be (no decoder, a colour model the codec refuses) is written as
 * read, with a note: losing an object to a storage preference would be
 * worse. */
static const char *encode_output(const mv_job_config *cfg,
                                 const mv_format_ops *ops, mv_doc *doc) {
  if (!cfg->output_encoding) return NULL;
  if (ops->size < offsetof(mv_format_ops, set_output_encoding) +
                      sizeof ops->set_output_encoding ||
      !ops->set_output_encoding)
    return NULL; /* a format without pixel encodings */
  char why[256] = "";
  if (ops->set_output_encoding(doc, cfg->output_encoding, why, sizeof why) ==
      MV_OK)
    return NULL;
  static __thread char note[320];
  snprintf(note, sizeof note, "kept in its own encoding: %s",
           why[0] ? why : "the format refused the requested one");
  return note;
}

/* --output-format png|jpeg: every image frame of the de-identified document
 * as its own file, <stem>.png for one frame, <stem>-f0001.png ... for
 * several. All frames are written to temporary files first; only when every
 * one succeeded are they placed, so a failed object leaves nothing in OUT.
 * The report row names the first file; bytes_out counts them all. */
static void place_converted(worker *w, const char *path, const char *fname,
                            const mv_format_ops *ops, mv_doc *doc,
                            const char *stem, const char *dir,
                            const char *tmp, unsigned long long bytes_in,
                            const mv_outcome *o) {
  job *j = w->j;
  const mv_job_config *cfg = j->cfg;
  const char *ext = mv_outfmt_ext(cfg->output_format);
  uint32_t n = mv_convert_frames(ops, doc);
  char reason[1024], why[512];
  char (*tmps)[4450] = calloc(n, sizeof *tmps);
  if (!tmps) {
    ops->close(doc);
    reject(j, path, fname, bytes_in, "out of memory", o);
    return;
  }
  int rc = MV_OK;
  uint32_t made = 0;
  mv_voi voi;
  mv_convert_voi(ops, doc, &voi);
  for (uint32_t f = 0; f < n && rc == MV_OK; f++, made++) {
    snprintf(tmps[f], sizeof tmps[f], "%s.f%u", tmp, f);
    why[0] = 0;
    rc = mv_convert_write_frame(ops, doc, &voi, f, cfg->output_format,
                                tmps[f], why, sizeof why);
  }
  ops->close(doc);
  if (rc == MV_OK && mv_mkdirs(dir) != 0) {
    rc = MV_EIO;
    snprintf(why, sizeof why, "cannot create output folder: %s",
             strerror(errno));
  }
  unsigned long long bytes_out = 0;
  char first[600] = "";
  char (*placed_new)[5400] = calloc(n, sizeof *placed_new);
  uint32_t nplaced = 0;
  if (!placed_new && rc == MV_OK) {
    rc = MV_ENOMEM;
    snprintf(why, sizeof why, "out of memory");
  }
  for (uint32_t f = 0; f < n && rc == MV_OK; f++) {
    char rel[600], dst[5400];
    if (n == 1)
      snprintf(rel, sizeof rel, "%s.%s", stem, ext);
    else
      snprintf(rel, sizeof rel, "%s-f%04u.%s", stem, f + 1, ext);
    snprintf(dst, sizeof dst, "%s/%s", cfg->out_dir, rel);
    int placed = mv_place_file(tmps[f], dst);
    if (placed == 2 || placed < 0) {
      /* an earlier object wrote this name with other pixels (a duplicate
       * SOP Instance UID): not silently replaced */
      rc = MV_EEXIST;
      snprintf(why, sizeof why, "%s",
               placed == 2 ? "another input produced this output name with "
                             "different content"
                           : strerror(errno));
      break;
    }
    if (placed == 0) snprintf(placed_new[nplaced++], sizeof *placed_new, "%s", dst);
    struct stat st;
    if (stat(dst, &st) == 0) bytes_out += (unsigned long long)st.st_size;
    if (f == 0) snprintf(first, sizeof first, "%s", rel);
  }
  for (uint32_t f = 0; f < made; f++) unlink(tmps[f]); /* leftovers only */
  /* a failed object leaves no frame of its own behind */
  for (uint32_t k = 0; rc != MV_OK && k < nplaced; k++) unlink(placed_new[k]);
  free(placed_new);
  free(tmps);
  if (rc != MV_OK) {
    snprintf(reason, sizeof reason, "cannot write converted output: %s", why);
    reject(j, path, fname, bytes_in, reason, o);
    return;
  }
  char note[160] = "";
  if (n > 1)
    snprintf(note, sizeof note, "%u frames written as -f0001 to -f%04u", n, n);
  char out_sha[65] = "", dst0[5400];
  snprintf(dst0, sizeof dst0, "%s/%s", cfg->out_dir, first);
  if (cfg->want_digests && mv_file_digest_hex(dst0, out_sha, 64) != 0)
    out_sha[0] = 0;
  mv_report_row row = {.input = path, .status = "ok", .output = first,
                       .note = note[0] ? note : NULL, .format = fname,
                       .bytes_in = bytes_in, .bytes_out = bytes_out,
                       .pixels = &o->px,
                       .output_sha256 = out_sha[0] ? out_sha : NULL};
  finish_placed(j, &row, o, dst0);
}

static void place_output(worker *w, const char *path, const char *fname,
                         const mv_loaded *fmt, mv_doc *doc,
                         unsigned long long bytes_in, const mv_outcome *o) {
  job *j = w->j;
  const mv_job_config *cfg = j->cfg;
  const mv_format_ops *ops = fmt->desc->format;
  const char *ext = mv_format_doc_extension(ops, doc);
  char reason[1024], why[512] = "";
  struct stat st;
  int rc;
  /* Names come from derived values only: input names carry PHI. */
  char fallback[40];
  if (!o->sop[0]) {
    char h[33];
    mv_derive_hash(cfg->key, shown_name(path), strlen(shown_name(path)), 32,
                   h);
    snprintf(fallback, sizeof fallback, "x%s", h);
  }
  char rel[512], dir[4800], dst[5400], tmp[4400];
  snprintf(rel, sizeof rel, "%s/%s/%s", o->patient,
           o->study[0] ? o->study : "no-study",
           o->series[0] ? o->series : "no-series");
  snprintf(dir, sizeof dir, "%s/%s", cfg->out_dir, rel);
  snprintf(rel + strlen(rel), sizeof rel - strlen(rel), "/%s.%s",
           o->sop[0] ? o->sop : fallback, ext);
  snprintf(dst, sizeof dst, "%s/%s", cfg->out_dir, rel);
  snprintf(tmp, sizeof tmp, "%s/p%ld-w%d-%lu.part", j->tmp_dir, (long)getpid(),
           w->index, w->seq++);
  if (cfg->output_format != MV_OUTFMT_NATIVE && !o->px.review &&
      mv_convert_frames(ops, doc) > 0) {
    /* --output-format png|jpeg: the frames instead of the document */
    rel[strlen(rel) - strlen(ext) - 1] = 0; /* drop ".ext" */
    place_converted(w, path, fname, ops, doc, rel, dir, tmp, bytes_in, o);
    return;
  }
  why[0] = 0;
  const char *enc_note = encode_output(cfg, ops, doc);
  rc = ops->write(doc, tmp, why, sizeof why);
  if (rc != MV_OK && cfg->output_encoding && !enc_note &&
      ops->set_output_encoding(doc, "keep", NULL, 0) == MV_OK) {
    /* the re-encoding failed (the dataset is left as it was): store the
     * object as read rather than lose it */
    static __thread char note[600];
    snprintf(note, sizeof note, "kept in its own encoding: %s", why);
    enc_note = note;
    why[0] = 0;
    rc = ops->write(doc, tmp, why, sizeof why);
  }
  ops->close(doc);
  if (rc != MV_OK) {
    unlink(tmp);
    snprintf(reason, sizeof reason, "cannot write output: %s",
             why[0] ? why : mv_strerror(rc));
    reject(j, path, fname, bytes_in, reason, o);
    return;
  }
  if (o->px.review) {
    hold_for_review(w, path, fname, rel, ext, tmp, bytes_in, o);
    return;
  }
  if (mv_mkdirs(dir) != 0) {
    unlink(tmp);
    snprintf(reason, sizeof reason, "cannot create output folder: %s",
             strerror(errno));
    reject(j, path, fname, bytes_in, reason, o);
    return;
  }
  int placed = mv_place_file(tmp, dst);
  const char *note = enc_note;
  if (placed == 2) {
    note_collision(j, rel);
    /* Another object with the same SOP Instance UID (the same image in
     * another transfer syntax, a corrected resend): keep both, the variant
     * named by its content so a re-run finds it again. */
    char digest[17];
    char *dot = strrchr(rel, '.');
    if (dot && mv_file_digest_hex(tmp, digest, 16) == 0) {
      char ext[16];
      snprintf(ext, sizeof ext, "%s", dot);
      snprintf(dot, sizeof rel - (size_t)(dot - rel), "~%s%s", digest, ext);
      snprintf(dst, sizeof dst, "%s/%s", cfg->out_dir, rel);
      placed = mv_place_file(tmp, dst);
      note = "another input has the same SOP Instance UID; this one is "
             "stored as a variant";
    }
    if (placed == 2) {
      unlink(tmp);
      reject(j, path, fname, bytes_in,
             "another input produced this output name with different content",
             o);
      return;
    }
  }
  if (placed < 0) {
    snprintf(reason, sizeof reason, "cannot place output: %s",
             strerror(errno));
    reject(j, path, fname, bytes_in, reason, o);
    return;
  }
  unsigned long long bytes_out = 0;
  if (stat(dst, &st) == 0) bytes_out = (unsigned long long)st.st_size;
  char out_sha[65] = "";
  if (cfg->want_digests && mv_file_digest_hex(dst, out_sha, 64) != 0)
    out_sha[0] = 0;
  mv_report_row row = {.input = path, .status = "ok", .output = rel,
                       .note = note, .format = fname, .bytes_in = bytes_in,
                       .bytes_out = bytes_out, .pixels = &o->px,
                       .output_sha256 = out_sha[0] ? out_sha : NULL};
  finish_placed(j, &row, o, dst);
}

static void note_collision(job *j, const char *rel) {
  pthread_mutex_lock(&j->lock);
  int seen = 0;
  for (size_t i = 0; i < j->ncollided && !seen; i++)
    seen = strcmp(j->collided[i], rel) == 0;
  char **grown = seen ? NULL
                      : realloc(j->collided, (j->ncollided + 1) * sizeof *grown);
  if (grown) {
    j->collided = grown;
    if ((j->collided[j->ncollided] = strdup(rel))) j->ncollided++;
  }
  pthread_mutex_unlock(&j->lock);
}

/* Objects sharing a SOP Instance UID all end in one folder as <sop>.dcm
 * and <sop>~<digest>.dcm. Which one got the plain name depended on thread
 * timing; settle it by content (the smallest digest takes it), so every
 * run and every --jobs gives the same tree. */
static void settle_collision(job *j, const char *rel) {
  const char *slash = strrchr(rel, '/'), *dot = strrchr(rel, '.');
  if (!slash || !dot || dot < slash) return;
  char dir[4800], stem[256], ext[16];
  snprintf(dir, sizeof dir, "%s/%.*s", j->cfg->out_dir, (int)(slash - rel), rel);
  snprintf(stem, sizeof stem, "%.*s", (int)(dot - slash - 1), slash + 1);
  snprintf(ext, sizeof ext, "%s", dot);
  char base[5400], best_digest[17], best_name[512] = "";
  snprintf(base, sizeof base, "%s/%s%s", dir, stem, ext);
  char base_digest[17];
  if (mv_file_digest_hex(base, base_digest, 16) != 0) return;
  snprintf(best_digest, sizeof best_digest, "%s", base_digest);
  DIR *d = opendir(dir);
  if (!d) return;
  size_t sl = strlen(stem), el = strlen(ext);
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n != sl + 1 + 16 + el || strncmp(e->d_name, stem, sl) != 0 ||
        e->d_name[sl] != '~' || strcmp(e->d_name + n - el, ext) != 0)
      continue;
    const char *digest = e->d_name + sl + 1;
    if (strncmp(digest, best_digest, 16) < 0) {
      snprintf(best_digest, sizeof best_digest, "%.16s", digest);
      snprintf(best_name, sizeof best_name, "%s", e->d_name);
    }
  }
  closedir(d);
  if (!best_name[0]) return; /* the plain name already holds the smallest */
  char moved[5400], winner[5400], rel_moved[600], rel_winner[600];
  snprintf(moved, sizeof moved, "%s/%s~%s%s", dir, stem, base_digest, ext);
  snprintf(winner, sizeof winner, "%s/%s", dir, best_name);
  snprintf(rel_moved, sizeof rel_moved, "%.*s/%s~%s%s", (int)(slash - rel), rel,
           stem, base_digest, ext);
  snprintf(rel_winner, sizeof rel_winner, "%.*s/%s", (int)(slash - rel), rel,
           best_name);
  if (mv_place_file(base, moved) < 0 || mv_place_file(winner, base) != 0) {
    mv_log(MV_LOG_ERROR, "job", "cannot settle the names of objects sharing "
                                "a SOP Instance UID in %s", dir);
    return;
  }
  mv_report_rename_output(j->cfg->report, rel, rel_moved);
  mv_report_rename_output(j->cfg->report, rel_winner, rel);
  for (int i = 0; i < j->cfg->nobservers; i++) {
    const mv_job_observer *ob = &j->cfg->observers[i];
    if (ob->renamed) {
      ob->renamed(ob->ud, rel, rel_moved);
      ob->renamed(ob->ud, rel_winner, rel);
    }
  }
}

/* ---------------------------------------------------------------------- */
/* Archives (see mv_archive.h, docs/archives.md).                          */
/* An archive is one queue item, expanded by the worker that takes it, its
 * members processed in order by that worker. The walker only lists names
 * (members have none on disk), and a worker pushing members back into the
 * bounded queue could block forever on a queue only workers drain. One
 * member at a time is on disk, under a generated name in the temp folder. */

static void archive_member(void *ud, const char *file, const char *shown) {
  worker *w = ud;
  tl_shown = shown;
  process(w, file, 0);
  tl_shown = NULL;
}

static void archive_reject(void *ud, const char *shown,
                           unsigned long long bytes, const char *reason) {
  worker *w = ud;
  tl_input_sha[0] = 0;
  reject(w->j, shown, NULL, bytes, reason, NULL);
}

static void expand_archive(worker *w, const char *path) {
  char prefix[4400];
  snprintf(prefix, sizeof prefix, "%s/p%ld-w%d-a%lu-", w->j->tmp_dir,
           (long)getpid(), w->index, w->seq++);
  mv_archive_sink sink = {.ud = w, .member = archive_member,
                          .reject = archive_reject};
  mv_archive_expand(path, path, prefix, &w->j->archive_limits, &sink);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  job *j = w->j;
  for (char *path; (path = queue_pop(j));) {
    if (w->engine) {
      process(w, path, 1);
    } else {
      reject(j, path, NULL, 0, "worker could not load the policy", NULL);
    }
    free(path);
  }
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Walking the inputs.                                                     */

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(job *j, const char *path, int depth) {
  struct stat st;
  /* A folder named on the command line is followed even as a symlink;
   * symlinks met inside folders are not (see below). */
  int ok = depth == 0 ? stat(path, &st) : lstat(path, &st);
  if (ok == 0 && S_ISDIR(st.st_mode)) {
    if (depth > 64) {
      reject(j, path, NULL, 0, "folder nesting deeper than 64 levels", NULL);
      return;
    }
    DIR *d = opendir(path);
    if (!d) {
      reject(j, path, NULL, 0, "cannot open folder", NULL);
      return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        char **grown = realloc(names, cap * sizeof *names);
        if (!grown) break;
        names = grown;
      }
      if (!(names[n] = strdup(e->d_name))) break;
      n++;
    }
    int complete = e == NULL;
    closedir(d);
    if (!complete)
      reject(j, path, NULL, 0,
             "out of memory listing this folder; some of its files were not "
             "processed",
             NULL);
    if (n) qsort(names, n, sizeof *names, name_cmp);
    size_t plen = strlen(path);
    int slash = plen && path[plen - 1] == '/';
    for (size_t i = 0; i < n; i++) {
      size_t len = plen + strlen(names[i]) + 2;
      char *child = malloc(len);
      if (!child) {
        reject(j, path, NULL, 0, "out of memory walking this folder", NULL);
      } else {
        snprintf(child, len, "%s%s%s", path, slash ? "" : "/", names[i]);
        struct stat cs;
        /* Symlinked folders are not followed: they can loop. */
        if (lstat(child, &cs) == 0 && S_ISLNK(cs.st_mode) &&
            stat(child, &cs) == 0 && S_ISDIR(cs.st_mode))
          reject(j, child, NULL, 0, "symbolic link to a folder (not followed)",
                 NULL);
        else
          walk(j, child, depth + 1);
        free(child);
      }
      free(names[i]);
    }
    free(names);
    return;
  }
  char *copy = strdup(path);
  if (copy) queue_push(j, copy);
  else reject(j, path, NULL, 0, "out of memory queueing this file", NULL);
}

/* Leftovers of a crashed run are partial files: never keep them. Files of
 * a run still going on (another process writing into the same OUT) stay. */
static void clear_tmp_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    long pid = 0;
    if (sscanf(e->d_name, "p%ld-", &pid) == 1 && pid > 0 &&
        (kill((pid_t)pid, 0) == 0 || errno == EPERM))
      continue;
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(d);
}

int mv_job_run(const mv_job_config *cfg, mv_summary *sum, char *err,
               size_t errlen) {
  job j;
  memset(&j, 0, sizeof j);
  j.cfg = cfg;
  j.sum = sum;
  pthread_mutex_init(&j.lock, NULL);
  pthread_cond_init(&j.not_empty, NULL);
  pthread_cond_init(&j.not_full, NULL);
  j.started = now_seconds();
  if (mv_archive_limits_init(&j.archive_limits, err, errlen) != 0)
    return MV_EINVAL;
  snprintf(j.tmp_dir, sizeof j.tmp_dir, "%s/.medveil-tmp", cfg->out_dir);
  if (mv_mkdirs(j.tmp_dir) != 0) {
    snprintf(err, errlen, "%s: cannot create: %s", j.tmp_dir, strerror(errno));
    return MV_EIO;
  }
  clear_tmp_dir(j.tmp_dir);
  int n = cfg->jobs < 1 ? 1 : cfg->jobs;
  worker *workers = calloc((size_t)n, sizeof *workers);
  pthread_t *threads = calloc((size_t)n, sizeof *threads);
  if (!workers || !threads) {
    free(workers);
    free(threads);
    snprintf(err, errlen, "out of memory");
    return MV_ENOMEM;
  }
  for (int i = 0; i < n; i++) {
    workers[i].j = &j;
    workers[i].index = i;
    char why[1024];
    /* A policy that calls back into Lua needs a state per worker; the
     * caller's validated copy serves the first one. Without callbacks the
     * policy is read-only C tables, which all workers share. */
    if (cfg->loaded && (i == 0 || !mv_policy_uses_lua(cfg->loaded)))
      workers[i].engine = mv_engine_new(cfg->key, cfg->loaded);
    else if (mv_policy_load(cfg->env, cfg->rules, &workers[i].policy, why,
                            sizeof why) == MV_OK)
      workers[i].engine = mv_engine_new(cfg->key, workers[i].policy);
    if (!workers[i].engine) {
      mv_log(MV_LOG_ERROR, "job", "worker %d could not load the policy", i);
      continue;
    }
    const mv_policy *pol = workers[i].policy ? workers[i].policy : cfg->loaded;
    if (mv_policy_pixels_when(pol) != MV_PIXELS_NEVER) {
      int prc = mv_pixels_new(cfg->registry, mv_policy_pixel_settings(pol),
                              &workers[i].pixels, why, sizeof why);
      if (prc != MV_OK) {
        snprintf(err, errlen, "pixel cleaning cannot start: %s", why);
        for (int k = 0; k <= i; k++) {
          mv_pixels_free(workers[k].pixels);
          mv_engine_free(workers[k].engine);
          mv_policy_free(workers[k].policy);
        }
        free(workers);
        free(threads);
        rmdir(j.tmp_dir);
        return prc;
      }
      mv_engine_set_pixels(workers[i].engine, workers[i].pixels);
    }
  }
  int started = 0;
  for (int i = 0; i < n; i++)
    if (pthread_create(&threads[i], NULL, worker_main, &workers[i]) == 0)
      started++;
    else
      break;
  if (started == 0) {
    snprintf(err, errlen, "cannot start worker threads");
    for (int i = 0; i < n; i++) {
      mv_pixels_free(workers[i].pixels);
      mv_engine_free(workers[i].engine);
      mv_policy_free(workers[i].policy);
    }
    free(workers);
    free(threads);
    return MV_ENOMEM;
  }
  for (int i = 0; i < cfg->ninputs; i++) walk(&j, cfg->inputs[i], 0);
  queue_close(&j);
  for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
  for (int i = 0; i < n; i++) {
    mv_pixels_free(workers[i].pixels);
    mv_engine_free(workers[i].engine);
    mv_policy_free(workers[i].policy);
  }
  free(workers);
  free(threads);
  for (size_t i = 0; i < j.ncollided; i++) {
    settle_collision(&j, j.collided[i]);
    free(j.collided[i]);
  }
  free(j.collided);
  rmdir(j.tmp_dir);
  sum->jobs = n;
  sum->seconds = now_seconds() - j.started;
  if (cfg->progress) progress_line(&j, 1);
  pthread_mutex_destroy(&j.lock);
  pthread_cond_destroy(&j.not_empty);
  pthread_cond_destroy(&j.not_full);
  return MV_OK;
}
