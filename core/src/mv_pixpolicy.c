/* mv_pixpolicy.c - compile the `pixels` table of a policy. */
#include "mv_pixpolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Image types whose text is mostly annotation around the picture: every
 * line is redacted unless allow-listed (as Google's REDACT_ALL_TEXT, RSNA
 * and RewritePixel do). DOC covers encapsulated documents rendered as
 * images. */
static const char *const default_all_text[] = {"US", "SC", "OT", "XA", "ES",
                                               "DOC", "XC", "GM", "RF", NULL};

void mv_pixpolicy_defaults(mv_pixel_settings *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->detect[0], sizeof s->detect[0], "regions");
  snprintf(s->detect[1], sizeof s->detect[1], "ocr");
  s->ndetect = 2;
  snprintf(s->redact, sizeof s->redact, "fill");
  s->phi = MV_PHI_AUTO;
  s->review_below = 0.5;
  s->margin = 2;
  s->verify = 1;
  s->complete_lines = 1;
}

void mv_pixpolicy_free(mv_pixel_settings *s) {
  for (size_t i = 0; i < MV_PIX_MAX_DETECTORS; i++) free(s->detect_options[i]);
  for (size_t i = 0; i < s->nallow; i++) free(s->allow[i]);
  free(s->allow);
  free(s->all_text_modalities);
  memset(s, 0, sizeof *s);
}

static int string_list(lua_State *L, const char *what, size_t maxlen,
                       char ***out, size_t *n, char *err, size_t errlen) {
  if (!lua_istable(L, -1)) {
    snprintf(err, errlen, "pixels.%s must be a list of strings", what);
    return -1;
  }
  size_t len = lua_rawlen(L, -1);
  char **list = calloc(len ? len : 1, sizeof *list);
  if (!list) return -1;
  for (size_t i = 1; i <= len; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i);
    size_t sl = 0;
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &sl)
                                                   : NULL;
    if (!v || sl == 0 || sl > maxlen) {
      lua_pop(L, 1);
      for (size_t k = 0; k < i - 1; k++) free(list[k]);
      free(list);
      snprintf(err, errlen,
               "pixels.%s: item %zu must be a string of 1 to %zu bytes", what,
               i, maxlen);
      return -1;
    }
    list[i - 1] = strdup(v);
    lua_pop(L, 1);
  }
  *out = list;
  *n = len;
  return 0;
}

static int detector_index(const mv_pixel_settings *s, const char *name) {
  for (size_t i = 0; i < s->ndetect; i++)
    if (strcmp(s->detect[i], name) == 0) return (int)i;
  return -1;
}

int mv_pixpolicy_field(lua_State *L, const char *key, mv_pixel_settings *s,
                       char *err, size_t errlen) {
  if (strcmp(key, "detect") == 0) {
    char **list = NULL;
    size_t n = 0;
    if (string_list(L, "detect", 31, &list, &n, err, errlen)) return -1;
    if (n > MV_PIX_MAX_DETECTORS) {
      for (size_t i = 0; i < n; i++) free(list[i]);
      free(list);
      snprintf(err, errlen, "pixels.detect: at most %d detectors",
               MV_PIX_MAX_DETECTORS);
      return -1;
    }
    s->ndetect = n;
    for (size_t i = 0; i < n; i++) {
      snprintf(s->detect[i], sizeof s->detect[i], "%s", list[i]);
      free(list[i]);
    }
    free(list);
    return 0;
  }
  if (strcmp(key, "options") == 0) {
    /* { ocr = "lang=eng+deu", regions = "us_regions=keep" }: applied after
     * the whole table is read, by name, see mv_pixpolicy_option. */
    if (!lua_istable(L, -1)) {
      snprintf(err, errlen, "pixels.options must be a table of detector = "
                            "\"key=value;...\"");
      return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 2);
        snprintf(err, errlen, "pixels.options: keys and values must be "
                              "strings");
        return -1;
      }
      const char *name = lua_tostring(L, -2);
      int i = detector_index(s, name);
      if (i < 0) {
        lua_pop(L, 2);
        snprintf(err, errlen,
                 "pixels.options.%s: no such detector in pixels.detect", name);
        return -1;
      }
      free(s->detect_options[i]);
      s->detect_options[i] = strdup(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    return 0;
  }
  if (strcmp(key, "redact") == 0) {
    size_t n = 0;
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n)
                                                   : NULL;
    if (!v || n == 0 || n >= sizeof s->redact) {
      snprintf(err, errlen, "pixels.redact must be a method name such as "
                            "\"fill\", \"blur\" or \"pixelate\"");
      return -1;
    }
    snprintf(s->redact, sizeof s->redact, "%s", v);
    return 0;
  }
  if (strcmp(key, "phi") == 0) {
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    if (strcmp(v, "auto") == 0) s->phi = MV_PHI_AUTO;
    else if (strcmp(v, "all_text") == 0) s->phi = MV_PHI_ALL_TEXT;
    else if (strcmp(v, "identifiers") == 0) s->phi = MV_PHI_IDENTIFIERS;
    else {
      snprintf(err, errlen, "pixels.phi must be \"auto\", \"all_text\" or "
                            "\"identifiers\"");
      return -1;
    }
    return 0;
  }
  if (strcmp(key, "all_text_modalities") == 0) {
    char **list = NULL;
    size_t n = 0;
    if (string_list(L, "all_text_modalities", 16, &list, &n, err, errlen))
      return -1;
    free(s->all_text_modalities);
    s->all_text_modalities = calloc(n ? n : 1, sizeof *s->all_text_modalities);
    for (size_t i = 0; i < n; i++) {
      if (s->all_text_modalities)
        snprintf(s->all_text_modalities[i], 17, "%s", list[i]);
      free(list[i]);
    }
    free(list);
    if (!s->all_text_modalities) return -1;
    s->nall_text = n;
    return 0;
  }
  if (strcmp(key, "allow") == 0) {
    for (size_t i = 0; i < s->nallow; i++) free(s->allow[i]);
    free(s->allow);
    s->allow = NULL;
    s->nallow = 0;
    return string_list(L, "allow", 64, &s->allow, &s->nallow, err, errlen);
  }
  if (strcmp(key, "review_below") == 0) {
    if (!lua_isnumber(L, -1) || lua_tonumber(L, -1) < 0 ||
        lua_tonumber(L, -1) > 1) {
      snprintf(err, errlen, "pixels.review_below must be a number from 0 "
                            "to 1");
      return -1;
    }
    s->review_below = lua_tonumber(L, -1);
    return 0;
  }
  if (strcmp(key, "uncertain") == 0) {
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    if (strcmp(v, "review") && strcmp(v, "redact")) {
      snprintf(err, errlen, "pixels.uncertain must be \"review\" or "
                            "\"redact\"");
      return -1;
    }
    s->uncertain_redact = strcmp(v, "redact") == 0;
    return 0;
  }
  if (strcmp(key, "margin") == 0) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 ||
        lua_tointeger(L, -1) > 64) {
      snprintf(err, errlen, "pixels.margin must be an integer from 0 to 64 "
                            "(pixels)");
      return -1;
    }
    s->margin = (int)lua_tointeger(L, -1);
    return 0;
  }
  if (strcmp(key, "verify") == 0) {
    if (!lua_isboolean(L, -1)) {
      snprintf(err, errlen, "pixels.verify must be true or false");
      return -1;
    }
    s->verify = lua_toboolean(L, -1);
    return 0;
  }
  if (strcmp(key, "complete_lines") == 0) {
    if (!lua_isboolean(L, -1)) {
      snprintf(err, errlen, "pixels.complete_lines must be true or false");
      return -1;
    }
    s->complete_lines = lua_toboolean(L, -1);
    return 0;
  }
  return 1;
}

mv_phi_mode mv_pixpolicy_mode(const mv_pixel_settings *s,
                              const char *modality) {
  if (s->phi != MV_PHI_AUTO) return s->phi;
  if (s->all_text_modalities) {
    for (size_t i = 0; i < s->nall_text; i++)
      if (strcmp(s->all_text_modalities[i], modality) == 0)
        return MV_PHI_ALL_TEXT;
    return MV_PHI_IDENTIFIERS;
  }
  for (int i = 0; default_all_text[i]; i++)
    if (strcmp(default_all_text[i], modality) == 0) return MV_PHI_ALL_TEXT;
  return MV_PHI_IDENTIFIERS;
}
