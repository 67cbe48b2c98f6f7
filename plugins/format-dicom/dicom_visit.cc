/* dicom_visit.cc - visit() and set_value(): the depth-first attribute walk.
 *
 * The walk is iterative (one Level per open item) and steps through dcmtk's
 * child lists directly, so next and remove are O(1) and a removal takes
 * effect at once without invalidating the walk. The visitor may also change
 * the document by key while it is called; such a change bumps doc->gen and
 * the walk re-finds its place by tags (dcmtk keeps items sorted by tag).
 * The file meta (group 0002) is not part of the dataset and never visited;
 * group lengths are not shown because write() drops them. */
#include "dicom_internal.h"

#include <cstring>

namespace mvdcm {
namespace {

enum LevelState : uint8_t {
  L_START,   /* nothing visited yet in this item */
  L_RUN,     /* `cur` is the element last shown, cursor on it */
  L_REMOVED, /* `cur` was removed; `next_hint` follows it */
  L_BYTAG    /* place lost: continue after `cur_tag` */
};

struct Creator {
  uint8_t block;
  std::string name;
};

struct Level {
  DcmItem *item = nullptr;
  DcmList *list = nullptr;
  DcmObject *cur = nullptr;
  DcmObject *next_hint = nullptr;
  DcmTagKey cur_tag;
  LevelState state = L_START;
  /* the sequence this item belongs to (not for the dataset) */
  DcmSequenceOfItems *sq = nullptr;
  DcmList *sqlist = nullptr;
  unsigned long item_idx = 0;
  DcmTagKey sqtag;
  /* private creators of the odd group being walked in this item */
  uint16_t pgroup = 0;
  std::vector<Creator> creators;
};

/* Put the list cursor on obj; false when obj is not in the list. */
bool relocate(DcmList *list, DcmObject *obj) {
  if (list->get(ELP_atpos) == obj) return true;
  for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next))
    if (o == obj) return true;
  return false;
}

DcmObject *first_after_tag(DcmList *list, const DcmTagKey &tag) {
  for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next))
    if (o->getTag() > tag) return o;
  return nullptr;
}

DcmObject *next_element(Level &L) {
  switch (L.state) {
  case L_START:
    return L.list->seek(ELP_first);
  case L_RUN:
    if (!relocate(L.list, L.cur)) return first_after_tag(L.list, L.cur_tag);
    return L.list->seek(ELP_next);
  case L_REMOVED:
    if (L.next_hint && !relocate(L.list, L.next_hint))
      return first_after_tag(L.list, L.cur_tag);
    return L.next_hint;
  case L_BYTAG:
    return first_after_tag(L.list, L.cur_tag);
  }
  return nullptr;
}

DcmItem *next_item(Level &L) {
  if (!relocate(L.sqlist, L.item)) {
    /* item gone without notice: fall back to its index */
    if (L.item_idx + 1 >= L.sq->card()) return nullptr;
    return L.sq->getItem(L.item_idx + 1);
  }
  return static_cast<DcmItem *>(L.sqlist->seek(ELP_next));
}

void enter_item(Level &L, DcmItem *item) {
  L.item = item;
  L.list = element_list(item);
  L.cur = nullptr;
  L.next_hint = nullptr;
  L.state = L_START;
  L.pgroup = 0;
  L.creators.clear();
}

/* A keyed change happened during the callback: re-find every level by the
 * path of (sequence tag, item index) from the root. Returns true when obj,
 * the element just shown, is still in the innermost surviving level. */
bool resync(std::vector<Level> &lv, std::vector<uint32_t> &parents,
            DcmObject *obj) {
  for (size_t i = 1; i < lv.size(); i++) {
    Level &P = lv[i - 1];
    Level &L = lv[i];
    DcmObject *sqo = nullptr;
    for (DcmObject *o = P.list->seek(ELP_first); o; o = P.list->seek(ELP_next))
      if (o->getTag() == L.sqtag) {
        sqo = o;
        break;
      }
    DcmSequenceOfItems *sq =
        sqo && sqo->ident() == EVR_SQ ? static_cast<DcmSequenceOfItems *>(sqo)
                                      : nullptr;
    if (!sq || L.item_idx >= sq->card()) {
      DcmTagKey gone = L.sqtag;
      lv.resize(i);
      parents.resize(i - 1);
      lv.back().cur_tag = gone;
      lv.back().state = L_BYTAG;
      return false;
    }
    P.cur = sqo;
    P.cur_tag = sqo->getTag();
    P.state = L_RUN;
    L.sq = sq;
    L.sqlist = item_list(sq);
    DcmItem *it = sq->getItem(L.item_idx);
    if (it != L.item) {
      L.item = it;
      L.creators.clear();
      L.pgroup = 0;
    }
    L.list = element_list(it);
  }
  Level &T = lv.back();
  if (obj && relocate(T.list, obj) && obj->getTag() == T.cur_tag) {
    T.cur = obj;
    T.state = L_RUN;
    return true;
  }
  T.state = L_BYTAG;
  return false;
}

const char *find_creator(const Level &L, uint16_t g, uint16_t e) {
  if (L.pgroup != g) return nullptr;
  uint8_t block = static_cast<uint8_t>(e >> 8);
  for (const Creator &c : L.creators)
    if (c.block == block) return c.name.c_str();
  return nullptr;
}

} // namespace

int op_visit(mv_doc *doc, mv_visit_fn fn, void *ud) {
  if (!doc || !fn) return MV_EINVAL;
  DcmDataset *ds = doc->ff.getDataset();
  if (!ds) return MV_EINVAL;
  /* One text buffer per walk, reused for every attribute (a visitor may
   * start another walk, so not shared across calls). */
  OFString text;
  text.reserve(256);
  std::vector<Level> lv;
  lv.reserve(kMaxDepth + 2);
  lv.emplace_back();
  enter_item(lv.back(), ds);
  std::vector<uint32_t> &parents = doc->parents;
  parents.clear();
  uint64_t gen = doc->gen;

  while (!lv.empty()) {
    Level &L = lv.back();
    DcmObject *obj = next_element(L);
    if (!obj) {
      if (lv.size() == 1) break;
      DcmItem *it = next_item(L);
      if (it) {
        enter_item(L, it);
        L.item_idx++;
        continue;
      }
      lv.pop_back();
      parents.pop_back();
      continue;
    }
    L.cur = obj;
    L.cur_tag = obj->getTag();
    L.state = L_RUN;
    const uint16_t g = obj->getGTag(), e = obj->getETag();
    if (e == 0x0000) continue; /* group length: write() drops it */

    DcmElement *el = static_cast<DcmElement *>(obj);
    const DcmEVR cls = obj->ident();
    mv_attr a;
    memset(&a, 0, sizeof a);
    a.tag = uint32_t(g) << 16 | e;
    memcpy(a.vr, vr_name(obj->getVR()), 3);
    a.depth = static_cast<uint32_t>(lv.size() - 1);
    a.parents = parents.empty() ? nullptr : parents.data();

    const bool is_sq = cls == EVR_SQ;
    if (is_sq) {
      a.items = static_cast<uint32_t>(static_cast<DcmSequenceOfItems *>(obj)->card());
    } else if (is_string_vr(cls)) {
      text_value(el, text);
      a.value = text.c_str();
      a.len = text.size();
    } else {
      a.len = value_length(el, doc->read_xfer);
    }
    if (g & 1) {
      /* Creators precede their blocks (items are sorted by tag), so one
       * pass sees (gggg,00xx) before (gggg,xx00-xxFF). */
      if (L.pgroup != g) {
        L.pgroup = g;
        L.creators.clear();
      }
      if (e >= 0x1000)
        a.creator = find_creator(L, g, e);
      else if (e >= 0x0010 && e <= 0x00FF && a.value)
        L.creators.push_back(Creator{static_cast<uint8_t>(e), std::string(text)});
    }

    const int rc = fn(ud, &a, el);
    if (rc == MV_VISIT_ABORT) return MV_EREJECT;
    if (doc->gen != gen) {
      gen = doc->gen;
      if (!resync(lv, parents, obj)) continue; /* obj or its item is gone */
    }
    Level &C = lv.back(); /* same level as L; L may be stale after resync */
    switch (rc) {
    case MV_VISIT_KEEP: {
      if (!is_sq) break;
      DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(obj);
      if (sq->card() == 0) break;
      DcmList *items = item_list(sq);
      DcmItem *first = static_cast<DcmItem *>(items->seek(ELP_first));
      DcmTagKey sqtag = obj->getTag();
      parents.push_back(a.tag);
      lv.emplace_back(); /* C is not used after this */
      Level &N = lv.back();
      N.sq = sq;
      N.sqlist = items;
      N.sqtag = sqtag;
      N.item_idx = 0;
      enter_item(N, first);
      break;
    }
    case MV_VISIT_SKIP:
      break;
    case MV_VISIT_EMPTY:
      el->clear();
      doc->touched();
      break;
    case MV_VISIT_REMOVE: {
      if (!relocate(C.list, obj)) break;
      DcmObject *gone = C.list->remove(); /* cursor moves to the next */
      C.next_hint = C.list->get(ELP_atpos);
      C.state = L_REMOVED;
      C.cur = nullptr;
      delete gone;
      doc->touched();
      break;
    }
    default:
      return MV_EINVAL;
    }
  }
  return MV_OK;
}

int op_set_value(mv_doc *doc, void *handle, const char *value, size_t len) {
  if (!doc || !handle) return MV_EINVAL;
  DcmElement *el = static_cast<DcmElement *>(handle);
  int rc = put_text(el, value, len, false, &doc->non_ascii);
  if (rc == MV_OK) doc->touched();
  return rc;
}

} // namespace mvdcm
