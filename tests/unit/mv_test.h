/* mv_test.h - the tiny assertion kit the C unit tests share. */
#ifndef MV_TEST_H
#define MV_TEST_H
#include <stdio.h>
#include <string.h>

static int mv_test_failures;
static int mv_test_checks;

#define CHECK(cond)                                                        \
  do {                                                                     \
    mv_test_checks++;                                                      \
    if (!(cond)) {                                                         \
      mv_test_failures++;                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                      \
    }                                                                      \
  } while (0)

#define CHECK_STR(got, want)                                               \
  do {                                                                     \
    const char *g_ = (got), *w_ = (want);                                  \
    mv_test_checks++;                                                      \
    if (!g_ || strcmp(g_, w_) != 0) {                                      \
      mv_test_failures++;                                                  \
      fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__,        \
              __LINE__, g_ ? g_ : "(null)", w_);                           \
    }                                                                      \
  } while (0)

/* An 8-bit plane over caller-owned interleaved samples (1 grey, 3 RGB),
 * as the core's renderer hands detectors and line followers. */
#include <stdint.h>

#include "medveil/plugin.h"

static inline mv_image mv_test_view(uint8_t *px, uint32_t w, uint32_t h,
                                    uint32_t samples) {
  mv_image v;
  memset(&v, 0, sizeof v);
  v.width = w, v.height = h, v.samples = samples, v.bits = v.bits_stored = 8;
  v.stride = (size_t)w * samples, v.data = px;
  return v;
}

/* dlopen a built plugin and return its descriptor, or NULL with the
 * reason on stderr. The handle stays open for the life of the test. */
#ifdef MV_TEST_PLUGINS
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>

#include "medveil/plugin.h"

/* The host a test gives a plugin it drives directly: log lines on stderr,
 * everything when mv_test_verbose is set, else warnings and errors. */
static int mv_test_verbose;

__attribute__((format(printf, 3, 4))) static void mv_test_host_log(
    int level, const char *who, const char *fmt, ...) {
  if (!mv_test_verbose && level > MV_LOG_WARN) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[%d] %s: ", level, who);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static const mv_host mv_test_host = {MV_PLUGIN_ABI, sizeof(mv_host),
                                     mv_test_host_log, malloc, free};

static inline const mv_plugin *mv_test_load_plugin(const char *so) {
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "cannot load %s: %s\n", so, dlerror());
    return NULL;
  }
  mv_plugin_entry_fn entry =
      (mv_plugin_entry_fn)dlsym(h, MV_PLUGIN_ENTRY_SYMBOL);
  if (!entry) {
    fprintf(stderr, "%s: no %s\n", so, MV_PLUGIN_ENTRY_SYMBOL);
    return NULL;
  }
  return entry();
}
#endif

#define TEST_MAIN_END()                                                    \
  do {                                                                     \
    printf("%d checks, %d failed\n", mv_test_checks, mv_test_failures);    \
    return mv_test_failures ? 1 : 0;                                       \
  } while (0)
#endif
