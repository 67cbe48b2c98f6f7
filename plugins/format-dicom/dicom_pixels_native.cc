/* dicom_pixels_native.cc - uncompressed samples and colour models.
 *
 * Reads the Image Pixel module, turns raw frames into the mv_image the core
 * sees (grey as stored, masked to BitsStored and sign-extended; colour as
 * 8-bit interleaved RGB from RGB, YBR_FULL, YBR_FULL_422 or a palette) and
 * writes edited pixels back: in place for grey and RGB, or by turning the
 * whole image into 8-bit RGB for palette and YBR data (a changed pixel
 * cannot be put back into a palette index or a shared chroma pair).
 * Byte order: dcmtk holds values in host order after loading; the plugin
 * assumes a little-endian host (checked at compile time below). */
#include "dicom_pixels.h"

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <algorithm>
#include <cstring>

namespace mvdcm {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "pixel code assumes a little-endian host");

namespace {

uint32_t us_or(DcmItem *item, const DcmTagKey &tag, uint32_t dflt, bool *have = nullptr) {
  Uint16 v = 0;
  bool ok = item->findAndGetUint16(tag, v, 0, OFFalse).good();
  if (have) *have = ok;
  return ok ? v : dflt;
}

/* Palette LUT: descriptor and entries scaled to 8 bits. */
struct Lut {
  uint32_t entries = 0;
  int32_t first = 0;
  std::vector<uint8_t> v;
};

/* Expand segmented palette data (PS3.3 C.7.9.2): discrete and linear
 * segments; indirect segments are refused. Bounded by the descriptor. */
bool expand_segmented(const uint16_t *w, size_t nw, uint32_t entries,
                      std::vector<uint16_t> &out) {
  out.clear();
  size_t i = 0;
  while (i + 1 < nw && out.size() < entries) {
    uint16_t op = w[i], n = w[i + 1];
    if (op == 0) {
      if (i + 2 + n > nw) return false;
      out.insert(out.end(), w + i + 2, w + i + 2 + n);
      i += 2 + n;
    } else if (op == 1) {
      if (i + 2 >= nw || out.empty()) return false;
      double y0 = out.back(), y1 = w[i + 2];
      for (uint32_t k = 1; k <= n; k++) out.push_back(uint16_t(y0 + (y1 - y0) * k / n + 0.5));
      i += 3;
    } else {
      return false;
    }
  }
  if (out.size() < entries) return false;
  out.resize(entries);
  return true;
}

int read_lut(DcmItem *item, const DcmTagKey &desc, const DcmTagKey &data,
             const DcmTagKey &segmented, Lut &lut, char *err, size_t errlen) {
  Uint16 d0 = 0, d1 = 0, d2 = 0;
  if (item->findAndGetUint16(desc, d0, 0).bad() ||
      item->findAndGetUint16(desc, d1, 1).bad() ||
      item->findAndGetUint16(desc, d2, 2).bad()) {
    set_err(err, errlen, "palette descriptor (%04X,%04X) missing or short",
            desc.getGroup(), desc.getElement());
    return MV_EFORMAT;
  }
  lut.entries = d0 ? d0 : 65536;
  lut.first = d1; /* first mapped value */
  lut.v.resize(lut.entries);
  DcmElement *el = nullptr;
  if (item->findAndGetElement(data, el, OFFalse).bad() || !el) {
    DcmElement *sg = nullptr;
    uint8_t *b = nullptr;
    std::vector<uint16_t> full;
    if (item->findAndGetElement(segmented, sg, OFFalse).good() && sg &&
        (b = element_bytes(sg)) &&
        expand_segmented(reinterpret_cast<const uint16_t *>(b), sg->getLength() / 2,
                         lut.entries, full)) {
      for (uint32_t i = 0; i < lut.entries; i++)
        lut.v[i] = static_cast<uint8_t>(d2 > 8 ? full[i] >> 8 : full[i]);
      return MV_OK;
    }
    set_err(err, errlen, "palette data (%04X,%04X) missing or unreadable", data.getGroup(),
            data.getElement());
    return MV_EFORMAT;
  }
  Uint8 *b = element_bytes(el);
  if (!b) {
    set_err(err, errlen, "palette data (%04X,%04X) unreadable", data.getGroup(),
            data.getElement());
    return MV_EFORMAT;
  }
  const size_t len = el->getLength();
  if (d2 > 8 && len >= size_t(lut.entries) * 2) { /* 16-bit entries: high byte */
    for (uint32_t i = 0; i < lut.entries; i++) lut.v[i] = b[2 * i + 1];
  } else if (d2 <= 8 && len >= size_t(lut.entries) * 2) {
    /* 8-bit entries one per word (seen in the wild): low byte */
    for (uint32_t i = 0; i < lut.entries; i++) lut.v[i] = b[2 * i];
  } else if (d2 <= 8 && len >= lut.entries) { /* 8-bit entries, packed */
    memcpy(lut.v.data(), b, lut.entries);
  } else {
    set_err(err, errlen, "palette data (%04X,%04X) shorter than its descriptor",
            data.getGroup(), data.getElement());
    return MV_EFORMAT;
  }
  return MV_OK;
}

inline uint8_t clamp8(double v) {
  return v <= 0 ? 0 : v >= 255 ? 255 : static_cast<uint8_t>(v + 0.5);
}

/* ITU-R BT.601 full range, as PS3.3 C.7.6.3.1.2 gives it. */
inline void ybr_to_rgb(int y, int cb, int cr, uint8_t *rgb) {
  rgb[0] = clamp8(y + 1.402 * (cr - 128));
  rgb[1] = clamp8(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
  rgb[2] = clamp8(y + 1.772 * (cb - 128));
}
inline void rgb_to_ybr(const uint8_t *rgb, uint8_t *ybr) {
  double r = rgb[0], g = rgb[1], b = rgb[2];
  ybr[0] = clamp8(0.299 * r + 0.587 * g + 0.114 * b);
  ybr[1] = clamp8(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
  ybr[2] = clamp8(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
}

/* Value -> stored sample. Bits outside BitsStored are cleared (which also
 * clears overlay bits kept there), except the sign, which is extended
 * upwards when the stored bits start at bit 0, as writers do. */
inline uint32_t sample_encode(const ImageGeom &g, int32_t value) {
  uint32_t shift = g.high_bit + 1 - g.bits_stored;
  uint32_t mask = (1u << g.bits_stored) - 1;
  uint32_t v = static_cast<uint32_t>(value) & mask;
  if (g.pixrep && shift == 0 && value < 0) v = static_cast<uint32_t>(value);
  uint32_t all = g.bits_alloc >= 32 ? 0xffffffffu : (1u << g.bits_alloc) - 1;
  return (v << shift) & all;
}

inline void store_sample(uint8_t *p, size_t sb, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  if (sb == 2) p[1] = static_cast<uint8_t>(v >> 8);
}

/* Offset of sample s of pixel i in a raw frame. */
inline size_t sample_at(const ImageGeom &g, uint32_t planar, size_t i, uint32_t s) {
  size_t npix = size_t(g.rows) * g.cols;
  size_t sb = g.sample_bytes();
  return planar ? (s * npix + i) * sb : (i * g.spp + s) * sb;
}

bool is_ybr_full(const std::string &pm) { return pm == "YBR_FULL"; }
bool is_ybr_422(const std::string &pm) { return pm == "YBR_FULL_422"; }

} // namespace

void image_header(PlaneBuf &pb, uint32_t w, uint32_t h, uint32_t samples,
                  uint32_t bits) {
  mv_image &im = pb.img;
  memset(&im, 0, sizeof im);
  im.width = w;
  im.height = h;
  im.samples = samples;
  im.bits = bits;
  im.bits_stored = bits;
  im.stride = size_t(w) * samples * (bits / 8);
  pb.data.assign(im.stride * h, 0);
  im.data = pb.data.data();
}

std::vector<mv_rect> clip_rects(const mv_rect *r, size_t n, uint32_t w, uint32_t h) {
  std::vector<mv_rect> out;
  for (size_t i = 0; r && i < n; i++) {
    int64_t x0 = std::max<int64_t>(0, r[i].x), y0 = std::max<int64_t>(0, r[i].y);
    int64_t x1 = std::min<int64_t>(w, int64_t(r[i].x) + r[i].w);
    int64_t y1 = std::min<int64_t>(h, int64_t(r[i].y) + r[i].h);
    if (r[i].w <= 0 || r[i].h <= 0 || x1 <= x0 || y1 <= y0) continue;
    out.push_back({int32_t(x0), int32_t(y0), int32_t(x1 - x0), int32_t(y1 - y0)});
  }
  return out;
}

int read_geom(DcmItem *item, ImageGeom &g, char *err, size_t errlen) {
  g = ImageGeom();
  g.item = item;
  DcmElement *el = nullptr;
  if (item->findAndGetElement(DCM_PixelData, el, OFFalse).bad() || !el) {
    if (item->tagExists(DcmTagKey(0x7fe0, 0x0008)) ||
        item->tagExists(DcmTagKey(0x7fe0, 0x0009))) {
      set_err(err, errlen, "float pixel data (7FE0,0008/0009) is not supported");
      return MV_EUNSUPPORTED;
    }
    set_err(err, errlen, "no pixel data");
    return MV_ENOTFOUND;
  }
  g.pixels = el;
  bool have_r, have_c, have_ba;
  g.rows = us_or(item, DCM_Rows, 0, &have_r);
  g.cols = us_or(item, DCM_Columns, 0, &have_c);
  g.bits_alloc = us_or(item, DCM_BitsAllocated, 0, &have_ba);
  if (!have_r || !have_c || !have_ba || !g.rows || !g.cols) {
    set_err(err, errlen, "Rows, Columns or BitsAllocated missing or zero");
    return MV_EFORMAT;
  }
  g.spp = us_or(item, DCM_SamplesPerPixel, 1);
  g.bits_stored = us_or(item, DCM_BitsStored, g.bits_alloc);
  g.high_bit = us_or(item, DCM_HighBit, g.bits_stored ? g.bits_stored - 1 : 0);
  g.pixrep = us_or(item, DCM_PixelRepresentation, 0);
  g.planar = us_or(item, DCM_PlanarConfiguration, 0);
  OFString pm;
  if (item->findAndGetOFString(DCM_PhotometricInterpretation, pm, 0, OFFalse).good())
    g.photometric.assign(pm.c_str());
  while (!g.photometric.empty() && g.photometric.back() == ' ') g.photometric.pop_back();
  if (g.photometric.empty()) g.photometric = g.spp == 1 ? "MONOCHROME2" : "RGB";
  Sint32 nf = 1;
  if (item->tagExists(DCM_NumberOfFrames) &&
      item->findAndGetSint32(DCM_NumberOfFrames, nf, 0, OFFalse).bad()) {
    set_err(err, errlen, "NumberOfFrames unreadable");
    return MV_EFORMAT;
  }
  if (nf < 1) nf = 1; /* 0 or negative in the wild: one frame */
  if (static_cast<uint32_t>(nf) > kMaxFrames) {
    set_err(err, errlen, "NumberOfFrames %d exceeds the limit %u", (int)nf, kMaxFrames);
    return MV_ELIMIT;
  }
  g.frames = static_cast<uint32_t>(nf);
  if (g.spp != 1 && g.spp != 3) {
    set_err(err, errlen, "SamplesPerPixel %u is not supported", g.spp);
    return MV_EUNSUPPORTED;
  }
  if (g.bits_stored == 0 || g.bits_stored > g.bits_alloc || g.high_bit >= g.bits_alloc ||
      g.high_bit + 1 < g.bits_stored) {
    set_err(err, errlen, "inconsistent BitsAllocated/BitsStored/HighBit");
    return MV_EFORMAT;
  }
  uint64_t bits = uint64_t(g.rows) * g.cols * g.spp * g.bits_alloc;
  g.frame_bytes = (bits + 7) / 8;
  if (g.frame_bytes > kMaxFrameBytes || g.frame_bytes * g.frames > kMaxTotalBytes ||
      uint64_t(g.rows) * g.cols * 3 > kMaxFrameBytes) {
    set_err(err, errlen, "image too large (%ux%u, %u frame(s))", g.cols, g.rows, g.frames);
    return MV_ELIMIT;
  }
  if (DcmPixelData *pd = dynamic_cast<DcmPixelData *>(el)) {
    E_TransferSyntax rt = EXS_Unknown;
    const DcmRepresentationParameter *rp = nullptr;
    pd->getOriginalRepresentationKey(rt, rp);
    g.encapsulated = rt != EXS_Unknown && DcmXfer(rt).isEncapsulated();
  }
  /* native YBR_FULL_422 keeps Y Y Cb Cr per pair of pixels */
  if (!g.encapsulated && g.spp == 3 && is_ybr_422(g.photometric) && g.bits_alloc == 8)
    g.frame_bytes = uint64_t(g.rows) * g.cols * 2;
  if (!g.encapsulated && el->getLength() < g.frame_bytes * g.frames) {
    set_err(err, errlen, "pixel data shorter than declared (%lu < %llu bytes)",
            (unsigned long)el->getLength(),
            (unsigned long long)(g.frame_bytes * g.frames));
    return MV_EFORMAT;
  }
  return MV_OK;
}

const char *image_unsupported(const ImageGeom &g) {
  if (g.bits_alloc != 8 && g.bits_alloc != 16)
    return "BitsAllocated other than 8 or 16 is not supported";
  if (g.spp == 1) {
    if (g.is_grey() || g.photometric == "PALETTE COLOR") return nullptr;
    return "photometric interpretation not supported for one sample";
  }
  if (is_ybr_422(g.photometric) && !g.encapsulated && g.cols % 2)
    return "YBR_FULL_422 with an odd number of columns";
  if (g.photometric == "RGB" || is_ybr_full(g.photometric) || is_ybr_422(g.photometric))
    return nullptr;
  /* reversible/irreversible colour transforms live in JPEG 2000 streams */
  if (g.encapsulated && (g.photometric == "YBR_RCT" || g.photometric == "YBR_ICT"))
    return nullptr;
  return "photometric interpretation not supported for three samples";
}

bool native_needs_rgb(const ImageGeom &g) {
  return g.photometric == "PALETTE COLOR" || is_ybr_full(g.photometric) ||
         is_ybr_422(g.photometric);
}

int native_frame(const ImageGeom &g, uint32_t f, RawFrame &raw, char *err,
                 size_t errlen) {
  if (f >= g.frames) return MV_EINVAL;
  Uint8 *b = element_bytes(g.pixels);
  if (!b) {
    set_err(err, errlen, "pixel data unreadable");
    return MV_EFORMAT;
  }
  /* YBR_FULL_422 is stored as Y Y Cb Cr per pair: 2 bytes a pixel */
  const uint64_t fb = g.frame_bytes;
  if (g.pixels->getLength() < fb * (f + 1)) {
    set_err(err, errlen, "pixel data shorter than declared");
    return MV_EFORMAT;
  }
  raw.bytes.assign(b + fb * f, b + fb * (f + 1));
  raw.planar = g.planar;
  raw.color = g.photometric;
  return MV_OK;
}

int raw_to_image(const ImageGeom &g, const RawFrame &raw, PlaneBuf &out,
                 char *err, size_t errlen) {
  const size_t npix = size_t(g.rows) * g.cols;
  const size_t sb = g.sample_bytes();
  const uint8_t *p = raw.bytes.data();
  auto short_frame = [&]() {
    set_err(err, errlen, "decoded frame shorter than the image size");
    return MV_EFORMAT;
  };
  if (g.spp == 1 && g.photometric != "PALETTE COLOR") {
    if (raw.bytes.size() < npix * sb) return short_frame();
    image_header(out, g.cols, g.rows, 1, g.bits_alloc);
    out.img.bits_stored = g.bits_stored;
    out.img.is_signed = g.pixrep ? 1 : 0;
    out.img.monochrome1 = g.photometric == "MONOCHROME1";
    for (size_t i = 0; i < npix; i++) {
      int32_t v = sample_value(g, load_sample(p + i * sb, sb));
      store_sample(out.data.data() + i * sb, sb, static_cast<uint32_t>(v));
    }
    return MV_OK;
  }
  image_header(out, g.cols, g.rows, 3, 8);
  uint8_t *o = out.data.data();
  if (g.spp == 1) { /* palette */
    if (raw.bytes.size() < npix * sb) return short_frame();
    Lut lut[3];
    static const DcmTagKey desc[3] = {DCM_RedPaletteColorLookupTableDescriptor,
                                      DCM_GreenPaletteColorLookupTableDescriptor,
                                      DCM_BluePaletteColorLookupTableDescriptor};
    static const DcmTagKey data[3] = {DCM_RedPaletteColorLookupTableData,
                                      DCM_GreenPaletteColorLookupTableData,
                                      DCM_BluePaletteColorLookupTableData};
    static const DcmTagKey seg[3] = {DCM_SegmentedRedPaletteColorLookupTableData,
                                     DCM_SegmentedGreenPaletteColorLookupTableData,
                                     DCM_SegmentedBluePaletteColorLookupTableData};
    for (int c = 0; c < 3; c++) {
      int rc = read_lut(g.item, desc[c], data[c], seg[c], lut[c], err, errlen);
      if (rc != MV_OK) return rc;
    }
    for (size_t i = 0; i < npix; i++) {
      int64_t idx = sample_value(g, load_sample(p + i * sb, sb));
      for (int c = 0; c < 3; c++) {
        int64_t k = idx - lut[c].first;
        if (k < 0) k = 0;
        if (k >= lut[c].entries) k = lut[c].entries - 1;
        o[i * 3 + c] = lut[c].v[static_cast<size_t>(k)];
      }
    }
    return MV_OK;
  }
  if (is_ybr_422(raw.color) && raw.bytes.size() == npix * 2 && sb == 1 &&
      g.cols % 2 == 0) {
    /* subsampled native: Y0 Y1 Cb Cr for each pair of a row */
    for (uint32_t y = 0; y < g.rows; y++) {
      const uint8_t *row = p + size_t(y) * g.cols * 2;
      for (uint32_t x = 0; x < g.cols; x++) {
        size_t pair = x / 2;
        int yy = row[pair * 4 + (x & 1)];
        int cb = row[pair * 4 + 2], cr = row[pair * 4 + 3];
        ybr_to_rgb(yy, cb, cr, o + (size_t(y) * g.cols + x) * 3);
      }
    }
    return MV_OK;
  }
  if (raw.bytes.size() < npix * 3 * sb) return short_frame();
  {
    const bool ybr = is_ybr_full(raw.color) || is_ybr_422(raw.color);
    /* 16-bit colour is scaled to 8 bits (the image is then read-only) */
    const uint32_t down = g.bits_stored > 8 ? g.bits_stored - 8 : 0;
    for (size_t i = 0; i < npix; i++) {
      uint8_t s[3];
      for (uint32_t c = 0; c < 3; c++) {
        uint32_t v = load_sample(p + sample_at(g, raw.planar, i, c), sb);
        v &= g.bits_stored >= 32 ? 0xffffffffu : (1u << g.bits_stored) - 1;
        s[c] = static_cast<uint8_t>(v >> down);
      }
      if (ybr)
        ybr_to_rgb(s[0], s[1], s[2], o + i * 3);
      else
        memcpy(o + i * 3, s, 3);
    }
  }
  return MV_OK;
}

bool image_to_raw(const ImageGeom &g, const mv_image &img,
                  const std::vector<mv_rect> &rects, RawFrame &raw) {
  const size_t sb = g.sample_bytes();
  const size_t npix = size_t(g.rows) * g.cols;
  if (img.width != g.cols || img.height != g.rows) return false;
  const bool grey = g.spp == 1 && g.is_grey() && raw.color == g.photometric;
  const bool rgb = g.spp == 3 && raw.color == "RGB" && g.bits_alloc == 8;
  const bool ybr = g.spp == 3 && is_ybr_full(raw.color) && g.bits_alloc == 8;
  /* a codec may hand back another model than the stored one (YBR_RCT
   * and YBR_ICT come back as RGB from openjpeg, which re-applies them) */
  if (!grey && !rgb && !ybr) return false;
  if (raw.bytes.size() < npix * g.spp * sb) return false;
  if ((grey && img.samples != 1) || (!grey && img.samples != 3)) return false;
  uint8_t *p = raw.bytes.data();
  const uint8_t *src = static_cast<const uint8_t *>(img.data);
  for (const mv_rect &r : rects) {
    for (int32_t y = r.y; y < r.y + r.h; y++) {
      const uint8_t *row = src + size_t(y) * img.stride;
      for (int32_t x = r.x; x < r.x + r.w; x++) {
        size_t i = size_t(y) * g.cols + x;
        if (grey) {
          int32_t v;
          if (img.bits == 16)
            v = img.is_signed ? int16_t(load_sample(row + x * 2, 2))
                              : int32_t(load_sample(row + x * 2, 2));
          else
            v = img.is_signed ? int8_t(row[x]) : row[x];
          store_sample(p + i * sb, sb, sample_encode(g, v));
        } else {
          uint8_t s[3];
          if (ybr)
            rgb_to_ybr(row + x * 3, s);
          else
            memcpy(s, row + x * 3, 3);
          for (uint32_t c = 0; c < 3; c++) p[sample_at(g, raw.planar, i, c)] = s[c];
        }
      }
    }
  }
  return true;
}

int native_commit(ImageGeom &g, const std::map<uint32_t, const PlaneBuf *> &changed,
                  char *err, size_t errlen) {
  if (changed.empty()) return MV_OK;
  if (const char *why = image_unsupported(g)) {
    set_err(err, errlen, "%s", why);
    return MV_EUNSUPPORTED;
  }
  if (!native_needs_rgb(g)) {
    if (g.spp == 3 && g.bits_alloc != 8) {
      set_err(err, errlen, "16-bit colour cannot be written back");
      return MV_EUNSUPPORTED;
    }
    Uint8 *b = element_bytes(g.pixels);
    if (!b ||
        g.pixels->getLength() < g.frame_bytes * g.frames) {
      set_err(err, errlen, "pixel data unreadable");
      return MV_EFORMAT;
    }
    /* check every frame first: never write half the changes */
    for (const auto &kv : changed)
      if (kv.first >= g.frames) return MV_EINVAL;
    for (const auto &kv : changed) {
      RawFrame raw;
      raw.bytes.assign(b + g.frame_bytes * kv.first, b + g.frame_bytes * (kv.first + 1));
      raw.planar = g.planar;
      raw.color = g.photometric;
      if (!image_to_raw(g, kv.second->img, kv.second->rects, raw)) {
        set_err(err, errlen, "cannot write the edited frame back");
        return MV_EUNSUPPORTED;
      }
      memcpy(b + g.frame_bytes * kv.first, raw.bytes.data(), g.frame_bytes);
    }
    return MV_OK;
  }
  /* Palette / YBR: the whole image becomes 8-bit interleaved RGB. */
  const size_t fsz = size_t(g.rows) * g.cols * 3;
  if (uint64_t(fsz) * g.frames > kMaxTotalBytes) {
    set_err(err, errlen, "image too large to convert to RGB");
    return MV_ELIMIT;
  }
  std::vector<uint8_t> rgb(fsz * g.frames);
  for (uint32_t f = 0; f < g.frames; f++) {
    auto it = changed.find(f);
    if (it != changed.end()) {
      const mv_image &im = it->second->img;
      if (im.samples != 3 || im.bits != 8 || im.width != g.cols || im.height != g.rows)
        return MV_EINVAL;
      for (uint32_t y = 0; y < g.rows; y++)
        memcpy(&rgb[f * fsz + size_t(y) * g.cols * 3],
               static_cast<const uint8_t *>(im.data) + y * im.stride, size_t(g.cols) * 3);
      continue;
    }
    RawFrame raw;
    PlaneBuf pb;
    int rc = native_frame(g, f, raw, err, errlen);
    if (rc == MV_OK) rc = raw_to_image(g, raw, pb, err, errlen);
    if (rc != MV_OK) return rc;
    memcpy(&rgb[f * fsz], pb.data.data(), fsz);
  }
  DcmItem *it = g.item;
  OFCondition c = g.pixels->putUint8Array(rgb.data(), static_cast<unsigned long>(rgb.size()));
  if (c.good()) c = it->putAndInsertUint16(DCM_SamplesPerPixel, 3);
  if (c.good()) c = it->putAndInsertString(DCM_PhotometricInterpretation, "RGB");
  if (c.good()) c = it->putAndInsertUint16(DCM_PlanarConfiguration, 0);
  if (c.good()) c = it->putAndInsertUint16(DCM_BitsAllocated, 8);
  if (c.good()) c = it->putAndInsertUint16(DCM_BitsStored, 8);
  if (c.good()) c = it->putAndInsertUint16(DCM_HighBit, 7);
  if (c.good()) c = it->putAndInsertUint16(DCM_PixelRepresentation, 0);
  if (c.bad()) {
    set_err(err, errlen, "cannot store the RGB image: %s", c.text());
    return MV_EIO;
  }
  /* palette descriptors, data, segmented data, UID, alpha */
  static const uint16_t gone[] = {0x1101, 0x1102, 0x1103, 0x1104, 0x1199, 0x1201,
                                  0x1202, 0x1203, 0x1204, 0x1221, 0x1222, 0x1223};
  for (uint16_t e : gone) delete it->remove(DcmTagKey(0x0028, e));
  return MV_OK;
}

} // namespace mvdcm
