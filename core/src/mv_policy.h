/* mv_policy.h - a rule file, validated and compiled into C lookup tables.
 *
 * A worker loads the policy once into its own sandboxed Lua state; built-in
 * actions then run from the tables here without entering Lua, and only
 * function actions and after() call back into the state. */
#ifndef MV_POLICY_H
#define MV_POLICY_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "mv_pixpolicy.h"
#include "mv_registry.h"
#include "mv_sandbox.h"

typedef enum mv_action_kind {
  MV_ACT_KEEP = 0,
  MV_ACT_REMOVE,
  MV_ACT_EMPTY,
  MV_ACT_DUMMY,
  MV_ACT_UID,
  MV_ACT_CLEAN,
  MV_ACT_SHIFT,
  MV_ACT_YEAR,
  MV_ACT_AGE,
  MV_ACT_REPLACE,
  MV_ACT_PSEUDONYM,
  MV_ACT_HASH,
  MV_ACT_FUNC,
  MV_ACT__COUNT
} mv_action_kind;

/* Lower-case names as rule files spell them ("keep", "pseudonym", ...). */
const char *mv_action_name(int kind);

typedef struct mv_action {
  uint8_t kind;    /* mv_action_kind */
  uint8_t set;     /* 1 when a rule defined it */
  int16_t length;  /* hash: hex characters */
  int func_ref;    /* function: Lua registry reference */
  const char *text; /* replace: value; pseudonym: prefix (owned by policy) */
} mv_action;

/* Profile options (Table E.1-1 columns and the two without columns). */
typedef enum mv_option {
  MV_OPT_RETAIN_SAFE_PRIVATE = 1u << 0,
  MV_OPT_RETAIN_UIDS = 1u << 1,
  MV_OPT_RETAIN_DEVICE_IDENTITY = 1u << 2,
  MV_OPT_RETAIN_INSTITUTION_IDENTITY = 1u << 3,
  MV_OPT_RETAIN_PATIENT_CHARACTERISTICS = 1u << 4,
  MV_OPT_RETAIN_LONG_FULL_DATES = 1u << 5,
  MV_OPT_RETAIN_LONG_MODIFIED_DATES = 1u << 6,
  MV_OPT_CLEAN_DESCRIPTORS = 1u << 7,
  MV_OPT_CLEAN_STRUCTURED_CONTENT = 1u << 8,
  MV_OPT_CLEAN_GRAPHICS = 1u << 9,
  MV_OPT_CLEAN_PIXEL_DATA = 1u << 10,
  MV_OPT_CLEAN_VISUAL_FEATURES = 1u << 11
} mv_option;

typedef struct mv_option_info {
  const char *name;    /* as in rule files: "clean_descriptors" */
  unsigned bit;
  const char *code;    /* CID 7050 code value */
  const char *meaning; /* CID 7050 code meaning */
} mv_option_info;

/* The option table, terminated by {NULL}. */
extern const mv_option_info mv_option_table[];

typedef enum mv_pixels_when {
  MV_PIXELS_NEVER = 0,
  MV_PIXELS_BURNED_IN, /* BurnedInAnnotation YES or a listed modality */
  MV_PIXELS_ALWAYS
} mv_pixels_when;

typedef struct mv_policy mv_policy;

typedef struct mv_policy_env {
  const char *scripts_dir;
  const char *rules_dir;
  const mv_registry *registry; /* resolves keywords through format plugins */
  mv_sandbox_limits limits;
} mv_policy_env;

/* Load `spec` (a bundled profile name or a path to a rule file), run it
 * once in a new sandbox and compile the table it returns. On failure
 * returns MV_ESCRIPT (or MV_ENOMEM) with "file:line: reason" in err. */
int mv_policy_load(const mv_policy_env *env, const char *spec,
                   mv_policy **out, char *err, size_t errlen);
void mv_policy_free(mv_policy *p);

/* The action for one element. `creator` is the private creator of a
 * private data element (or NULL); `vr` its two-letter VR. */
const mv_action *mv_policy_lookup(const mv_policy *p, uint32_t tag,
                                  const char *creator, const char *vr);
/* The action for an attribute of a non-DICOM format (tag 0), by its
 * namespaced name ("png:tEXt:Comment"): an exact `named` rule, else the
 * longest matching prefix rule ("png:tEXt:*"), else remove. NULL name:
 * remove. */
const mv_action *mv_policy_lookup_named(const mv_policy *p,
                                        const char *name);
/* Whether a private creator element naming `creator` must be kept because
 * some rule keeps (or edits) elements of that creator's block. */
int mv_policy_keeps_creator(const mv_policy *p, uint16_t group,
                            const char *creator);

/* Read-only views used by the engine. */
lua_State *mv_policy_lua(const mv_policy *p);
const char *mv_policy_name(const mv_policy *p);
const char *mv_policy_description(const mv_policy *p);
unsigned mv_policy_options(const mv_policy *p);
void mv_policy_date_range(const mv_policy *p, long *min_days, long *max_days);
uint32_t mv_policy_date_per_tag(const mv_policy *p);
int mv_policy_age_cap(const mv_policy *p); /* 0 when none */
mv_pixels_when mv_policy_pixels_when(const mv_policy *p);
int mv_policy_pixel_modality(const mv_policy *p, const char *modality);
const mv_pixel_settings *mv_policy_pixel_settings(const mv_policy *p);
int mv_policy_after_ref(const mv_policy *p); /* LUA_NOREF when none */
/* Whether objects call back into Lua (function actions, after()). A policy
 * that does not is plain C tables after loading: threads may share it. */
int mv_policy_uses_lua(const mv_policy *p);
/* "file" the policy came from, for messages. */
const char *mv_policy_source(const mv_policy *p);
/* Number of explicit rules (tags, patterns, private, vrs, named). */
size_t mv_policy_rule_count(const mv_policy *p);

#endif
