/* mv_deid.c - the per-object de-identification engine. */
#include "mv_deid.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medveil/errors.h"
#include "mv_dates.h"
#include "mv_lua_api.h"
#include "mv_marks.h"

#define TAG_CHARSET 0x00080005u
#define TAG_PATIENT_NAME 0x00100010u
#define TAG_PATIENT_ID 0x00100020u
#define TAG_BIRTH_DATE 0x00100030u
#define TAG_PATIENT_AGE 0x00101010u
#define TAG_STUDY_DATE 0x00080020u
#define TAG_MODALITY 0x00080060u
#define TAG_SOP_CLASS 0x00080016u
#define TAG_IMAGE_TYPE 0x00080008u
#define TAG_BURNED_IN 0x00280301u
#define TAG_STUDY_UID 0x0020000Du
#define TAG_PIXEL_DATA 0x7FE00010u
#define TAG_FLOAT_PIXEL 0x7FE00008u
#define TAG_DOUBLE_PIXEL 0x7FE00009u

struct mv_engine {
  const mv_key *key;
  mv_policy *policy;
  mv_scrub *scrub;
  mv_lua_api *api;
  mv_textphi *phi; /* identifying values, for text found in pixels */
  mv_pixels *px;   /* NULL: pixel cleaning unavailable */
  char *buf; /* scratch for new values */
  size_t bufcap;
};

mv_engine *mv_engine_new(const mv_key *key, mv_policy *policy) {
  mv_engine *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->key = key;
  e->policy = policy;
  e->scrub = mv_scrub_new();
  e->phi = mv_textphi_new();
  /* Only policies with Lua callbacks get the Lua objects: the others may
   * be shared between workers, whose engines must then not touch Lua. */
  int lua = mv_policy_uses_lua(policy);
  if (lua) e->api = mv_lua_api_new(mv_policy_lua(policy), key);
  e->bufcap = 4096;
  e->buf = malloc(e->bufcap);
  if (!e->scrub || !e->phi || (lua && !e->api) || !e->buf) {
    mv_engine_free(e);
    return NULL;
  }
  return e;
}

void mv_engine_free(mv_engine *e) {
  if (!e) return;
  mv_scrub_free(e->scrub);
  mv_textphi_free(e->phi);
  mv_lua_api_free(e->api);
  free(e->buf);
  free(e);
}

void mv_engine_set_pixels(mv_engine *e, mv_pixels *px) { e->px = px; }

void mv_outcome_release(mv_outcome *o) {
  mv_pixel_result_free(&o->px);
  free(o->hits);
  o->hits = NULL;
  /* Original identifiers do not outlive the object. */
  explicit_bzero(&o->before, sizeof o->before);
}

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                          */

static void copy_value(char *dst, size_t n, const char *v, size_t len) {
  if (!v) len = 0;
  if (len >= n) len = n - 1;
  memcpy(dst, v ? v : "", len);
  while (len > 0 && (dst[len - 1] == ' ' || dst[len - 1] == 0)) len--;
  dst[len] = 0;
}

static int is_vr(const char *vr, const char *want) {
  return vr[0] == want[0] && vr[1] == want[1];
}

static int is_string_vr(const char *vr) {
  static const char *const s[] = {"AE", "AS", "CS", "DA", "DS", "DT", "IS",
                                  "LO", "LT", "PN", "SH", "ST", "TM", "UC",
                                  "UI", "UR", "UT", NULL};
  for (int i = 0; s[i]; i++)
    if (is_vr(vr, s[i])) return 1;
  return 0;
}

static int is_text_vr(const char *vr) {
  return is_vr(vr, "LO") || is_vr(vr, "SH") || is_vr(vr, "ST") ||
         is_vr(vr, "LT") || is_vr(vr, "UT") || is_vr(vr, "UC");
}

/* Maximum value length per VR (PS3.5 6.2), for derived values. */
static size_t vr_max(const char *vr) {
  if (is_vr(vr, "SH") || is_vr(vr, "CS") || is_vr(vr, "AE") ||
      is_vr(vr, "DS") || is_vr(vr, "TM"))
    return 16;
  if (is_vr(vr, "IS")) return 12;
  if (is_vr(vr, "LO") || is_vr(vr, "PN") || is_vr(vr, "UI")) return 64;
  return 1024;
}

static const char *dummy_for(const char *vr) {
  if (is_vr(vr, "DA")) return "19000101";
  if (is_vr(vr, "TM")) return "000000";
  if (is_vr(vr, "DT")) return "19000101000000";
  if (is_vr(vr, "AS")) return "000Y";
  if (is_vr(vr, "IS") || is_vr(vr, "DS")) return "0";
  if (is_vr(vr, "CS")) return "ANONYMIZED";
  if (is_vr(vr, "AE")) return "ANONYMIZED";
  if (is_vr(vr, "UR")) return "";
  return "ANONYMIZED";
}

static int private_creator_element(uint32_t tag) {
  uint16_t g = (uint16_t)(tag >> 16), el = (uint16_t)tag;
  return (g & 1) && el >= 0x0010 && el <= 0x00FF;
}

static int private_data_element(uint32_t tag) {
  return ((tag >> 16) & 1) && (tag & 0xFFFF) >= 0x1000;
}

static int ensure_buf(mv_engine *e, size_t need) {
  if (need <= e->bufcap) return 0;
  size_t cap = e->bufcap;
  while (cap < need) cap *= 2;
  char *grown = realloc(e->buf, cap);
  if (!grown) return -1;
  e->buf = grown;
  e->bufcap = cap;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Pass 1: what the object says about its patient.                         */

typedef struct facts {
  mv_engine *e;
  char patient_id[256], patient_name[256], per_value[256];
  char birth_date[32], study_date[32], patient_age[16];
  char modality[17], burned_in[8], study_uid[72];
  char sop_class[72], image_type[128];
  int has_pixels;
  int tagged; /* saw a DICOM attribute (tag != 0) */
  uint32_t per_tag;
} facts;

static void add_identifying(mv_scrub *s, mv_textphi *phi, const mv_attr *a) {
  /* Values of private elements are mostly vendor parameters; scrubbing
   * their words out of descriptors would only destroy meaning. */
  if (private_data_element(a->tag) || private_creator_element(a->tag)) return;
  mv_scrub_kind kind;
  if (is_vr(a->vr, "PN")) kind = MV_SCRUB_NAME;
  else if (is_vr(a->vr, "DA") || is_vr(a->vr, "DT")) kind = MV_SCRUB_DATE;
  else if (is_vr(a->vr, "LO") || is_vr(a->vr, "SH")) kind = MV_SCRUB_ID;
  else return;
  const char *v = a->value, *end = a->value + a->len;
  while (v < end) {
    const char *bs = memchr(v, '\\', (size_t)(end - v));
    size_t n = (size_t)((bs ? bs : end) - v);
    mv_scrub_kind k = kind;
    if (k == MV_SCRUB_ID && memchr(v, ' ', n)) k = MV_SCRUB_TEXT;
    if (k == MV_SCRUB_DATE && n > 8) n = 8;
    mv_scrub_add(s, k, v, n);
    mv_textphi_add(phi, k, v, n);
    v += n + (bs ? 1 : 0);
    if (!bs) break;
  }
}

static int collect_visit(void *ud, const mv_attr *a, void *handle) {
  (void)handle;
  facts *f = ud;
  if (a->tag == 0) {
    /* Other formats: a short text value the policy takes away is
     * identifying too (long ones are prose, not identifiers). */
    const mv_action *act = mv_policy_lookup_named(f->e->policy, a->name);
    if (a->value && a->len && a->len <= 256 && act->kind != MV_ACT_KEEP &&
        act->kind != MV_ACT_CLEAN) {
      mv_scrub_add(f->e->scrub, MV_SCRUB_TEXT, a->value, a->len);
      mv_textphi_add(f->e->phi, MV_SCRUB_TEXT, a->value, a->len);
    }
    return MV_VISIT_KEEP;
  }
  f->tagged = 1;
  if (a->depth == 0) {
    switch (a->tag) {
      case TAG_PATIENT_ID:
        copy_value(f->patient_id, sizeof f->patient_id, a->value, a->len);
        break;
      case TAG_PATIENT_NAME:
        copy_value(f->patient_name, sizeof f->patient_name, a->value, a->len);
        break;
      case TAG_BIRTH_DATE:
        copy_value(f->birth_date, sizeof f->birth_date, a->value, a->len);
        break;
      case TAG_STUDY_DATE:
        copy_value(f->study_date, sizeof f->study_date, a->value, a->len);
        break;
      case TAG_PATIENT_AGE:
        copy_value(f->patient_age, sizeof f->patient_age, a->value, a->len);
        break;
      case TAG_SOP_CLASS:
        copy_value(f->sop_class, sizeof f->sop_class, a->value, a->len);
        break;
      case TAG_IMAGE_TYPE:
        copy_value(f->image_type, sizeof f->image_type, a->value, a->len);
        break;
      case TAG_MODALITY:
        copy_value(f->modality, sizeof f->modality, a->value, a->len);
        break;
      case TAG_BURNED_IN:
        copy_value(f->burned_in, sizeof f->burned_in, a->value, a->len);
        break;
      case TAG_STUDY_UID:
        copy_value(f->study_uid, sizeof f->study_uid, a->value, a->len);
        break;
      case TAG_PIXEL_DATA:
      case TAG_FLOAT_PIXEL:
      case TAG_DOUBLE_PIXEL:
        f->has_pixels = 1;
        break;
    }
    if (a->tag == f->per_tag && a->value)
      copy_value(f->per_value, sizeof f->per_value, a->value, a->len);
  }
  if (a->value && a->len) {
    const mv_action *act =
        mv_policy_lookup(f->e->policy, a->tag, a->creator, a->vr);
    /* A value the policy takes away is identifying: free text kept
     * elsewhere in the object must not repeat it. */
    if (act->kind != MV_ACT_KEEP && act->kind != MV_ACT_CLEAN &&
        act->kind != MV_ACT_UID && act->kind != MV_ACT_AGE)
      add_identifying(f->e->scrub, f->e->phi, a);
  }
  return MV_VISIT_KEEP;
}

/* ---------------------------------------------------------------------- */
/* Pass 2: actions.                                                        */

typedef struct applier {
  mv_engine *e;
  const mv_format_ops *ops;
  mv_doc *doc;
  mv_outcome *out;
  long day_offset;
  int birth_over_cap;  /* HIPAA: the birth date would reveal an age > cap */
  uint32_t clean_depth; /* > 0: inside a cleaned sequence from this depth */
  int failed;
  char reason[256];
} applier;

/* Apply fn to each backslash-separated value into e->buf. */
typedef int (*value_fn)(applier *ap, const mv_action *act, const char *vr,
                        const char *v, size_t n, char *dst, size_t cap);

static int per_value(applier *ap, const mv_action *act, const char *vr,
                     const char *value, size_t len, value_fn fn) {
  mv_engine *e = ap->e;
  if (ensure_buf(e, len * 2 + 256)) return -1;
  size_t used = 0;
  const char *v = value, *end = value + len;
  for (;;) {
    const char *bs = v < end ? memchr(v, '\\', (size_t)(end - v)) : NULL;
    size_t n = (size_t)((bs ? bs : end) - v);
    if (ensure_buf(e, used + n + 130)) return -1;
    if (used) e->buf[used++] = '\\';
    int w = fn(ap, act, vr, v, n, e->buf + used, e->bufcap - used);
    if (w < 0) return -1;
    used += (size_t)w;
    if (!bs) break;
    v = bs + 1;
  }
  e->buf[used] = 0;
  return (int)used;
}

static size_t trim(const char *v, size_t n) {
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == 0)) n--;
  return n;
}

static int fn_uid(applier *ap, const mv_action *act, const char *vr,
                  const char *v, size_t n, char *dst, size_t cap) {
  (void)act;
  (void)vr;
  n = trim(v, n);
  while (n > 0 && *v == ' ') v++, n--;
  if (n == 0 || mv_uid_is_standard(v, n)) {
    if (n >= cap) return -1;
    memcpy(dst, v, n);
    return (int)n;
  }
  char uid[64];
  mv_derive_uid(ap->e->key, v, n, uid);
  return snprintf(dst, cap, "%s", uid);
}

static int fn_pseudonym(applier *ap, const mv_action *act, const char *vr,
                        const char *v, size_t n, char *dst, size_t cap) {
  n = trim(v, n);
  if (n == 0) return 0;
  char prefix[17];
  snprintf(prefix, sizeof prefix, "%s", act->text ? act->text : "");
  size_t max = vr_max(vr);
  if (strlen(prefix) + 12 > max) prefix[max > 12 ? max - 12 : 0] = 0;
  char out[40];
  mv_derive_pseudonym(ap->e->key, prefix, v, n, out, sizeof out);
  return snprintf(dst, cap, "%s", out);
}

static int fn_hash(applier *ap, const mv_action *act, const char *vr,
                   const char *v, size_t n, char *dst, size_t cap) {
  n = trim(v, n);
  if (n == 0) return 0;
  int len = act->length;
  if ((size_t)len > vr_max(vr)) len = (int)vr_max(vr);
  char out[65];
  mv_derive_hash(ap->e->key, v, n, len, out);
  return snprintf(dst, cap, "%s", out);
}

/* Set a new value and say what the walk does next. A value the plugin
 * refuses must not leave the old one in place: remove it (fail closed). */
static int put(applier *ap, void *handle, const char *v, size_t len) {
  if (ap->ops->set_value(ap->doc, handle, v, len) == MV_OK)
    return MV_VISIT_KEEP;
  ap->out->actions[MV_ACT_REMOVE]++;
  return MV_VISIT_REMOVE;
}

static int set_buf(applier *ap, void *handle, int len) {
  return put(ap, handle, ap->e->buf, (size_t)len);
}

static int set_text(applier *ap, void *handle, const char *s) {
  return put(ap, handle, s, strlen(s));
}

/* Dates that cannot be read are emptied: fail closed. */
static int do_dates(applier *ap, const mv_attr *a, void *handle, int year) {
  if (!is_vr(a->vr, "DA") && !is_vr(a->vr, "DT")) return MV_VISIT_KEEP;
  if (!a->value || !a->len) return MV_VISIT_KEEP;
  if (year && a->tag == TAG_BIRTH_DATE && a->depth == 0 && ap->birth_over_cap)
    return MV_VISIT_EMPTY;
  if (ensure_buf(ap->e, a->len * 4 + 64)) return MV_VISIT_REMOVE;
  int rc = year ? mv_date_year(a->vr, a->value, a->len, ap->e->buf,
                               ap->e->bufcap)
                : mv_date_shift(a->vr, a->value, a->len, ap->day_offset,
                                ap->e->buf, ap->e->bufcap);
  if (rc != 0) return MV_VISIT_EMPTY;
  return set_buf(ap, handle, (int)strlen(ap->e->buf));
}

static int do_clean_text(applier *ap, const mv_attr *a, void *handle) {
  if (!a->value || !a->len) return MV_VISIT_KEEP;
  char *cleaned = NULL;
  size_t n = 0;
  int hits = mv_scrub_text(ap->e->scrub, a->value, a->len, &cleaned, &n);
  if (hits < 0) return MV_VISIT_REMOVE; /* out of memory: fail closed */
  int next = MV_VISIT_KEEP;
  if (hits > 0) {
    ap->out->scrubbed += (unsigned long)hits;
    next = put(ap, handle, cleaned, n);
  }
  free(cleaned);
  return next;
}

static int apply_action(applier *ap, const mv_action *act, const mv_attr *a,
                        void *handle);

static int do_function(applier *ap, const mv_action *act, const mv_attr *a,
                       void *handle) {
  mv_action chosen;
  const char *newval = NULL;
  size_t newlen = 0;
  char why[256];
  int rc = mv_lua_api_call_action(ap->e->api, act->func_ref, a, ap->ops,
                                  ap->doc, &chosen, &newval, &newlen, why,
                                  sizeof why);
  switch (rc) {
    case MV_LUA_SET:
      if (!a->value && !is_string_vr(a->vr)) return MV_VISIT_EMPTY;
      return put(ap, handle, newval, newlen);
    case MV_LUA_REMOVE:
      return MV_VISIT_REMOVE;
    case MV_LUA_ACTION:
      if (chosen.kind == MV_ACT_FUNC) return MV_VISIT_REMOVE;
      return apply_action(ap, &chosen, a, handle);
    default:
      ap->failed = 1;
      snprintf(ap->reason, sizeof ap->reason,
               "policy function for (%04X,%04X) failed: %s", a->tag >> 16,
               a->tag & 0xFFFF, why);
      return MV_VISIT_ABORT;
  }
}

static int apply_action(applier *ap, const mv_action *act, const mv_attr *a,
                        void *handle) {
  int is_sq = is_vr(a->vr, "SQ");
  int has_text = a->value != NULL;
  switch (act->kind) {
    case MV_ACT_KEEP:
      return MV_VISIT_KEEP;
    case MV_ACT_REMOVE:
      return MV_VISIT_REMOVE;
    case MV_ACT_EMPTY:
      return MV_VISIT_EMPTY;
    case MV_ACT_DUMMY:
      if (is_sq || !is_string_vr(a->vr)) return MV_VISIT_EMPTY;
      if (is_vr(a->vr, "UI")) {
        mv_action uid = {.kind = MV_ACT_UID};
        return apply_action(ap, &uid, a, handle);
      }
      return set_text(ap, handle, dummy_for(a->vr));
    case MV_ACT_UID:
    case MV_ACT_PSEUDONYM:
    case MV_ACT_HASH: {
      /* "U" on a sequence (Table E.1-1's X/Z/U*: references) means its
       * UIDs are replaced: descend, the items' UIDs get their own rules. */
      if (is_sq) return act->kind == MV_ACT_UID ? MV_VISIT_KEEP : MV_VISIT_EMPTY;
      if (!is_string_vr(a->vr)) return MV_VISIT_EMPTY;
      if (!has_text || a->len == 0) return MV_VISIT_KEEP;
      value_fn fn = act->kind == MV_ACT_UID         ? fn_uid
                    : act->kind == MV_ACT_PSEUDONYM ? fn_pseudonym
                                                    : fn_hash;
      int n = per_value(ap, act, a->vr, a->value, a->len, fn);
      if (n < 0) return MV_VISIT_REMOVE;
      return set_buf(ap, handle, n);
    }
    case MV_ACT_SHIFT:
      return do_dates(ap, a, handle, 0);
    case MV_ACT_YEAR:
      return do_dates(ap, a, handle, 1);
    case MV_ACT_AGE: {
      int cap = mv_policy_age_cap(ap->e->policy);
      if (!is_vr(a->vr, "AS") || !has_text || a->len == 0 || cap <= 0)
        return MV_VISIT_KEEP;
      char out[16];
      if (mv_age_cap(a->value, a->len, cap, out, sizeof out) != 0)
        return MV_VISIT_EMPTY;
      return set_text(ap, handle, out);
    }
    case MV_ACT_REPLACE:
      if (is_sq || !is_string_vr(a->vr)) return MV_VISIT_EMPTY;
      return set_text(ap, handle, act->text);
    case MV_ACT_CLEAN:
      if (is_sq) {
        /* Contents get their own rules; what they leave alone is cleaned. */
        if (!ap->clean_depth) ap->clean_depth = a->depth + 1;
        return MV_VISIT_KEEP;
      }
      if (is_vr(a->vr, "PN")) {
        mv_action d = {.kind = MV_ACT_DUMMY};
        return apply_action(ap, &d, a, handle);
      }
      if (is_vr(a->vr, "DA") || is_vr(a->vr, "DT")) return do_dates(ap, a, handle, 0);
      if (is_vr(a->vr, "UI")) {
        mv_action u = {.kind = MV_ACT_UID};
        return apply_action(ap, &u, a, handle);
      }
      if (is_text_vr(a->vr)) return do_clean_text(ap, a, handle);
      return MV_VISIT_KEEP;
    case MV_ACT_FUNC:
      return do_function(ap, act, a, handle);
  }
  return MV_VISIT_REMOVE;
}

/* Count an action, overall and per (tag, action) in a small hash table
 * with bounded probing: a hostile object with thousands of distinct tags
 * costs at most a few probes per attribute. */
static void tally(mv_outcome *o, uint32_t tag, int kind) {
  o->actions[kind]++;
  if (!o->hits && !(o->hits = calloc(MV_ATTR_HIT_SLOTS, sizeof *o->hits))) {
    o->hits_dropped++;
    return;
  }
  uint32_t h = tag * 2654435761u + (uint32_t)kind * 40503u;
  h ^= h >> 16; /* the low bits must depend on the group too */
  for (unsigned i = 0; i < 16; i++) {
    mv_attr_hit *s = &o->hits[(h + i) & (MV_ATTR_HIT_SLOTS - 1)];
    if (!s->count) *s = (mv_attr_hit){.tag = tag, .action = (uint32_t)kind};
    if (s->tag == tag && s->action == (uint32_t)kind) {
      s->count++;
      return;
    }
  }
  o->hits_dropped++;
}

/* Attributes of other formats, by name (mv_policy_lookup_named). Text
 * takes keep, remove, empty, replace, clean, pseudonym and hash; binary
 * values are kept or removed; anything else is removed (fail closed). */
static int apply_named(applier *ap, const mv_attr *a, void *handle) {
  const mv_action *act = mv_policy_lookup_named(ap->e->policy, a->name);
  int kind = act->kind;
  if (!(kind == MV_ACT_KEEP || kind == MV_ACT_EMPTY ||
        kind == MV_ACT_REPLACE || kind == MV_ACT_CLEAN ||
        kind == MV_ACT_PSEUDONYM || kind == MV_ACT_HASH) ||
      (!a->value && kind != MV_ACT_KEEP))
    kind = MV_ACT_REMOVE;
  tally(ap->out, 0, kind);
  mv_attr text = *a;
  memcpy(text.vr, "UT", 3); /* free text, for the value functions */
  switch (kind) {
    case MV_ACT_KEEP:
      return MV_VISIT_KEEP;
    case MV_ACT_EMPTY:
      return MV_VISIT_EMPTY;
    case MV_ACT_REPLACE:
      return set_text(ap, handle, act->text ? act->text : "");
    case MV_ACT_CLEAN:
      return do_clean_text(ap, &text, handle);
    case MV_ACT_PSEUDONYM:
    case MV_ACT_HASH: {
      if (!a->len) return MV_VISIT_KEEP;
      if (ensure_buf(ap->e, 256)) return MV_VISIT_REMOVE;
      value_fn fn = kind == MV_ACT_PSEUDONYM ? fn_pseudonym : fn_hash;
      int n = fn(ap, act, text.vr, a->value, a->len, ap->e->buf,
                 ap->e->bufcap);
      if (n < 0) return MV_VISIT_REMOVE;
      return set_buf(ap, handle, n);
    }
    default:
      return MV_VISIT_REMOVE;
  }
}

static int apply_visit(void *ud, const mv_attr *a, void *handle) {
  applier *ap = ud;
  if (a->tag == 0) return apply_named(ap, a, handle);
  if (ap->clean_depth && a->depth < ap->clean_depth) ap->clean_depth = 0;
  /* SpecificCharacterSet says how the other values are encoded; a rule
   * such as vrs.CS = mv.dummy must not make the object unreadable. */
  if (a->tag == TAG_CHARSET) {
    tally(ap->out, a->tag, MV_ACT_KEEP);
    return MV_VISIT_KEEP;
  }
  if (private_creator_element(a->tag)) {
    char creator[65];
    copy_value(creator, sizeof creator, a->value, a->len);
    int keep = mv_policy_keeps_creator(ap->e->policy, (uint16_t)(a->tag >> 16),
                                       creator);
    tally(ap->out, a->tag, keep ? MV_ACT_KEEP : MV_ACT_REMOVE);
    return keep ? MV_VISIT_KEEP : MV_VISIT_REMOVE;
  }
  const mv_action *act =
      mv_policy_lookup(ap->e->policy, a->tag, a->creator, a->vr);
  mv_action clean = {.kind = MV_ACT_CLEAN};
  /* Inside a cleaned sequence, what the policy would simply keep is
   * cleaned instead (text scrubbed, names replaced, dates shifted). */
  if (ap->clean_depth && a->depth >= ap->clean_depth &&
      act->kind == MV_ACT_KEEP && !is_vr(a->vr, "SQ"))
    act = &clean;
  tally(ap->out, a->tag, act->kind);
  return apply_action(ap, act, a, handle);
}

/* ---------------------------------------------------------------------- */
/* The object.                                                             */

/* What the SOP class says the image is, for objects whose Modality is
 * missing or says less (a secondary capture of a CT dose screen has
 * Modality CT). "" when the class implies nothing. */
static const char *implied_modality(const facts *f) {
  static const struct {
    const char *prefix;
    const char *modality;
  } map[] = {
      {"1.2.840.10008.5.1.4.1.1.7", "SC"},      /* SC and multi-frame SC */
      {"1.2.840.10008.5.1.4.1.1.6.", "US"},     /* US image, enhanced US */
      {"1.2.840.10008.5.1.4.1.1.3.1", "US"},    /* US multi-frame */
      {"1.2.840.10008.5.1.4.1.1.12.1", "XA"},   /* XA, enhanced XA */
      {"1.2.840.10008.5.1.4.1.1.12.2", "RF"},
      {"1.2.840.10008.5.1.4.1.1.77.1.1", "ES"}, /* VL endoscopic */
      {"1.2.840.10008.5.1.4.1.1.77.1.2", "GM"}, /* VL microscopic */
      {"1.2.840.10008.5.1.4.1.1.77.1.4", "XC"}, /* VL photographic */
  };
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (strncmp(f->sop_class, map[i].prefix, strlen(map[i].prefix)) == 0)
      return map[i].modality;
  if (strstr(f->image_type, "SCREEN SAVE")) return "SC";
  return "";
}

/* The modality that decides pixel handling: the implied one when it is
 * listed for cleaning (or Modality is missing), else Modality. */
static const char *pixel_modality(const mv_policy *p, const facts *f) {
  const char *implied = implied_modality(f);
  if (implied[0] && (!f->modality[0] || mv_policy_pixel_modality(p, implied)))
    return implied;
  return f->modality;
}

static int needs_pixel_cleaning(const mv_policy *p, const facts *f,
                                char *why, size_t n) {
  if (!f->has_pixels) return 0;
  switch (mv_policy_pixels_when(p)) {
    case MV_PIXELS_NEVER:
      return 0;
    case MV_PIXELS_ALWAYS:
      snprintf(why, n, "policy cleans pixels of every image");
      return 1;
    case MV_PIXELS_BURNED_IN:
      if (strcmp(f->burned_in, "YES") == 0) {
        snprintf(why, n, "BurnedInAnnotation is YES");
        return 1;
      }
      const char *m = pixel_modality(p, f);
      if (m[0] && mv_policy_pixel_modality(p, m)) {
        snprintf(why, n, "%s %s often carries burned-in text",
                 m == f->modality ? "modality" : "image type", m);
        return 1;
      }
      return 0;
  }
  return 0;
}

static void get_uid(const mv_format_ops *ops, mv_doc *doc, const char *key,
                    char *dst, size_t n) {
  const char *v = NULL;
  size_t len = 0;
  dst[0] = 0;
  if (ops->get(doc, key, &v, &len) == MV_OK && v) copy_value(dst, n, v, len);
  /* Paths are built from these: keep only characters a UID may have. */
  for (char *p = dst; *p; p++)
    if (!((*p >= '0' && *p <= '9') || *p == '.')) *p = '_';
}

static void get_text(const mv_format_ops *ops, mv_doc *doc, const char *key,
                     char *dst, size_t n) {
  const char *v = NULL;
  size_t len = 0;
  dst[0] = 0;
  if (ops->get(doc, key, &v, &len) == MV_OK && v) copy_value(dst, n, v, len);
}

static void read_identity(const mv_format_ops *ops, mv_doc *doc,
                          mv_identity *id) {
  get_text(ops, doc, "PatientName", id->patient_name, sizeof id->patient_name);
  get_text(ops, doc, "PatientID", id->patient_id, sizeof id->patient_id);
  get_text(ops, doc, "AccessionNumber", id->accession, sizeof id->accession);
  get_text(ops, doc, "StudyInstanceUID", id->study_uid, sizeof id->study_uid);
  get_text(ops, doc, "SeriesInstanceUID", id->series_uid,
           sizeof id->series_uid);
  get_text(ops, doc, "SOPInstanceUID", id->sop_uid, sizeof id->sop_uid);
  if (!id->sop_uid[0])
    get_text(ops, doc, "(0002,0003)", id->sop_uid, sizeof id->sop_uid);
}

/* Objects without a SOP Common module (a DICOMDIR) still need a keyed,
 * stable MediaStorageSOPInstanceUID: the original one would survive, and a
 * fresh random one would make re-runs differ. */
static int name_instance(mv_engine *e, const mv_loaded *fmt, mv_doc *doc,
                         const char *input_id) {
  const mv_format_ops *ops = fmt->desc->format;
  const char *v = NULL;
  size_t len = 0;
  uint32_t tag;
  char vr[4];
  if (ops->resolve(fmt->state, "MediaStorageSOPInstanceUID", &tag, vr) != MV_OK)
    return MV_OK; /* not a format with instance UIDs */
  if (ops->get(doc, "SOPInstanceUID", &v, &len) == MV_OK && len) return MV_OK;
  char uid[64];
  if (ops->get(doc, "(0002,0003)", &v, &len) == MV_OK && len)
    mv_derive_uid(e->key, v, len, uid);
  else
    mv_derive_uid(e->key, input_id, strlen(input_id), uid);
  return ops->set(doc, "(0002,0003)", "UI", uid, strlen(uid));
}

void mv_deid_document(mv_engine *e, const mv_loaded *fmt, mv_doc *doc,
                      const char *input_id, int keep_preview,
                      mv_outcome *out) {
  memset(out, 0, sizeof *out);
  const mv_format_ops *ops = fmt->desc->format;
  mv_scrub_reset(e->scrub);
  mv_textphi_reset(e->phi);

  facts f;
  memset(&f, 0, sizeof f);
  f.e = e;
  f.per_tag = mv_policy_date_per_tag(e->policy);
  int rc = ops->visit(doc, collect_visit, &f);
  if (rc != MV_OK) {
    out->rc = rc;
    snprintf(out->reason, sizeof out->reason, "cannot read attributes: %s",
             mv_strerror(rc));
    return;
  }
  if (!f.tagged) {
    /* Other formats have no Modality or PixelData attribute: the plugin
     * says what its images are (format-png: OT) and whether it has any. */
    get_text(ops, doc, "Modality", f.modality, sizeof f.modality);
    mv_pixel_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    if (mv_format_has_pixels(ops) && ops->pixel_info(doc, &info) != MV_ENOTFOUND)
      f.has_pixels = 1;
  }
  read_identity(ops, doc, &out->before);
  char why[160];
  if (needs_pixel_cleaning(e->policy, &f, why, sizeof why)) {
    snprintf(out->pixel_why, sizeof out->pixel_why, "%s", why);
    if (!e->px) {
      out->rc = MV_EREJECT;
      snprintf(out->reason, sizeof out->reason,
               "pixel cleaning required by policy (%s) but no pixel stage "
               "is configured; not released",
               why);
      return;
    }
    /* Before the header changes: detectors key on the original device
     * attributes, and text is matched against the original values. */
    const mv_pixel_settings *ps = mv_policy_pixel_settings(e->policy);
    mv_pixel_job job = {.ops = ops,
                        .doc = doc,
                        .mode = mv_pixpolicy_mode(ps, pixel_modality(e->policy, &f)),
                        .phi = e->phi,
                        .scrub = e->scrub,
                        .keep_preview = keep_preview};
    rc = mv_pixels_clean(e->px, &job, &out->px);
    if (rc != MV_OK) {
      out->rc = rc;
      snprintf(out->reason, sizeof out->reason, "%s", out->px.reason);
      return;
    }
  }

  applier ap;
  memset(&ap, 0, sizeof ap);
  ap.e = e;
  ap.ops = ops;
  ap.doc = doc;
  ap.out = out;
  /* One offset per patient: the same value keys every object of theirs. */
  const char *who = f.per_value[0]     ? f.per_value
                    : f.patient_id[0]  ? f.patient_id
                    : f.patient_name[0] ? f.patient_name
                                        : f.study_uid;
  long lo, hi;
  mv_policy_date_range(e->policy, &lo, &hi);
  ap.day_offset = mv_derive_day_offset(e->key, who, strlen(who), lo, hi);
  int cap = mv_policy_age_cap(e->policy);
  if (cap > 0) {
    int years;
    double age;
    if (f.birth_date[0] && f.study_date[0] &&
        mv_age_between(f.birth_date, strlen(f.birth_date), f.study_date,
                       strlen(f.study_date), &years) == 0 &&
        years > cap)
      ap.birth_over_cap = 1;
    if (f.patient_age[0] &&
        mv_age_years(f.patient_age, strlen(f.patient_age), &age) == 0 &&
        age > cap)
      ap.birth_over_cap = 1;
  }
  if (e->api) mv_lua_api_begin(e->api, ops, doc);
  rc = ops->visit(doc, apply_visit, &ap);
  if (ap.failed || rc != MV_OK) {
    out->rc = ap.failed ? MV_ESCRIPT : rc;
    snprintf(out->reason, sizeof out->reason, "%s",
             ap.failed ? ap.reason : mv_strerror(rc));
    if (e->api) mv_lua_api_end(e->api);
    return;
  }
  int after = mv_policy_after_ref(e->policy);
  if (after != LUA_NOREF) {
    char reason[256];
    rc = mv_lua_api_call_after(e->api, after, reason, sizeof reason);
    if (rc != MV_OK) {
      out->rc = rc;
      snprintf(out->reason, sizeof out->reason, "%s", reason);
      mv_lua_api_end(e->api);
      return;
    }
  }
  if (e->api) mv_lua_api_end(e->api);

  rc = mv_marks_apply(e->policy, fmt, doc, out->actions,
                      out->px.ran && out->px.cleaned);
  if (rc != MV_OK) {
    out->rc = rc;
    snprintf(out->reason, sizeof out->reason,
             "cannot write de-identification marks: %s", mv_strerror(rc));
    return;
  }
  rc = name_instance(e, fmt, doc, input_id);
  if (rc != MV_OK) {
    out->rc = rc;
    snprintf(out->reason, sizeof out->reason,
             "cannot set the instance UID of the file meta: %s",
             mv_strerror(rc));
    return;
  }
  mv_derive_pseudonym(e->key, "SUBJ", f.patient_id, strlen(f.patient_id),
                      out->patient, sizeof out->patient);
  get_uid(ops, doc, "StudyInstanceUID", out->study, sizeof out->study);
  get_uid(ops, doc, "SeriesInstanceUID", out->series, sizeof out->series);
  get_uid(ops, doc, "SOPInstanceUID", out->sop, sizeof out->sop);
  if (!out->sop[0]) get_uid(ops, doc, "(0002,0003)", out->sop, sizeof out->sop);
  read_identity(ops, doc, &out->after);
  out->rc = MV_OK;
}
