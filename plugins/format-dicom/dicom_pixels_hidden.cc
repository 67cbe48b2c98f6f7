/* dicom_pixels_hidden.cc - drop_hidden_pixels: pixel payloads no redactor
 * reaches because they are not planes.
 *
 * Removed (each counts one):
 *  - GE ultrasound previews and movies: (6003,xx10) of
 *    "GEMS_Ultrasound_ImageGroup_001" (a sequence of preview images) and
 *    every element of a "GEMS_Ultrasound_MovieGroup_001" block in (7FE1)
 *    (raw cine data), private creator included;
 *  - pixel data (7FE0,0008/0009/0010) inside any sequence item other than
 *    the icon image sequence (0088,0200);
 *  - any private OB/OW/UN element of 64 KiB or more (binary payloads large
 *    enough to be images);
 *  - an icon image sequence (0088,0200) whose icon cannot be a plane
 *    (compressed, malformed), so is listed nowhere;
 *  - overlay data (60xx,3000) that cannot be read as a 1-bit plane (the
 *    whole 60xx group goes);
 *  - overlays kept in unused high bits of native pixel data (retired
 *    60xx with OverlayBitPosition but no OverlayData): the bit is cleared
 *    in every frame and the overlay's 60xx attributes are removed. */
#include "dicom_pixels.h"

#include "dcmtk/dcmdata/dcdeftag.h"

#include <cstring>

namespace mvdcm {
namespace {

constexpr uint32_t kBigPrivate = 64 * 1024;

/* Private creator of (g, e) in `item`, "" if none. */
std::string creator_of(DcmItem *item, uint16_t g, uint16_t e) {
  if (!(g & 1) || e < 0x1000) return std::string();
  OFString v;
  if (item->findAndGetOFString(DcmTagKey(g, e >> 8), v, 0, OFFalse).bad()) return std::string();
  std::string s(v.c_str());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

bool is_binary_vr(DcmEVR e) {
  return e == EVR_OB || e == EVR_OW || e == EVR_UN || e == EVR_ox || e == EVR_px ||
         e == EVR_UNKNOWN || e == EVR_UNKNOWN2B;
}

bool hidden(DcmItem *item, DcmObject *o, bool in_sequence, bool in_icon) {
  const DcmTagKey t = o->getTag();
  const uint16_t g = t.getGroup(), e = t.getElement();
  if (g == 0x6003 && e >= 0x1000 && (e & 0xff) == 0x10 &&
      creator_of(item, g, e) == "GEMS_Ultrasound_ImageGroup_001")
    return true;
  if (g == 0x7fe1) {
    if (e >= 0x0010 && e <= 0x00ff) { /* a creator: its block goes too */
      OFString v;
      static_cast<DcmElement *>(o)->getOFString(v, 0);
      std::string s(v.c_str());
      while (!s.empty() && s.back() == ' ') s.pop_back();
      if (s == "GEMS_Ultrasound_MovieGroup_001") return true;
    } else if (creator_of(item, g, e) == "GEMS_Ultrasound_MovieGroup_001") {
      return true;
    }
  }
  if (g == 0x7fe0 && (e == 0x0008 || e == 0x0009 || e == 0x0010) && in_sequence && !in_icon)
    return true;
  if ((g & 1) && e >= 0x1000 && is_binary_vr(o->ident()) && o->getLength() >= kBigPrivate)
    return true;
  if (t == DCM_IconImageSequence && o->ident() == EVR_SQ) {
    DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(o);
    DcmItem *icon = sq->card() ? sq->getItem(0) : nullptr;
    ImageGeom ig;
    if (icon && icon->tagExists(DCM_PixelData) && !icon_readable(icon, ig)) return true;
  }
  return false;
}

void drop_group(DcmItem *ds, uint16_t grp) {
  DcmList *list = element_list(ds);
  std::vector<DcmObject *> gone;
  for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next))
    if (o->getGTag() == grp) gone.push_back(o);
  for (DcmObject *o : gone) delete ds->remove(o);
}

/* Overlay data no plane shows (wrong size, not 1 bit). */
unsigned drop_unreadable_overlays(mv_doc *doc) {
  DcmDataset *ds = doc->ff.getDataset();
  unsigned n = 0;
  for (uint16_t grp = 0x6000; grp <= 0x601E; grp += 2)
    if (ds->tagExists(DcmTagKey(grp, 0x3000)) && !overlay_is_plane(ds, grp)) {
      drop_group(ds, grp);
      n++;
    }
  return n;
}

/* Retired overlays in the high bits of native pixel data. */
unsigned drop_embedded_overlays(mv_doc *doc) {
  DcmDataset *ds = doc->ff.getDataset();
  ImageGeom g;
  char why[128];
  if (read_geom(ds, g, why, sizeof why) != MV_OK || g.encapsulated || g.bits_alloc != 16 ||
      g.spp != 1)
    return 0;
  unsigned n = 0;
  for (uint16_t grp = 0x6000; grp <= 0x601E; grp += 2) {
    Uint16 bp = 0, ba = 0;
    if (ds->tagExists(DcmTagKey(grp, 0x3000))) continue; /* separate plane */
    if (ds->findAndGetUint16(DcmTagKey(grp, 0x0102), bp, 0, OFFalse).bad()) continue;
    ds->findAndGetUint16(DcmTagKey(grp, 0x0100), ba, 0, OFFalse);
    if (bp >= 16 || (bp >= g.high_bit + 1 - g.bits_stored && bp <= g.high_bit)) continue;
    uint8_t *b = element_bytes(g.pixels);
    if (!b) continue;
    const uint16_t clear = static_cast<uint16_t>(~(1u << bp));
    const size_t count = size_t(g.frame_bytes / 2) * g.frames;
    for (size_t i = 0; i < count; i++) {
      uint16_t v = static_cast<uint16_t>(b[2 * i] | b[2 * i + 1] << 8) & clear;
      b[2 * i] = static_cast<uint8_t>(v);
      b[2 * i + 1] = static_cast<uint8_t>(v >> 8);
    }
    drop_group(ds, grp); /* its description goes with its bits */
    n++;
  }
  return n;
}

} // namespace

int op_drop_hidden_pixels(mv_doc *doc, uint32_t *count) {
  if (!doc || !count) return MV_EINVAL;
  *count = 0;
  if (doc->px && (!doc->px->held.empty() || !doc->px->pending.empty()))
    return MV_EINVAL; /* planes point into the dataset */
  struct Frame {
    DcmItem *item;
    bool in_sequence, in_icon;
  };
  std::vector<Frame> todo{{doc->ff.getDataset(), false, false}};
  std::vector<std::pair<DcmItem *, DcmObject *>> gone;
  while (!todo.empty()) {
    Frame fr = todo.back();
    todo.pop_back();
    /* snapshot first: lookups of private creators move the list cursor */
    DcmList *list = element_list(fr.item);
    std::vector<DcmObject *> els;
    for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next)) els.push_back(o);
    for (DcmObject *o : els) {
      if (hidden(fr.item, o, fr.in_sequence, fr.in_icon)) {
        gone.push_back({fr.item, o});
        continue;
      }
      if (o->ident() != EVR_SQ) continue;
      const bool icon = o->getTag() == DCM_IconImageSequence;
      DcmList *il = item_list(static_cast<DcmSequenceOfItems *>(o));
      for (DcmObject *it = il->seek(ELP_first); it; it = il->seek(ELP_next))
        todo.push_back({static_cast<DcmItem *>(it), true, icon});
    }
  }
  for (auto &g : gone) delete g.first->remove(g.second);
  uint32_t n = static_cast<uint32_t>(gone.size());
  n += drop_unreadable_overlays(doc);
  n += drop_embedded_overlays(doc);
  if (n) {
    doc->restructured();
    if (doc->px) doc->px->listed = false;
  }
  *count = n;
  return MV_OK;
}

} // namespace mvdcm
