/* The Lua sandbox: every removed capability is really gone, the limits
 * hold, and the state survives a failing script. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_sandbox.h"
#include "mv_test.h"

static lua_State *L;

/* Run a chunk; returns 1 when it raised an error containing `want`. */
static int fails_with(const char *code, const char *want) {
  if (luaL_loadstring(L, code) != LUA_OK) {
    lua_pop(L, 1);
    return 0;
  }
  int rc = mv_sandbox_pcall(L, 0, 0);
  if (rc == LUA_OK) return 0;
  const char *msg = lua_tostring(L, -1);
  int ok = msg && strstr(msg, want) != NULL;
  if (!ok) fprintf(stderr, "unexpected error: %s\n", msg ? msg : "?");
  lua_pop(L, 1);
  return ok;
}

static int runs(const char *code) {
  if (luaL_loadstring(L, code) != LUA_OK) {
    fprintf(stderr, "syntax: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  if (mv_sandbox_pcall(L, 0, 0) != LUA_OK) {
    fprintf(stderr, "error: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

static int write_bytecode(lua_State *S, lua_Writer w, const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  luaL_loadstring(S, "return 1");
  lua_dump(S, w, f, 0);
  fclose(f);
  return 0;
}

static int file_writer(lua_State *S, const void *p, size_t n, void *ud) {
  (void)S;
  return fwrite(p, 1, n, ud) == n ? 0 : 1;
}

int main(void) {
  char dir[] = "/tmp/mvsbxXXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[4200];
  snprintf(path, sizeof path, "%s/helper.lua", dir);
  FILE *f = fopen(path, "w");
  fputs("return { answer = 42 }\n", f);
  fclose(f);
  /* A precompiled chunk disguised as a module. */
  lua_State *plain = luaL_newstate();
  snprintf(path, sizeof path, "%s/evil.lua", dir);
  write_bytecode(plain, file_writer, path);
  lua_close(plain);

  mv_sandbox_limits lim = {.max_bytes = 8u << 20, .max_instructions = 2000000};
  L = mv_sandbox_new(dir, dir, &lim);
  CHECK(L != NULL);

  /* Capabilities that must not exist. */
  CHECK(runs("assert(io == nil and os == nil and debug == nil)"));
  CHECK(runs("assert(package == nil and load == nil and loadfile == nil)"));
  CHECK(runs("assert(dofile == nil and print == nil and collectgarbage == nil)"));
  CHECK(runs("assert(string.dump == nil and ('x').dump == nil)"));
  CHECK(runs("assert(math.random == nil)"));
  CHECK(fails_with("os.execute('true')", "os"));
  CHECK(fails_with("io.open('/etc/passwd')", "io"));
  CHECK(fails_with("load('return 1')()", "load"));
  CHECK(fails_with("string.dump(function() end)", "dump"));
  CHECK(fails_with("require 'os'", "not found"));
  CHECK(fails_with("require '../../etc/passwd'", "not allowed"));
  CHECK(fails_with("require 'evil'", "binary"));

  /* What stays: the safe libraries and text modules from scripts/. */
  CHECK(runs("assert(require('helper').answer == 42)"));
  CHECK(runs("assert(string.format('%05d', 42) == '00042')"));
  CHECK(runs("assert(utf8.len('\\u{e9}') == 1 and math.floor(2.5) == 2)"));
  CHECK(runs("assert(table.concat({1,2}, ',') == '1,2')"));

  /* Limits. */
  CHECK(fails_with("while true do end", "instruction limit"));
  CHECK(fails_with("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end",
                   "memory"));
  /* A limit only ends the call: the state keeps working. */
  CHECK(runs("local x = 0 for i = 1, 1000 do x = x + i end assert(x == 500500)"));
  CHECK(mv_sandbox_bytes(L) < lim.max_bytes);

  mv_sandbox_close(L);
  snprintf(path, sizeof path, "%s/helper.lua", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/evil.lua", dir);
  unlink(path);
  rmdir(dir);
  TEST_MAIN_END();
}
