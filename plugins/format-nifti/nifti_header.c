/* nifti_header.c - recognising and checking NIfTI-1 and NIfTI-2 headers.
 * Fields are read in the header's own byte order (sizeof_hdr tells it);
 * every size derived from them is computed overflow-safe in 64 bits. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nifti_internal.h"

static const nv_field n1_fields[] = {
    {"nifti:data_type", 4, 10},
    {"nifti:db_name", 14, 18},
    {"nifti:descrip", 148, 80},
    {"nifti:aux_file", 228, 24},
    {"nifti:intent_name", 328, 16},
};
static const nv_field n2_fields[] = {
    {"nifti:descrip", 240, 80},
    {"nifti:aux_file", 320, 24},
    {"nifti:intent_name", 508, 16},
};

const nv_field *nv_fields(int version, size_t *count) {
  if (version == 2) {
    *count = sizeof n2_fields / sizeof *n2_fields;
    return n2_fields;
  }
  *count = sizeof n1_fields / sizeof *n1_fields;
  return n1_fields;
}

static uint32_t bswap32(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}
static uint64_t bswap64(uint64_t v) {
  return ((uint64_t)bswap32((uint32_t)v) << 32) | bswap32((uint32_t)(v >> 32));
}

int32_t nv_get32(const uint8_t *p, int swap) {
  uint32_t v;
  memcpy(&v, p, 4);
  return (int32_t)(swap ? bswap32(v) : v);
}
static int16_t get16(const uint8_t *p, int swap) {
  uint16_t v;
  memcpy(&v, p, 2);
  if (swap) v = (uint16_t)((v >> 8) | (v << 8));
  return (int16_t)v;
}
static int64_t get64(const uint8_t *p, int swap) {
  uint64_t v;
  memcpy(&v, p, 8);
  return (int64_t)(swap ? bswap64(v) : v);
}
static float getf32(const uint8_t *p, int swap) {
  uint32_t v = (uint32_t)nv_get32(p, swap);
  float f;
  memcpy(&f, &v, 4);
  return f;
}
void nv_put32(uint8_t *p, int32_t v, int swap) {
  uint32_t u = (uint32_t)v;
  if (swap) u = bswap32(u);
  memcpy(p, &u, 4);
}
void nv_put64(uint8_t *p, int64_t v, int swap) {
  uint64_t u = (uint64_t)v;
  if (swap) u = bswap64(u);
  memcpy(p, &u, 8);
}
void nv_putf32(uint8_t *p, float f, int swap) {
  uint32_t u;
  memcpy(&u, &f, 4);
  nv_put32(p, (int32_t)u, swap);
}

/* sizeof_hdr in either byte order: 348/540 and whether it is swapped. */
static int sizeof_hdr(const uint8_t *b, size_t n, int *swap) {
  if (n < 4) return 0;
  int32_t le = nv_get32(b, 0), be = nv_get32(b, 1);
  if (le == NV_N1_SIZE || le == NV_N2_SIZE) {
    *swap = 0;
    return le;
  }
  if (be == NV_N1_SIZE || be == NV_N2_SIZE) {
    *swap = 1;
    return be;
  }
  return 0;
}

int nv_sniff(const uint8_t *b, size_t n, int *pair) {
  int swap = 0;
  int size = sizeof_hdr(b, n, &swap);
  if (size == NV_N1_SIZE && n >= NV_N1_SIZE) {
    const uint8_t *m = b + 344;
    if ((m[0] == 'n' && (m[1] == '+' || m[1] == 'i') && m[2] == '1' &&
         m[3] == 0)) {
      *pair = m[1] == 'i';
      return 1;
    }
  } else if (size == NV_N2_SIZE && n >= 8) {
    const uint8_t *m = b + 4;
    if (m[0] == 'n' && (m[1] == '+' || m[1] == 'i') && m[2] == '2' &&
        m[3] == 0) {
      *pair = m[1] == 'i';
      return 2;
    }
  }
  return 0;
}

/* Bits per voxel each datatype implies (0: not a NIfTI datatype). */
static int datatype_bits(int dt) {
  switch (dt) {
    case 1: return 1;      /* binary */
    case 2: return 8;      /* uint8 */
    case 4: return 16;     /* int16 */
    case 8: return 32;     /* int32 */
    case 16: return 32;    /* float32 */
    case 32: return 64;    /* complex64 */
    case 64: return 64;    /* float64 */
    case 128: return 24;   /* rgb24 */
    case 256: return 8;    /* int8 */
    case 512: return 16;   /* uint16 */
    case 768: return 32;   /* uint32 */
    case 1024: return 64;  /* int64 */
    case 1280: return 64;  /* uint64 */
    case 1536: return 128; /* float128 */
    case 1792: return 128; /* complex128 */
    case 2048: return 256; /* complex256 */
    case 2304: return 32;  /* rgba32 */
    default: return 0;
  }
}

int nv_hdr_parse(const uint8_t *raw, size_t n, nv_hdr *h, char *err,
                 size_t errlen) {
  memset(h, 0, sizeof *h);
  int pair = 0;
  int version = nv_sniff(raw, n, &pair);
  if (!version) {
    snprintf(err, errlen, "not a NIfTI-1 or NIfTI-2 header (sizeof_hdr or "
                          "magic wrong)");
    return MV_EFORMAT;
  }
  int swap = 0;
  (void)sizeof_hdr(raw, n, &swap);
  h->version = version;
  h->swap = swap;
  h->pair = pair;
  h->size = version == 1 ? NV_N1_SIZE : NV_N2_SIZE;
  if (n < h->size) {
    snprintf(err, errlen, "truncated header (%zu of %zu bytes)", n, h->size);
    return MV_EFORMAT;
  }
  if (version == 1) {
    for (int i = 0; i < 8; i++) h->dim[i] = get16(raw + 40 + 2 * i, swap);
    h->datatype = get16(raw + 70, swap);
    h->bitpix = get16(raw + 72, swap);
    float vo = getf32(raw + 108, swap);
    if (!isfinite(vo) || vo < 0 || vo > (float)NV_MAX_EXT_REGION ||
        vo != floorf(vo)) {
      snprintf(err, errlen, "vox_offset is not a sane byte offset");
      return MV_EFORMAT;
    }
    h->vox_offset = (int64_t)vo;
  } else {
    for (int i = 0; i < 8; i++) h->dim[i] = get64(raw + 16 + 8 * i, swap);
    h->datatype = get16(raw + 12, swap);
    h->bitpix = get16(raw + 14, swap);
    h->vox_offset = get64(raw + 168, swap);
    if (h->vox_offset < 0 || h->vox_offset > (int64_t)NV_MAX_EXT_REGION) {
      snprintf(err, errlen, "vox_offset is not a sane byte offset");
      return MV_EFORMAT;
    }
  }
  if (h->dim[0] < 1 || h->dim[0] > 7) {
    snprintf(err, errlen, "dim[0] is %lld, must be 1..7",
             (long long)h->dim[0]);
    return MV_EFORMAT;
  }
  uint64_t nvox = 1;
  for (int i = 1; i <= h->dim[0]; i++) {
    if (h->dim[i] < 1) {
      snprintf(err, errlen, "dim[%d] is %lld, must be positive", i,
               (long long)h->dim[i]);
      return MV_EFORMAT;
    }
    if (__builtin_mul_overflow(nvox, (uint64_t)h->dim[i], &nvox)) {
      snprintf(err, errlen, "dimensions overflow 64 bits");
      return MV_ELIMIT;
    }
  }
  int bits = datatype_bits(h->datatype);
  if (!bits) {
    snprintf(err, errlen, "unknown datatype %d", h->datatype);
    return MV_EFORMAT;
  }
  if (h->bitpix != bits) {
    snprintf(err, errlen, "bitpix %d does not match datatype %d (%d bits)",
             h->bitpix, h->datatype, bits);
    return MV_EFORMAT;
  }
  uint64_t total_bits;
  if (__builtin_mul_overflow(nvox, (uint64_t)bits, &total_bits)) {
    snprintf(err, errlen, "declared voxel data size overflows 64 bits");
    return MV_ELIMIT;
  }
  h->data_bytes = total_bits / 8 + (total_bits % 8 != 0);
  if (h->data_bytes > NV_MAX_DATA) {
    snprintf(err, errlen, "declared voxel data (%llu bytes) exceeds the "
             "limit of %llu bytes", (unsigned long long)h->data_bytes,
             (unsigned long long)NV_MAX_DATA);
    return MV_ELIMIT;
  }
  if (!pair && h->vox_offset < (int64_t)h->size) {
    snprintf(err, errlen, "vox_offset %lld lies inside the header",
             (long long)h->vox_offset);
    return MV_EFORMAT;
  }
  return MV_OK;
}
