/* dicom_pixels_info.cc - the plane list, pixel_info, acquire, release and
 * the commit write() runs.
 *
 * The plane list is built on first use and rebuilt when the document was
 * restructured (keyed set/remove) while no plane is acquired or pending.
 * Encoding classes (what a change is written as):
 *   NATIVE      uncompressed grey, 8-bit RGB (in place); palette and YBR
 *               (the whole object becomes 8-bit RGB)
 *   LOSSLESS    RLE, JPEG lossless (.57 .70), JPEG-LS (.80, and .81 whose
 *               changed frames are encoded with NEAR=0), JPEG 2000 (.90,
 *               and .91 whose changed frames are encoded reversibly): the
 *               changed frame is re-encoded in the same transfer syntax
 *   JPEG_BLOCKS JPEG baseline / 8-bit extended (.50 .51) with mv_jpegblock
 *   READONLY    decodable, not writable: 16-bit colour, palette or YBR_ICT
 *               in a compressed syntax, 12-bit lossy JPEG, baseline without
 *               mv_jpegblock
 * Everything else is MV_EUNSUPPORTED with a reason. */
#include "dicom_pixels.h"

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <cstring>

namespace mvdcm {

void free_pixels(PixelState *px) { delete px; }

PixelState &pixels_of(mv_doc *doc) {
  if (!doc->px) doc->px = new PixelState;
  return *doc->px;
}

namespace {

int fail(PixelState &px, int rc, const char *why) {
  px.status = rc;
  px.reason = why;
  px.listed = true;
  return rc;
}

uint32_t encoding_of(const PixelState &px) {
  const ImageGeom &g = px.main;
  const bool colour16 = g.spp == 3 && g.bits_alloc != 8;
  switch (px.codec) {
  case Codec::Native:
    return colour16 ? MV_PIXENC_READONLY : MV_PIXENC_NATIVE;
  case Codec::Rle:
  case Codec::JpegLossless:
  case Codec::JpegLs:
  case Codec::J2k:
  case Codec::Htj2k:
    if (colour16 || g.photometric == "PALETTE COLOR" || g.photometric == "YBR_ICT" ||
        g.photometric == "YBR_FULL_422")
      return MV_PIXENC_READONLY;
    if (px.codec != Codec::J2k && px.codec != Codec::Htj2k && (g.photometric == "YBR_RCT" || g.photometric == "YBR_ICT"))
      return MV_PIXENC_READONLY;
    return MV_PIXENC_LOSSLESS;
  case Codec::JpegBaseline:
    if (g.photometric == "PALETTE COLOR" || !jpegblock_available()) return MV_PIXENC_READONLY;
    return MV_PIXENC_JPEG_BLOCKS;
  default:
    return MV_PIXENC_READONLY;
  }
}

bool same_geom(const ImageGeom &a, const ImageGeom &b) {
  return a.rows == b.rows && a.cols == b.cols && a.spp == b.spp &&
         a.bits_alloc == b.bits_alloc && a.bits_stored == b.bits_stored &&
         a.high_bit == b.high_bit && a.pixrep == b.pixrep && a.planar == b.planar &&
         a.frames == b.frames && a.photometric == b.photometric &&
         a.encapsulated == b.encapsulated;
}

} // namespace

int pixels_list(mv_doc *doc, char *err, size_t errlen) {
  PixelState &px = pixels_of(doc);
  if (px.listed && (px.gen == doc->gen || !px.held.empty() || !px.pending.empty()))
    goto done;
  px.gen = doc->gen;
  px.listed = false;
  px.status = MV_OK;
  px.reason.clear();
  px.planes.clear();
  px.has_icon = false;
  px.xfer = doc->read_xfer;
  px.syntax = doc->passthrough ? doc->passthrough : DcmXfer(doc->read_xfer).getXferID();
  {
    char why[160] = {0};
    int rc = read_geom(doc->ff.getDataset(), px.main, why, sizeof why);
    if (rc != MV_OK) {
      fail(px, rc, why);
      goto done;
    }
  }
  px.codec = doc->passthrough ? (is_htj2k_uid(px.syntax) ? Codec::Htj2k : Codec::None)
                              : codec_of(px.xfer, px.syntax);
  if (!px.main.encapsulated) {
    px.codec = Codec::Native;
  } else if (px.codec == Codec::Native) {
    fail(px, MV_EFORMAT, "encapsulated pixel data in an uncompressed transfer syntax");
    goto done;
  }
  if (px.codec == Codec::None) {
    fail(px, MV_EUNSUPPORTED,
         doc->passthrough ? "pixel data in this transfer syntax cannot be decoded (pass-through)"
                          : "pixel data in this transfer syntax cannot be decoded");
    goto done;
  }
  if (px.codec == Codec::JpegBaseline && (px.main.bits_alloc != 8 || px.main.bits_stored > 8))
    px.codec = Codec::JpegOther;
  if (const char *why = image_unsupported(px.main)) {
    fail(px, MV_EUNSUPPORTED, why);
    goto done;
  }
  px.encoding = encoding_of(px);
  for (uint32_t f = 0; f < px.main.frames; f++) {
    PlaneRef p;
    p.kind = MV_PLANE_FRAME;
    p.frame = p.index = f;
    p.width = px.main.cols;
    p.height = px.main.rows;
    px.planes.push_back(p);
  }
  list_overlays(doc, px);
  list_icon(doc, px);
  px.listed = true;
done:
  if (px.status != MV_OK) set_err(err, errlen, "%s", px.reason.c_str());
  return px.status;
}

int op_pixel_info(mv_doc *doc, mv_pixel_info *info) {
  if (!doc || !info || info->size < offsetof(mv_pixel_info, planes) + sizeof(uint32_t))
    return MV_EINVAL;
  char why[200] = {0};
  int rc = pixels_list(doc, why, sizeof why);
  if (rc != MV_OK) {
    /* pixel_info has no reason buffer: the reason goes to the log */
    if (rc != MV_ENOTFOUND && doc->st && doc->st->log)
      doc->st->log(MV_LOG_INFO, "format-dicom", "pixels: %s", why);
    return rc;
  }
  const PixelState &px = *doc->px;
  mv_pixel_info out;
  memset(&out, 0, sizeof out);
  out.size = info->size;
  out.planes = static_cast<uint32_t>(px.planes.size());
  out.frames = px.main.frames;
  out.width = px.main.cols;
  out.height = px.main.rows;
  out.samples = px.main.spp;
  out.encoding = px.encoding;
  snprintf(out.photometric, sizeof out.photometric, "%s", px.main.photometric.c_str());
  snprintf(out.syntax, sizeof out.syntax, "%s", px.syntax.c_str());
  size_t n = info->size < sizeof out ? info->size : sizeof out;
  memcpy(info, &out, n);
  return MV_OK;
}

int op_acquire(mv_doc *doc, uint32_t plane, mv_image *img, char *err, size_t errlen) {
  if (!doc || !img) return MV_EINVAL;
  int rc = pixels_list(doc, err, errlen);
  if (rc != MV_OK) return rc;
  PixelState &px = *doc->px;
  if (plane >= px.planes.size()) {
    set_err(err, errlen, "plane %u out of range (%zu planes)", plane, px.planes.size());
    return MV_EINVAL;
  }
  if (px.held.count(plane)) {
    set_err(err, errlen, "plane %u is already acquired", plane);
    return MV_EINVAL;
  }
  const PlaneRef &p = px.planes[plane];
  std::unique_ptr<PlaneBuf> pb(new PlaneBuf);
  auto pend = px.pending.find(plane);
  if (pend != px.pending.end()) { /* acquired again: show the change */
    pb->data = pend->second->data;
    pb->img = pend->second->img;
    pb->img.data = pb->data.data();
  } else if (p.kind == MV_PLANE_OVERLAY) {
    rc = overlay_acquire(doc, p, *pb, err, errlen);
  } else {
    const ImageGeom &g = p.kind == MV_PLANE_ICON ? px.icon : px.main;
    RawFrame raw;
    if (g.encapsulated && p.kind == MV_PLANE_ICON) {
      set_err(err, errlen, "compressed icon images are not supported");
      rc = MV_EUNSUPPORTED;
    } else if (g.encapsulated) {
      rc = codec_decode(px, p.index, raw, err, errlen);
    } else {
      rc = native_frame(g, p.index, raw, err, errlen);
    }
    if (rc == MV_OK) rc = raw_to_image(g, raw, *pb, err, errlen);
  }
  if (rc != MV_OK) return rc;
  pb->img.kind = p.kind;
  pb->img.frame = p.frame;
  *img = pb->img;
  px.held[plane] = std::move(pb);
  return MV_OK;
}

int op_release(mv_doc *doc, uint32_t plane, const mv_rect *changed, size_t n, char *err,
               size_t errlen) {
  if (!doc || !doc->px) return MV_EINVAL;
  PixelState &px = *doc->px;
  auto it = px.held.find(plane);
  if (it == px.held.end()) {
    set_err(err, errlen, "plane %u is not acquired", plane);
    return MV_EINVAL;
  }
  std::unique_ptr<PlaneBuf> pb = std::move(it->second);
  px.held.erase(it);
  if (n == 0 || !changed) return MV_OK; /* nothing changed: bytes stay */
  const PlaneRef &p = px.planes[plane];
  std::vector<mv_rect> rects = clip_rects(changed, n, pb->img.width, pb->img.height);
  if (rects.empty()) return MV_OK;
  if (p.kind == MV_PLANE_FRAME && px.encoding == MV_PIXENC_READONLY) {
    set_err(err, errlen, "pixels in this encoding (%s, %s) cannot be written back",
            px.syntax.c_str(), px.main.photometric.c_str());
    return MV_EUNSUPPORTED;
  }
  if (p.kind == MV_PLANE_ICON && px.icon.encapsulated) {
    set_err(err, errlen, "compressed icon images cannot be written back");
    return MV_EUNSUPPORTED;
  }
  auto pend = px.pending.find(plane);
  if (pend != px.pending.end())
    rects.insert(rects.end(), pend->second->rects.begin(), pend->second->rects.end());
  pb->rects = std::move(rects);
  px.pending[plane] = std::move(pb);
  return MV_OK;
}

int pixels_commit(mv_doc *doc, char *err, size_t errlen) {
  if (!doc->px || doc->px->pending.empty()) return MV_OK;
  PixelState &px = *doc->px;
  if (doc->st && doc->st->log && !px.held.empty())
    doc->st->log(MV_LOG_WARN, "format-dicom",
                 "%zu plane(s) still acquired at write: their changes are not stored",
                 px.held.size());
  std::map<uint32_t, const PlaneBuf *> frames, icon;
  for (const auto &kv : px.pending) {
    const PlaneRef &p = px.planes[kv.first];
    if (p.kind == MV_PLANE_FRAME) frames[p.index] = kv.second.get();
    if (p.kind == MV_PLANE_ICON) icon[0] = kv.second.get();
  }
  /* The policy may have changed the dataset since the planes were listed:
   * find the pixel elements again. Removed ones take their changes with
   * them; a different geometry is an error. */
  DcmDataset *ds = doc->ff.getDataset();
  char why[160] = {0};
  if (!frames.empty()) {
    ImageGeom fresh;
    int grc = read_geom(ds, fresh, why, sizeof why);
    if (grc == MV_ENOTFOUND) {
      frames.clear();
    } else if (grc != MV_OK || !same_geom(fresh, px.main)) {
      set_err(err, errlen, "pixel data changed since it was acquired");
      return MV_EINVAL;
    } else {
      px.main = fresh;
    }
  }
  if (!icon.empty()) {
    DcmItem *it = nullptr;
    ImageGeom fresh;
    if (ds->findAndGetSequenceItem(DCM_IconImageSequence, it, 0).bad() || !it ||
        !it->tagExists(DCM_PixelData)) {
      icon.clear();
    } else if (!icon_readable(it, fresh) || !same_geom(fresh, px.icon)) {
      set_err(err, errlen, "icon image changed since it was acquired");
      return MV_EINVAL;
    } else {
      px.icon = fresh;
    }
  }
  /* icon and overlays first (small, checked before they change anything);
   * a failure anywhere fails write(), so no half-changed file is written */
  int rc = MV_OK;
  if (!icon.empty()) rc = native_commit(px.icon, icon, err, errlen);
  for (const auto &kv : px.pending) {
    if (rc != MV_OK) break;
    const PlaneRef &p = px.planes[kv.first];
    if (p.kind == MV_PLANE_OVERLAY) rc = overlay_commit(doc, p, *kv.second, err, errlen);
  }
  if (rc == MV_OK && !frames.empty())
    rc = px.main.encapsulated ? codec_commit(px, frames, err, errlen)
                              : native_commit(px.main, frames, err, errlen);
  if (rc != MV_OK) return rc;
  px.pending.clear();
  px.listed = false; /* geometry may have changed (palette -> RGB) */
  doc->restructured();
  return MV_OK;
}

} // namespace mvdcm
