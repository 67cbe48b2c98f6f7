/* dicom_pixels.h - pixel access shared by the dicom_pixels*.cc files.
 *
 * A document's pixels are a list of planes (plugin.h): every frame of
 * (7FE0,0010), then every overlay plane (60xx,3000) per overlay frame, then
 * icon image item 0 (0088,0200). acquire() decodes a plane into a buffer the
 * document owns; release() with changed rectangles keeps the edited buffer
 * as a pending change; write() calls pixels_commit(), which stores every
 * pending change in the file's own encoding before dcmtk saves. Nothing is
 * changed in the dataset before commit, and commit prepares every new value
 * before it replaces any, so a failure leaves the dataset as it was.
 *
 * The "raw" form of a frame is what an uncompressed frame of the stored
 * image would hold: samples of BitsAllocated/8 bytes (host order),
 * interleaved or planar as `planar` says, in colour model `color` (the
 * stored photometric, except that decoders may hand back RGB or
 * full-resolution YBR_FULL). Conversions between raw and mv_image live in
 * dicom_pixels_native.cc; codecs produce and consume raw frames. */
#ifndef MVDCM_PIXELS_H
#define MVDCM_PIXELS_H

#include "dicom_internal.h"

#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mvdcm {

/* Memory caps, checked before allocating: one decoded frame, and a whole
 * object converted at once (palette/YBR -> RGB). */
constexpr uint64_t kMaxFrameBytes = uint64_t(1) << 28;
constexpr uint64_t kMaxTotalBytes = uint64_t(1) << 31;
constexpr uint32_t kMaxFrames = 1u << 20;

/* How the main image is stored (decides decoder and write-back). */
enum class Codec {
  Native,       /* uncompressed */
  Rle,          /* 1.2.840.10008.1.2.5 (dcmtk) */
  JpegLossless, /* .4.57, .4.70 (dcmtk, IJG) */
  JpegLs,       /* .4.80, .4.81 (dcmtk, CharLS) */
  J2k,          /* .4.90, .4.91 (openjpeg) */
  Htj2k,        /* .4.201, .202, .203 (OpenJPH; pass-through syntaxes) */
  JpegBaseline, /* .4.50, .4.51 with 8-bit samples (mv_jpegblock or dcmtk) */
  JpegOther,    /* other JPEG processes dcmtk decodes (12-bit .51...) */
  None          /* cannot be decoded */
};

/* The Image Pixel module of one item (the dataset, or an icon item). */
struct ImageGeom {
  DcmItem *item = nullptr;
  DcmElement *pixels = nullptr; /* (7FE0,0010) of that item */
  uint32_t rows = 0, cols = 0, spp = 0;
  uint32_t bits_alloc = 0, bits_stored = 0, high_bit = 0;
  uint32_t pixrep = 0, planar = 0, frames = 1;
  std::string photometric;
  bool encapsulated = false;
  uint64_t frame_bytes = 0; /* one native frame, in bytes */
  size_t sample_bytes() const { return bits_alloc / 8; }
  bool is_grey() const {
    return photometric == "MONOCHROME1" || photometric == "MONOCHROME2";
  }
};

/* One raw frame (see the header comment). */
struct RawFrame {
  std::vector<uint8_t> bytes;
  uint32_t planar = 0;
  std::string color; /* photometric the samples are in */
};

/* One entry of the plane list. */
struct PlaneRef {
  uint32_t kind = MV_PLANE_FRAME;
  uint32_t frame = 0;    /* image frame it belongs to */
  uint16_t group = 0;    /* overlay: 60xx group */
  uint32_t index = 0;    /* frame: frame number; overlay: frame of overlay */
  uint32_t width = 0, height = 0;
};

/* A decoded plane: the image header the core sees and the buffer behind it. */
struct PlaneBuf {
  mv_image img{};
  std::vector<uint8_t> data;
  std::vector<mv_rect> rects; /* pending only: changed rectangles */
};

/* Per-document pixel state (mv_doc::px). */
struct PixelState {
  bool listed = false;
  uint64_t gen = 0;       /* mv_doc::gen when listed */
  int status = MV_OK;     /* error of the listing, with reason */
  std::string reason;
  ImageGeom main;
  Codec codec = Codec::None;
  uint32_t encoding = MV_PIXENC_READONLY;
  E_TransferSyntax xfer = EXS_Unknown;
  std::string syntax;     /* transfer syntax UID of the file */
  bool has_icon = false;
  ImageGeom icon;
  std::vector<PlaneRef> planes;
  std::map<uint32_t, std::unique_ptr<PlaneBuf>> held;    /* acquired */
  std::map<uint32_t, std::unique_ptr<PlaneBuf>> pending; /* changed */
};

/* --- listing and dispatch (dicom_pixels_info.cc) --- */
PixelState &pixels_of(mv_doc *doc);
/* (Re)build the plane list unless planes are held or pending. */
int pixels_list(mv_doc *doc, char *err, size_t errlen);
int op_pixel_info(mv_doc *doc, mv_pixel_info *info);
int op_acquire(mv_doc *doc, uint32_t plane, mv_image *img, char *err,
               size_t errlen);
int op_release(mv_doc *doc, uint32_t plane, const mv_rect *changed, size_t n,
               char *err, size_t errlen);
/* Store every pending change into the dataset (called by write()). */
int pixels_commit(mv_doc *doc, char *err, size_t errlen);
int op_drop_hidden_pixels(mv_doc *doc, uint32_t *count);

/* --- native samples and colour (dicom_pixels_native.cc) --- */
/* Read and check the Image Pixel module of `item`. MV_ENOTFOUND when it has
 * no (7FE0,0010); other codes with a reason. */
int read_geom(DcmItem *item, ImageGeom &g, char *err, size_t errlen);
/* Why the image cannot be shown as an mv_image (nullptr when it can). */
const char *image_unsupported(const ImageGeom &g);
/* Frame `f` of a native image. */
int native_frame(const ImageGeom &g, uint32_t f, RawFrame &raw, char *err,
                 size_t errlen);
/* Raw frame -> mv_image (grey as stored, colour as 8-bit RGB). */
int raw_to_image(const ImageGeom &g, const RawFrame &raw, PlaneBuf &out,
                 char *err, size_t errlen);
/* Write the pixels of `img` inside `rects` back into raw samples. False
 * when the colour model cannot be written (palette, subsampled YBR). */
bool image_to_raw(const ImageGeom &g, const mv_image &img,
                  const std::vector<mv_rect> &rects, RawFrame &raw);
/* Is a changed frame of this native image written in place (grey, RGB) or
 * must the whole image become RGB (palette, YBR)? */
bool native_needs_rgb(const ImageGeom &g);
/* Commit changed frames of a native image (main or icon). `changed` maps
 * frame -> edited plane. Palette/YBR images become 8-bit RGB. */
int native_commit(ImageGeom &g,
                  const std::map<uint32_t, const PlaneBuf *> &changed,
                  char *err, size_t errlen);
/* Fill an mv_image header for a buffer of w*h*samples*bits/8. */
void image_header(PlaneBuf &pb, uint32_t w, uint32_t h, uint32_t samples,
                  uint32_t bits);

/* --- encapsulated frames (dicom_pixels_codec.cc) --- */
void codecs_register();   /* once per init; counted */
void codecs_unregister(); /* once per fini */
Codec codec_of(E_TransferSyntax xfer, const std::string &uid);
DcmPixelSequence *pixel_sequence(DcmElement *pixels);
/* Fragment items [first, last) (1-based, item 0 is the offset table) of
 * every frame. */
int frame_fragments(DcmPixelSequence *seq, uint32_t frames, Codec codec,
                    std::vector<std::pair<size_t, size_t>> &out, char *err,
                    size_t errlen);
/* The bytes of frame `f` (its fragments joined). */
int frame_bytes(DcmPixelSequence *seq, const std::pair<size_t, size_t> &range,
                std::vector<uint8_t> &out, char *err, size_t errlen);
/* Decode one frame of an encapsulated image. */
int codec_decode(const PixelState &px, uint32_t f, RawFrame &raw, char *err,
                 size_t errlen);
/* Commit changed frames of the encapsulated main image: re-encode each in
 * the same syntax, replace its fragments, rebuild the offset table. */
int codec_commit(PixelState &px,
                 const std::map<uint32_t, const PlaneBuf *> &changed,
                 char *err, size_t errlen);

/* One frame through a dcmtk codec (RLE, JPEG lossless, JPEG-LS), in a
 * scratch dataset: decode a codestream, or encode a raw frame into the
 * fragments of one frame. */
int dcmtk_decode(const ImageGeom &g, E_TransferSyntax xfer,
                 const std::vector<uint8_t> &cs, RawFrame &raw, char *err,
                 size_t errlen);
int dcmtk_encode(const ImageGeom &g, E_TransferSyntax xfer, const RawFrame &raw,
                 std::vector<std::vector<uint8_t>> &frags, char *err,
                 size_t errlen);

/* --- JPEG 2000 via openjpeg (dicom_pixels_j2k.cc) --- */
int j2k_decode(const ImageGeom &g, const std::vector<uint8_t> &cs,
               RawFrame &raw, char *err, size_t errlen);
/* Reversible 5/3 J2K codestream of a raw (interleaved) frame. */
int j2k_encode(const ImageGeom &g, const RawFrame &raw,
               std::vector<uint8_t> &cs, char *err, size_t errlen);

/* --- High-Throughput JPEG 2000 via OpenJPH (dicom_pixels_htj2k.cc) --- */
int htj2k_decode(const ImageGeom &g, const std::vector<uint8_t> &cs,
                 RawFrame &raw, char *err, size_t errlen);
/* Reversible 5/3 HTJ2K codestream (RPCL) of a raw (interleaved) frame. */
int htj2k_encode(const ImageGeom &g, const RawFrame &raw,
                 std::vector<uint8_t> &cs, char *err, size_t errlen);
/* Is this pass-through syntax UID one of the HTJ2K ones? */
bool is_htj2k_uid(const std::string &uid);

/* --- output encoding (dicom_transcode.cc) --- */
/* Remember the encoding write() should store ("keep", "none", "jpegls",
 * "j2k", "htj2k"); checks that the pixels can be decoded. */
int op_set_output_encoding(mv_doc *doc, const char *encoding, char *err,
                           size_t errlen);
/* Called by write() after pixels_commit: re-encode every frame of the main
 * image when another encoding was asked for. */
int transcode_commit(mv_doc *doc, char *err, size_t errlen);

/* --- JPEG baseline blocks (dicom_pixels_jpeg.cc) --- */
bool jpegblock_available();
/* Decode to 8-bit grey/RGB (raw colour "RGB" or the grey photometric). */
int jpeg_decode(const ImageGeom &g, const std::vector<uint8_t> &jpg,
                RawFrame &raw, char *err, size_t errlen);
/* Re-encode only the blocks under `rects` from the edited image. */
int jpeg_redact(const std::vector<uint8_t> &jpg, const PlaneBuf &edited,
                std::vector<uint8_t> &out, char *err, size_t errlen);

/* --- overlays and icons (dicom_pixels_overlay.cc) --- */
/* Append the overlay planes of the dataset and the icon plane. */
void list_overlays(mv_doc *doc, PixelState &px);
void list_icon(mv_doc *doc, PixelState &px);
/* Is overlay group `group` of the dataset a readable 1-bit plane? */
bool overlay_is_plane(DcmItem *ds, uint16_t group);
/* Can this icon item be a plane (native, supported, decodable)? */
bool icon_readable(DcmItem *icon, ImageGeom &g);
int overlay_acquire(mv_doc *doc, const PlaneRef &p, PlaneBuf &out, char *err,
                    size_t errlen);
int overlay_commit(mv_doc *doc, const PlaneRef &p, const PlaneBuf &edited,
                   char *err, size_t errlen);

/* The value bytes of an OB/OW/US-like element in host (= little-endian)
 * order; nullptr when it has none. */
inline uint8_t *element_bytes(DcmElement *el) {
  Uint8 *b = nullptr;
  if (el->getUint8Array(b).good() && b) return b;
  Uint16 *w = nullptr;
  if (el->getUint16Array(w).good() && w) return reinterpret_cast<uint8_t *>(w);
  return nullptr;
}

/* One stored sample of sb (1 or 2) bytes, host (little-endian) order. */
inline uint32_t load_sample(const uint8_t *p, size_t sb) {
  return sb == 1 ? p[0] : static_cast<uint32_t>(p[0] | (p[1] << 8));
}

/* Stored sample -> value: shift to bit 0, mask, sign-extend. */
inline int32_t sample_value(const ImageGeom &g, uint32_t raw) {
  uint32_t shift = g.high_bit + 1 - g.bits_stored;
  uint32_t mask = g.bits_stored >= 32 ? 0xffffffffu : (1u << g.bits_stored) - 1;
  uint32_t v = (raw >> shift) & mask;
  if (g.pixrep && g.bits_stored < 32 && (v >> (g.bits_stored - 1)) & 1u)
    return static_cast<int32_t>(v | ~mask);
  return static_cast<int32_t>(v);
}

/* Clip rectangles to a w*h plane; drops empty ones. */
std::vector<mv_rect> clip_rects(const mv_rect *r, size_t n, uint32_t w,
                                uint32_t h);

} // namespace mvdcm

#endif
