/* mv_errors.c - messages and names for the error table in errors.h. */
#include "medveil/errors.h"

const char *mv_strerror(int rc) {
  switch (rc) {
#define MV__ERR_MSG(name, value, msg) \
  case value:                         \
    return msg;
    MV_ERR_MAP(MV__ERR_MSG)
#undef MV__ERR_MSG
  }
  return "unknown error";
}

const char *mv_errname(int rc) {
  switch (rc) {
#define MV__ERR_NAME(name, value, msg) \
  case value:                          \
    return #name;
    MV_ERR_MAP(MV__ERR_NAME)
#undef MV__ERR_NAME
  }
  return "EUNKNOWN";
}
