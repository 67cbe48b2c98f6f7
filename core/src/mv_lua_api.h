/* mv_lua_api.h - what policy functions see: the `ctx` of function actions
 * and the `ds` and `ctx` of after(ds, ctx).
 *
 * ctx.tag "(gggg,eeee)", ctx.vr, ctx.depth; ctx:get(key) reads an attribute
 * as the walk has left it so far; ctx:pseudonym(value[, prefix]) derives the
 * keyed pseudonym (the key itself never enters Lua); ctx:reject(reason)
 * rejects the object. In after(), ds.Keyword / ds["(gggg,eeee)"] reads,
 * assigning sets, assigning nil removes. */
#ifndef MV_LUA_API_H
#define MV_LUA_API_H

#include <lua.h>
#include <stddef.h>

#include "medveil/plugin.h"
#include "mv_keys.h"
#include "mv_policy.h"

typedef struct mv_lua_api mv_lua_api;

enum {
  MV_LUA_ERROR = -1, /* script error or rejection: see why */
  MV_LUA_SET = 1,    /* set the returned string */
  MV_LUA_REMOVE = 2, /* function returned nil */
  MV_LUA_ACTION = 3  /* function returned an action table */
};

mv_lua_api *mv_lua_api_new(lua_State *L, const mv_key *key);
void mv_lua_api_free(mv_lua_api *api);
/* Bind to the document being processed / unbind. */
void mv_lua_api_begin(mv_lua_api *api, const mv_format_ops *ops, mv_doc *doc);
void mv_lua_api_end(mv_lua_api *api);

/* Call the function action `ref` for attribute a. On MV_LUA_SET the new
 * value is in *val and *len (valid until the next call); on MV_LUA_ACTION the
 * action is in *chosen. */
int mv_lua_api_call_action(mv_lua_api *api, int ref, const mv_attr *a,
                           const mv_format_ops *ops, mv_doc *doc,
                           mv_action *chosen, const char **val, size_t *len,
                           char *why, size_t whylen);
/* Call after(ds, ctx). Returns MV_OK, MV_EREJECT (ctx:reject) or
 * MV_ESCRIPT, with the reason in `reason`. */
int mv_lua_api_call_after(mv_lua_api *api, int ref, char *reason, size_t n);

#endif
