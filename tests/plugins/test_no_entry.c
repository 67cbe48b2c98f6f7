/* A shared object that is not a medveil plugin: no entry symbol. */
#include "medveil/plugin.h"

MV_EXPORT int something_else(void) { return 42; }
