/* init fails with a reason; the loader must unload it and say why. */
#include <stdio.h>

#include "medveil/plugin.h"

static int failing_init(const mv_host *h, const char *config, void **state,
                        char *err, size_t errlen) {
  (void)h; (void)config; (void)state;
  snprintf(err, errlen, "model file missing");
  return MV_EIO;
}

static const mv_plugin plugin = {.abi = MV_PLUGIN_ABI,
                                 .size = sizeof(mv_plugin),
                                 .name = "test-failing-init",
                                 .version = "1.0",
                                 .init = failing_init};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &plugin; }
