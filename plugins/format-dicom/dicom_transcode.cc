/* dicom_transcode.cc - store the pixels in another lossless encoding
 * (`medveil run --compress`).
 *
 * set_output_encoding() only records the wish and checks that the frames
 * can be decoded. write() calls transcode_commit() after the pixel stage's
 * changes are stored: every frame of the main image is decoded, encoded in
 * the new syntax, decoded again and compared sample by sample (bits above
 * BitsStored excepted, which the codecs do not carry), and only when every
 * frame round-trips is PixelData replaced, so a failure leaves the dataset
 * as it was. HTJ2K is not known to dcmtk 3.6.7: it is written as the
 * pass-through stand-in with the HTJ2K Lossless UID (.201) in the meta,
 * exactly as HTJ2K inputs are (htj2k-rpcl: .202, htj2k-general: .203, the
 * same codestreams under the other labels). A syntax already in place is left alone, so
 * frames are never re-encoded for nothing. Overlays and icons keep their
 * own (native) encoding. */
#include "dicom_pixels.h"

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <cstring>

namespace mvdcm {
namespace {

/* Our HTJ2K codestreams are reversible and in RPCL order, which each of the
 * three HTJ2K syntaxes allows: the name picks the label. */
const char *const kHtj2kLossless = "1.2.840.10008.1.2.4.201";
const char *const kHtj2kRpcl = "1.2.840.10008.1.2.4.202";
const char *const kHtj2kGeneral = "1.2.840.10008.1.2.4.203";

struct Target {
  const char *name;
  E_TransferSyntax xfer;   /* what dcmtk writes */
  const char *passthrough; /* UID in the meta when dcmtk has none */
};

const Target kTargets[] = {
    {"none", EXS_LittleEndianExplicit, nullptr},
    {"jpegls", EXS_JPEGLSLossless, nullptr},
    {"j2k", EXS_JPEG2000LosslessOnly, nullptr},
    {"htj2k", kStandIn, kHtj2kLossless},
    {"htj2k-rpcl", kStandIn, kHtj2kRpcl},
    {"htj2k-general", kStandIn, kHtj2kGeneral},
};

const Target *target_of(const std::string &name) {
  for (const Target &t : kTargets)
    if (name == t.name) return &t;
  return nullptr;
}

/* Frame `f` of the main image, decoded, interleaved. */
int decode_frame(const PixelState &px, uint32_t f, RawFrame &raw, char *err, size_t errlen) {
  int rc = px.codec == Codec::Native ? native_frame(px.main, f, raw, err, errlen)
                                     : codec_decode(px, f, raw, err, errlen);
  if (rc != MV_OK) return rc;
  const ImageGeom &g = px.main;
  if (g.spp > 1 && raw.planar) {
    const size_t npix = size_t(g.rows) * g.cols, sb = g.sample_bytes();
    std::vector<uint8_t> inter(raw.bytes.size());
    for (size_t i = 0; i < npix; i++)
      for (uint32_t c = 0; c < g.spp; c++)
        memcpy(&inter[(i * g.spp + c) * sb], &raw.bytes[(c * npix + i) * sb], sb);
    raw.bytes.swap(inter);
    raw.planar = 0;
  }
  return MV_OK;
}

/* Equal in the BitsStored low bits of every sample? */
bool same_samples(const ImageGeom &g, const RawFrame &a, const RawFrame &b) {
  const size_t sb = g.sample_bytes();
  const size_t n = size_t(g.rows) * g.cols * g.spp;
  if (a.bytes.size() < n * sb || b.bytes.size() < n * sb) return false;
  const uint32_t mask = g.bits_stored >= 16 ? 0xffffu : (1u << g.bits_stored) - 1;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *p = &a.bytes[i * sb], *q = &b.bytes[i * sb];
    uint32_t x = sb == 2 ? uint32_t(p[0] | p[1] << 8) : p[0];
    uint32_t y = sb == 2 ? uint32_t(q[0] | q[1] << 8) : q[0];
    if ((x & mask) != (y & mask)) return false;
  }
  return true;
}

/* Which colour models each target can label correctly. */
const char *colour_refused(const Target &t, const std::string &color, uint32_t spp) {
  if (spp == 1) return nullptr;
  if (color == "RGB") return nullptr;
  if ((!strcmp(t.name, "none") || !strcmp(t.name, "jpegls")) && color == "YBR_FULL")
    return nullptr;
  return "this colour model cannot be stored in that encoding";
}

int encode_frame(const Target &t, const ImageGeom &g, const RawFrame &raw,
                 std::vector<uint8_t> &out, char *err, size_t errlen) {
  out.clear();
  if (!strcmp(t.name, "none")) {
    out = raw.bytes;
    return MV_OK;
  }
  if (!strcmp(t.name, "j2k")) return j2k_encode(g, raw, out, err, errlen);
  if (!strncmp(t.name, "htj2k", 5)) return htj2k_encode(g, raw, out, err, errlen);
  std::vector<std::vector<uint8_t>> frags;
  int rc = dcmtk_encode(g, t.xfer, raw, frags, err, errlen);
  if (rc != MV_OK) return rc;
  for (const auto &fr : frags) out.insert(out.end(), fr.begin(), fr.end());
  return MV_OK;
}

int decode_encoded(const Target &t, const ImageGeom &g, const std::vector<uint8_t> &bytes,
                   RawFrame &back, char *err, size_t errlen) {
  if (!strcmp(t.name, "none")) {
    back.bytes = bytes;
    return MV_OK;
  }
  if (!strcmp(t.name, "j2k")) return j2k_decode(g, bytes, back, err, errlen);
  if (!strncmp(t.name, "htj2k", 5)) return htj2k_decode(g, bytes, back, err, errlen);
  return dcmtk_decode(g, t.xfer, bytes, back, err, errlen);
}

DcmPixelItem *fragment_of(const uint8_t *p, size_t n) {
  DcmPixelItem *it = new DcmPixelItem(DCM_PixelItemTag);
  std::vector<uint8_t> even(p, p + n);
  if (even.size() & 1) even.push_back(0);
  if (it->putUint8Array(even.data(), static_cast<Uint32>(even.size())).bad()) {
    delete it;
    return nullptr;
  }
  return it;
}

} // namespace

int op_set_output_encoding(mv_doc *doc, const char *encoding, char *err, size_t errlen) {
  if (!doc || !encoding) return MV_EINVAL;
  std::string want(encoding);
  if (want == "keep") {
    doc->out_encoding.clear();
    return MV_OK;
  }
  const Target *t = target_of(want);
  if (!t) {
    set_err(err, errlen,
            "unknown encoding '%s' (keep, none, jpegls, j2k, htj2k, htj2k-rpcl, htj2k-general)",
            encoding);
    return MV_EINVAL;
  }
  int rc = pixels_list(doc, err, errlen);
  PixelState &px = pixels_of(doc);
  if (rc == MV_ENOTFOUND || px.status == MV_ENOTFOUND) {
    doc->out_encoding.clear(); /* no image: nothing to encode */
    return MV_OK;
  }
  if (rc != MV_OK || px.status != MV_OK) {
    set_err(err, errlen, "%s", px.reason.empty() ? "pixel data cannot be decoded" : px.reason.c_str());
    return px.status != MV_OK ? px.status : rc;
  }
  if (px.main.photometric == "YBR_FULL_422" && px.codec == Codec::Native) {
    set_err(err, errlen, "YBR_FULL_422 native pixels are kept as they are");
    return MV_EUNSUPPORTED;
  }
  doc->out_encoding = want;
  return MV_OK;
}

int transcode_commit(mv_doc *doc, char *err, size_t errlen) {
  if (doc->out_encoding.empty()) return MV_OK;
  const Target *t = target_of(doc->out_encoding);
  if (!t) return MV_EINVAL;
  /* list again: the policy may have changed the dataset since */
  int rc = pixels_list(doc, err, errlen);
  PixelState &px = pixels_of(doc);
  if (rc == MV_ENOTFOUND || px.status == MV_ENOTFOUND) return MV_OK;
  if (rc != MV_OK || px.status != MV_OK) {
    set_err(err, errlen, "%s", px.reason.c_str());
    return px.status != MV_OK ? px.status : rc;
  }
  /* native stays native: only the byte order or VR encoding would change */
  if (!strcmp(t->name, "none") && px.codec == Codec::Native) return MV_OK;
  const std::string now = px.syntax;
  const std::string goal = t->passthrough ? t->passthrough : DcmXfer(t->xfer).getXferID();
  if (now == goal) return MV_OK;
  ImageGeom g = px.main;
  /* The codecs carry the BitsStored low bits; stored bits placed higher
   * (HighBit above BitsStored - 1) would be shifted out of them. */
  if (strcmp(t->name, "none") && g.high_bit + 1 != g.bits_stored) {
    set_err(err, errlen, "HighBit %u with BitsStored %u cannot be stored in %s",
            g.high_bit, g.bits_stored, t->name);
    return MV_EUNSUPPORTED;
  }

  /* 1. every frame: decode, encode, decode again, compare */
  std::vector<std::vector<uint8_t>> frames(g.frames);
  std::string color;
  for (uint32_t f = 0; f < g.frames; f++) {
    RawFrame raw;
    if ((rc = decode_frame(px, f, raw, err, errlen)) != MV_OK) return rc;
    if (f == 0) color = raw.color;
    if (raw.color != color) {
      set_err(err, errlen, "frames decode to different colour models");
      return MV_EUNSUPPORTED;
    }
    if (const char *why = colour_refused(*t, raw.color, g.spp)) {
      set_err(err, errlen, "%s (%s to %s)", why, raw.color.c_str(), t->name);
      return MV_EUNSUPPORTED;
    }
    ImageGeom eg = g;
    eg.photometric = raw.color;
    eg.planar = 0;
    if ((rc = encode_frame(*t, eg, raw, frames[f], err, errlen)) != MV_OK) return rc;
    RawFrame back;
    if ((rc = decode_encoded(*t, eg, frames[f], back, err, errlen)) != MV_OK) return rc;
    if (!same_samples(eg, raw, back)) {
      set_err(err, errlen, "frame %u does not survive %s encoding unchanged", f, t->name);
      return MV_EPLUGIN;
    }
  }

  /* 2. the new PixelData, built aside */
  DcmItem *ds = g.item;
  DcmPixelData *pd = new DcmPixelData(DCM_PixelData);
  OFCondition c = EC_Normal;
  if (!strcmp(t->name, "none")) {
    std::vector<uint8_t> all;
    for (auto &fr : frames) all.insert(all.end(), fr.begin(), fr.end());
    if (all.size() & 1) all.push_back(0);
    if (g.bits_alloc == 16) {
      pd->setVR(EVR_OW);
      c = pd->putUint16Array(reinterpret_cast<const Uint16 *>(all.data()),
                             static_cast<unsigned long>(all.size() / 2));
    } else {
      pd->setVR(EVR_OB);
      c = pd->putUint8Array(all.data(), static_cast<unsigned long>(all.size()));
    }
  } else {
    DcmPixelSequence *seq = new DcmPixelSequence(DCM_PixelSequenceTag);
    DcmPixelItem *bot = new DcmPixelItem(DCM_PixelItemTag);
    seq->insert(bot);
    std::vector<uint8_t> tab;
    uint64_t pos = 0;
    bool fits = true;
    for (auto &fr : frames) {
      if (pos > 0xffffffffull) fits = false;
      for (int s = 0; s < 32; s += 8) tab.push_back(static_cast<uint8_t>(pos >> s));
      DcmPixelItem *it = fragment_of(fr.data(), fr.size());
      if (!it) {
        c = EC_MemoryExhausted;
        break;
      }
      seq->insert(it);
      pos += 8 + it->getLength();
    }
    if (c.good() && fits && g.frames > 1)
      c = bot->putUint8Array(tab.data(), static_cast<Uint32>(tab.size()));
    pd->putOriginalRepresentation(t->xfer, nullptr, seq);
  }
  if (c.bad()) {
    delete pd;
    set_err(err, errlen, "cannot build the new pixel data: %s", c.text());
    return MV_ENOMEM;
  }

  /* 3. swap it in, with the attributes that describe it */
  if (ds->insert(pd, OFTrue /* replace */).bad()) {
    delete pd;
    set_err(err, errlen, "cannot replace the pixel data");
    return MV_EPLUGIN;
  }
  if (color != g.photometric) ds->putAndInsertString(DCM_PhotometricInterpretation, color.c_str());
  if (g.spp > 1) ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
  delete ds->remove(DCM_ExtendedOffsetTable);
  delete ds->remove(DCM_ExtendedOffsetTableLengths);
  doc->write_xfer = t->xfer;
  doc->passthrough = t->passthrough;
  doc->restructured();
  free_pixels(doc->px);
  doc->px = nullptr;
  return MV_OK;
}

} // namespace mvdcm
