/* regions_load.c - reading a region data file (Lua table constructors).
 *
 * The file is data, so it is read as data: a fresh Lua state with only the
 * base library (minus everything that loads code or touches files), the
 * chunk compiled in text mode with an EMPTY environment, a cap on memory
 * and on VM instructions. The returned table is converted into C structs
 * with raw accesses only (no metamethods, no allocation inside Lua, so no
 * Lua error can longjmp over our mallocs) and the state is closed. Nothing
 * of the file runs again during detection. */
#include "regions_internal.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void rx_set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ---- the sandboxed Lua state ------------------------------------------- */

typedef struct lim_alloc {
  size_t used, limit;
  int refused;
} lim_alloc;

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  lim_alloc *a = ud;
  if (!ptr) osize = 0;
  if (nsize == 0) {
    free(ptr);
    a->used -= osize;
    return NULL;
  }
  if (nsize > osize && a->used - osize + nsize > a->limit) {
    a->refused = 1;
    return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (p) a->used = a->used - osize + nsize;
  return p;
}

static void instruction_limit(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "instruction limit exceeded");
}

/* Protected: open the base library and drop what loads code or does I/O. */
static int open_base(lua_State *L) {
  luaL_requiref(L, "_G", luaopen_base, 1);
  static const char *const drop[] = {"dofile", "loadfile", "load", "require",
                                     "print", "collectgarbage", NULL};
  for (int i = 0; drop[i]; i++) {
    lua_pushnil(L);
    lua_setfield(L, -2, drop[i]);
  }
  return 0;
}

/* ---- conversion helpers (raw, allocation-free on the Lua side) --------- */

typedef struct conv {
  lua_State *L;
  char *err;
  size_t errlen;
} conv;

static int fail(conv *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int fail(conv *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
  return MV_EFORMAT;
}

/* The table at `idx` is a list 1..n with nothing else: *n = its length. */
static int list_len(conv *c, int idx, const char *what, size_t *n) {
  lua_State *L = c->L;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) return fail(c, "%s must be a table", what);
  size_t len = (size_t)lua_rawlen(L, idx), keys = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    keys++;
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
        (size_t)lua_tointeger(L, -1) > len) {
      lua_pop(L, 1);
      return fail(c, "%s must be a list {a, b, ...}", what);
    }
  }
  if (keys != len) return fail(c, "%s must be a list without holes", what);
  *n = len;
  return MV_OK;
}

/* A string value at the top of the stack (not converted from a number). */
static int get_string(conv *c, const char *what, const char **s, size_t *n) {
  if (lua_type(c->L, -1) != LUA_TSTRING) return fail(c, "%s must be a string", what);
  *s = lua_tolstring(c->L, -1, n);
  if (*n > RX_MAX_STRING) return fail(c, "%s is longer than %d bytes", what, RX_MAX_STRING);
  if (memchr(*s, '\0', *n)) return fail(c, "%s contains a NUL byte", what);
  return MV_OK;
}

static int get_int(conv *c, const char *what, long long lo, long long hi,
                   int32_t *out) {
  lua_State *L = c->L;
  lua_Integer v;
  if (lua_isinteger(L, -1)) {
    v = lua_tointeger(L, -1);
  } else if (lua_type(L, -1) == LUA_TNUMBER) {
    lua_Number d = lua_tonumber(L, -1);
    if (d != floor(d) || d < (double)lo || d > (double)hi)
      return fail(c, "%s must be an integer in %lld..%lld", what, lo, hi);
    v = (lua_Integer)d;
  } else {
    return fail(c, "%s must be a number", what);
  }
  if (v < lo || v > hi) return fail(c, "%s must be in %lld..%lld", what, lo, hi);
  *out = (int32_t)v;
  return MV_OK;
}

/* Keys of data tables are plain words; anything else is a mistake. */
static int get_key(conv *c, const char **k) {
  if (lua_type(c->L, -2) != LUA_TSTRING) return fail(c, "unexpected non-name key");
  *k = lua_tostring(c->L, -2);
  return MV_OK;
}

/* ---- expressions ------------------------------------------------------- */

static const struct {
  const char *name;
  int test;
} kTests[] = {
    {"equals", RX_T_EQUALS},         {"contains", RX_T_CONTAINS},
    {"startswith", RX_T_STARTSWITH}, {"endswith", RX_T_ENDSWITH},
    {"matches", RX_T_MATCHES},       {"lt", RX_T_LT},
    {"gt", RX_T_GT},                 {"present", RX_T_PRESENT},
    {"missing", RX_T_MISSING},       {"empty", RX_T_EMPTY},
};

static int valid_attr_key(const char *k, size_t n) {
  if (n == 0 || n > 128) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = k[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
          (ch >= '0' && ch <= '9') || strchr("(),.[]", ch)))
      return 0;
  }
  return 1;
}

/* The test table {equals = "US", nocase = true} at the top of the stack. */
static int read_test(conv *c, rx_expr *e) {
  lua_State *L = c->L;
  if (lua_type(L, -1) != LUA_TTABLE)
    return fail(c, "test of '%s' must be a table like {equals = \"US\"}", e->key);
  int t = lua_gettop(L), have = 0, rc;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    const char *k = NULL;
    if ((rc = get_key(c, &k)) != MV_OK) return lua_pop(L, 2), rc;
    if (!strcmp(k, "nocase")) {
      if (lua_type(L, -1) != LUA_TBOOLEAN) return lua_pop(L, 2), fail(c, "nocase must be true or false");
      e->nocase = lua_toboolean(L, -1);
      lua_pop(L, 1);
      continue;
    }
    size_t i;
    for (i = 0; i < sizeof kTests / sizeof kTests[0]; i++)
      if (!strcmp(k, kTests[i].name)) break;
    if (i == sizeof kTests / sizeof kTests[0])
      return lua_pop(L, 2), fail(c, "unknown test '%.40s' (equals, contains, startswith, "
                                    "endswith, matches, lt, gt, present, missing, empty)", k);
    if (have++) return lua_pop(L, 2), fail(c, "more than one test for '%s'", e->key);
    e->test = kTests[i].test;
    if (e->test == RX_T_PRESENT || e->test == RX_T_MISSING || e->test == RX_T_EMPTY) {
      if (lua_type(L, -1) != LUA_TBOOLEAN || !lua_toboolean(L, -1))
        return lua_pop(L, 2), fail(c, "%s must be true", k);
    } else if (e->test == RX_T_LT || e->test == RX_T_GT) {
      if (lua_type(L, -1) != LUA_TNUMBER) return lua_pop(L, 2), fail(c, "%s needs a number", k);
      e->num = lua_tonumber(L, -1);
      if (!isfinite(e->num)) return lua_pop(L, 2), fail(c, "%s needs a finite number", k);
    } else {
      const char *s;
      size_t n;
      if ((rc = get_string(c, k, &s, &n)) != MV_OK) return lua_pop(L, 2), rc;
      if (!(e->arg = malloc(n + 1))) return lua_pop(L, 2), MV_ENOMEM;
      memcpy(e->arg, s, n);
      e->arg[n] = '\0';
      e->arg_len = n;
    }
    lua_pop(L, 1);
  }
  if (!have) return fail(c, "no test for '%s'", e->key);
  if (e->test == RX_T_MATCHES) {
    char why[128] = "";
    e->pat = rx_pattern_compile(e->arg, e->nocase, why, sizeof why);
    if (!e->pat) return fail(c, "matches for '%s': %s", e->key, why[0] ? why : "out of memory");
  }
  return MV_OK;
}

static int read_expr(conv *c, int depth, rx_expr **out);

static int read_kids(conv *c, int depth, rx_expr *e, const char *what) {
  lua_State *L = c->L;
  size_t n;
  int rc = list_len(c, -1, what, &n);
  if (rc != MV_OK) return rc;
  if (n == 0) return fail(c, "%s needs at least one expression", what);
  if (!(e->kids = calloc(n, sizeof *e->kids))) return MV_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    rc = read_expr(c, depth + 1, &e->kids[e->n_kids]);
    lua_pop(L, 1);
    if (rc != MV_OK) return rc;
    e->n_kids++;
  }
  return MV_OK;
}

/* An expression table at the top of the stack -> *out (freed by caller's
 * rx_expr_free even when half built). */
static int read_expr(conv *c, int depth, rx_expr **out) {
  lua_State *L = c->L;
  if (depth > RX_MAX_DEPTH) return fail(c, "expression nested deeper than %d", RX_MAX_DEPTH);
  if (!lua_checkstack(L, 8)) return fail(c, "expression too deep");
  if (lua_type(L, -1) != LUA_TTABLE) return fail(c, "an expression must be a table");
  rx_expr *e = calloc(1, sizeof *e);
  if (!e) return MV_ENOMEM;
  *out = e;
  int t = lua_gettop(L), keys = 0, rc = MV_OK;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    const char *k = NULL;
    if (keys++) return lua_pop(L, 2), fail(c, "an expression has exactly one key "
                                              "(all, any, no or an attribute)");
    if ((rc = get_key(c, &k)) != MV_OK) return lua_pop(L, 2), rc;
    if (!strcmp(k, "all") || !strcmp(k, "any")) {
      e->kind = k[1] == 'l' ? RX_ALL : RX_ANY;
      rc = read_kids(c, depth, e, k);
    } else if (!strcmp(k, "no")) {
      e->kind = RX_NOT;
      if (!(e->kids = calloc(1, sizeof *e->kids))) return lua_pop(L, 2), MV_ENOMEM;
      rc = read_expr(c, depth + 1, &e->kids[0]);
      if (e->kids[0]) e->n_kids = 1;
    } else {
      size_t n = strlen(k);
      if (!valid_attr_key(k, n))
        return lua_pop(L, 2), fail(c, "'%.40s' is not a keyword or (gggg,eeee)", k);
      e->kind = RX_LEAF;
      if (!(e->key = strdup(k))) return lua_pop(L, 2), MV_ENOMEM;
      rc = read_test(c, e);
    }
    lua_pop(L, 1);
    if (rc != MV_OK) return lua_pop(L, 1), rc;
  }
  if (!keys) return fail(c, "empty expression {}");
  return MV_OK;
}

/* ---- signatures -------------------------------------------------------- */

static int valid_name(const char *s, size_t n) {
  if (n == 0 || n > RX_MAX_NAME) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
          (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
      return 0;
  }
  return 1;
}

static int read_regions(conv *c, rx_sig *s) {
  lua_State *L = c->L;
  size_t n;
  int rc = list_len(c, -1, "regions", &n);
  if (rc != MV_OK) return rc;
  if (n > RX_MAX_REGIONS) return fail(c, "more than %d regions", RX_MAX_REGIONS);
  s->has_regions = 1;
  if (n && !(s->regions = calloc(n, sizeof *s->regions))) return MV_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    size_t four;
    rc = list_len(c, -1, "a region", &four);
    if (rc == MV_OK && four != 4) rc = fail(c, "region %zu must be {x, y, w, h}", i + 1);
    int32_t v[4];
    static const char *const what[4] = {"x", "y", "w", "h"};
    for (int k = 0; rc == MV_OK && k < 4; k++) {
      lua_rawgeti(L, -1, k + 1);
      rc = get_int(c, what[k], 0, 1 << 24, &v[k]);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (rc != MV_OK) return rc;
    s->regions[i] = (mv_rect){v[0], v[1], v[2], v[3]};
  }
  s->n_regions = n;
  return MV_OK;
}

static void sig_free(rx_sig *s) {
  rx_expr_free(s->match);
  free(s->regions);
  memset(s, 0, sizeof *s);
}

/* The signature table at the top of the stack -> *s. */
static int read_sig(conv *c, rx_sig *s) {
  lua_State *L = c->L;
  if (lua_type(L, -1) != LUA_TTABLE) return fail(c, "must be a table");
  int t = lua_gettop(L), rc = MV_OK, has_match = 0;
  const char *k = NULL, *str;
  size_t n;
  /* The name first, so that every later complaint can name the entry. */
  lua_pushnil(L);
  while (rc == MV_OK && lua_next(L, t)) {
    if (lua_type(L, -2) == LUA_TSTRING && !strcmp(lua_tostring(L, -2), "name") &&
        (rc = get_string(c, "name", &str, &n)) == MV_OK) {
      if (!valid_name(str, n))
        rc = fail(c, "name must be 1..%d of A-Z a-z 0-9 - _ .", RX_MAX_NAME);
      else
        memcpy(s->name, str, n + 1);
    }
    lua_pop(L, rc == MV_OK ? 1 : 2);
  }
  lua_pushnil(L);
  while (rc == MV_OK && lua_next(L, t)) {
    if ((rc = get_key(c, &k)) != MV_OK) {
    } else if (!strcmp(k, "name")) {
      /* read above */
    } else if (!strcmp(k, "source") || !strcmp(k, "description")) {
      rc = get_string(c, k, &str, &n);
    } else if (!strcmp(k, "flag")) {
      if ((rc = get_string(c, "flag", &str, &n)) == MV_OK) s->flag_only = 1;
    } else if (!strcmp(k, "keep_us_regions")) {
      if (lua_type(L, -1) != LUA_TBOOLEAN) rc = fail(c, "keep_us_regions must be true or false");
      else s->keep_us_regions = lua_toboolean(L, -1);
    } else if (!strcmp(k, "regions")) {
      rc = read_regions(c, s);
    } else if (!strcmp(k, "match")) {
      has_match = 1;
      rc = read_expr(c, 0, &s->match);
    } else {
      rc = fail(c, "unknown field '%.40s' (name, source, description, match, regions, "
                   "keep_us_regions, flag)", k);
    }
    lua_pop(L, rc == MV_OK ? 1 : 2);
  }
  if (rc != MV_OK) return rc;
  if (!s->name[0]) return fail(c, "has no name");
  if (!has_match) return fail(c, "has no match");
  if (s->flag_only && (s->has_regions || s->keep_us_regions))
    return fail(c, "a flag entry cannot have regions");
  if (!s->flag_only && !s->has_regions && !s->keep_us_regions)
    return fail(c, "needs regions, keep_us_regions = true or a flag");
  return MV_OK;
}

static int read_all(conv *c, rx_set *set, const char *file) {
  lua_State *L = c->L;
  size_t n;
  int rc = list_len(c, -1, "the returned value", &n);
  if (rc != MV_OK) return rc;
  if (n > RX_MAX_SIGNATURES) return fail(c, "more than %d entries", RX_MAX_SIGNATURES);
  rx_sig *grown = realloc(set->sigs, (set->n + n + 1) * sizeof *grown);
  if (!grown) return MV_ENOMEM;
  set->sigs = grown;
  const size_t first = set->n;
  for (size_t i = 0; i < n; i++) {
    rx_sig *s = &set->sigs[set->n];
    memset(s, 0, sizeof *s);
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    char inner[200] = "";
    conv ci = {L, inner, sizeof inner};
    rc = read_sig(&ci, s);
    lua_pop(L, 1);
    if (rc != MV_OK) {
      for (size_t j = first; j < set->n; j++) sig_free(&set->sigs[j]);
      if (s->name[0])
        rx_set_err(c->err, c->errlen, "%s: entry %zu (%s): %s", file, i + 1, s->name,
                   inner[0] ? inner : "out of memory");
      else
        rx_set_err(c->err, c->errlen, "%s: entry %zu: %s", file, i + 1,
                   inner[0] ? inner : "out of memory");
      sig_free(s);
      set->n = first;
      return rc;
    }
    for (size_t j = first; j < set->n; j++)
      if (!strcmp(set->sigs[j].name, s->name)) {
        rx_set_err(c->err, c->errlen, "%s: entry %zu: name '%s' used twice", file, i + 1,
                   s->name);
        sig_free(s);
        for (size_t k = first; k < set->n; k++) sig_free(&set->sigs[k]);
        set->n = first;
        return MV_EFORMAT;
      }
    set->n++;
  }
  return MV_OK;
}

/* ---- files -------------------------------------------------------------- */

static int read_file(const char *path, char **buf, size_t *n, char *err,
                     size_t errlen, const char *file) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return MV_ENOTFOUND;
    rx_set_err(err, errlen, "%s: cannot open (%s)", file, strerror(errno));
    return MV_EIO;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    rx_set_err(err, errlen, "%s: not a regular file", file);
    return MV_EIO;
  }
  if ((unsigned long long)st.st_size > RX_MAX_FILE_BYTES) {
    fclose(f);
    rx_set_err(err, errlen, "%s: larger than %u bytes", file, RX_MAX_FILE_BYTES);
    return MV_ELIMIT;
  }
  *buf = malloc((size_t)st.st_size + 1);
  if (!*buf) {
    fclose(f);
    return MV_ENOMEM;
  }
  *n = fread(*buf, 1, (size_t)st.st_size, f);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(*buf);
    rx_set_err(err, errlen, "%s: read error", file);
    return MV_EIO;
  }
  return MV_OK;
}

int rx_load_file(rx_set *set, const char *path, char *err, size_t errlen) {
  const char *file = strrchr(path, '/');
  file = file ? file + 1 : path;
  char *buf = NULL;
  size_t n = 0;
  int rc = read_file(path, &buf, &n, err, errlen, file);
  if (rc != MV_OK) return rc;

  lim_alloc lim = {0, RX_MAX_LUA_MEMORY, 0};
  lua_State *L = lua_newstate(limited_alloc, &lim);
  if (!L) {
    free(buf);
    return MV_ENOMEM;
  }
  lua_pushcfunction(L, open_base);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    free(buf);
    return MV_ENOMEM;
  }
  char chunk[80];
  snprintf(chunk, sizeof chunk, "=%s", file);
  int st = luaL_loadbufferx(L, buf, n, chunk, "t");
  free(buf);
  if (st == LUA_OK) {
    lua_newtable(L); /* the chunk sees an empty _ENV: no functions at all */
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    lua_sethook(L, instruction_limit, LUA_MASKCOUNT, (int)RX_MAX_INSTRUCTIONS);
    st = lua_pcall(L, 0, 1, 0);
    lua_sethook(L, NULL, 0, 0);
  }
  if (st != LUA_OK) {
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error";
    if (st == LUA_ERRMEM || lim.refused) {
      rx_set_err(err, errlen, "%s: refused: more than %u bytes of memory", file,
                 RX_MAX_LUA_MEMORY);
      rc = MV_ELIMIT;
    } else if (strstr(msg, "instruction limit exceeded")) {
      rx_set_err(err, errlen, "%s: refused: instruction limit exceeded (data files "
                 "must be plain tables, not programs)", file);
      rc = MV_ELIMIT;
    } else {
      rx_set_err(err, errlen, "%s: %s", file, msg);
      rc = MV_EFORMAT;
    }
    lua_close(L);
    return rc;
  }
  char why[256] = "";
  conv c = {L, why, sizeof why};
  rc = read_all(&c, set, file);
  if (rc != MV_OK) {
    /* read_all names the file itself for entry errors; add it otherwise. */
    if (!strncmp(why, file, strlen(file))) rx_set_err(err, errlen, "%s", why);
    else rx_set_err(err, errlen, "%s: %s", file, why[0] ? why : "out of memory");
  }
  lua_close(L);
  return rc;
}

void rx_set_free(rx_set *set) {
  for (size_t i = 0; i < set->n; i++) sig_free(&set->sigs[i]);
  free(set->sigs);
  set->sigs = NULL;
  set->n = 0;
}
