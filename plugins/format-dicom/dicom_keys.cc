/* dicom_keys.cc - keys and keyed access: resolve, get, set, remove.
 *
 * A key is a path of segments separated by '.': each a dictionary keyword
 * ("PatientName") or a tag "(0010,0010)", optionally followed by a 0-based
 * item index "[2]". Every segment but the last must name a sequence (no
 * index means item 0). Keywords come from a table built once at init,
 * because dcmtk's own lookup by name scans the whole dictionary. */
#include "dicom_internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dcvr.h"

#include <cstdio>
#include <cstring>

namespace mvdcm {

/* Items created on demand by set(): a path may name item 70 000 by
 * mistake; more items than this in one sequence is refused. */
constexpr long kMaxCreateIndex = 65535;

namespace {

struct Seg {
  DcmTagKey tag;
  long idx; /* -1: no index given */
};

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parse exactly four hex digits at *s. */
bool hex4(const char *&s, uint16_t &out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(s[i]);
    if (h < 0) return false;
    v = v << 4 | unsigned(h);
  }
  s += 4;
  out = static_cast<uint16_t>(v);
  return true;
}

int parse_path(const State *st, const char *key, Seg *segs, size_t &n) {
  n = 0;
  if (!key || !*key) return MV_EINVAL;
  const char *s = key;
  for (;;) {
    if (n == kMaxPathSegments) return MV_EINVAL;
    Seg seg{DcmTagKey(), -1};
    if (*s == '(') {
      uint16_t g, e;
      s++;
      if (!hex4(s, g)) return MV_EINVAL;
      if (*s++ != ',') return MV_EINVAL;
      while (*s == ' ') s++;
      if (!hex4(s, e) || *s++ != ')') return MV_EINVAL;
      seg.tag = DcmTagKey(g, e);
    } else {
      const char *b = s;
      while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
             (*s >= '0' && *s <= '9') || *s == '_')
        s++;
      if (s == b || s - b > 128) return MV_EINVAL;
      auto it = st->keywords.find(std::string(b, size_t(s - b)));
      if (it == st->keywords.end()) return MV_ENOTFOUND;
      seg.tag = it->second;
    }
    if (*s == '[') {
      s++;
      long v = 0;
      const char *b = s;
      while (*s >= '0' && *s <= '9' && s - b < 9) v = v * 10 + (*s++ - '0');
      if (s == b || *s++ != ']') return MV_EINVAL;
      seg.idx = v;
    }
    segs[n++] = seg;
    if (*s == '\0') return MV_OK;
    if (*s++ != '.') return MV_EINVAL;
  }
}

DcmElement *find_in(DcmItem *item, const DcmTagKey &tag) {
  DcmElement *el = nullptr;
  if (item->findAndGetElement(tag, el, OFFalse).bad()) return nullptr;
  return el;
}

/* Walk to the item holding the last segment. With create, missing
 * sequences and items on the way are made. */
int walk(mv_doc *doc, const Seg *segs, size_t n, bool create, DcmItem *&item) {
  item = doc->ff.getDataset();
  for (size_t i = 0; i + 1 < n; i++) {
    DcmElement *el = find_in(item, segs[i].tag);
    if (!el) {
      if (!create) return MV_ENOTFOUND;
      el = new DcmSequenceOfItems(DcmTag(segs[i].tag, EVR_SQ));
      if (item->insert(el, OFFalse).bad()) {
        delete el;
        return MV_EINVAL;
      }
    }
    if (el->ident() != EVR_SQ) return create ? MV_EINVAL : MV_ENOTFOUND;
    DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(el);
    long idx = segs[i].idx < 0 ? 0 : segs[i].idx;
    if (static_cast<unsigned long>(idx) >= sq->card()) {
      if (!create) return MV_ENOTFOUND;
      if (idx > kMaxCreateIndex) return MV_ELIMIT;
      while (sq->card() <= static_cast<unsigned long>(idx))
        if (sq->append(new DcmItem()).bad()) return MV_ENOMEM;
    }
    item = sq->getItem(static_cast<unsigned long>(idx));
  }
  return MV_OK;
}

bool valid_vr(const char *vr, DcmEVR &evr) {
  if (!vr || strlen(vr) != 2 || vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' ||
      vr[1] > 'Z')
    return false;
  DcmVR v(vr);
  if (!v.isStandard()) return false; /* also rules out dcmtk-internal VRs */
  evr = v.getEVR();
  return evr != EVR_UN;
}

/* The VR to create an element with when the caller gave none. */
bool dictionary_vr(const DcmTagKey &key, DcmEVR &evr) {
  DcmTag t(key);
  evr = t.getEVR();
  switch (evr) {
  case EVR_xs: evr = EVR_US; break;
  case EVR_ox: case EVR_px: evr = EVR_OB; break;
  case EVR_lt: evr = EVR_OW; break;
  case EVR_up: evr = EVR_UL; break;
  default: break;
  }
  return evr != EVR_UNKNOWN && evr != EVR_UNKNOWN2B && evr != EVR_UN &&
         evr != EVR_na;
}

} // namespace

void build_keywords(State &st) {
  DcmDataDictionary &dict = dcmDataDict.wrlock(); /* iterators are non-const */
  for (DcmHashDictIterator it = dict.normalBegin(); it != dict.normalEnd(); ++it) {
    const DcmDictEntry *e = *it;
    if (e && !e->getPrivateCreator() && e->getTagName())
      st.keywords.emplace(e->getTagName(), e->getKey());
  }
  for (DcmDictEntryListIterator it = dict.repeatingBegin();
       it != dict.repeatingEnd(); ++it) {
    const DcmDictEntry *e = *it;
    if (e && !e->getPrivateCreator() && e->getTagName())
      st.keywords.emplace(e->getTagName(), e->getKey());
  }
  dcmDataDict.wrunlock();
}

int resolve_key(const State *st, const char *key, uint32_t *tag, char vr[4]) {
  Seg seg[kMaxPathSegments];
  size_t n;
  int rc = parse_path(st, key, seg, n);
  if (rc != MV_OK) return rc;
  if (n != 1 || seg[0].idx >= 0) return MV_EINVAL;
  if (tag) *tag = uint32_t(seg[0].tag.getGroup()) << 16 | seg[0].tag.getElement();
  if (vr) {
    DcmTag t(seg[0].tag);
    memcpy(vr, vr_name(t.getEVR()), 3);
    vr[3] = 0;
  }
  return MV_OK;
}

int op_get(mv_doc *doc, const char *key, const char **value, size_t *len) {
  if (!doc || !value) return MV_EINVAL;
  Seg segs[kMaxPathSegments];
  size_t n;
  int rc = parse_path(doc->st, key, segs, n);
  if (rc != MV_OK) return rc;
  const Seg &last = segs[n - 1];
  if (last.idx >= 0) return MV_EINVAL; /* an item has no value */
  DcmItem *item;
  DcmElement *el;
  if (n == 1 && last.tag.getGroup() == 0x0002) {
    el = find_in(doc->ff.getMetaInfo(), last.tag);
  } else {
    if ((rc = walk(doc, segs, n, false, item)) != MV_OK) return rc;
    el = find_in(item, last.tag);
  }
  if (!el) return MV_ENOTFOUND;
  std::string out;
  if (el->ident() == EVR_SQ) {
    out = std::to_string(static_cast<DcmSequenceOfItems *>(el)->card());
  } else {
    static thread_local OFString text;
    if (!text_value(el, text)) return MV_EUNSUPPORTED; /* binary */
    out.assign(text.data(), text.size());
  }
  doc->borrowed.push_back(std::move(out));
  *value = doc->borrowed.back().c_str();
  if (len) *len = doc->borrowed.back().size();
  return MV_OK;
}

int op_set(mv_doc *doc, const char *key, const char *vr, const char *value,
           size_t len) {
  if (!doc || (len && !value)) return MV_EINVAL;
  Seg segs[kMaxPathSegments];
  size_t n;
  int rc = parse_path(doc->st, key, segs, n);
  if (rc != MV_OK) return rc;
  const Seg &last = segs[n - 1];
  if (last.idx >= 0) return MV_EINVAL;
  if (segs[0].tag.getGroup() == 0x0002) {
    /* The meta header is rebuilt from the dataset on write; the one thing
     * a caller may give it is the instance UID of an object that has no
     * SOPInstanceUID of its own (a DICOMDIR), which the core derives. */
    if (n != 1 || last.tag != DCM_MediaStorageSOPInstanceUID || !len)
      return MV_EUNSUPPORTED;
    DcmMetaInfo *meta = doc->ff.getMetaInfo();
    if (!meta) return MV_EINVAL;
    OFString uid(value, len);
    if (meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, uid.c_str()).bad())
      return MV_EINVAL;
    doc->restructured();
    return MV_OK;
  }
  if (last.tag.getElement() == 0x0000) return MV_EUNSUPPORTED; /* group length */
  DcmEVR want = EVR_UNKNOWN;
  if (vr && !valid_vr(vr, want)) return MV_EINVAL;
  DcmItem *item;
  rc = walk(doc, segs, n, true, item);
  doc->restructured(); /* the walk may have created items */
  if (rc != MV_OK) return rc;
  DcmElement *el = find_in(item, last.tag);
  if (el && vr && el->ident() != want && strcmp(vr_name(el->getVR()), vr) != 0) {
    /* a different VR was asked for: replace the element */
    delete item->remove(el);
    el = nullptr;
  }
  bool created = false;
  if (!el) {
    if (!vr && !dictionary_vr(last.tag, want)) return MV_EINVAL;
    if (DcmItem::newDicomElementWithVR(el, DcmTag(last.tag, DcmVR(want))).bad() || !el)
      return MV_EINVAL;
    if (item->insert(el, OFTrue).bad()) {
      delete el;
      return MV_EINVAL;
    }
    created = true;
  }
  if (el->ident() == EVR_SQ) {
    rc = len == 0 ? MV_OK : MV_EINVAL; /* only an empty sequence is settable */
  } else if (len == 0 && !is_string_vr(el->ident()) && !is_numeric_vr(el->ident())) {
    el->clear();
    rc = MV_OK;
  } else {
    rc = put_text(el, value, len, true, &doc->non_ascii);
  }
  if (rc != MV_OK && created) delete item->remove(el);
  return rc;
}

int op_remove(mv_doc *doc, const char *key) {
  if (!doc) return MV_EINVAL;
  Seg segs[kMaxPathSegments];
  size_t n;
  int rc = parse_path(doc->st, key, segs, n);
  if (rc != MV_OK) return rc;
  if (segs[0].tag.getGroup() == 0x0002) return MV_EUNSUPPORTED;
  DcmItem *item;
  if ((rc = walk(doc, segs, n, false, item)) != MV_OK) return rc;
  const Seg &last = segs[n - 1];
  DcmElement *el = find_in(item, last.tag);
  if (!el) return MV_ENOTFOUND;
  if (last.idx >= 0) {
    /* "Seq[2]" removes that item */
    if (el->ident() != EVR_SQ) return MV_ENOTFOUND;
    DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(el);
    if (static_cast<unsigned long>(last.idx) >= sq->card()) return MV_ENOTFOUND;
    delete sq->remove(static_cast<unsigned long>(last.idx));
  } else {
    delete item->remove(el);
  }
  doc->restructured();
  return MV_OK;
}

} // namespace mvdcm
