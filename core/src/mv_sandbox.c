/* mv_sandbox.c - the restricted Lua state behind policies. */
#include "mv_sandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

typedef struct sandbox {
  size_t used, max_bytes;
  long budget, max_instructions;
  char scripts[4096];
  char rules[4096];
} sandbox;

#define HOOK_EVERY 1000

static sandbox *get_sandbox(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

/* The allocator refuses to grow past the cap; Lua turns that into a
 * "not enough memory" error inside the script. */
static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  sandbox *s = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    s->used -= old;
    free(ptr);
    return NULL;
  }
  if (nsize > old && s->used - old + nsize > s->max_bytes) return NULL;
  void *p = realloc(ptr, nsize);
  if (p) s->used = s->used - old + nsize;
  return p;
}

static void count_hook(lua_State *L, lua_Debug *ar) {
  sandbox *s = get_sandbox(L);
  s->budget -= HOOK_EVERY;
  if (s->budget >= 0) return;
  /* Name the line that was running, so the author finds the loop. */
  if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
    luaL_error(L, "%s:%d: instruction limit exceeded", ar->short_src,
               ar->currentline);
  luaL_error(L, "instruction limit exceeded");
}

static int valid_module_name(const char *name, int allow_dot) {
  if (!*name) return 0;
  for (const char *p = name; *p; p++) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || c == '_' || c == '-' ||
             (allow_dot && c == '.');
    if (!ok) return 0;
  }
  return name[0] != '.';
}

static int load_text_file(lua_State *L, const char *path) {
  /* "t": text chunks only, so precompiled bytecode never loads. */
  return luaL_loadfilex(L, path, "t");
}

/* require(name): cached modules, medveil.native, or scripts/<name>.lua. */
static int sandbox_require(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, "mv.loaded");
  lua_getfield(L, -1, name);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  if (!valid_module_name(name, 1))
    return luaL_error(L, "module name '%s' is not allowed", name);
  sandbox *s = get_sandbox(L);
  char path[4352];
  char rel[256];
  snprintf(rel, sizeof rel, "%s", name);
  for (char *p = rel; *p; p++)
    if (*p == '.') *p = '/';
  snprintf(path, sizeof path, "%s/%s.lua", s->scripts, rel);
  if (load_text_file(L, path) != LUA_OK)
    return luaL_error(L, "module '%s' not found in the medveil scripts "
                         "directory: %s", name, lua_tostring(L, -1));
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, name); /* mv.loaded[name] = result */
  return 1;
}

/* native.load_profile(name): run rules/<name>.lua and return its value. */
static int native_load_profile(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  if (!valid_module_name(name, 0))
    return luaL_error(L, "profile name '%s' is not allowed", name);
  sandbox *s = get_sandbox(L);
  char path[4352];
  snprintf(path, sizeof path, "%s/%s.lua", s->rules, name);
  if (load_text_file(L, path) != LUA_OK)
    return luaL_error(L, "unknown profile '%s' (%s)", name,
                      lua_tostring(L, -1));
  lua_call(L, 0, 1);
  return 1;
}

static void remove_global(lua_State *L, const char *name) {
  lua_pushnil(L);
  lua_setglobal(L, name);
}

lua_State *mv_sandbox_new(const char *scripts_dir, const char *rules_dir,
                          const mv_sandbox_limits *limits) {
  sandbox *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->max_bytes = limits && limits->max_bytes ? limits->max_bytes
                                             : (size_t)64 << 20;
  s->max_instructions = limits && limits->max_instructions
                            ? limits->max_instructions
                            : 50000000L;
  s->budget = s->max_instructions;
  snprintf(s->scripts, sizeof s->scripts, "%s", scripts_dir);
  snprintf(s->rules, sizeof s->rules, "%s", rules_dir);
  lua_State *L = lua_newstate(limited_alloc, s);
  if (!L) {
    free(s);
    return NULL;
  }
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                  {LUA_TABLIBNAME, luaopen_table},
                                  {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8},
                                  {NULL, NULL}};
  for (const luaL_Reg *lib = libs; lib->func; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_pop(L, 1);
  }
  static const char *const banned[] = {"dofile", "loadfile", "load",
                                       "print", "collectgarbage", "require",
                                       NULL};
  for (const char *const *b = banned; *b; b++) remove_global(L, *b);
  lua_getglobal(L, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  /* The same input must give the same output in any batch: a policy has
   * no business with randomness. */
  lua_getglobal(L, "math");
  lua_pushnil(L);
  lua_setfield(L, -2, "random");
  lua_pushnil(L);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_newtable(L);
  lua_pushcfunction(L, native_load_profile);
  lua_setfield(L, -2, "load_profile");
  lua_setfield(L, -2, "medveil.native");
  lua_setfield(L, LUA_REGISTRYINDEX, "mv.loaded");
  lua_pushcfunction(L, sandbox_require);
  lua_setglobal(L, "require");
  lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
  return L;
}

void mv_sandbox_close(lua_State *L) {
  if (!L) return;
  sandbox *s = get_sandbox(L);
  lua_close(L);
  free(s);
}

int mv_sandbox_pcall(lua_State *L, int nargs, int nresults) {
  sandbox *s = get_sandbox(L);
  s->budget = s->max_instructions;
  return lua_pcall(L, nargs, nresults, 0);
}

int mv_sandbox_dofile(lua_State *L, const char *path) {
  int rc = load_text_file(L, path);
  if (rc != LUA_OK) return rc;
  return mv_sandbox_pcall(L, 0, 1);
}

size_t mv_sandbox_bytes(lua_State *L) { return get_sandbox(L)->used; }
