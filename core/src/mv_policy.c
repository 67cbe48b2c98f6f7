/* mv_policy.c - run a rule file in the sandbox, validate the table it
 * returns and compile it into C lookups. */
#include "mv_policy.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "medveil/errors.h"

const mv_option_info mv_option_table[] = {
    {"retain_safe_private", MV_OPT_RETAIN_SAFE_PRIVATE, "113111",
     "Retain Safe Private Option"},
    {"retain_uids", MV_OPT_RETAIN_UIDS, "113110", "Retain UIDs Option"},
    {"retain_device_identity", MV_OPT_RETAIN_DEVICE_IDENTITY, "113109",
     "Retain Device Identity Option"},
    {"retain_institution_identity", MV_OPT_RETAIN_INSTITUTION_IDENTITY,
     "113112", "Retain Institution Identity Option"},
    {"retain_patient_characteristics", MV_OPT_RETAIN_PATIENT_CHARACTERISTICS,
     "113108", "Retain Patient Characteristics Option"},
    {"retain_long_full_dates", MV_OPT_RETAIN_LONG_FULL_DATES, "113106",
     "Retain Longitudinal Temporal Information Full Dates Option"},
    {"retain_long_modified_dates", MV_OPT_RETAIN_LONG_MODIFIED_DATES,
     "113107", "Retain Longitudinal Temporal Information Modified Dates Option"},
    {"clean_descriptors", MV_OPT_CLEAN_DESCRIPTORS, "113105",
     "Clean Descriptors Option"},
    {"clean_structured_content", MV_OPT_CLEAN_STRUCTURED_CONTENT, "113104",
     "Clean Structured Content Option"},
    {"clean_graphics", MV_OPT_CLEAN_GRAPHICS, "113103", "Clean Graphics Option"},
    {"clean_pixel_data", MV_OPT_CLEAN_PIXEL_DATA, "113101",
     "Clean Pixel Data Option"},
    {"clean_recognizable_visual_features", MV_OPT_CLEAN_VISUAL_FEATURES,
     "113102", "Clean Recognizable Visual Features Option"},
    {NULL, 0, NULL, NULL}};

static const char *const action_names[MV_ACT__COUNT] = {
    "keep",  "remove", "empty", "dummy",   "uid",       "clean", "shift",
    "year",  "age",    "replace", "pseudonym", "hash", "function"};

const char *mv_action_name(int kind) {
  return kind >= 0 && kind < MV_ACT__COUNT ? action_names[kind] : "?";
}

/* The VRs of PS3.5 Table 6.2-1: a `vrs` key must be one of them. */
static const char *const known_vrs[] = {
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT",
    "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST",
    "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV", NULL};
#define VR_SLOTS 40

typedef struct exact_rule {
  uint32_t tag;
  uint32_t used;
  mv_action act;
} exact_rule;

typedef struct pattern_rule {
  uint32_t mask, value; /* tag & mask == value */
  int fixed_bits;       /* more fixed bits = more specific */
  mv_action act;
} pattern_rule;

/* A rule for attributes of other formats, addressed by name:
 * "png:tEXt:Comment" (exact) or "png:tEXt:*" (prefix, `prefix` = 1). */
typedef struct named_rule {
  char *key; /* without the trailing '*' of a prefix */
  size_t len;
  int prefix;
  mv_action act;
} named_rule;

typedef struct private_rule {
  uint16_t group;
  int16_t elem_low; /* -1: the whole block */
  char *creator;
  mv_action act;
} private_rule;

struct mv_policy {
  lua_State *L;
  char *source; /* path of the rule file */
  char *text;   /* its contents, for locating lines in messages */
  char *name, *description;
  unsigned options;
  exact_rule *exact; /* open addressing, capacity a power of two */
  size_t exact_cap, exact_n;
  pattern_rule *patterns;
  size_t npatterns;
  private_rule *privates;
  size_t nprivates;
  mv_action vrs[VR_SLOTS];
  size_t nvrs;
  named_rule *named;
  size_t nnamed;
  mv_action private_default, default_act;
  long min_days, max_days;
  uint32_t per_tag;
  int age_cap;
  mv_pixels_when pixels_when;
  char (*modalities)[17];
  size_t nmodalities;
  mv_pixel_settings pixels;
  int after_ref;
  int uses_lua; /* function actions or after(): the state is needed later */
  /* Owned strings of actions (replace values, prefixes). */
  char **strings;
  size_t nstrings, strings_cap;
};

/* ---------------------------------------------------------------------- */
/* Errors with file:line.                                                  */

typedef struct compiler {
  mv_policy *p;
  const mv_policy_env *env;
  char *err;
  size_t errlen;
} compiler;

/* Lua tables keep no line numbers for their keys, so a bad key is located
 * by finding its text in the rule file (first occurrence as a word). */
static int find_line(const char *text, const char *needle) {
  if (!text || !needle || !*needle) return 0;
  size_t n = strlen(needle);
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
    int before_ok = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
    int after_ok = !(isalnum((unsigned char)p[n]) || p[n] == '_');
    if (before_ok && after_ok) {
      int line = 1;
      for (const char *q = text; q < p; q++)
        if (*q == '\n') line++;
      return line;
    }
  }
  return 0;
}

static int fail(compiler *c, const char *needle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(compiler *c, const char *needle, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int line = find_line(c->p->text, needle);
  if (line > 0)
    snprintf(c->err, c->errlen, "%s:%d: %s", c->p->source, line, msg);
  else
    snprintf(c->err, c->errlen, "%s: %s", c->p->source, msg);
  return MV_ESCRIPT;
}

static const char *keep_string(mv_policy *p, const char *s) {
  if (p->nstrings == p->strings_cap) {
    size_t cap = p->strings_cap ? p->strings_cap * 2 : 16;
    char **grown = realloc(p->strings, cap * sizeof *grown);
    if (!grown) return NULL;
    p->strings = grown;
    p->strings_cap = cap;
  }
  char *copy = strdup(s);
  if (copy) p->strings[p->nstrings++] = copy;
  return copy;
}

/* ---------------------------------------------------------------------- */
/* Actions.                                                                */

/* Compile the Lua value at stack index idx into *act. `what` names the
 * rule for messages ("tags.PatientName"), `needle` is what to look for in
 * the file to find its line. */
static int compile_action(compiler *c, int idx, mv_action *act,
                          const char *what, const char *needle) {
  lua_State *L = c->p->L;
  idx = lua_absindex(L, idx);
  memset(act, 0, sizeof *act);
  act->set = 1;
  act->func_ref = LUA_NOREF;
  if (lua_isfunction(L, idx)) {
    c->p->uses_lua = 1;
    act->kind = MV_ACT_FUNC;
    lua_pushvalue(L, idx);
    act->func_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return MV_OK;
  }
  if (!lua_istable(L, idx))
    return fail(c, needle, "%s: expected an action (mv.keep, mv.remove, ...) "
                           "or a function, got a %s",
                what, luaL_typename(L, idx));
  lua_getfield(L, idx, "action");
  const char *name = lua_tostring(L, -1);
  int kind = -1;
  for (int k = 0; name && k < MV_ACT__COUNT; k++)
    if (k != MV_ACT_FUNC && strcmp(name, action_names[k]) == 0) kind = k;
  if (kind < 0) {
    char shown[64];
    snprintf(shown, sizeof shown, "%s", name ? name : "(none)");
    lua_pop(L, 1);
    return fail(c, needle, "%s: unknown action '%s'", what, shown);
  }
  lua_pop(L, 1);
  act->kind = (uint8_t)kind;
  if (kind == MV_ACT_REPLACE || kind == MV_ACT_PSEUDONYM) {
    const char *field = kind == MV_ACT_REPLACE ? "value" : "prefix";
    lua_getfield(L, idx, field);
    const char *s = lua_tostring(L, -1);
    if (!s && kind == MV_ACT_REPLACE) {
      lua_pop(L, 1);
      return fail(c, needle, "%s: replace needs a value", what);
    }
    if (s && strlen(s) > (kind == MV_ACT_PSEUDONYM ? 16u : 1024u)) {
      lua_pop(L, 1);
      return fail(c, needle, "%s: %s is too long", what, field);
    }
    act->text = keep_string(c->p, s ? s : "");
    lua_pop(L, 1);
    if (!act->text) return MV_ENOMEM;
  } else if (kind == MV_ACT_HASH) {
    lua_getfield(L, idx, "length");
    lua_Integer n = lua_isnil(L, -1) ? 16 : lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n < 4 || n > 64)
      return fail(c, needle, "%s: hash length must be 4..64", what);
    act->length = (int16_t)n;
  }
  return MV_OK;
}

/* ---------------------------------------------------------------------- */
/* Keys.                                                                   */

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  ch = tolower(ch);
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  return -1;
}

/* Parse "(gggg,eeee)" where digits may be 'x' (any). Returns the number of
 * characters consumed, or 0. */
static size_t parse_tag_pattern(const char *s, uint32_t *mask, uint32_t *value,
                                int *fixed) {
  if (s[0] != '(') return 0;
  const char *p = s + 1;
  *mask = *value = 0;
  *fixed = 0;
  for (int i = 0; i < 8; i++) {
    if (i == 4) {
      if (*p != ',') return 0;
      p++;
    }
    int ch = (unsigned char)*p++;
    uint32_t shift = (uint32_t)(28 - 4 * i);
    if (ch == 'x' || ch == 'X') continue;
    int v = hexval(ch);
    if (v < 0) return 0;
    *mask |= 0xFu << shift;
    *value |= (uint32_t)v << shift;
    (*fixed)++;
  }
  if (*p != ')') return 0;
  return (size_t)(p + 1 - s);
}

static int exact_put(mv_policy *p, uint32_t tag, const mv_action *act) {
  if ((p->exact_n + 1) * 2 > p->exact_cap) {
    size_t cap = p->exact_cap ? p->exact_cap * 2 : 256;
    exact_rule *grown = calloc(cap, sizeof *grown);
    if (!grown) return MV_ENOMEM;
    for (size_t i = 0; i < p->exact_cap; i++) {
      if (!p->exact[i].used) continue;
      size_t j = (p->exact[i].tag * 2654435761u) & (cap - 1);
      while (grown[j].used) j = (j + 1) & (cap - 1);
      grown[j] = p->exact[i];
    }
    free(p->exact);
    p->exact = grown;
    p->exact_cap = cap;
  }
  size_t j = (tag * 2654435761u) & (p->exact_cap - 1);
  while (p->exact[j].used && p->exact[j].tag != tag)
    j = (j + 1) & (p->exact_cap - 1);
  if (!p->exact[j].used) p->exact_n++;
  p->exact[j] = (exact_rule){.tag = tag, .used = 1, .act = *act};
  return MV_OK;
}

static const mv_action *exact_get(const mv_policy *p, uint32_t tag) {
  if (!p->exact_cap) return NULL;
  size_t j = (tag * 2654435761u) & (p->exact_cap - 1);
  while (p->exact[j].used) {
    if (p->exact[j].tag == tag) return &p->exact[j].act;
    j = (j + 1) & (p->exact_cap - 1);
  }
  return NULL;
}

static int resolve_keyword(compiler *c, const char *key, uint32_t *tag) {
  const mv_registry *r = c->env->registry;
  for (size_t i = 0; r && i < mv_registry_count(r); i++) {
    const mv_loaded *l = mv_registry_at(r, i);
    if (!(l->desc->kinds & MV_KIND_FORMAT)) continue;
    char vr[4];
    if (l->desc->format->resolve(l->state, key, tag, vr) == MV_OK) return 1;
  }
  return 0;
}

static int compile_tag_rule(compiler *c, const char *key, int vidx) {
  mv_policy *p = c->p;
  char what[300];
  snprintf(what, sizeof what, "tags[\"%s\"]", key);
  mv_action act;
  uint32_t mask, value;
  int fixed;
  size_t used = parse_tag_pattern(key, &mask, &value, &fixed);
  if (used) {
    const char *rest = key + used;
    while (*rest == ' ') rest++;
    int rc = compile_action(c, vidx, &act, what, key);
    if (rc) return rc;
    if (*rest) { /* private by creator: (gggg,xxee) CREATOR */
      uint16_t group = (uint16_t)(value >> 16);
      if ((mask >> 16) != 0xFFFF || !(group & 1))
        return fail(c, key, "%s: a creator can only follow an odd (private) "
                            "group number", what);
      uint32_t low_mask = mask & 0xFF, high_mask = mask & 0xFF00;
      if (high_mask)
        return fail(c, key, "%s: write private elements as (gggg,xxee) "
                            "CREATOR, the block byte is found from the creator",
                    what);
      private_rule *grown =
          realloc(p->privates, (p->nprivates + 1) * sizeof *grown);
      if (!grown) return MV_ENOMEM;
      p->privates = grown;
      private_rule *pr = &p->privates[p->nprivates];
      pr->group = group;
      pr->elem_low = low_mask == 0xFF ? (int16_t)(value & 0xFF) : -1;
      if (low_mask != 0xFF && low_mask != 0)
        return fail(c, key, "%s: the element byte must be two hex digits or xx",
                    what);
      pr->creator = strdup(rest);
      if (!pr->creator) return MV_ENOMEM;
      pr->act = act;
      p->nprivates++;
      return MV_OK;
    }
    if (fixed == 8) return exact_put(p, value, &act);
    pattern_rule *grown =
        realloc(p->patterns, (p->npatterns + 1) * sizeof *grown);
    if (!grown) return MV_ENOMEM;
    p->patterns = grown;
    p->patterns[p->npatterns++] =
        (pattern_rule){.mask = mask, .value = value, .fixed_bits = fixed,
                       .act = act};
    return MV_OK;
  }
  uint32_t tag;
  if (!resolve_keyword(c, key, &tag))
    return fail(c, key,
                "unknown attribute '%s' in tags (not a DICOM keyword, "
                "\"(gggg,eeee)\" tag, pattern or private \"(gggg,xxee) "
                "CREATOR\")",
                key);
  int rc = compile_action(c, vidx, &act, what, key);
  if (rc) return rc;
  return exact_put(p, tag, &act);
}

/* More fixed digits first; ties in a fixed (numeric) order so a policy
 * always compiles to the same lookup, whatever order Lua iterates in. */
static int pattern_cmp(const void *a, const void *b) {
  const pattern_rule *x = a, *y = b;
  if (x->fixed_bits != y->fixed_bits) return y->fixed_bits - x->fixed_bits;
  if (x->mask != y->mask) return x->mask < y->mask ? -1 : 1;
  return x->value < y->value ? -1 : x->value > y->value;
}

static int vr_slot(const char *vr) {
  for (int i = 0; known_vrs[i]; i++)
    if (strcmp(known_vrs[i], vr) == 0) return i;
  return -1;
}

/* ---------------------------------------------------------------------- */
/* Sections of the policy table.                                           */

static int compile_tags(compiler *c, int t) {
  lua_State *L = c->p->L;
  lua_getfield(L, t, "tags");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return MV_OK;
  }
  if (!lua_istable(L, -1)) return fail(c, "tags", "tags must be a table");
  int tags = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, tags)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      return fail(c, "tags", "tags: keys must be strings (keywords or tags)");
    const char *key = lua_tostring(L, -2);
    int rc = compile_tag_rule(c, key, -1);
    if (rc) return rc;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  /* qsort with a NULL base is undefined even for zero elements. */
  if (c->p->npatterns)
    qsort(c->p->patterns, c->p->npatterns, sizeof *c->p->patterns,
          pattern_cmp);
  return MV_OK;
}

static int compile_vrs(compiler *c, int t) {
  lua_State *L = c->p->L;
  lua_getfield(L, t, "vrs");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return MV_OK;
  }
  if (!lua_istable(L, -1)) return fail(c, "vrs", "vrs must be a table");
  int vrs = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, vrs)) {
    const char *vr = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    int slot = vr_slot(vr);
    if (slot < 0) return fail(c, vr, "vrs: unknown VR '%s'", vr);
    char what[32];
    snprintf(what, sizeof what, "vrs.%s", vr);
    int rc = compile_action(c, -1, &c->p->vrs[slot], what, vr);
    if (rc) return rc;
    c->p->nvrs++;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return MV_OK;
}

/* Named keys: "<format>:<rest>", the format in lower case, `*` only as
 * the last character (a prefix). */
static int named_key_ok(const char *k, size_t len) {
  if (len < 3 || len > 128) return 0;
  size_t i = 0;
  while (i < len && ((k[i] >= 'a' && k[i] <= 'z') ||
                     (i > 0 && ((k[i] >= '0' && k[i] <= '9') || k[i] == '_'))))
    i++;
  if (i == 0 || i >= len - 1 || k[i] != ':') return 0;
  for (size_t j = 0; j < len; j++) {
    unsigned char ch = (unsigned char)k[j];
    if (ch < 0x20 || ch == 0x7F) return 0;
    if (ch == '*' && j != len - 1) return 0;
  }
  return 1;
}

/* Actions that mean something for a named value: text takes all of them,
 * binary values only keep and remove (the engine removes binary values on
 * any other action). Functions are not offered: their results could ask
 * for DICOM-only actions. */
static int named_action_ok(int kind) {
  return kind == MV_ACT_KEEP || kind == MV_ACT_REMOVE ||
         kind == MV_ACT_EMPTY || kind == MV_ACT_REPLACE ||
         kind == MV_ACT_CLEAN || kind == MV_ACT_PSEUDONYM ||
         kind == MV_ACT_HASH;
}

static int compile_named(compiler *c, int t) {
  mv_policy *p = c->p;
  lua_State *L = p->L;
  lua_getfield(L, t, "named");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return MV_OK;
  }
  if (!lua_istable(L, -1)) return fail(c, "named", "named must be a table");
  int nt = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, nt)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      return fail(c, "named", "named: keys must be strings like "
                              "\"png:tEXt:Comment\"");
    size_t len;
    const char *key = lua_tolstring(L, -2, &len);
    if (strlen(key) != len || !named_key_ok(key, len))
      return fail(c, key, "named: '%.128s' is not a key like "
                          "\"png:tEXt:Comment\" or \"png:tEXt:*\" "
                          "(<format>:..., '*' only at the end)", key);
    char what[160];
    snprintf(what, sizeof what, "named[\"%.128s\"]", key);
    named_rule r = {0};
    int rc = compile_action(c, -1, &r.act, what, key);
    if (rc) return rc;
    if (!named_action_ok(r.act.kind)) {
      if (r.act.func_ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, r.act.func_ref);
      return fail(c, key, "%s: %s does not apply to named attributes (keep, "
                          "remove, empty, replace, clean, pseudonym, hash)",
                  what, mv_action_name(r.act.kind));
    }
    r.prefix = key[len - 1] == '*';
    r.len = len - (size_t)r.prefix;
    r.key = strndup(key, r.len);
    if (!r.key) return MV_ENOMEM;
    named_rule *grown = realloc(p->named, (p->nnamed + 1) * sizeof *grown);
    if (!grown) {
      free(r.key);
      return MV_ENOMEM;
    }
    p->named = grown;
    p->named[p->nnamed++] = r;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return MV_OK;
}

static int compile_options(compiler *c, int t) {
  lua_State *L = c->p->L;
  lua_getfield(L, t, "options");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return MV_OK;
  }
  if (!lua_istable(L, -1)) return fail(c, "options", "options must be a table");
  int o = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, o)) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    const mv_option_info *info = NULL;
    for (const mv_option_info *i = mv_option_table; i->name; i++)
      if (strcmp(i->name, name) == 0) info = i;
    if (!info) return fail(c, name, "unknown option '%s'", name);
    if (lua_toboolean(L, -1)) c->p->options |= info->bit;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return MV_OK;
}

static int compile_dates(compiler *c, int t) {
  mv_policy *p = c->p;
  lua_State *L = p->L;
  p->min_days = -3650;
  p->max_days = -365;
  p->per_tag = 0x00100020; /* PatientID */
  lua_getfield(L, t, "dates");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return MV_OK;
  }
  if (!lua_istable(L, -1)) return fail(c, "dates", "dates must be a table");
  int d = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, d)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (strcmp(k, "min_days") == 0 || strcmp(k, "max_days") == 0) {
      if (!lua_isinteger(L, -1))
        return fail(c, k, "dates.%s must be an integer", k);
      lua_Integer v = lua_tointeger(L, -1);
      if (v < -36500 || v > 36500)
        return fail(c, k, "dates.%s must be within +-36500 days", k);
      if (k[1] == 'i') p->min_days = (long)v;
      else p->max_days = (long)v;
    } else if (strcmp(k, "per") == 0) {
      const char *who = lua_tostring(L, -1);
      uint32_t tag = 0;
      if (!who || !resolve_keyword(c, who, &tag))
        return fail(c, "per", "dates.per must name an attribute (e.g. "
                              "\"PatientID\")");
      p->per_tag = tag;
    } else if (strcmp(k, "action") != 0) {
      return fail(c, k, "dates: unknown field '%s' (min_days, max_days, per)", k);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (p->min_days > p->max_days)
    return fail(c, "dates", "dates.min_days is above dates.max_days");
  /* An offset of 0 would release some patients' real dates. */
  if (p->min_days <= 0 && p->max_days >= 0)
    return fail(c, "dates", "dates: the range %ld..%ld includes 0 (some "
                            "patients would keep their real dates)",
                p->min_days, p->max_days);
  return MV_OK;
}

static int compile_pixels(compiler *c, int t) {
  mv_policy *p = c->p;
  lua_State *L = p->L;
  lua_getfield(L, t, "pixels");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return MV_OK;
  }
  if (!lua_istable(L, -1)) return fail(c, "pixels", "pixels must be a table");
  int px = lua_gettop(L);
  /* The detector list first: `options` refers to it by name. */
  lua_getfield(L, px, "detect");
  if (!lua_isnil(L, -1)) {
    char why[256];
    if (mv_pixpolicy_field(L, "detect", &p->pixels, why, sizeof why) != 0)
      return fail(c, "detect", "%s", why);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, px)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (strcmp(k, "when") == 0) {
      const char *w = lua_tostring(L, -1);
      if (w && strcmp(w, "never") == 0) p->pixels_when = MV_PIXELS_NEVER;
      else if (w && strcmp(w, "burned_in") == 0) p->pixels_when = MV_PIXELS_BURNED_IN;
      else if (w && strcmp(w, "always") == 0) p->pixels_when = MV_PIXELS_ALWAYS;
      else return fail(c, "when", "pixels.when must be \"never\", "
                                  "\"burned_in\" or \"always\"");
    } else if (strcmp(k, "modalities") == 0) {
      if (!lua_istable(L, -1))
        return fail(c, "modalities", "pixels.modalities must be a list");
      size_t n = lua_rawlen(L, -1);
      p->modalities = calloc(n ? n : 1, sizeof *p->modalities);
      if (!p->modalities) return MV_ENOMEM;
      for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        const char *m = lua_tostring(L, -1);
        if (!m || strlen(m) > 16)
          return fail(c, "modalities", "pixels.modalities: item %zu is not a "
                                       "modality code", i);
        snprintf(p->modalities[p->nmodalities++], 17, "%s", m);
        lua_pop(L, 1);
      }
    } else if (strcmp(k, "detect") != 0) { /* detect: read first, below */
      char why[256];
      int r = mv_pixpolicy_field(L, k, &p->pixels, why, sizeof why);
      if (r > 0) return fail(c, k, "pixels: unknown field '%s'", k);
      if (r < 0) return fail(c, k, "%s", why);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return MV_OK;
}

static int get_string_field(compiler *c, int t, const char *field,
                            char **dst, size_t maxlen) {
  lua_State *L = c->p->L;
  lua_getfield(L, t, field);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING)
      return fail(c, field, "%s must be a string", field);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len > maxlen) return fail(c, field, "%s is longer than %zu characters",
                                  field, maxlen);
    *dst = strdup(s);
    if (!*dst) return MV_ENOMEM;
  }
  lua_pop(L, 1);
  return MV_OK;
}

static const char *const top_keys[] = {
    "name", "description", "options", "tags", "vrs", "private", "default",
    "dates", "age_cap", "pixels", "after", "named", NULL};

static int compile_table(compiler *c, int t) {
  mv_policy *p = c->p;
  lua_State *L = p->L;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int known = 0;
    for (int i = 0; k && top_keys[i]; i++)
      if (strcmp(k, top_keys[i]) == 0) known = 1;
    /* Fields starting with '_' belong to the Lua library. */
    if (!known && !(k && k[0] == '_'))
      return fail(c, k ? k : "", "unknown policy field '%s' (expected one of "
                                 "name, description, options, tags, vrs, "
                                 "private, default, dates, age_cap, pixels, "
                                 "after, named)",
                  k ? k : "?");
    lua_pop(L, 1);
  }
  int rc;
  if ((rc = get_string_field(c, t, "name", &p->name, 64))) return rc;
  if ((rc = get_string_field(c, t, "description", &p->description, 64)))
    return rc;
  if ((rc = compile_options(c, t))) return rc;
  if ((rc = compile_tags(c, t))) return rc;
  if ((rc = compile_vrs(c, t))) return rc;
  if ((rc = compile_named(c, t))) return rc;
  if ((rc = compile_dates(c, t))) return rc;
  if ((rc = compile_pixels(c, t))) return rc;
  p->private_default = (mv_action){.kind = MV_ACT_REMOVE, .set = 1,
                                   .func_ref = LUA_NOREF};
  p->default_act = (mv_action){.kind = MV_ACT_KEEP, .set = 1,
                               .func_ref = LUA_NOREF};
  lua_getfield(L, t, "private");
  if (!lua_isnil(L, -1) &&
      (rc = compile_action(c, -1, &p->private_default, "private", "private")))
    return rc;
  lua_pop(L, 1);
  lua_getfield(L, t, "default");
  if (!lua_isnil(L, -1) &&
      (rc = compile_action(c, -1, &p->default_act, "default", "default")))
    return rc;
  lua_pop(L, 1);
  lua_getfield(L, t, "age_cap");
  if (!lua_isnil(L, -1)) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
        lua_tointeger(L, -1) > 150)
      return fail(c, "age_cap", "age_cap must be an integer number of years");
    p->age_cap = (int)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "after");
  if (lua_isfunction(L, -1)) {
    p->uses_lua = 1;
    p->after_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    if (!lua_isnil(L, -1)) return fail(c, "after", "after must be a function");
    lua_pop(L, 1);
  }
  if (!p->name) p->name = strdup("site");
  if (!p->description) {
    char d[65];
    snprintf(d, sizeof d, "medveil %s", p->name);
    p->description = strdup(d);
  }
  if (!p->name || !p->description) return MV_ENOMEM;
  return MV_OK;
}

/* The table is read from C, but reading it can run Lua (metamethods of
 * the policy's tables and action values), so the whole compile runs as a
 * protected call: any error becomes a message, never a panic. */
static int compile_protected(lua_State *L) {
  compiler *c = lua_touserdata(L, 2);
  lua_pushinteger(L, compile_table(c, 1));
  return 1;
}

/* ---------------------------------------------------------------------- */
/* Loading.                                                                */

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size > (16 << 20)) {
    fclose(f);
    return NULL;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  if (buf) {
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    buf[n] = 0;
  }
  fclose(f);
  return buf;
}

static int is_profile_name(const char *spec) {
  if (!*spec) return 0;
  for (const char *s = spec; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-')) return 0;
  return 1;
}

int mv_policy_load(const mv_policy_env *env, const char *spec,
                   mv_policy **out, char *err, size_t errlen) {
  *out = NULL;
  mv_policy *p = calloc(1, sizeof *p);
  if (!p) return MV_ENOMEM;
  p->after_ref = LUA_NOREF;
  mv_pixpolicy_defaults(&p->pixels);
  char path[4400];
  struct stat st;
  if (stat(spec, &st) != 0 && is_profile_name(spec))
    snprintf(path, sizeof path, "%s/%s.lua", env->rules_dir, spec);
  else
    snprintf(path, sizeof path, "%s", spec);
  p->source = strdup(path);
  p->text = read_text(path);
  if (!p->source || !p->text) {
    if (is_profile_name(spec) && stat(spec, &st) != 0)
      snprintf(err, errlen, "%s: no such rule file or bundled profile "
                            "(bundled: basic, research, hipaa)", spec);
    else
      snprintf(err, errlen, "%s: cannot read rule file", spec);
    mv_policy_free(p);
    return MV_ESCRIPT;
  }
  p->L = mv_sandbox_new(env->scripts_dir, env->rules_dir, &env->limits);
  if (!p->L) {
    mv_policy_free(p);
    return MV_ENOMEM;
  }
  if (mv_sandbox_dofile(p->L, path) != LUA_OK) {
    /* Lua's message already starts with "file:line:". */
    snprintf(err, errlen, "%s", lua_tostring(p->L, -1));
    mv_policy_free(p);
    return MV_ESCRIPT;
  }
  if (!lua_istable(p->L, -1)) {
    snprintf(err, errlen, "%s: a rule file must return a policy table "
                          "(e.g. return mv.profile \"basic\" { ... })", path);
    mv_policy_free(p);
    return MV_ESCRIPT;
  }
  compiler c = {.p = p, .env = env, .err = err, .errlen = errlen};
  err[0] = 0;
  int rc = MV_ESCRIPT;
  lua_pushcfunction(p->L, compile_protected);
  lua_insert(p->L, -2);
  lua_pushlightuserdata(p->L, &c);
  if (mv_sandbox_pcall(p->L, 2, 1) == LUA_OK) {
    rc = (int)lua_tointeger(p->L, -1);
  } else if (!err[0]) {
    /* An error raised while reading the table (a metamethod, a limit). */
    snprintf(err, errlen, "%s: %s", path,
             lua_tostring(p->L, -1) ? lua_tostring(p->L, -1) : "error");
  }
  if (rc != MV_OK) {
    if (rc == MV_ENOMEM) snprintf(err, errlen, "%s: out of memory", path);
    mv_policy_free(p);
    return rc;
  }
  lua_settop(p->L, 0);
  /* Each object starts from a collected heap: the policy's own garbage
   * would otherwise count against every object's memory limit. */
  lua_gc(p->L, LUA_GCCOLLECT);
  *out = p;
  return MV_OK;
}

void mv_policy_free(mv_policy *p) {
  if (!p) return;
  mv_sandbox_close(p->L);
  for (size_t i = 0; i < p->nprivates; i++) free(p->privates[i].creator);
  for (size_t i = 0; i < p->nnamed; i++) free(p->named[i].key);
  free(p->named);
  for (size_t i = 0; i < p->nstrings; i++) free(p->strings[i]);
  free(p->strings);
  free(p->privates);
  free(p->patterns);
  free(p->exact);
  free(p->modalities);
  mv_pixpolicy_free(&p->pixels);
  free(p->name);
  free(p->description);
  free(p->source);
  free(p->text);
  free(p);
}

/* ---------------------------------------------------------------------- */
/* Lookups (hot path).                                                     */

static int creator_eq(const char *rule, const char *value) {
  /* Creators are LO values: compare without trailing padding. */
  size_t a = strlen(rule), b = strlen(value);
  while (b > 0 && value[b - 1] == ' ') b--;
  return a == b && memcmp(rule, value, a) == 0;
}

/* What no named rule covers goes: a format's metadata is removed unless a
 * rule keeps it (never by `default`, which keeps DICOM's unlisted
 * attributes, nor by `private`). */
static const mv_action named_default = {.kind = MV_ACT_REMOVE, .set = 1,
                                        .func_ref = LUA_NOREF};

const mv_action *mv_policy_lookup_named(const mv_policy *p,
                                        const char *name) {
  if (!name) return &named_default;
  size_t n = strlen(name);
  const named_rule *best = NULL;
  for (size_t i = 0; i < p->nnamed; i++) {
    const named_rule *r = &p->named[i];
    if (!r->prefix) {
      if (r->len == n && memcmp(r->key, name, n) == 0) return &r->act;
    } else if (r->len <= n && memcmp(r->key, name, r->len) == 0 &&
               (!best || r->len > best->len)) {
      best = r;
    }
  }
  return best ? &best->act : &named_default;
}

const mv_action *mv_policy_lookup(const mv_policy *p, uint32_t tag,
                                  const char *creator, const char *vr) {
  /* Attributes of other formats have names, not tags: without the name,
   * they are removed (mv_policy_lookup_named knows the rules). */
  if (tag == 0) return &named_default;
  uint16_t group = (uint16_t)(tag >> 16), elem = (uint16_t)tag;
  int is_private = (group & 1) && elem >= 0x1000;
  if (is_private && creator) {
    const mv_action *block = NULL;
    for (size_t i = 0; i < p->nprivates; i++) {
      const private_rule *r = &p->privates[i];
      if (r->group != group || !creator_eq(r->creator, creator)) continue;
      if (r->elem_low == (elem & 0xFF)) return &r->act;
      if (r->elem_low < 0) block = &r->act;
    }
    if (block) return block;
  }
  /* Private element numbers depend on the block the creator got: an exact
   * (gggg,10ee) rule would hit whatever creator sits there, so private
   * data elements match only by creator, patterns or the private default. */
  const mv_action *a = is_private && creator ? NULL : exact_get(p, tag);
  if (a) return a;
  for (size_t i = 0; i < p->npatterns; i++)
    if ((tag & p->patterns[i].mask) == p->patterns[i].value)
      return &p->patterns[i].act;
  if (is_private) return &p->private_default;
  if (vr && vr[0]) {
    int slot = vr_slot(vr);
    if (slot >= 0 && p->vrs[slot].set) return &p->vrs[slot];
  }
  return &p->default_act;
}

int mv_policy_keeps_creator(const mv_policy *p, uint16_t group,
                            const char *creator) {
  if (p->private_default.kind != MV_ACT_REMOVE) return 1;
  for (size_t i = 0; i < p->nprivates; i++) {
    const private_rule *r = &p->privates[i];
    if (r->group == group && r->act.kind != MV_ACT_REMOVE &&
        creator_eq(r->creator, creator))
      return 1;
  }
  return 0;
}

lua_State *mv_policy_lua(const mv_policy *p) { return p->L; }
const char *mv_policy_name(const mv_policy *p) { return p->name; }
const char *mv_policy_description(const mv_policy *p) { return p->description; }
unsigned mv_policy_options(const mv_policy *p) { return p->options; }
void mv_policy_date_range(const mv_policy *p, long *min_days, long *max_days) {
  *min_days = p->min_days;
  *max_days = p->max_days;
}
uint32_t mv_policy_date_per_tag(const mv_policy *p) { return p->per_tag; }
int mv_policy_age_cap(const mv_policy *p) { return p->age_cap; }
const mv_pixel_settings *mv_policy_pixel_settings(const mv_policy *p) {
  return &p->pixels;
}

mv_pixels_when mv_policy_pixels_when(const mv_policy *p) {
  return p->pixels_when;
}
int mv_policy_pixel_modality(const mv_policy *p, const char *modality) {
  for (size_t i = 0; i < p->nmodalities; i++)
    if (strcmp(p->modalities[i], modality) == 0) return 1;
  return 0;
}
int mv_policy_after_ref(const mv_policy *p) { return p->after_ref; }
int mv_policy_uses_lua(const mv_policy *p) { return p->uses_lua; }
const char *mv_policy_source(const mv_policy *p) { return p->source; }
size_t mv_policy_rule_count(const mv_policy *p) {
  return p->exact_n + p->npatterns + p->nprivates + p->nvrs + p->nnamed;
}
