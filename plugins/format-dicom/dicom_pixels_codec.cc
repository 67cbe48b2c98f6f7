/* dicom_pixels_codec.cc - encapsulated frames: fragments, dcmtk codecs,
 * re-encoding a changed frame in the file's own transfer syntax.
 *
 * A frame is decoded on its own: its fragments are copied into a small
 * scratch dataset that dcmtk decompresses, so the document's dataset is
 * never touched by a decoder (dcmtk codecs rewrite attributes such as
 * PlanarConfiguration of the dataset they work on). A changed frame is
 * decoded again, the changed rectangles are written into it, and it is
 * encoded alone in a scratch dataset (RLE, JPEG lossless, JPEG-LS) or by
 * openjpeg (JPEG 2000) or mv_jpegblock (JPEG baseline). Each new frame is
 * decoded once more and compared with what was meant, then its fragments
 * replace the old ones: frames not changed keep their exact bytes. */
#include "dicom_pixels.h"

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcrleerg.h"
#include "dcmtk/dcmdata/dcrlerp.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpeg/djencode.h"
#include "dcmtk/dcmjpeg/djrplol.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpls/djencode.h"
#include "dcmtk/dcmjpls/djrparam.h"

#include <cstring>
#include <mutex>

namespace mvdcm {

namespace {
std::mutex g_codec_mu;
unsigned g_codec_users = 0;
} // namespace

/* dcmtk's codec list is process-wide: register on the first init, remove
 * on the last fini (the library may be unloaded after it). */
void codecs_register() {
  std::lock_guard<std::mutex> lk(g_codec_mu);
  if (g_codec_users++ > 0) return;
  DcmRLEDecoderRegistration::registerCodecs();
  DcmRLEEncoderRegistration::registerCodecs();
  /* lossy JPEG: colour model from the JFIF/Adobe markers (RGB out);
   * lossless: samples as stored, so they can be re-encoded exactly */
  DJDecoderRegistration::registerCodecs(EDC_guessLossyOnly);
  DJEncoderRegistration::registerCodecs();
  DJLSDecoderRegistration::registerCodecs();
  /* raw (not "cooked") JPEG-LS encoding: the cooked path renders colour
   * through dcmimage, which is not linked, and fails for RGB */
  DJLSEncoderRegistration::registerCodecs(0, 0, 0, 0, OFFalse);
}

void codecs_unregister() {
  std::lock_guard<std::mutex> lk(g_codec_mu);
  if (g_codec_users == 0 || --g_codec_users > 0) return;
  DJLSEncoderRegistration::cleanup();
  DJLSDecoderRegistration::cleanup();
  DJEncoderRegistration::cleanup();
  DJDecoderRegistration::cleanup();
  DcmRLEEncoderRegistration::cleanup();
  DcmRLEDecoderRegistration::cleanup();
}

Codec codec_of(E_TransferSyntax xfer, const std::string &uid) {
  (void)uid;
  switch (xfer) {
  case EXS_LittleEndianImplicit:
  case EXS_LittleEndianExplicit:
  case EXS_BigEndianExplicit:
  case EXS_DeflatedLittleEndianExplicit:
    return Codec::Native;
  case EXS_RLELossless:
    return Codec::Rle;
  case EXS_JPEGProcess14:
  case EXS_JPEGProcess14SV1:
    return Codec::JpegLossless;
  case EXS_JPEGLSLossless:
  case EXS_JPEGLSLossy:
    return Codec::JpegLs;
  case EXS_JPEG2000LosslessOnly:
  case EXS_JPEG2000:
    return Codec::J2k;
  case EXS_JPEGProcess1:
  case EXS_JPEGProcess2_4:
    return Codec::JpegBaseline; /* 12-bit .51 is demoted by the caller */
  default:
    if (xfer >= EXS_JPEGProcess3_5 && xfer <= EXS_JPEGProcess29) return Codec::JpegOther;
    return Codec::None;
  }
}

DcmPixelSequence *pixel_sequence(DcmElement *pixels) {
  DcmPixelData *pd = dynamic_cast<DcmPixelData *>(pixels);
  if (!pd) return nullptr;
  E_TransferSyntax rt = EXS_Unknown;
  const DcmRepresentationParameter *rp = nullptr;
  pd->getOriginalRepresentationKey(rt, rp);
  DcmPixelSequence *seq = nullptr;
  if (pd->getEncapsulatedRepresentation(rt, rp, seq).bad()) return nullptr;
  return seq;
}

namespace {

DcmPixelItem *item_at(DcmPixelSequence *seq, size_t i) {
  DcmPixelItem *it = nullptr;
  if (seq->getItem(it, static_cast<unsigned long>(i)).bad()) return nullptr;
  return it;
}

/* Does a fragment start a codestream (JPEG SOI, J2K SOC, JP2 box)? */
bool starts_frame(DcmPixelItem *it) {
  Uint8 *b = nullptr;
  if (!it || it->getLength() < 4 || it->getUint8Array(b).bad() || !b) return false;
  if (b[0] == 0xFF && (b[1] == 0xD8 || b[1] == 0x4F)) return true;
  return b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0x0C;
}

} // namespace

int frame_fragments(DcmPixelSequence *seq, uint32_t frames, Codec codec,
                    std::vector<std::pair<size_t, size_t>> &out, char *err,
                    size_t errlen) {
  out.clear();
  const size_t n = seq ? seq->card() : 0;
  if (n < 2) {
    set_err(err, errlen, "encapsulated pixel data has no fragments");
    return MV_EFORMAT;
  }
  const size_t k = n - 1;
  if (frames == 1) {
    out.push_back({1, n});
    return MV_OK;
  }
  /* 1. the Basic Offset Table, when it has one entry per frame */
  DcmPixelItem *bot = item_at(seq, 0);
  Uint8 *b = nullptr;
  if (bot && bot->getLength() == frames * 4u && bot->getUint8Array(b).good() && b) {
    std::vector<uint64_t> starts; /* byte offset of each fragment item */
    uint64_t pos = 0;
    for (size_t i = 1; i < n; i++) {
      starts.push_back(pos);
      DcmPixelItem *it = item_at(seq, i);
      pos += 8 + (it ? it->getLength() : 0);
    }
    size_t prev = 0;
    bool ok = true;
    for (uint32_t f = 0; f < frames && ok; f++) {
      uint32_t off = uint32_t(b[4 * f]) | uint32_t(b[4 * f + 1]) << 8 |
                     uint32_t(b[4 * f + 2]) << 16 | uint32_t(b[4 * f + 3]) << 24;
      size_t idx = 0;
      while (idx < starts.size() && starts[idx] < off) idx++;
      if (idx == starts.size() || starts[idx] != off || (f == 0 && idx != 0) ||
          (f > 0 && idx <= prev))
        ok = false;
      if (f > 0 && ok) out.back().second = idx + 1;
      if (ok) out.push_back({idx + 1, n});
      prev = idx;
    }
    if (ok) return MV_OK;
    out.clear();
  }
  /* 2. one fragment per frame */
  if (k == frames) {
    for (size_t i = 1; i < n; i++) out.push_back({i, i + 1});
    return MV_OK;
  }
  /* 3. fragments that begin a codestream */
  if (codec != Codec::Rle) {
    std::vector<size_t> st;
    for (size_t i = 1; i < n; i++)
      if (starts_frame(item_at(seq, i))) st.push_back(i);
    if (st.size() == frames && st[0] == 1) {
      for (size_t j = 0; j < st.size(); j++)
        out.push_back({st[j], j + 1 < st.size() ? st[j + 1] : n});
      return MV_OK;
    }
  }
  set_err(err, errlen, "cannot tell which of %zu fragments belong to which of %u frames",
          k, frames);
  return MV_EFORMAT;
}

int frame_bytes(DcmPixelSequence *seq, const std::pair<size_t, size_t> &range,
                std::vector<uint8_t> &out, char *err, size_t errlen) {
  out.clear();
  for (size_t i = range.first; i < range.second; i++) {
    DcmPixelItem *it = item_at(seq, i);
    Uint8 *b = nullptr;
    Uint32 len = it ? it->getLength() : 0;
    if (!it || (len && (it->getUint8Array(b).bad() || !b))) {
      set_err(err, errlen, "pixel fragment %zu unreadable", i);
      return MV_EFORMAT;
    }
    if (out.size() + len > kMaxFrameBytes) {
      set_err(err, errlen, "compressed frame larger than the limit");
      return MV_ELIMIT;
    }
    out.insert(out.end(), b, b + len);
  }
  return MV_OK;
}

namespace {

/* The Image Pixel module of a scratch dataset for one frame. */
OFCondition put_module(DcmDataset &ds, const ImageGeom &g, const std::string &color,
                       uint32_t planar) {
  OFCondition c = ds.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(g.rows));
  if (c.good()) c = ds.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(g.cols));
  if (c.good()) c = ds.putAndInsertUint16(DCM_SamplesPerPixel, static_cast<Uint16>(g.spp));
  if (c.good()) c = ds.putAndInsertString(DCM_PhotometricInterpretation, color.c_str());
  if (c.good()) c = ds.putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(g.bits_alloc));
  if (c.good()) c = ds.putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(g.bits_stored));
  if (c.good()) c = ds.putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(g.high_bit));
  if (c.good()) c = ds.putAndInsertUint16(DCM_PixelRepresentation, static_cast<Uint16>(g.pixrep));
  if (c.good() && g.spp > 1)
    c = ds.putAndInsertUint16(DCM_PlanarConfiguration, static_cast<Uint16>(planar));
  return c;
}

} // namespace

int dcmtk_decode(const ImageGeom &g, E_TransferSyntax xfer, const std::vector<uint8_t> &cs,
                 RawFrame &raw, char *err, size_t errlen) {
  DcmDataset tmp;
  OFCondition c = put_module(tmp, g, g.photometric, g.planar);
  if (c.good() && g.spp > 1 && !tmp.tagExists(DCM_PlanarConfiguration))
    c = EC_IllegalCall;
  DcmPixelData *pd = new DcmPixelData(DCM_PixelData);
  if (c.good()) c = tmp.insert(pd, OFTrue);
  else delete pd;
  if (c.good()) {
    DcmPixelSequence *seq = new DcmPixelSequence(DCM_PixelSequenceTag);
    seq->insert(new DcmPixelItem(DCM_PixelItemTag));
    DcmPixelItem *frag = new DcmPixelItem(DCM_PixelItemTag);
    seq->insert(frag);
    c = frag->putUint8Array(cs.data(), static_cast<Uint32>(cs.size()));
    pd->putOriginalRepresentation(xfer, nullptr, seq);
  }
  if (c.good()) c = tmp.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (c.good() && !tmp.canWriteXfer(EXS_LittleEndianExplicit)) c = EC_CannotChangeRepresentation;
  Uint8 *b = nullptr;
  if (c.good()) c = pd->getUint8Array(b);
  if (c.bad() || !b) {
    set_err(err, errlen, "cannot decode frame (%s): %s", DcmXfer(xfer).getXferName(),
            c.bad() ? c.text() : "no data");
    return MV_EFORMAT;
  }
  const size_t want = size_t(g.rows) * g.cols * g.spp * g.sample_bytes();
  if (pd->getLength() < want) {
    set_err(err, errlen, "decoded frame shorter than the image size");
    return MV_EFORMAT;
  }
  OFString pm;
  Uint16 planar = 0;
  tmp.findAndGetOFString(DCM_PhotometricInterpretation, pm);
  tmp.findAndGetUint16(DCM_PlanarConfiguration, planar);
  raw.color.assign(pm.c_str());
  raw.planar = 0;
  if (g.spp == 1 || !planar) {
    raw.bytes.assign(b, b + want);
    return MV_OK;
  }
  /* colour by plane (RLE, some JPEG-LS): made interleaved, which is what
   * every encoder here takes */
  const size_t npix = size_t(g.rows) * g.cols, sb = g.sample_bytes();
  raw.bytes.resize(want);
  for (size_t i = 0; i < npix; i++)
    for (uint32_t c = 0; c < g.spp; c++)
      memcpy(&raw.bytes[(i * g.spp + c) * sb], b + (c * npix + i) * sb, sb);
  return MV_OK;
}

int dcmtk_encode(const ImageGeom &g, E_TransferSyntax xfer, const RawFrame &raw,
                 std::vector<std::vector<uint8_t>> &frags, char *err, size_t errlen) {
  frags.clear();
  DcmDataset tmp;
  OFCondition c = put_module(tmp, g, raw.color, raw.planar);
  if (c.good()) {
    if (g.bits_alloc == 16)
      c = tmp.putAndInsertUint16Array(DCM_PixelData,
                                      reinterpret_cast<const Uint16 *>(raw.bytes.data()),
                                      static_cast<unsigned long>(raw.bytes.size() / 2));
    else
      c = tmp.putAndInsertUint8Array(DCM_PixelData, raw.bytes.data(),
                                     static_cast<unsigned long>(raw.bytes.size()));
  }
  /* JPEG-LS near-lossless (.81) streams are JPEG-LS streams: a frame is
   * encoded with NEAR=0 by the lossless encoder and spliced in. */
  E_TransferSyntax enc = xfer == EXS_JPEGLSLossy ? EXS_JPEGLSLossless : xfer;
  DJ_RPLossless jpeg_rp(1, 0); /* selection value 1: valid for .57 and .70 */
  DJLSRepresentationParameter jls_rp(0, OFTrue);
  DcmRLERepresentationParameter rle_rp;
  const DcmRepresentationParameter *rp = nullptr;
  if (enc == EXS_JPEGProcess14 || enc == EXS_JPEGProcess14SV1) rp = &jpeg_rp;
  else if (enc == EXS_JPEGLSLossless) rp = &jls_rp;
  else if (enc == EXS_RLELossless) rp = &rle_rp;
  else c = EC_CannotChangeRepresentation;
  if (c.good()) c = tmp.chooseRepresentation(enc, rp);
  DcmElement *el = nullptr;
  if (c.good()) c = tmp.findAndGetElement(DCM_PixelData, el);
  DcmPixelData *pd = dynamic_cast<DcmPixelData *>(el);
  DcmPixelSequence *seq = nullptr;
  if (c.good() && !pd) c = EC_CannotChangeRepresentation;
  if (c.good()) c = pd->getEncapsulatedRepresentation(enc, rp, seq);
  if (c.bad() || !seq || seq->card() < 2) {
    set_err(err, errlen, "cannot encode frame (%s): %s", DcmXfer(xfer).getXferName(),
            c.bad() ? c.text() : "no fragments");
    return MV_EPLUGIN;
  }
  for (unsigned long i = 1; i < seq->card(); i++) {
    DcmPixelItem *it = item_at(seq, i);
    Uint8 *b = nullptr;
    if (!it || it->getUint8Array(b).bad() || (!b && it->getLength())) {
      set_err(err, errlen, "encoder produced an unreadable fragment");
      return MV_EPLUGIN;
    }
    frags.emplace_back(b, b + it->getLength());
  }
  return MV_OK;
}

namespace {

/* Decode a frame's bytes with the codec of the main image. */
int decode_bytes(const PixelState &px, const std::vector<uint8_t> &bytes, RawFrame &raw,
                 char *err, size_t errlen) {
  switch (px.codec) {
  case Codec::J2k:
    return j2k_decode(px.main, bytes, raw, err, errlen);
  case Codec::Htj2k:
    return htj2k_decode(px.main, bytes, raw, err, errlen);
  case Codec::JpegBaseline:
    if (jpegblock_available()) return jpeg_decode(px.main, bytes, raw, err, errlen);
    return dcmtk_decode(px.main, px.xfer, bytes, raw, err, errlen);
  case Codec::Rle:
  case Codec::JpegLossless:
  case Codec::JpegLs:
  case Codec::JpegOther:
    return dcmtk_decode(px.main, px.xfer, bytes, raw, err, errlen);
  default:
    set_err(err, errlen, "no decoder for this transfer syntax");
    return MV_EUNSUPPORTED;
  }
}

DcmPixelItem *new_fragment(const std::vector<uint8_t> &bytes) {
  DcmPixelItem *it = new DcmPixelItem(DCM_PixelItemTag);
  std::vector<uint8_t> even(bytes);
  if (even.size() & 1) even.push_back(0); /* items have even lengths */
  if (it->putUint8Array(even.data(), static_cast<Uint32>(even.size())).bad()) {
    delete it;
    return nullptr;
  }
  return it;
}

} // namespace

int codec_decode(const PixelState &px, uint32_t f, RawFrame &raw, char *err, size_t errlen) {
  DcmPixelSequence *seq = pixel_sequence(px.main.pixels);
  if (!seq) {
    set_err(err, errlen, "encapsulated pixel data unreadable");
    return MV_EFORMAT;
  }
  std::vector<std::pair<size_t, size_t>> ranges;
  int rc = frame_fragments(seq, px.main.frames, px.codec, ranges, err, errlen);
  if (rc != MV_OK) return rc;
  if (f >= ranges.size()) return MV_EINVAL;
  std::vector<uint8_t> bytes;
  rc = frame_bytes(seq, ranges[f], bytes, err, errlen);
  if (rc != MV_OK) return rc;
  return decode_bytes(px, bytes, raw, err, errlen);
}

int codec_commit(PixelState &px, const std::map<uint32_t, const PlaneBuf *> &changed,
                 char *err, size_t errlen) {
  if (changed.empty()) return MV_OK;
  const ImageGeom &g = px.main;
  DcmPixelSequence *seq = pixel_sequence(g.pixels);
  if (!seq) {
    set_err(err, errlen, "encapsulated pixel data unreadable");
    return MV_EFORMAT;
  }
  std::vector<std::pair<size_t, size_t>> ranges;
  int rc = frame_fragments(seq, g.frames, px.codec, ranges, err, errlen);
  if (rc != MV_OK) return rc;

  /* 1. encode every changed frame; nothing in the dataset changes yet */
  std::map<uint32_t, std::vector<std::vector<uint8_t>>> fresh;
  for (const auto &kv : changed) {
    const uint32_t f = kv.first;
    const PlaneBuf &pb = *kv.second;
    if (f >= ranges.size()) return MV_EINVAL;
    std::vector<uint8_t> old;
    if ((rc = frame_bytes(seq, ranges[f], old, err, errlen)) != MV_OK) return rc;
    std::vector<std::vector<uint8_t>> frags;
    if (px.codec == Codec::JpegBaseline) {
      std::vector<uint8_t> out;
      if ((rc = jpeg_redact(old, pb, out, err, errlen)) != MV_OK) return rc;
      frags.push_back(std::move(out));
    } else {
      RawFrame raw;
      if ((rc = decode_bytes(px, old, raw, err, errlen)) != MV_OK) return rc;
      if (!image_to_raw(g, pb.img, pb.rects, raw)) {
        set_err(err, errlen, "frame %u: colour model %s cannot be written back", f,
                raw.color.c_str());
        return MV_EUNSUPPORTED;
      }
      if (px.codec == Codec::J2k || px.codec == Codec::Htj2k) {
        std::vector<uint8_t> cs;
        rc = px.codec == Codec::J2k ? j2k_encode(g, raw, cs, err, errlen)
                                    : htj2k_encode(g, raw, cs, err, errlen);
        if (rc != MV_OK) return rc;
        frags.push_back(std::move(cs));
      } else if ((rc = dcmtk_encode(g, px.xfer, raw, frags, err, errlen)) != MV_OK) {
        return rc;
      }
      /* lossless means lossless: decode what will be written and compare */
      std::vector<uint8_t> joined;
      for (const auto &fr : frags) joined.insert(joined.end(), fr.begin(), fr.end());
      RawFrame back;
      if ((rc = decode_bytes(px, joined, back, err, errlen)) != MV_OK) return rc;
      if (back.bytes != raw.bytes) {
        set_err(err, errlen, "frame %u: re-encoded frame does not decode to the edit", f);
        return MV_EPLUGIN;
      }
    }
    fresh[f] = std::move(frags);
  }

  /* 2. build the new items, then swap them in (last frame first, so the
   * ranges of earlier frames stay valid) */
  std::map<uint32_t, std::vector<DcmPixelItem *>> items;
  bool ok = true;
  for (auto &kv : fresh)
    for (const auto &fr : kv.second) {
      DcmPixelItem *it = new_fragment(fr);
      if (!it) ok = false;
      else items[kv.first].push_back(it);
    }
  if (!ok) {
    for (auto &kv : items)
      for (DcmPixelItem *it : kv.second) delete it;
    set_err(err, errlen, "out of memory for new fragments");
    return MV_ENOMEM;
  }
  /* take every item out (in order), then append the new order: old
   * items of unchanged frames move, those of changed frames are freed */
  std::vector<DcmPixelItem *> old;
  for (DcmPixelItem *pi = nullptr; seq->card() > 0 && seq->remove(pi, 0).good() && pi;)
    old.push_back(pi);
  if (old.size() != ranges.back().second) {
    /* cannot happen: the sequence was read above; put it back as it was */
    for (DcmPixelItem *pi : old) seq->insert(pi);
    for (auto &kv : items)
      for (DcmPixelItem *it : kv.second) delete it;
    set_err(err, errlen, "pixel sequence changed while being rebuilt");
    return MV_EPLUGIN;
  }
  seq->insert(old[0]); /* offset table, rebuilt below */
  for (uint32_t f = 0; f < g.frames; f++) {
    auto nit = items.find(f);
    for (size_t i = ranges[f].first; i < ranges[f].second; i++) {
      if (nit == items.end()) seq->insert(old[i]);
      else delete old[i];
    }
    if (nit != items.end())
      for (DcmPixelItem *ni : nit->second) seq->insert(ni);
  }

  /* 3. offset tables: a Basic Offset Table that had entries is rebuilt; an
   * Extended Offset Table is dropped for a rebuilt Basic one */
  DcmItem *ds = g.item;
  bool had_eot = ds->tagExists(DCM_ExtendedOffsetTable);
  DcmPixelItem *bot = item_at(seq, 0);
  if (bot && (bot->getLength() > 0 || had_eot)) {
    std::vector<std::pair<size_t, size_t>> now;
    /* new frame -> item ranges: shift by the change in fragment counts */
    long shift = 0;
    for (uint32_t f = 0; f < g.frames; f++) {
      size_t cnt = ranges[f].second - ranges[f].first;
      auto nit = items.find(f);
      size_t ncnt = nit == items.end() ? cnt : nit->second.size();
      now.push_back({ranges[f].first + shift, ranges[f].first + shift + ncnt});
      shift += long(ncnt) - long(cnt);
    }
    std::vector<uint64_t> pos(seq->card() + 1, 0);
    for (unsigned long i = 1; i < seq->card(); i++) {
      DcmPixelItem *pi = item_at(seq, i);
      pos[i + 1] = pos[i] + 8 + (pi ? pi->getLength() : 0);
    }
    std::vector<uint8_t> tab;
    bool fits = true;
    for (uint32_t f = 0; f < g.frames; f++) {
      uint64_t off = pos[now[f].first];
      if (off > 0xffffffffull) fits = false;
      for (int s = 0; s < 32; s += 8) tab.push_back(static_cast<uint8_t>(off >> s));
    }
    if (fits) bot->putUint8Array(tab.data(), static_cast<Uint32>(tab.size()));
    else bot->putUint8Array(nullptr, 0);
  }
  if (had_eot) {
    delete ds->remove(DCM_ExtendedOffsetTable);
    delete ds->remove(DCM_ExtendedOffsetTableLengths);
  }
  return MV_OK;
}

} // namespace mvdcm
