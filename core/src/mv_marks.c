/* mv_marks.c - write the de-identification marks into a document. */
#include "mv_marks.h"

#include <stdio.h>
#include <string.h>

static int put(const mv_format_ops *ops, mv_doc *doc, const char *key,
               const char *vr, const char *value) {
  return ops->set(doc, key, vr, value, strlen(value));
}

static int put_code(const mv_format_ops *ops, mv_doc *doc, int item,
                    const char *code, const char *meaning) {
  char key[64];
  int rc;
  snprintf(key, sizeof key, "(0012,0064)[%d].(0008,0100)", item);
  if ((rc = put(ops, doc, key, "SH", code))) return rc;
  snprintf(key, sizeof key, "(0012,0064)[%d].(0008,0102)", item);
  if ((rc = put(ops, doc, key, "SH", "DCM"))) return rc;
  snprintf(key, sizeof key, "(0012,0064)[%d].(0008,0104)", item);
  return put(ops, doc, key, "LO", meaning);
}

int mv_marks_apply(const mv_policy *p, const mv_loaded *fmt, mv_doc *doc,
                   const unsigned long *actions, int pixels_cleaned) {
  const mv_format_ops *ops = fmt->desc->format;
  uint32_t tag;
  char vr[4];
  /* The marks are DICOM attributes: formats without them carry none. */
  if (ops->resolve(fmt->state, "PatientIdentityRemoved", &tag, vr) != MV_OK)
    return MV_OK;
  int rc;
  if ((rc = put(ops, doc, "(0012,0062)", "CS", "YES"))) return rc;
  if ((rc = put(ops, doc, "(0012,0063)", "LO", mv_policy_description(p))))
    return rc;
  /* Replace whatever codes an earlier de-identification left. */
  rc = ops->remove(doc, "(0012,0064)");
  if (rc != MV_OK && rc != MV_ENOTFOUND) return rc;
  int item = 0;
  if ((rc = put_code(ops, doc, item++, "113100",
                     "Basic Application Confidentiality Profile")))
    return rc;
  unsigned opts = mv_policy_options(p);
  for (const mv_option_info *o = mv_option_table; o->name; o++) {
    if (!(opts & o->bit) || (o->bit & MV_OPT_UNCLAIMED)) continue;
    if ((rc = put_code(ops, doc, item++, o->code, o->meaning))) return rc;
  }
  if (pixels_cleaned) {
    if ((rc = put_code(ops, doc, item++, "113101", "Clean Pixel Data Option")))
      return rc;
    if ((rc = put(ops, doc, "(0028,0301)", "CS", "NO"))) return rc;
  }
  const char *temporal = "REMOVED";
  if (opts & MV_OPT_RETAIN_LONG_FULL_DATES) temporal = "UNMODIFIED";
  else if ((opts & MV_OPT_RETAIN_LONG_MODIFIED_DATES) ||
           actions[MV_ACT_SHIFT] || actions[MV_ACT_YEAR])
    temporal = "MODIFIED";
  return put(ops, doc, "(0028,0303)", "CS", temporal);
}
