/* dicom_probe.cc - probe(): how sure are we that these bytes are DICOM?
 *
 * 100 for a Part 10 file ("DICM" after the 128-byte preamble). Files without
 * preamble (raw datasets, or a meta group at offset 0) score lower, and only
 * when the first element header is plausible: an even group up to 0x0008
 * (file meta, directory or identifying group: where every dataset starts)
 * with a standard VR and a sane length, or an implicit VR length. */
#include "dicom_internal.h"

#include <cstring>

namespace mvdcm {
namespace {

bool standard_vr(const uint8_t *h) {
  static const char *const vrs =
      "AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV";
  for (const char *v = vrs; *v; v += 2)
    if (h[0] == uint8_t(v[0]) && h[1] == uint8_t(v[1])) return true;
  return false;
}

bool long_vr(const uint8_t *h) {
  static const char *const vrs = "OBODOFOLOVOWSQSVUCUNURUTUV";
  for (const char *v = vrs; *v; v += 2)
    if (h[0] == uint8_t(v[0]) && h[1] == uint8_t(v[1])) return true;
  return false;
}

/* One element header in the given byte order: plausible or not. */
bool plausible(const uint8_t *h, size_t n, bool big) {
  auto r16 = [&](size_t o) {
    return big ? uint16_t(h[o] << 8 | h[o + 1]) : uint16_t(h[o + 1] << 8 | h[o]);
  };
  auto r32 = [&](size_t o) {
    return big ? uint32_t(r16(o)) << 16 | r16(o + 2)
               : uint32_t(r16(o + 2)) << 16 | r16(o);
  };
  uint16_t g = r16(0);
  if (g == 0 || (g & 1) || g > 0x0008) return false;
  if (standard_vr(h + 4)) {
    if (long_vr(h + 4)) {
      if (n < 12 || h[6] || h[7]) return false;
      uint32_t len = r32(8);
      return len == 0xFFFFFFFFu || len < (1u << 24);
    }
    return r16(6) <= 1024; /* group 0002-0008 values are short */
  }
  if (big) return false; /* implicit VR big endian does not exist */
  uint32_t len = r32(4);
  return len == 0xFFFFFFFFu || len <= 1024;
}

} // namespace

int op_probe(const uint8_t *head, size_t n) {
  if (!head) return 0;
  if (n >= 132 && memcmp(head + 128, "DICM", 4) == 0) return 100;
  if (n < 8) return 0;
  if (plausible(head, n, false)) return 60;
  if (plausible(head, n, true)) return 50;
  return 0;
}

} // namespace mvdcm
