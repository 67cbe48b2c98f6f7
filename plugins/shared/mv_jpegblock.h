/* mv_jpegblock.h - redaction of baseline JPEG in the DCT block domain.
 *
 * Why: re-encoding a lossy JPEG to remove burned-in text would degrade every
 * pixel a second time. Instead (Clunie & Gebow 2015, as in pixelmed) only the
 * 8x8 blocks under the redaction rectangles get new coefficients; every other
 * block keeps its quantised coefficients bit for bit, so it decodes exactly
 * as before.
 *
 * Scope: 8-bit Huffman sequential JPEG (SOF0 baseline, SOF1 extended),
 * greyscale or 3 components (YCbCr, or RGB when the file says so), any
 * integral chroma sampling (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1). Progressive,
 * arithmetic-coded, lossless (SOF3), hierarchical, 12-bit and 4-component
 * (CMYK/YCCK) files are refused with MV_EUNSUPPORTED.
 *
 * Colour: the decoder interprets the components the way libjpeg does, from
 * the JFIF (APP0) / Adobe (APP14) markers or else the component ids (1,2,3 or
 * none recognised -> YCbCr; 'R','G','B' -> RGB; Adobe transform 0 -> RGB).
 * mvjb_redact uses the same interpretation for the new blocks and keeps it in
 * the output (JFIF and Adobe markers are rewritten when the input had them).
 *
 * Markers: the output carries only what decoding needs: SOF, DQT, DHT, SOS,
 * DRI, and APP0 JFIF / APP14 Adobe when the input had them. COM and all other
 * APPn segments (EXIF, ICC, vendor text) are DROPPED, because they may carry
 * text; a caller that needs them must copy them itself.
 *
 * Guarantees (tested in tests/unit/jpegblock_test.c):
 *  - Coefficients: every block of every component outside the changed units
 *    (see below) is identical in input and output (jpeg_read_coefficients).
 *  - Pixels: decoding the output with mvjb_decode (no fancy upsampling) gives
 *    values bit-identical to mvjb_decode of the input at every pixel outside
 *    the changed units. With a decoder that does "fancy" (smoothing) chroma
 *    upsampling, which is libjpeg's default, differences may also reach one
 *    pixel beyond the changed units of a subsampled colour image.
 *  - Inside a changed unit that the edited image fills uniformly with grey v,
 *    the output decodes within about +-q/16+1 of v (q = DC quantiser), i.e.
 *    +-2 for usual tables.
 *
 * Changed units: a unit is the area one MCU covers: 8x8 pixels for a one-
 * component image, (8*Hmax)x(8*Vmax) pixels for a colour image (16x16 for
 * 4:2:0, 16x8 for 4:2:2). A unit is changed when it overlaps any rectangle;
 * all blocks of all components in it are then recomputed from the edited
 * pixels (the whole unit, not just the rectangle: pixels of the unit outside
 * the rectangle are taken from the edited image too, so pass the decoded
 * image with only the rectangles painted).
 *
 * Limits: images with more than MVJB_MAX_SAMPLES samples (width * height *
 * components) are refused with MV_ELIMIT, and images claiming more 8x8
 * blocks than the bitstream can hold (4 per byte) with MV_EFORMAT, both
 * before any large allocation; libjpeg's whole-image buffers are capped too.
 * Corrupt data (including what libjpeg would only warn about: bad Huffman
 * codes, premature end) fails with MV_EFORMAT. Nothing is printed; error
 * texts hold reasons, sizes, marker codes and libjpeg's messages, never pixel
 * values or text from the file.
 *
 * All functions are reentrant (no global state) and return codes from
 * medveil/errors.h. The API knows nothing about DICOM: pass one JPEG
 * bitstream (SOI..EOI) per call. */
#ifndef MV_JPEGBLOCK_H
#define MV_JPEGBLOCK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest image accepted, in samples (width * height * components). */
#define MVJB_MAX_SAMPLES ((uint64_t)1 << 28)

/* A decoded image: 8-bit samples, interleaved RGB when samples == 3. */
typedef struct mvjb_image {
  uint32_t width, height;
  uint32_t samples; /* 1 grey, 3 RGB */
  size_t stride;    /* bytes per row (width * samples) */
  uint8_t *data;    /* malloc'd; free with mvjb_image_free */
} mvjb_image;

/* A rectangle in pixels; parts outside the image are ignored. Same layout
 * as mv_rect in medveil/plugin.h. */
typedef struct mvjb_rect {
  int32_t x, y;
  int32_t w, h;
} mvjb_rect;

/* Decode jpg[0..n) to 8-bit grey or RGB without fancy upsampling (see the
 * guarantees above). On success *out owns malloc'd data; on failure *out is
 * zeroed. err (may be NULL) receives a short reason. Returns MV_OK,
 * MV_EINVAL, MV_EFORMAT (corrupt), MV_EUNSUPPORTED, MV_ELIMIT, MV_ENOMEM. */
int mvjb_decode(const uint8_t *jpg, size_t n, mvjb_image *out, char *err,
                size_t errlen);

/* Free img->data and zero *img; NULL is fine. */
void mvjb_image_free(mvjb_image *img);

/* Rewrite jpg so that every unit overlapping one of rects[0..nrects) holds
 * the DCT of `edited` (same width/height/samples as mvjb_decode gives for
 * jpg), quantised with the file's own tables; all other blocks are copied
 * unchanged. Huffman tables are re-optimised. On success *out is a malloc'd
 * JPEG of *outlen bytes (free()); on failure *out is NULL. nrects == 0 gives
 * a lossless copy. Returns the same codes as mvjb_decode. */
int mvjb_redact(const uint8_t *jpg, size_t n, const mvjb_image *edited,
                const mvjb_rect *rects, size_t nrects, uint8_t **out,
                size_t *outlen, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
