/* dicom_pixels_j2k.cc - JPEG 2000 frames through openjpeg.
 *
 * dcmtk 3.6.7 has no JPEG 2000 codec. A frame is decoded from memory (J2K
 * codestream or JP2 file), after checking its header against Rows, Columns
 * and SamplesPerPixel so a hostile codestream cannot make openjpeg allocate
 * more than the image needs. A changed frame is encoded as a reversible 5/3
 * J2K codestream, one quality layer; three samples use the reversible
 * colour transform only when the object says YBR_RCT. A reversible frame
 * is valid under both .4.90 and .4.91, so the transfer syntax is kept.
 * openjpeg messages are dropped: they could only go to stderr. */
#include "dicom_pixels.h"

#include <openjpeg.h>

#include <algorithm>
#include <cstring>

namespace mvdcm {
namespace {

struct MemIn {
  const uint8_t *p;
  size_t n, pos;
};

OPJ_SIZE_T in_read(void *buf, OPJ_SIZE_T n, void *ud) {
  MemIn *m = static_cast<MemIn *>(ud);
  if (m->pos >= m->n) return static_cast<OPJ_SIZE_T>(-1);
  size_t k = std::min<size_t>(n, m->n - m->pos);
  memcpy(buf, m->p + m->pos, k);
  m->pos += k;
  return k;
}
OPJ_OFF_T in_skip(OPJ_OFF_T n, void *ud) {
  MemIn *m = static_cast<MemIn *>(ud);
  if (n < 0) {
    size_t back = std::min<size_t>(m->pos, static_cast<size_t>(-n));
    m->pos -= back;
    return -static_cast<OPJ_OFF_T>(back);
  }
  size_t k = std::min<size_t>(static_cast<size_t>(n), m->n - m->pos);
  m->pos += k;
  return static_cast<OPJ_OFF_T>(k);
}
OPJ_BOOL in_seek(OPJ_OFF_T n, void *ud) {
  MemIn *m = static_cast<MemIn *>(ud);
  if (n < 0 || static_cast<uint64_t>(n) > m->n) return OPJ_FALSE;
  m->pos = static_cast<size_t>(n);
  return OPJ_TRUE;
}

struct MemOut {
  std::vector<uint8_t> *v;
  size_t pos;
};
OPJ_SIZE_T out_write(void *buf, OPJ_SIZE_T n, void *ud) {
  MemOut *m = static_cast<MemOut *>(ud);
  if (m->pos + n > m->v->size()) m->v->resize(m->pos + n);
  memcpy(m->v->data() + m->pos, buf, n);
  m->pos += n;
  return n;
}
OPJ_OFF_T out_skip(OPJ_OFF_T n, void *ud) {
  MemOut *m = static_cast<MemOut *>(ud);
  if (n < 0 && static_cast<size_t>(-n) > m->pos) return -1;
  m->pos = static_cast<size_t>(static_cast<OPJ_OFF_T>(m->pos) + n);
  if (m->pos > m->v->size()) m->v->resize(m->pos);
  return n;
}
OPJ_BOOL out_seek(OPJ_OFF_T n, void *ud) {
  MemOut *m = static_cast<MemOut *>(ud);
  if (n < 0) return OPJ_FALSE;
  m->pos = static_cast<size_t>(n);
  if (m->pos > m->v->size()) m->v->resize(m->pos);
  return OPJ_TRUE;
}

void quiet(const char *, void *) {}

/* Everything openjpeg hands out, freed on every path. */
struct Opj {
  opj_codec_t *codec = nullptr;
  opj_stream_t *stream = nullptr;
  opj_image_t *image = nullptr;
  ~Opj() {
    if (stream) opj_stream_destroy(stream);
    if (codec) opj_destroy_codec(codec);
    if (image) opj_image_destroy(image);
  }
};

} // namespace

int j2k_decode(const ImageGeom &g, const std::vector<uint8_t> &cs, RawFrame &raw,
               char *err, size_t errlen) {
  if (cs.size() < 4) {
    set_err(err, errlen, "JPEG 2000 frame too short");
    return MV_EFORMAT;
  }
  const bool jp2 = cs[0] == 0 && cs[1] == 0 && cs[2] == 0 && cs[3] == 0x0C;
  MemIn in{cs.data(), cs.size(), 0};
  Opj o;
  o.codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
  o.stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
  if (!o.codec || !o.stream) {
    set_err(err, errlen, "openjpeg: out of memory");
    return MV_ENOMEM;
  }
  opj_set_error_handler(o.codec, quiet, nullptr);
  opj_set_warning_handler(o.codec, quiet, nullptr);
  opj_set_info_handler(o.codec, quiet, nullptr);
  opj_stream_set_user_data(o.stream, &in, nullptr);
  opj_stream_set_user_data_length(o.stream, cs.size());
  opj_stream_set_read_function(o.stream, in_read);
  opj_stream_set_skip_function(o.stream, in_skip);
  opj_stream_set_seek_function(o.stream, in_seek);
  opj_dparameters_t dp;
  opj_set_default_decoder_parameters(&dp);
  if (!opj_setup_decoder(o.codec, &dp) ||
      !opj_read_header(o.stream, o.codec, &o.image) || !o.image) {
    set_err(err, errlen, "JPEG 2000 header unreadable");
    return MV_EFORMAT;
  }
  opj_image_t *im = o.image;
  if (im->x1 - im->x0 != g.cols || im->y1 - im->y0 != g.rows || im->numcomps < g.spp ||
      (g.spp == 1 && im->numcomps != 1)) {
    set_err(err, errlen, "JPEG 2000 frame is %ux%u with %u component(s), the object says %ux%u with %u",
            im->x1 - im->x0, im->y1 - im->y0, im->numcomps, g.cols, g.rows, g.spp);
    return MV_EFORMAT;
  }
  for (uint32_t c = 0; c < g.spp; c++)
    if (im->comps[c].dx != 1 || im->comps[c].dy != 1 || im->comps[c].prec > 16) {
      set_err(err, errlen, "JPEG 2000 subsampled or deeper than 16 bits");
      return MV_EUNSUPPORTED;
    }
  if (!opj_decode(o.codec, o.stream, im) || !opj_end_decompress(o.codec, o.stream)) {
    set_err(err, errlen, "JPEG 2000 frame cannot be decoded");
    return MV_EFORMAT;
  }
  const size_t npix = size_t(g.rows) * g.cols, sb = g.sample_bytes();
  for (uint32_t c = 0; c < g.spp; c++)
    if (!im->comps[c].data || im->comps[c].w != g.cols || im->comps[c].h != g.rows) {
      set_err(err, errlen, "JPEG 2000 component %u incomplete", c);
      return MV_EFORMAT;
    }
  raw.bytes.assign(npix * g.spp * sb, 0);
  for (size_t i = 0; i < npix; i++)
    for (uint32_t c = 0; c < g.spp; c++) {
      uint32_t v = static_cast<uint32_t>(im->comps[c].data[i]);
      uint8_t *p = &raw.bytes[(i * g.spp + c) * sb];
      p[0] = static_cast<uint8_t>(v);
      if (sb == 2) p[1] = static_cast<uint8_t>(v >> 8);
    }
  raw.planar = 0;
  /* openjpeg undoes the colour transform the codestream declares */
  raw.color = g.spp == 1 ? g.photometric
              : (g.photometric == "YBR_RCT" || g.photometric == "YBR_ICT") ? "RGB"
                                                                           : g.photometric;
  return MV_OK;
}

int j2k_encode(const ImageGeom &g, const RawFrame &raw, std::vector<uint8_t> &cs,
               char *err, size_t errlen) {
  const size_t npix = size_t(g.rows) * g.cols, sb = g.sample_bytes();
  if (raw.bytes.size() < npix * g.spp * sb || (g.spp > 1 && raw.planar)) {
    set_err(err, errlen, "JPEG 2000: frame layout not supported");
    return MV_EUNSUPPORTED;
  }
  std::vector<opj_image_cmptparm_t> cp(g.spp);
  for (uint32_t c = 0; c < g.spp; c++) {
    memset(&cp[c], 0, sizeof cp[c]);
    cp[c].dx = cp[c].dy = 1;
    cp[c].w = g.cols;
    cp[c].h = g.rows;
    cp[c].prec = g.bits_stored;
    cp[c].sgnd = g.pixrep ? 1 : 0;
  }
  Opj o;
  o.image = opj_image_create(g.spp, cp.data(), g.spp == 1 ? OPJ_CLRSPC_GRAY : OPJ_CLRSPC_SRGB);
  if (!o.image) {
    set_err(err, errlen, "openjpeg: out of memory");
    return MV_ENOMEM;
  }
  o.image->x0 = o.image->y0 = 0;
  o.image->x1 = g.cols;
  o.image->y1 = g.rows;
  for (size_t i = 0; i < npix; i++)
    for (uint32_t c = 0; c < g.spp; c++)
      o.image->comps[c].data[i] =
          sample_value(g, load_sample(&raw.bytes[(i * g.spp + c) * sb], sb));
  opj_cparameters_t ep;
  opj_set_default_encoder_parameters(&ep);
  ep.irreversible = 0;
  ep.tcp_numlayers = 1;
  ep.tcp_rates[0] = 0; /* lossless */
  ep.cp_disto_alloc = 1;
  ep.tcp_mct = (g.spp == 3 && g.photometric == "YBR_RCT") ? 1 : 0;
  /* at most as many resolutions as the smaller side allows */
  uint32_t side = std::min(g.rows, g.cols);
  while (ep.numresolution > 1 && (1u << (ep.numresolution - 1)) > side) ep.numresolution--;
  o.codec = opj_create_compress(OPJ_CODEC_J2K);
  if (!o.codec) {
    set_err(err, errlen, "openjpeg: out of memory");
    return MV_ENOMEM;
  }
  opj_set_error_handler(o.codec, quiet, nullptr);
  opj_set_warning_handler(o.codec, quiet, nullptr);
  opj_set_info_handler(o.codec, quiet, nullptr);
  cs.clear();
  MemOut out{&cs, 0};
  o.stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_FALSE);
  if (!o.stream) {
    set_err(err, errlen, "openjpeg: out of memory");
    return MV_ENOMEM;
  }
  opj_stream_set_user_data(o.stream, &out, nullptr);
  opj_stream_set_write_function(o.stream, out_write);
  opj_stream_set_skip_function(o.stream, out_skip);
  opj_stream_set_seek_function(o.stream, out_seek);
  if (!opj_setup_encoder(o.codec, &ep, o.image) ||
      !opj_start_compress(o.codec, o.image, o.stream) || !opj_encode(o.codec, o.stream) ||
      !opj_end_compress(o.codec, o.stream)) {
    set_err(err, errlen, "JPEG 2000 encoding failed");
    return MV_EPLUGIN;
  }
  cs.resize(out.pos);
  return MV_OK;
}

} // namespace mvdcm
