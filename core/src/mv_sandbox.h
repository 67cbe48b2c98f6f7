/* mv_sandbox.h - a Lua 5.4 state that policy scripts cannot escape.
 *
 * Only base (without load, loadfile, dofile, print, collectgarbage),
 * table, string (without string.dump), math and utf8. `require` loads
 * text-only modules from the scripts directory and nothing else. Memory is
 * capped by the allocator and each call into Lua by an instruction count;
 * hitting either raises a Lua error, which the caller turns into a
 * rejection (fail closed). The site key never enters Lua. */
#ifndef MV_SANDBOX_H
#define MV_SANDBOX_H

#include <lua.h>
#include <stddef.h>

typedef struct mv_sandbox_limits {
  size_t max_bytes;       /* total heap of the state (default 64 MiB) */
  long max_instructions;  /* per protected call (default 50 million) */
} mv_sandbox_limits;

/* New sandboxed state; scripts_dir and rules_dir are where require and
 * medveil.native.load_profile read from. NULL on out-of-memory. */
lua_State *mv_sandbox_new(const char *scripts_dir, const char *rules_dir,
                          const mv_sandbox_limits *limits);
void mv_sandbox_close(lua_State *L);

/* lua_pcall with the instruction budget reset first. */
int mv_sandbox_pcall(lua_State *L, int nargs, int nresults);

/* Load and run a rule file (text only), leaving its single result on the
 * stack. Returns LUA_OK or an error code with the message on the stack. */
int mv_sandbox_dofile(lua_State *L, const char *path);

/* Bytes currently allocated by the state. */
size_t mv_sandbox_bytes(lua_State *L);

#endif
