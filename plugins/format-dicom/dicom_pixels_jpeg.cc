/* dicom_pixels_jpeg.cc - JPEG baseline frames through plugins/shared
 * (mv_jpegblock), when that library is built in (MVDCM_HAVE_JPEGBLOCK).
 *
 * Decoding uses mvjb_decode rather than dcmtk so that the pixels the core
 * sees are exactly those mvjb_redact keeps outside the changed blocks (no
 * fancy upsampling). A changed frame is rewritten block by block: every
 * 8x8 block (MCU for colour) not under a changed rectangle keeps its
 * coefficients. Without the library, baseline frames are decoded by dcmtk
 * and are read-only. */
#include "dicom_pixels.h"

#ifdef MVDCM_HAVE_JPEGBLOCK
#include "mv_jpegblock.h"
#endif

#include <cstdlib>
#include <cstring>

namespace mvdcm {

#ifdef MVDCM_HAVE_JPEGBLOCK

static_assert(sizeof(mvjb_rect) == sizeof(mv_rect), "mvjb_rect mirrors mv_rect");

bool jpegblock_available() { return true; }

int jpeg_decode(const ImageGeom &g, const std::vector<uint8_t> &jpg, RawFrame &raw,
                char *err, size_t errlen) {
  mvjb_image im;
  memset(&im, 0, sizeof im);
  int rc = mvjb_decode(jpg.data(), jpg.size(), &im, err, errlen);
  if (rc != MV_OK) return rc;
  if (im.width != g.cols || im.height != g.rows || im.samples != g.spp) {
    set_err(err, errlen, "JPEG frame is %ux%u with %u component(s), the object says %ux%u with %u",
            im.width, im.height, im.samples, g.cols, g.rows, g.spp);
    mvjb_image_free(&im);
    return MV_EFORMAT;
  }
  const size_t row = size_t(im.width) * im.samples;
  raw.bytes.resize(row * im.height);
  for (uint32_t y = 0; y < im.height; y++)
    memcpy(&raw.bytes[y * row], im.data + y * im.stride, row);
  mvjb_image_free(&im);
  raw.planar = 0;
  raw.color = g.spp == 1 ? g.photometric : "RGB";
  return MV_OK;
}

int jpeg_redact(const std::vector<uint8_t> &jpg, const PlaneBuf &edited,
                std::vector<uint8_t> &out, char *err, size_t errlen) {
  const mv_image &e = edited.img;
  if (e.bits != 8) {
    set_err(err, errlen, "JPEG blocks: edited plane is not 8-bit");
    return MV_EINVAL;
  }
  mvjb_image im;
  im.width = e.width;
  im.height = e.height;
  im.samples = e.samples;
  im.stride = e.stride;
  im.data = static_cast<uint8_t *>(e.data);
  uint8_t *buf = nullptr;
  size_t len = 0;
  int rc = mvjb_redact(jpg.data(), jpg.size(), &im,
                       reinterpret_cast<const mvjb_rect *>(edited.rects.data()),
                       edited.rects.size(), &buf, &len, err, errlen);
  if (rc != MV_OK) return rc;
  if (!buf) {
    set_err(err, errlen, "JPEG blocks: no output");
    return MV_EPLUGIN;
  }
  out.assign(buf, buf + len);
  free(buf);
  return MV_OK;
}

#else

bool jpegblock_available() { return false; }

int jpeg_decode(const ImageGeom &, const std::vector<uint8_t> &, RawFrame &, char *err,
                size_t errlen) {
  set_err(err, errlen, "JPEG block library not built in");
  return MV_EUNSUPPORTED;
}

int jpeg_redact(const std::vector<uint8_t> &, const PlaneBuf &, std::vector<uint8_t> &,
                char *err, size_t errlen) {
  set_err(err, errlen, "JPEG baseline cannot be written back: block library not built in");
  return MV_EUNSUPPORTED;
}

#endif

} // namespace mvdcm
