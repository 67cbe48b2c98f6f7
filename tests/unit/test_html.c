/* test_html.c - the HTML report's escaping, thumbnails on odd geometry and
 * hostile marks, and the writer's limits, spools and atomic placement. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_deid.h"
#include "mv_html.h"
#include "mv_html_thumb.h"
#include "mv_test.h"

static char *buf; /* the last escaped() result */

static char *escaped(const char *s) {
  size_t len;
  free(buf);
  FILE *m = open_memstream(&buf, &len);
  mv_html_text(m, s);
  fclose(m);
  return buf;
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* A grey or RGB view filled with a pattern. */
static void view(mv_view *v, uint32_t w, uint32_t h, uint32_t samples) {
  v->img = (mv_image){.width = w, .height = h, .samples = samples, .bits = 8,
                      .bits_stored = 8, .stride = (size_t)w * samples};
  v->img.data = malloc(v->img.stride * h + 1);
  uint8_t *d = v->img.data;
  for (size_t i = 0; i < v->img.stride * h; i++) d[i] = (uint8_t)(i * 37);
}

static int thumb(uint32_t w, uint32_t h, uint32_t samples, mv_mark *marks,
                 size_t n, size_t *bytes) {
  mv_pixel_result px;
  memset(&px, 0, sizeof px);
  view(&px.before, w, h, samples);
  view(&px.after, w, h, samples);
  px.marks = marks;
  px.nmarks = n;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  int rc = mv_html_thumb_pair(m, &px, 240);
  fclose(m);
  if (rc == 0) CHECK(count(buf, "data:image/png;base64,") == 2);
  else CHECK(len == 0); /* nothing written on failure */
  if (bytes) *bytes = len;
  free(buf);
  free(px.before.img.data);
  free(px.after.img.data);
  return rc;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  s[fread(s, 1, (size_t)n, f)] = 0;
  fclose(f);
  return s;
}

static int files_in(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  if (d) closedir(d);
  return n;
}

int main(void) {
  CHECK_STR(escaped("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  CHECK_STR(escaped("tab\there\n"), "tab&#xFFFD;here&#xFFFD;");
  CHECK_STR(escaped("caf\xc3\xa9 \xff\xc3"), "caf\xc3\xa9 &#xFF;&#xC3;");
  CHECK_STR(escaped("\xed\xa0\x80"), "&#xED;&#xA0;&#x80;"); /* surrogate */
  CHECK_STR(escaped(NULL), "");

  /* Odd geometry and marks outside the image never go out of bounds. */
  mv_mark marks[] = {{{-50, -50, 100, 100}, MV_MARK_REDACTED},
                     {{0, 0, 1, 1}, MV_MARK_UNCERTAIN},
                     {{2147483000, 5, 2000, 2000}, MV_MARK_KEPT},
                     {{10, 10, -5, 0}, 7},
                     {{0, 0, 100000, 100000}, MV_MARK_REDACTED}};
  size_t nm = sizeof marks / sizeof *marks, bytes;
  CHECK(thumb(1, 1, 1, marks, nm, NULL) == 0);
  CHECK(thumb(1, 60000, 1, marks, nm, NULL) == 0);
  CHECK(thumb(60000, 1, 3, marks, nm, NULL) == 0);
  CHECK(thumb(241, 7, 3, marks, nm, NULL) == 0);
  CHECK(thumb(4000, 3000, 1, marks, nm, &bytes) == 0);
  CHECK(bytes < 200000);
  mv_pixel_result px;
  memset(&px, 0, sizeof px);
  view(&px.before, 10, 10, 1);
  view(&px.after, 10, 11, 1);
  CHECK(mv_html_thumb_pair(stdout, &px, 240) == -1); /* geometry differs */
  free(px.after.img.data);
  px.after.img.data = NULL;
  CHECK(mv_html_thumb_pair(stdout, &px, 240) == -1); /* no after view */
  free(px.before.img.data);

  /* The writer: limits, escaping, renames; nothing left but the page. */
  char dir[] = "/tmp/mv_test_html_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256];
  snprintf(path, sizeof path, "%s/page.html", dir);
  mv_html_limits lim = {.max_ok_rows = 2, .max_thumbs = 1, .thumb_width = 240};
  char err[256] = "";
  mv_html *h = mv_html_open(path, &lim, err, sizeof err);
  CHECK(h != NULL);
  mv_summary sum;
  memset(&sum, 0, sizeof sum);
  for (int i = 0; h && i < 5; i++) {
    char in[64], out[64];
    snprintf(in, sizeof in, "in/<%d>&\"x\t.dcm", i);
    snprintf(out, sizeof out, "S/%d.dcm", i);
    mv_outcome o;
    memset(&o, 0, sizeof o);
    o.hits = calloc(MV_ATTR_HIT_SLOTS, sizeof *o.hits);
    o.hits[3] = (mv_attr_hit){0x00100010, MV_ACT_PSEUDONYM, 1};
    o.hits[9] = (mv_attr_hit){0x00090010, MV_ACT_REMOVE, 2};
    o.px.ran = o.px.changed = i < 3;
    view(&o.px.before, 32, 16, 1);
    view(&o.px.after, 32, 16, 1);
    mv_report_row row = {.input = in, .status = i == 4 ? "rejected" : "ok",
                         .output = i == 4 ? NULL : out,
                         .reason = i == 4 ? "cannot parse: <bad>" : NULL,
                         .format = "format-dicom"};
    mv_job_event ev = {.row = &row, .o = &o};
    CHECK(mv_html_add(h, &ev) == 0);
    mv_outcome_release(&o); /* frees the views and hits */
  }
  if (h) {
    mv_html_renamed(h, "S/0.dcm", "S/0~moved.dcm");
    CHECK(files_in(dir) == 0); /* spools are unlinked */
    sum.total = 5, sum.ok = 4, sum.rejected = 1;
    mv_html_info info = {.job_id = "j<1>", .policy_name = "p&q",
                         .rules_sha256 = "0123456789abcdef0123",
                         .key_fingerprint = "k", .json_report = "r.json",
                         .scripts_dir = MV_SOURCE_DIR "/scripts"};
    CHECK(mv_html_close(h, &info, &sum, err, sizeof err) == 0);
  }
  char *page = slurp(path);
  CHECK(page != NULL);
  if (page) {
    CHECK(strstr(page, "j&lt;1&gt;") && strstr(page, "p&amp;q"));
    CHECK(strstr(page, ">0123456789abcdef<") != NULL);
    CHECK(strstr(page, "in/&lt;4&gt;&amp;&quot;x&#xFFFD;.dcm") != NULL);
    CHECK(strstr(page, "cannot parse: &lt;bad&gt;") != NULL);
    CHECK(count(page, "<tr class=\"ok\">") == 2);
    CHECK(strstr(page, "2 more released files") != NULL);
    CHECK(strstr(page, "S/0~moved.dcm") && !strstr(page, "S/0.dcm"));
    CHECK(count(page, "<figure") == 1);
    CHECK(strstr(page, "2 more objects had pixels redacted") != NULL);
    CHECK(strstr(page, "(0010,0010) PatientName</td><td>pseudonym</td>"
                       "<td class=\"n\">5</td>") != NULL);
    CHECK(strstr(page, "(0009,0010)</td><td>remove</td><td class=\"n\">10<") !=
          NULL);
    CHECK(strstr(page, "http") == NULL);
  }
  free(page);
  CHECK(files_in(dir) == 1); /* the page only */
  unlink(path);
  rmdir(dir);
  free(buf);
  TEST_MAIN_END();
}
