/* dicom_charset.cc - make every text value UTF-8 at open.
 *
 * The core only ever sees UTF-8, so a dataset (or item) declaring another
 * SpecificCharacterSet is converted and then declares "ISO_IR 192". dcmtk
 * converts most sets through iconv, but glibc's iconv has no stand-alone
 * JIS X 0208/0212, so Japanese ISO 2022 text (IR 87, IR 159, with IR 13
 * katakana) is transcoded here to EUC-JP, which iconv does know. Common
 * misspellings of the defined terms ("ISO-IR 100", a lone "ISO 2022 IR 100")
 * are corrected first. Anything still not convertible is refused: a value
 * in an unknown encoding could hide a name from the policy. */
#include "dicom_internal.h"

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcspchrs.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/ofstd/ofchrenc.h"

#include <iconv.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace mvdcm {
namespace {

/* ---- defined terms ---- */

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  size_t b = 0;
  for (;;) {
    size_t e = s.find('\\', b);
    out.push_back(trim(s.substr(b, e == std::string::npos ? e : e - b)));
    if (e == std::string::npos) return out;
    b = e + 1;
  }
}

/* "ISO-IR 100", "iso_ir_100", "ISO IR100" -> "ISO_IR 100";
 * "ISO-2022-IR-87" -> "ISO 2022 IR 87". Anything else unchanged. */
std::string canonical_term(const std::string &v) {
  std::string u;
  for (char c : v) u += static_cast<char>(toupper(static_cast<unsigned char>(c)));
  size_t i = 0;
  auto seps = [&] {
    while (i < u.size() && (u[i] == ' ' || u[i] == '_' || u[i] == '-')) i++;
  };
  if (u.compare(0, 3, "ISO") != 0) return v;
  i = 3;
  seps();
  bool ext = false;
  if (u.compare(i, 4, "2022") == 0) {
    ext = true;
    i += 4;
    seps();
  }
  if (u.compare(i, 2, "IR") != 0) return v;
  i += 2;
  seps();
  size_t d = i;
  while (i < u.size() && isdigit(static_cast<unsigned char>(u[i]))) i++;
  if (d == i || i != u.size()) return v;
  return (ext ? "ISO 2022 IR " : "ISO_IR ") + u.substr(d);
}

std::string canonical_set(const std::string &raw) {
  std::vector<std::string> vals = split(raw);
  for (std::string &v : vals)
    if (!v.empty()) v = canonical_term(v);
  /* a single ISO 2022 term announces no extensions: the plain set */
  if (vals.size() == 1 && vals[0].compare(0, 12, "ISO 2022 IR ") == 0) {
    const std::string n = vals[0].substr(12);
    if (n == "6") vals[0] = "";
    else if (n != "87" && n != "159" && n != "149" && n != "58")
      vals[0] = "ISO_IR " + n;
  }
  std::string out;
  for (size_t k = 0; k < vals.size(); k++) out += (k ? "\\" : "") + vals[k];
  return out;
}

bool is_plain(const std::string &cs) {
  return cs.empty() || cs == "ISO_IR 192" || cs == "ISO_IR 6" ||
         cs == "ISO 2022 IR 6";
}

bool is_japanese(const std::string &cs) {
  for (const std::string &v : split(cs))
    if (v == "ISO 2022 IR 87" || v == "ISO 2022 IR 159") return true;
  return false;
}

/* Normalise the item's own SpecificCharacterSet in place; returns it. */
bool own_set(DcmItem *item, std::string &cs) {
  DcmElement *el = nullptr;
  if (item->findAndGetElement(DCM_SpecificCharacterSet, el, OFFalse).bad() || !el)
    return false;
  OFString v;
  if (!is_string_vr(el->ident()) || el->getOFStringArray(v).bad()) v.clear();
  std::string raw(v.c_str());
  cs = canonical_set(raw);
  if (cs != trim(raw)) el->putString(cs.c_str());
  return true;
}

/* ---- Japanese ISO 2022 -> EUC-JP ---- */

enum G0 { ASCII, ROMAJI, JIS0208, JIS0212 };

struct JpSets {
  G0 g0 = ASCII;
  bool kana = false; /* IR 13 katakana in G1 */
};

JpSets initial_sets(const std::string &cs) {
  JpSets s;
  std::vector<std::string> vals = split(cs);
  if (!vals.empty() && (vals[0] == "ISO 2022 IR 13" || vals[0] == "ISO_IR 13")) {
    s.g0 = ROMAJI;
    s.kana = true;
  }
  for (const std::string &v : vals)
    if (v == "ISO 2022 IR 13") s.kana = true;
  return s;
}

bool to_eucjp(const char *s, size_t n, const JpSets &init, std::string &out) {
  out.clear();
  JpSets st = init;
  for (size_t i = 0; i < n;) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b == 0x1B) {
      const size_t left = n - i;
      if (left >= 3 && s[i + 1] == '(' && (s[i + 2] == 'B' || s[i + 2] == 'J')) {
        st.g0 = s[i + 2] == 'B' ? ASCII : ROMAJI;
        i += 3;
      } else if (left >= 3 && s[i + 1] == ')' && s[i + 2] == 'I') {
        st.kana = true;
        i += 3;
      } else if (left >= 3 && s[i + 1] == '$' && (s[i + 2] == 'B' || s[i + 2] == '@')) {
        st.g0 = JIS0208;
        i += 3;
      } else if (left >= 4 && s[i + 1] == '$' && s[i + 2] == '(' && s[i + 3] == 'D') {
        st.g0 = JIS0212;
        i += 4;
      } else {
        return false; /* an escape we do not know */
      }
      continue;
    }
    if ((st.g0 == JIS0208 || st.g0 == JIS0212) && b >= 0x21 && b <= 0x7E) {
      if (i + 1 >= n) return false;
      unsigned char b2 = static_cast<unsigned char>(s[i + 1]);
      if (b2 < 0x21 || b2 > 0x7E) return false;
      if (st.g0 == JIS0212) out += '\x8F';
      out += static_cast<char>(b | 0x80);
      out += static_cast<char>(b2 | 0x80);
      i += 2;
      continue;
    }
    if (b >= 0x80) {
      if (!st.kana || b < 0xA1 || b > 0xDF) return false;
      out += '\x8E';
      out += static_cast<char>(b);
      i++;
      continue;
    }
    /* delimiters return to the initial sets (PS3.5 6.1.2.5.3) */
    if (b == '\\' || b == '^' || b == '=' || b == '\r' || b == '\n' ||
        b == '\t' || b == '\f')
      st = init;
    out += static_cast<char>(b);
    i++;
  }
  return true;
}

class Iconv {
public:
  Iconv() : cd_(iconv_open("UTF-8", "EUC-JP")) {}
  ~Iconv() {
    if (ok()) iconv_close(cd_);
  }
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  bool run(const std::string &in, std::string &out) {
    out.resize(in.size() * 3 / 2 + 16);
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    char *ip = const_cast<char *>(in.data()), *op = &out[0];
    size_t il = in.size(), ol = out.size();
    while (il > 0) {
      if (iconv(cd_, &ip, &il, &op, &ol) != static_cast<size_t>(-1)) break;
      if (errno != E2BIG) return false;
      size_t used = static_cast<size_t>(op - &out[0]);
      out.resize(out.size() * 2);
      op = &out[0] + used;
      ol = out.size() - used;
    }
    out.resize(static_cast<size_t>(op - &out[0]));
    return true;
  }

private:
  iconv_t cd_;
};

bool text_affected(DcmEVR e) {
  return e == EVR_SH || e == EVR_LO || e == EVR_ST || e == EVR_LT ||
         e == EVR_PN || e == EVR_UC || e == EVR_UT;
}

/* One item's own elements (not its sequences) from Japanese to UTF-8. */
bool convert_item_jp(DcmItem *item, const JpSets &sets, Iconv &cv) {
  std::string euc, utf8;
  DcmList *list = element_list(item);
  for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next)) {
    if (!text_affected(o->ident())) continue;
    DcmElement *el = static_cast<DcmElement *>(o);
    char *v = nullptr;
    Uint32 len = 0;
    if (el->getString(v, len).bad() || !v || len == 0) continue;
    bool plain = true;
    for (Uint32 k = 0; k < len && plain; k++)
      plain = static_cast<unsigned char>(v[k]) < 0x80 && v[k] != 0x1B;
    if (plain) continue;
    if (!to_eucjp(v, len, sets, euc) || !cv.run(euc, utf8)) return false;
    if (el->putString(utf8.c_str(), static_cast<Uint32>(utf8.size())).bad())
      return false;
  }
  return true;
}

/* Does the item's own text (not its sequences') hold a byte outside
 * ASCII, or an ISO 2022 escape? Pure ASCII reads the same in every set. */
bool item_has_high_text(DcmItem *item) {
  DcmList *list = element_list(item);
  for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next)) {
    if (!text_affected(o->ident())) continue;
    char *v = nullptr;
    Uint32 len = 0;
    if (static_cast<DcmElement *>(o)->getString(v, len).bad() || !v) continue;
    for (Uint32 k = 0; k < len; k++)
      if (static_cast<unsigned char>(v[k]) >= 0x80 || v[k] == 0x1B) return true;
  }
  return false;
}

/* Convert one item's own elements (not its sequences) with dcmtk's
 * converter for `cs`: used where dcmtk's whole-dataset conversion does not
 * reach (a DICOMDIR's top level and records). */
bool convert_item_dcmtk(DcmItem *item, const std::string &cs) {
  DcmSpecificCharacterSet conv;
  if (conv.selectCharacterSet(OFString(cs.c_str()), "ISO_IR 192").bad())
    return false;
  DcmList *list = element_list(item);
  for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next)) {
    if (!text_affected(o->ident())) continue;
    if (o->convertCharacterSet(conv).bad()) return false;
  }
  return true;
}

struct Walk {
  DcmItem *item;
  std::string cs; /* effective character set */
};

} // namespace

int to_utf8(mv_doc *doc, char *err, size_t errlen) {
  DcmDataset *ds = doc->ff.getDataset();
  /* Pass 1: normalise every declared set, learn what is there. */
  bool any_foreign = false, any_japanese = false;
  std::vector<Walk> items;
  std::vector<Walk> todo;
  std::string top;
  own_set(ds, top);
  todo.push_back({ds, top});
  while (!todo.empty()) {
    Walk w = todo.back();
    todo.pop_back();
    if (!is_plain(w.cs)) {
      any_foreign = true;
      if (is_japanese(w.cs)) any_japanese = true;
    }
    items.push_back(w);
    DcmList *list = element_list(w.item);
    for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next)) {
      if (o->ident() != EVR_SQ) continue;
      DcmList *il = item_list(static_cast<DcmSequenceOfItems *>(o));
      for (DcmObject *it = il->seek(ELP_first); it; it = il->seek(ELP_next)) {
        DcmItem *child = static_cast<DcmItem *>(it);
        std::string cs = w.cs;
        own_set(child, cs);
        todo.push_back({child, cs});
      }
    }
  }
  /* Pure ASCII text is the same in every set: nothing to convert (the
   * declaration stays; write() makes it ISO_IR 192 once a non-ASCII value
   * is set). */
  if (!any_foreign) return MV_OK;
  bool any_high = false;
  for (const Walk &w : items)
    if (!is_plain(w.cs) && item_has_high_text(w.item)) {
      any_high = true;
      break;
    }
  if (!any_high) return MV_OK;
  /* dcmtk 3.6.7 does not convert a DICOMDIR's top level nor update its
   * declaration: there every item is converted here, with its own (or
   * inherited) set. */
  bool dicomdir = false;
  {
    OFString cls;
    DcmMetaInfo *meta = doc->ff.getMetaInfo();
    if (meta && meta->findAndGetOFString(DCM_MediaStorageSOPClassUID, cls).good() &&
        cls == UID_MediaStorageDirectoryStorage)
      dicomdir = true;
    for (const Walk &w : items)
      if (w.item->ident() == EVR_dirRecord) dicomdir = true;
  }

  /* Phase 1, Japanese items: transcode their own elements here, then let
   * them (and so their inheriting children) declare UTF-8. */
  bool other_foreign = false;
  if (any_japanese) {
    Iconv cv;
    if (!cv.ok()) {
      set_err(err, errlen, "cannot convert character set (no EUC-JP converter)");
      return MV_EFORMAT;
    }
    for (const Walk &w : items) {
      if (!is_japanese(w.cs)) {
        if (!is_plain(w.cs)) other_foreign = true;
        continue;
      }
      if (!convert_item_jp(w.item, initial_sets(w.cs), cv)) {
        set_err(err, errlen, "cannot convert character set");
        return MV_EFORMAT;
      }
    }
    for (const Walk &w : items) {
      if (!is_japanese(w.cs)) continue;
      DcmElement *el = nullptr;
      if (w.item->findAndGetElement(DCM_SpecificCharacterSet, el, OFFalse).good() && el)
        el->putString("ISO_IR 192");
    }
  } else {
    other_foreign = true;
  }
  /* Phase 2, every other set: dcmtk and iconv, nested sets included. */
  if (other_foreign && dicomdir) {
    if (!OFCharacterEncoding::isLibraryAvailable()) {
      set_err(err, errlen, "cannot convert character set");
      return MV_EFORMAT;
    }
    for (const Walk &w : items) {
      if (is_plain(w.cs) || is_japanese(w.cs)) continue;
      if (!convert_item_dcmtk(w.item, w.cs)) {
        set_err(err, errlen, "cannot convert character set");
        return MV_EFORMAT;
      }
    }
    for (const Walk &w : items) {
      if (w.item != ds && !w.item->tagExists(DCM_SpecificCharacterSet)) continue;
      if (w.item->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192").bad()) {
        set_err(err, errlen, "cannot convert character set");
        return MV_EFORMAT;
      }
    }
    return MV_OK;
  }
  if (other_foreign && (!OFCharacterEncoding::isLibraryAvailable() ||
                        doc->ff.convertToUTF8().bad())) {
    set_err(err, errlen, "cannot convert character set");
    return MV_EFORMAT;
  }
  return MV_OK;
}

} // namespace mvdcm
