/* Says it is a format plugin but offers no format operations. */
#include "medveil/plugin.h"

static const mv_plugin plugin = {.abi = MV_PLUGIN_ABI,
                                 .size = sizeof(mv_plugin),
                                 .name = "test-missing-ops",
                                 .version = "1.0",
                                 .kinds = MV_KIND_FORMAT,
                                 .format = 0};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &plugin; }
