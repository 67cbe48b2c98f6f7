/* dicom_value.cc - element values as the core sees them, and list access.
 *
 * One place decides which VRs are text, how a value is trimmed and joined,
 * how a new value is stored, and how long a binary value is, so visit()
 * and get() always agree. */
#include "dicom_internal.h"

#include "dcmtk/dcmdata/dcvr.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace mvdcm {

void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

bool is_string_vr(DcmEVR evr) {
  switch (evr) {
  case EVR_AE: case EVR_AS: case EVR_CS: case EVR_DA: case EVR_DS:
  case EVR_DT: case EVR_IS: case EVR_LO: case EVR_LT: case EVR_PN:
  case EVR_SH: case EVR_ST: case EVR_TM: case EVR_UC: case EVR_UI:
  case EVR_UR: case EVR_UT:
    return true;
  default:
    return false;
  }
}

bool is_numeric_vr(DcmEVR evr) {
  switch (evr) {
  case EVR_AT: case EVR_FL: case EVR_FD: case EVR_SL: case EVR_SS:
  case EVR_UL: case EVR_US: case EVR_SV: case EVR_UV: case EVR_xs:
  case EVR_up:
    return true;
  default:
    return false;
  }
}

namespace {
/* DcmEVR -> valid two-letter name, computed once (getValidVRName maps
 * dcmtk-internal VRs such as "ox" or "xs" to the standard ones). */
struct VrNames {
  char name[EVR_UNKNOWN2B + 1][3];
  VrNames() {
    for (int i = 0; i < int(sizeof name / sizeof name[0]); i++) {
      const char *s = DcmVR(static_cast<DcmEVR>(i)).getValidVRName();
      if (!s || strlen(s) != 2) s = "UN";
      name[i][0] = s[0];
      name[i][1] = s[1];
      name[i][2] = 0;
    }
  }
};
const VrNames &vr_names() {
  static const VrNames names;
  return names;
}

/* Member pointers named through a derived class: the standard-conforming
 * way to reach a protected member of an object of the base class. */
struct ItemAccess : DcmItem {
  static DcmList *DcmItem::*member() { return &ItemAccess::elementList; }
};
struct SeqAccess : DcmSequenceOfItems {
  static DcmList *DcmSequenceOfItems::*member() { return &SeqAccess::itemList; }
};
} // namespace

const char *vr_name(DcmEVR evr) {
  const VrNames &n = vr_names();
  int i = static_cast<int>(evr);
  if (i < 0 || i >= int(sizeof n.name / sizeof n.name[0])) return "UN";
  return n.name[i];
}

DcmList *element_list(DcmItem *item) { return item->*ItemAccess::member(); }
DcmList *item_list(DcmSequenceOfItems *sq) {
  return sq->*SeqAccess::member();
}

bool text_value(DcmElement *el, OFString &out) {
  out.clear();
  DcmEVR evr = el->ident();
  if (!is_string_vr(evr) && !is_numeric_vr(evr)) return false;
  if (el->getLength() == 0) return true;
  /* normalize=false: dcmtk's normalising path re-counts the values for
   * each one (quadratic on long DS arrays such as RT contours); padding is
   * trimmed below instead. */
  if (el->getOFStringArray(out, OFFalse).bad()) {
    out.clear();
    return true;
  }
  size_t end = out.size();
  while (end > 0 && (out[end - 1] == ' ' || out[end - 1] == '\0')) end--;
  out.resize(end);
  return true;
}

int put_text(DcmElement *el, const char *value, size_t len, bool allow_numeric,
             bool *non_ascii) {
  DcmEVR evr = el->ident();
  if (!is_string_vr(evr) && !(allow_numeric && is_numeric_vr(evr)))
    return MV_EUNSUPPORTED;
  if (len && !value) return MV_EINVAL;
  if (len && memchr(value, '\0', len)) return MV_EINVAL;
  for (size_t i = 0; i < len; i++)
    if (static_cast<unsigned char>(value[i]) >= 0x80) {
      *non_ascii = true;
      break;
    }
  OFCondition c = len ? el->putOFStringArray(OFString(value, len))
                      : el->putString("");
  if (c.bad()) return MV_EINVAL;
  return MV_OK;
}

size_t value_length(DcmElement *el, E_TransferSyntax xfer) {
  Uint32 l = el->getLength();
  if (el->ident() == EVR_PixelData && (l == 0 || l == DCM_UndefinedLength)) {
    /* encapsulated: the fragments' encoded size in the file's syntax,
     * without the 8-byte delimiter that closes them */
    Uint32 enc = el->getLength(xfer, EET_UndefinedLength);
    if (enc != DCM_UndefinedLength) return enc;
  }
  return l == DCM_UndefinedLength ? 0 : l;
}

} // namespace mvdcm
