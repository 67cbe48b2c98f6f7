/* A well-formed plugin with no kinds: loads, inits, finis. */
#include "medveil/plugin.h"

static int good_init(const mv_host *h, const char *config, void **state,
                     char *err, size_t errlen) {
  (void)h; (void)config; (void)err; (void)errlen;
  static int token;
  *state = &token;
  return MV_OK;
}

static void good_fini(void *state) { (void)state; }

static const mv_plugin plugin = {
    .abi = MV_PLUGIN_ABI, .size = sizeof(mv_plugin), .name = "test-good",
    .version = "1.0", .kinds = 0, .init = good_init, .fini = good_fini};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &plugin; }
