/* dicom_pixels_overlay.cc - overlay planes (60xx,3000) and the icon image.
 *
 * An overlay is 1 bit per pixel, packed from bit 0 of each byte, frames of
 * a multi-frame overlay following each other bit-wise. It is shown as an
 * 8-bit grey plane of 0 and 255 (OverlayRows x OverlayColumns); on write a
 * pixel of 128 or more sets the bit. Overlays kept in the high bits of the
 * pixel data (retired) are not planes: see dicom_pixels_hidden.cc. The icon
 * is item 0 of (0088,0200), an ordinary native image (palette icons become
 * RGB when changed, as the main image does). */
#include "dicom_pixels.h"

#include "dcmtk/dcmdata/dcdeftag.h"

namespace mvdcm {
namespace {

struct Overlay {
  DcmElement *data = nullptr;
  uint32_t rows = 0, cols = 0, frames = 1, origin = 1;
};

/* The overlay of group `g`, when it is a separate 1-bit plane we can read. */
bool find_overlay(DcmItem *ds, uint16_t g, Overlay &o) {
  DcmElement *el = nullptr;
  if (ds->findAndGetElement(DcmTagKey(g, 0x3000), el, OFFalse).bad() || !el) return false;
  Uint16 r = 0, c = 0, ba = 1, bp = 0, origin = 1;
  if (ds->findAndGetUint16(DcmTagKey(g, 0x0010), r, 0, OFFalse).bad() ||
      ds->findAndGetUint16(DcmTagKey(g, 0x0011), c, 0, OFFalse).bad() || !r || !c)
    return false;
  ds->findAndGetUint16(DcmTagKey(g, 0x0100), ba, 0, OFFalse);
  ds->findAndGetUint16(DcmTagKey(g, 0x0102), bp, 0, OFFalse);
  ds->findAndGetUint16(DcmTagKey(g, 0x0051), origin, 0, OFFalse);
  Sint32 nf = 1;
  if (ds->tagExists(DcmTagKey(g, 0x0015)) &&
      ds->findAndGetSint32(DcmTagKey(g, 0x0015), nf, 0, OFFalse).bad())
    nf = 1;
  if (nf < 1) nf = 1;
  if (ba != 1 || bp != 0 || static_cast<uint32_t>(nf) > kMaxFrames) return false;
  uint64_t bits = uint64_t(r) * c * static_cast<uint32_t>(nf);
  if (uint64_t(r) * c > kMaxFrameBytes || (bits + 7) / 8 > el->getLength()) return false;
  o.data = el;
  o.rows = r;
  o.cols = c;
  o.frames = static_cast<uint32_t>(nf);
  o.origin = origin ? origin : 1;
  return true;
}

} // namespace

bool overlay_is_plane(DcmItem *ds, uint16_t group) {
  Overlay o;
  return find_overlay(ds, group, o);
}

void list_overlays(mv_doc *doc, PixelState &px) {
  DcmItem *ds = doc->ff.getDataset();
  unsigned skipped = 0;
  for (uint16_t g = 0x6000; g <= 0x601E; g += 2) {
    Overlay o;
    if (!find_overlay(ds, g, o)) {
      if (ds->tagExists(DcmTagKey(g, 0x3000))) skipped++;
      continue;
    }
    for (uint32_t k = 0; k < o.frames; k++) {
      PlaneRef p;
      p.kind = MV_PLANE_OVERLAY;
      p.group = g;
      p.index = k;
      p.frame = o.origin - 1 + k;
      p.width = o.cols;
      p.height = o.rows;
      px.planes.push_back(p);
    }
  }
  if (skipped && doc->st && doc->st->log)
    doc->st->log(MV_LOG_WARN, "format-dicom",
                 "%u overlay(s) with data not readable as 1-bit planes", skipped);
}

bool icon_readable(DcmItem *icon, ImageGeom &g) {
  char err[160];
  if (read_geom(icon, g, err, sizeof err) != MV_OK || g.encapsulated ||
      image_unsupported(g) || g.frames != 1)
    return false;
  /* icons are small: decode once now rather than list a plane that fails */
  RawFrame raw;
  PlaneBuf pb;
  return native_frame(g, 0, raw, err, sizeof err) == MV_OK &&
         raw_to_image(g, raw, pb, err, sizeof err) == MV_OK;
}

void list_icon(mv_doc *doc, PixelState &px) {
  DcmItem *icon = nullptr;
  if (doc->ff.getDataset()->findAndGetSequenceItem(DCM_IconImageSequence, icon, 0).bad() ||
      !icon)
    return;
  if (!icon_readable(icon, px.icon)) {
    /* drop_hidden_pixels removes it: no plane can show it */
    if (doc->st && doc->st->log)
      doc->st->log(MV_LOG_WARN, "format-dicom",
                   "icon image (0088,0200) not readable as a plane (compressed or malformed)");
    return;
  }
  px.has_icon = true;
  PlaneRef p;
  p.kind = MV_PLANE_ICON;
  p.width = px.icon.cols;
  p.height = px.icon.rows;
  px.planes.push_back(p);
}

int overlay_acquire(mv_doc *doc, const PlaneRef &p, PlaneBuf &out, char *err,
                    size_t errlen) {
  Overlay o;
  if (!find_overlay(doc->ff.getDataset(), p.group, o)) {
    set_err(err, errlen, "overlay (%04X,3000) no longer readable", p.group);
    return MV_ENOTFOUND;
  }
  const uint8_t *b = element_bytes(o.data);
  if (!b) {
    set_err(err, errlen, "overlay (%04X,3000) unreadable", p.group);
    return MV_EFORMAT;
  }
  image_header(out, o.cols, o.rows, 1, 8);
  const uint64_t npix = uint64_t(o.rows) * o.cols, base = npix * p.index;
  for (uint64_t i = 0; i < npix; i++) {
    uint64_t bit = base + i;
    out.data[i] = (b[bit >> 3] >> (bit & 7)) & 1 ? 255 : 0;
  }
  return MV_OK;
}

int overlay_commit(mv_doc *doc, const PlaneRef &p, const PlaneBuf &edited, char *err,
                   size_t errlen) {
  Overlay o;
  /* removed since it was acquired (by the policy): nothing left to write */
  if (!find_overlay(doc->ff.getDataset(), p.group, o)) return MV_OK;
  uint8_t *b = element_bytes(o.data);
  if (!b || edited.img.width != o.cols || edited.img.height != o.rows) {
    set_err(err, errlen, "overlay (%04X,3000) cannot be written", p.group);
    return MV_EFORMAT;
  }
  const uint64_t base = uint64_t(o.rows) * o.cols * p.index;
  const uint8_t *src = static_cast<const uint8_t *>(edited.img.data);
  for (const mv_rect &r : edited.rects)
    for (int32_t y = r.y; y < r.y + r.h; y++)
      for (int32_t x = r.x; x < r.x + r.w; x++) {
        uint64_t bit = base + uint64_t(y) * o.cols + x;
        uint8_t m = static_cast<uint8_t>(1u << (bit & 7));
        if (src[size_t(y) * edited.img.stride + x] >= 128)
          b[bit >> 3] |= m;
        else
          b[bit >> 3] &= static_cast<uint8_t>(~m);
      }
  return MV_OK;
}

} // namespace mvdcm
