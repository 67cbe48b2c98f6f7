/* mv_lua_api.c - the Lua objects policy functions work with. */
#include "mv_lua_api.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_sandbox.h"

struct mv_lua_api {
  lua_State *L;
  const mv_key *key;
  const mv_format_ops *ops;
  mv_doc *doc;
  int ctx_ref, ds_ref;
  int rejected;
  char reject_reason[256];
  char *value; /* copy of a function's result */
  size_t value_cap;
  char text[1100]; /* parameters of a returned action */
};

static mv_lua_api *api_of(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "mv.api");
  mv_lua_api *api = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!api || !api->doc) luaL_error(L, "no object is being processed");
  return api;
}

static const char *key_arg(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_error(L, "attribute keys are strings (keyword or \"(gggg,eeee)\")");
  return lua_tostring(L, idx);
}

static int push_attr(lua_State *L, mv_lua_api *api, const char *key) {
  const char *v = NULL;
  size_t len = 0;
  int rc = api->ops->get(api->doc, key, &v, &len);
  if (rc == MV_OK && v) lua_pushlstring(L, v, len);
  else lua_pushnil(L);
  return 1;
}

/* ctx:get(key) */
static int ctx_get(lua_State *L) {
  return push_attr(L, api_of(L), key_arg(L, 2));
}

/* ctx:pseudonym(value[, prefix]) */
static int ctx_pseudonym(lua_State *L) {
  mv_lua_api *api = api_of(L);
  size_t len;
  const char *v = luaL_checklstring(L, 2, &len);
  const char *prefix = luaL_optstring(L, 3, "");
  if (strlen(prefix) > 16) return luaL_error(L, "pseudonym prefix too long");
  char out[40];
  mv_derive_pseudonym(api->key, prefix, v, len, out, sizeof out);
  lua_pushstring(L, out);
  return 1;
}

/* ctx:reject(reason) */
static int ctx_reject(lua_State *L) {
  mv_lua_api *api = api_of(L);
  const char *why = luaL_optstring(L, 2, "rejected by site policy");
  api->rejected = 1;
  snprintf(api->reject_reason, sizeof api->reject_reason, "%s", why);
  return 0;
}

static int ds_index(lua_State *L) {
  return push_attr(L, api_of(L), key_arg(L, 2));
}

static int ds_newindex(lua_State *L) {
  mv_lua_api *api = api_of(L);
  const char *key = key_arg(L, 2);
  int rc;
  if (lua_isnil(L, 3)) {
    rc = api->ops->remove(api->doc, key);
    if (rc == MV_ENOTFOUND) rc = MV_OK;
  } else {
    size_t len;
    const char *v = luaL_tolstring(L, 3, &len);
    rc = api->ops->set(api->doc, key, NULL, v, len);
  }
  if (rc != MV_OK)
    return luaL_error(L, "cannot change %s: %s", key, mv_strerror(rc));
  return 0;
}

mv_lua_api *mv_lua_api_new(lua_State *L, const mv_key *key) {
  mv_lua_api *api = calloc(1, sizeof *api);
  if (!api) return NULL;
  api->L = L;
  api->key = key;
  lua_pushlightuserdata(L, api);
  lua_setfield(L, LUA_REGISTRYINDEX, "mv.api");
  /* ctx: a table whose methods find the document through the registry. */
  lua_newtable(L);
  static const luaL_Reg ctx_methods[] = {{"get", ctx_get},
                                         {"pseudonym", ctx_pseudonym},
                                         {"reject", ctx_reject},
                                         {NULL, NULL}};
  luaL_setfuncs(L, ctx_methods, 0);
  api->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  /* ds: an empty proxy whose reads and writes go to the document. */
  lua_newtable(L);
  lua_newtable(L);
  lua_pushcfunction(L, ds_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ds_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "dataset");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  api->ds_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return api;
}

void mv_lua_api_free(mv_lua_api *api) {
  if (!api) return;
  free(api->value);
  free(api);
}

void mv_lua_api_begin(mv_lua_api *api, const mv_format_ops *ops, mv_doc *doc) {
  api->ops = ops;
  api->doc = doc;
  api->rejected = 0;
  api->reject_reason[0] = 0;
}

void mv_lua_api_end(mv_lua_api *api) {
  api->ops = NULL;
  api->doc = NULL;
  /* Keep the heap of a long batch flat. */
  lua_gc(api->L, LUA_GCSTEP, 0);
}

static void error_text(lua_State *L, char *why, size_t n) {
  const char *msg = lua_tostring(L, -1);
  snprintf(why, n, "%s", msg ? msg : "error object is not a string");
  lua_pop(L, 1);
}

static int parse_action(mv_lua_api *api, lua_State *L, int idx,
                        mv_action *act) {
  static const char *const names[] = {"keep",  "remove",  "empty",
                                      "dummy", "uid",     "clean",
                                      "shift", "year",    "age",
                                      "replace", "pseudonym", "hash", NULL};
  memset(act, 0, sizeof *act);
  act->func_ref = LUA_NOREF;
  lua_getfield(L, idx, "action");
  const char *name = lua_tostring(L, -1);
  int kind = -1;
  for (int i = 0; name && names[i]; i++)
    if (strcmp(names[i], name) == 0) kind = i;
  lua_pop(L, 1);
  if (kind < 0) return -1;
  act->kind = (uint8_t)kind;
  act->set = 1;
  if (kind == MV_ACT_REPLACE || kind == MV_ACT_PSEUDONYM) {
    lua_getfield(L, idx, kind == MV_ACT_REPLACE ? "value" : "prefix");
    snprintf(api->text, sizeof api->text, "%s",
             lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 1);
    act->text = api->text;
  } else if (kind == MV_ACT_HASH) {
    lua_getfield(L, idx, "length");
    lua_Integer n = lua_isnil(L, -1) ? 16 : lua_tointeger(L, -1);
    lua_pop(L, 1);
    act->length = (int16_t)(n < 4 ? 4 : n > 64 ? 64 : n);
  }
  return 0;
}

/* One function action, run entirely inside a protected call: the user's
 * function, and reading what it returned (an action table may have
 * metamethods), can raise errors that must not escape as a panic. */
typedef struct action_call {
  mv_lua_api *api;
  int ref;
  const mv_attr *a;
  mv_action *chosen;
  int result;
  size_t len;
} action_call;

static void raw_field(lua_State *L, const char *k) {
  lua_pushstring(L, k);
  lua_insert(L, -2);
  lua_rawset(L, -3); /* no metamethods: a script may have set some on ctx */
}

static int action_trampoline(lua_State *L) {
  action_call *c = lua_touserdata(L, 1);
  mv_lua_api *api = c->api;
  const mv_attr *a = c->a;
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref);
  if (a->value) lua_pushlstring(L, a->value, a->len);
  else lua_pushnil(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, api->ctx_ref);
  char tag[16];
  snprintf(tag, sizeof tag, "(%04X,%04X)", a->tag >> 16, a->tag & 0xFFFF);
  lua_pushstring(L, tag);
  raw_field(L, "tag");
  lua_pushstring(L, a->vr);
  raw_field(L, "vr");
  lua_pushinteger(L, a->depth);
  raw_field(L, "depth");
  lua_call(L, 2, 1);
  if (lua_isnil(L, -1)) {
    c->result = MV_LUA_REMOVE;
  } else if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    size_t n;
    const char *v = lua_tolstring(L, -1, &n);
    if (n + 1 > api->value_cap) {
      char *grown = realloc(api->value, n + 1);
      if (!grown) return luaL_error(L, "out of memory");
      api->value = grown;
      api->value_cap = n + 1;
    }
    memcpy(api->value, v, n + 1);
    c->len = n;
    c->result = MV_LUA_SET;
  } else if (lua_istable(L, -1) && parse_action(api, L, -1, c->chosen) == 0) {
    c->result = MV_LUA_ACTION;
  } else {
    return luaL_error(L, "a function action must return a string, nil or "
                         "an action (got %s)", luaL_typename(L, -1));
  }
  return 0;
}

int mv_lua_api_call_action(mv_lua_api *api, int ref, const mv_attr *a,
                           const mv_format_ops *ops, mv_doc *doc,
                           mv_action *chosen, const char **val, size_t *len,
                           char *why, size_t whylen) {
  lua_State *L = api->L;
  api->ops = ops;
  api->doc = doc;
  int top = lua_gettop(L);
  action_call c = {.api = api, .ref = ref, .a = a, .chosen = chosen,
                   .result = MV_LUA_ERROR};
  lua_pushcfunction(L, action_trampoline);
  lua_pushlightuserdata(L, &c);
  if (mv_sandbox_pcall(L, 1, 0) != LUA_OK) {
    error_text(L, why, whylen);
    lua_settop(L, top);
    return MV_LUA_ERROR;
  }
  lua_settop(L, top);
  if (api->rejected) {
    snprintf(why, whylen, "%s", api->reject_reason);
    return MV_LUA_ERROR;
  }
  if (c.result == MV_LUA_SET) {
    *val = api->value;
    *len = c.len;
  }
  return c.result;
}

int mv_lua_api_call_after(mv_lua_api *api, int ref, char *reason, size_t n) {
  lua_State *L = api->L;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, api->ds_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, api->ctx_ref);
  int rc = mv_sandbox_pcall(L, 2, 0);
  if (rc != LUA_OK) {
    char why[200];
    error_text(L, why, sizeof why);
    snprintf(reason, n, "policy after() failed: %s", why);
    lua_settop(L, top);
    return MV_ESCRIPT;
  }
  lua_settop(L, top);
  if (api->rejected) {
    snprintf(reason, n, "rejected by policy: %s", api->reject_reason);
    return MV_EREJECT;
  }
  return MV_OK;
}
