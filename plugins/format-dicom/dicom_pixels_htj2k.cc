/* dicom_pixels_htj2k.cc - High-Throughput JPEG 2000 frames through OpenJPH.
 *
 * dcmtk 3.6.7 knows neither the HTJ2K transfer syntaxes nor the codec: the
 * files are read as a pass-through syntax (dicom_guard.cc) and their frames
 * decoded here. Encoding writes a reversible 5/3 codestream (lossless, so
 * valid under .201, .202 and .203) in RPCL order, which .202 requires and
 * the others allow; three samples use the reversible colour transform only
 * when the object says YBR_RCT. The header is checked against Rows, Columns
 * and SamplesPerPixel before OpenJPH allocates anything for the image.
 * OpenJPH reports errors by calling a handler that must not return: ours
 * throws, and every entry point catches, so nothing reaches stderr or
 * unwinds into dcmtk. */
#include "dicom_pixels.h"

#include <openjph/ojph_arch.h>
#include <openjph/ojph_codestream.h>
#include <openjph/ojph_file.h>
#include <openjph/ojph_mem.h>
#include <openjph/ojph_message.h>
#include <openjph/ojph_params.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace mvdcm {
namespace {

struct OjphError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Thrower : public ojph::message_error {
public:
  void operator()(int code, const char *, int, const char *fmt, ...) override {
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    (void)code;
    throw OjphError(buf);
  }
};

class Silent : public ojph::message_warning {
public:
  void operator()(int, const char *, int, const char *, ...) override {}
};

class SilentInfo : public ojph::message_info {
public:
  void operator()(int, const char *, int, const char *, ...) override {}
};

/* OpenJPH's handlers are process-wide: install ours once. OpenJPH 0.9
 * still prints through its own error stream before throwing, so its streams
 * are pointed at /dev/null too (nothing may reach our stderr: the messages
 * are about the data). */
void quiet_openjph() {
  static std::once_flag once;
  std::call_once(once, [] {
    static Thrower t;
    static Silent w;
    static SilentInfo i;
    ojph::configure_error(&t);
    ojph::configure_warning(&w);
    ojph::configure_info(&i);
    static FILE *sink = fopen("/dev/null", "w");
    if (sink) {
      ojph::set_error_stream(sink);
      ojph::set_warning_stream(sink);
      ojph::set_info_stream(sink);
    }
  });
}


} // namespace

int htj2k_decode(const ImageGeom &g, const std::vector<uint8_t> &cs, RawFrame &raw,
                 char *err, size_t errlen) {
  quiet_openjph();
  if (cs.size() < 4 || cs[0] != 0xFF || cs[1] != 0x4F) {
    set_err(err, errlen, "HTJ2K frame is not a J2K codestream");
    return MV_EFORMAT;
  }
  const size_t npix = size_t(g.rows) * g.cols, sb = g.sample_bytes();
  try {
    ojph::mem_infile in;
    in.open(cs.data(), cs.size());
    ojph::codestream c;
    c.read_headers(&in);
    ojph::param_siz siz = c.access_siz();
    ojph::point ext = siz.get_image_extent(), off = siz.get_image_offset();
    if (ext.x - off.x != g.cols || ext.y - off.y != g.rows || siz.get_num_components() != g.spp) {
      set_err(err, errlen, "HTJ2K frame is %ux%u with %u component(s), the object says %ux%u with %u",
              ext.x - off.x, ext.y - off.y, siz.get_num_components(), g.cols, g.rows, g.spp);
      return MV_EFORMAT;
    }
    for (uint32_t k = 0; k < g.spp; k++) {
      ojph::point d = siz.get_downsampling(k);
      if (d.x != 1 || d.y != 1 || siz.get_bit_depth(k) > 16) {
        set_err(err, errlen, "HTJ2K subsampled or deeper than 16 bits");
        return MV_EUNSUPPORTED;
      }
    }
    c.set_planar(false);
    c.create();
    raw.bytes.assign(npix * g.spp * sb, 0);
    for (uint32_t y = 0; y < g.rows; y++)
      for (uint32_t k = 0; k < g.spp; k++) {
        ojph::ui32 comp = 0;
        ojph::line_buf *line = c.pull(comp);
        if (!line || comp >= g.spp) throw OjphError("short codestream");
        for (uint32_t x = 0; x < g.cols; x++) {
          uint32_t v = static_cast<uint32_t>(line->i32[x]);
          uint8_t *p = &raw.bytes[((size_t(y) * g.cols + x) * g.spp + comp) * sb];
          p[0] = static_cast<uint8_t>(v);
          if (sb == 2) p[1] = static_cast<uint8_t>(v >> 8);
        }
      }
    c.close();
  } catch (const std::exception &e) {
    set_err(err, errlen, "HTJ2K frame cannot be decoded: %s", e.what());
    return MV_EFORMAT;
  }
  raw.planar = 0;
  raw.color = g.spp == 1 ? g.photometric
              : (g.photometric == "YBR_RCT" || g.photometric == "YBR_ICT") ? "RGB"
                                                                           : g.photometric;
  return MV_OK;
}

int htj2k_encode(const ImageGeom &g, const RawFrame &raw, std::vector<uint8_t> &cs,
                 char *err, size_t errlen) {
  quiet_openjph();
  const size_t npix = size_t(g.rows) * g.cols, sb = g.sample_bytes();
  if (raw.bytes.size() < npix * g.spp * sb || (g.spp > 1 && raw.planar) ||
      (g.spp != 1 && g.spp != 3) || g.bits_stored < 1 || g.bits_stored > 16) {
    set_err(err, errlen, "HTJ2K: frame layout not supported");
    return MV_EUNSUPPORTED;
  }
  try {
    ojph::codestream c;
    ojph::param_siz siz = c.access_siz();
    siz.set_image_extent(ojph::point(g.cols, g.rows));
    siz.set_num_components(g.spp);
    for (uint32_t k = 0; k < g.spp; k++)
      siz.set_component(k, ojph::point(1, 1), g.bits_stored, g.pixrep != 0);
    siz.set_image_offset(ojph::point(0, 0));
    siz.set_tile_size(ojph::size(0, 0));
    siz.set_tile_offset(ojph::point(0, 0));
    ojph::param_cod cod = c.access_cod();
    /* no more levels than the smaller side allows */
    uint32_t levels = 5, side = std::min(g.rows, g.cols);
    while (levels > 0 && (1u << levels) > side) levels--;
    cod.set_num_decomposition(levels);
    cod.set_block_dims(64, 64);
    cod.set_progression_order("RPCL");
    const bool rct = g.spp == 3 && raw.color == "YBR_RCT";
    cod.set_color_transform(rct);
    cod.set_reversible(true);
    c.set_planar(false);
    ojph::mem_outfile out;
    out.open();
    c.write_headers(&out);
    ojph::ui32 comp = 0;
    ojph::line_buf *line = c.exchange(nullptr, comp);
    for (uint32_t y = 0; y < g.rows; y++)
      for (uint32_t k = 0; k < g.spp; k++) {
        if (!line || comp >= g.spp) throw OjphError("encoder asked for an unknown component");
        for (uint32_t x = 0; x < g.cols; x++)
          line->i32[x] = sample_value(
              g, load_sample(&raw.bytes[((size_t(y) * g.cols + x) * g.spp + comp) * sb], sb));
        line = c.exchange(line, comp);
      }
    c.flush();
    const ojph::ui8 *data = out.get_data();
    size_t n = static_cast<size_t>(out.tell());
    cs.assign(data, data + n);
    c.close();
  } catch (const std::exception &e) {
    set_err(err, errlen, "HTJ2K encoding failed: %s", e.what());
    return MV_EPLUGIN;
  }
  return MV_OK;
}

} // namespace mvdcm

namespace mvdcm {

bool is_htj2k_uid(const std::string &uid) {
  return uid == "1.2.840.10008.1.2.4.201" || uid == "1.2.840.10008.1.2.4.202" ||
         uid == "1.2.840.10008.1.2.4.203";
}

} // namespace mvdcm
