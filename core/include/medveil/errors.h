/* medveil/errors.h - the one error table shared by the core, the CLI and plugins.
 *
 * Every fallible function returns an int from this table. Values are frozen:
 * new codes are appended, never renumbered, because plugins built against an
 * older header compare against them. */
#ifndef MEDVEIL_ERRORS_H
#define MEDVEIL_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* XX(NAME, value, message) */
#define MV_ERR_MAP(XX)                                                  \
  XX(OK,        0,  "success")                                          \
  XX(DONE,      1,  "iteration finished")                               \
  XX(EINVAL,    2,  "invalid argument")                                 \
  XX(ENOMEM,    3,  "out of memory")                                    \
  XX(ENOTFOUND, 4,  "no such attribute")                                \
  XX(EFORMAT,   5,  "malformed or unsupported input")                   \
  XX(EIO,       6,  "input/output error")                               \
  XX(EABI,      7,  "plugin ABI mismatch")                              \
  XX(ESCRIPT,   8,  "policy script error")                              \
  XX(ELIMIT,    9,  "resource limit exceeded")                          \
  XX(EPLUGIN,   10, "plugin failed")                                    \
  XX(EPERM,     11, "unsafe file permissions")                          \
  XX(EKEY,      12, "missing or invalid key")                           \
  XX(EREJECT,   13, "object rejected by policy")                        \
  XX(EEXIST,    14, "output exists with different content")             \
  XX(EUNSUPPORTED, 15, "operation not supported")                      \
  XX(EDECRYPT,  16, "cannot decrypt: wrong key or damaged record")      \
  XX(ETAMPER,   17, "integrity check failed")                           \
  XX(ELEAK,     18, "identifying values found in the output")

typedef enum mv_err {
#define MV__ERR_ENUM(name, value, msg) MV_##name = value,
  MV_ERR_MAP(MV__ERR_ENUM)
#undef MV__ERR_ENUM
  MV__ERR_END
} mv_err;

/* Short English message for a code ("no such attribute"); never NULL. */
const char *mv_strerror(int rc);
/* The code's name without prefix ("ENOTFOUND"); never NULL. */
const char *mv_errname(int rc);

#ifdef __cplusplus
}
#endif
#endif
