/* A descriptor smaller than ABI 1 defines (a truncated, older layout). */
#include "medveil/plugin.h"

static const mv_plugin plugin = {.abi = MV_PLUGIN_ABI,
                                 .size = 16,
                                 .name = "test-small-struct",
                                 .version = "1.0"};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &plugin; }
