/* Claims an ABI this core does not speak. */
#include "medveil/plugin.h"

static const mv_plugin plugin = {.abi = MV_PLUGIN_ABI + 98,
                                 .size = sizeof(mv_plugin),
                                 .name = "test-bad-abi",
                                 .version = "1.0"};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &plugin; }
