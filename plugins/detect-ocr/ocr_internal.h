/* ocr_internal.h - shared types of the detect-ocr plugin (internal API).
 *
 * Module prefixes: ocr_opt_ (options and ocr.conf), ocr_pix_ (image
 * conversion and normalisation), ocr_read_ (tesseract on one prepared
 * image), ocr_line_ (one layout line in its best orientation), ocr_emit_
 * (word boxes to the core), ocr_region_ (the pipeline for one rectangle of
 * a plane), ocr_plugin (descriptor and C ABI entry points).
 */
#ifndef MEDVEIL_OCR_INTERNAL_H
#define MEDVEIL_OCR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "medveil/plugin.h"

struct Pix;
struct Boxa;
struct Boxaa;
struct TessBaseAPI;

#define OCR_NAME "detect-ocr"
#define OCR_LANG_MAX 64
#define OCR_PATH_MAX 512

/* Limits that bound the work of one detect() call. */
#define OCR_MAX_PIXELS (64u * 1024u * 1024u) /* larger planes: MV_ELIMIT */
#define OCR_WORK_LONG_MAX 4000 /* longer sides are downscaled for OCR */
#define OCR_UPSCALE_BELOW 1000 /* shorter long sides are upscaled 2x */
#define OCR_PAD 25             /* background border around a page */
/* Grey images of a plane: luma, then red, green and blue for colour (text
 * of another hue at the luma of its ground shows in one of them). */
#define OCR_PLANES 4
#define OCR_LINE_PAD 10        /* background border around a line clip */
#define OCR_MAX_LINES 3000     /* lines beyond this are reported UNREAD */
/* Strokes (ocr_pix_strokes): top-hat size in work pixels, contrast in grey
 * levels. Thicker strokes than the size are rare in burned-in text. */
#define OCR_STROKE_SIZE 15
#define OCR_STROKE_CONTRAST 24
/* A line found in a stroke image is kept when the stroke density inside it
 * is at least this many times the density in the ring around it. */
#define OCR_STROKE_RING 3
#define OCR_STROKE_RING_MAX 0.04 /* ... and at most this density */
/* Rows thinner than this (native pixels) found in stroke images are taken
 * for speckle: the caps of 8 px fonts are 6 px high. */
#define OCR_MIN_ROW 5.5
/* Words read below this confidence (0..100) that are thicker than this
 * (native pixels) or cover 5% of the plane are dropped (ocr_emit.c). */
#define OCR_SURE_WORD 90.0f
/* A word of a line that only layout analysis found (no chain of characters
 * under it) counts from this confidence (0..100) on. */
#define OCR_LAYOUT_SURE 60.0f
#define OCR_MAX_WORD_ACROSS 64
/* Page stroke images keep at most this share of pixels (see ocr_pix.c). */
#define OCR_STROKE_SHARE 0.04

/* How text is found in a page (see ocr_region.c). */
enum { OCR_MODE_SPARSE = 0, OCR_MODE_LINES = 1 };
/* Which lines mode=lines reads (see ocr_layout.c): chains of characters and
 * tesseract's layout analysis, or the chains only (about half the time). */
enum { OCR_LAYOUT_FULL = 0, OCR_LAYOUT_CHAINS = 1 };

/* Options of one context (policy "options" string over ocr.conf). */
typedef struct ocr_opts {
  char lang[OCR_LANG_MAX];     /* "eng" or "eng+deu" */
  char tessdata[OCR_PATH_MAX]; /* directory holding <lang>.traineddata */
  int mode;                    /* OCR_MODE_* */
  int layout;                  /* OCR_LAYOUT_* */
  int rotate;                  /* try 90/180/270 for doubtful lines */
  int upscale;                 /* allow 2x upscaling of small images */
  int budget_ms;               /* per detect(); later lines become UNREAD */
  int threshold;               /* tesseract thresholding_method: 0 Otsu,
                                  1 adaptive (LeptonicaOtsu), 2 Sauvola */
} ocr_opts;

/* Plugin state from init: read-only after init, shared by workers. */
typedef struct ocr_state {
  const mv_host *host;
  ocr_opts defaults; /* built-ins overridden by <models>/ocr.conf */
} ocr_state;

/* A per-worker context: one tesseract engine. */
typedef struct ocr_ctx {
  const ocr_state *st;
  ocr_opts opt;
  struct TessBaseAPI *api;
} ocr_ctx;

/* ---- ocr_opt.c ---------------------------------------------------------- */
/* Built-in defaults (lang=eng, tessdata from TESSDATA_PREFIX or Debian's). */
void ocr_opt_defaults(ocr_opts *o);
/* Apply "k=v" items separated by `sep` (';' for options, '\n' for ocr.conf;
 * '#' starts a comment line). Unknown keys or bad values: MV_EINVAL with a
 * reason naming the key. */
int ocr_opt_parse(ocr_opts *o, const char *text, char sep, char *err,
                  size_t errlen);
/* Read <models>/ocr.conf into *o if it exists (absent is fine). */
int ocr_opt_load_conf(ocr_opts *o, const char *models_dir, char *err,
                      size_t errlen);
/* Check every language of o->lang has a traineddata file. */
int ocr_opt_check_langs(const ocr_opts *o, char *err, size_t errlen);

/* ---- ocr_pix.c ---------------------------------------------------------- */
/* Validate an 8-bit grey/RGB mv_image and convert it to 8 bpp Pix: out[0]
 * the luma; with `channels`, for colour, out[1..3] the red, green and blue
 * channels (NULL otherwise, for grey, or RGB whose channels are all
 * equal). */
int ocr_pix_from_image(const mv_image *img, int channels, struct Pix **out,
                       char *err, size_t errlen);
/* 1 when the background (median) is darker than the text (extremes'
 * midpoint), so the image must be inverted to get dark text on light. */
int ocr_pix_dark_background(struct Pix *pix);
/* A new Pix: inverted if `invert`, then padded by `pad` pixels of the
 * background colour (the median after inversion). */
struct Pix *ocr_pix_normalise(struct Pix *pix, int invert, int pad);
/* The chroma of three grey channel images of one size (max - min per
 * pixel): coloured text stands out of grey anatomy of its own brightness.
 * NULL when a channel is missing or memory runs out. */
struct Pix *ocr_pix_chroma(struct Pix *const *rgb);
/* A 1 bpp image of the strokes of `norm` that are darker (`dark`) or
 * lighter than their surroundings by at least `contrast` grey levels and
 * thinner than `size` pixels (morphological top-hat): text over shaded or
 * bright anatomy, which a global threshold merges with the background.
 * With max_share > 0 the contrast is raised so that at most that share of
 * the pixels are strokes (textured images). */
struct Pix *ocr_pix_strokes(struct Pix *norm, int dark, int size,
                            int contrast, double max_share);

/* ---- ocr_read.c --------------------------------------------------------- */
/* One recognised word in the coordinates of the image that was read. */
typedef struct ocr_word {
  int x1, y1, x2, y2; /* half-open box */
  float conf;         /* 0..100 */
  int line;           /* line index within this reading (0-based) */
  char text[256];
} ocr_word;

/* The words of one reading. */
typedef struct ocr_words {
  ocr_word *v;
  size_t n, cap;
  int lines; /* number of text lines seen */
} ocr_words;

void ocr_words_free(ocr_words *w);
/* Append a copy of *x. Returns MV_OK or MV_ENOMEM. */
int ocr_words_push(ocr_words *w, const ocr_word *x);
/* Recognise `pix` (8 bpp, already normalised and padded) with page
 * segmentation mode `psm`; words are appended to *out (obvious noise is
 * dropped). Returns MV_OK, MV_ENOMEM or MV_EPLUGIN. */
int ocr_read(struct TessBaseAPI *api, struct Pix *pix, int psm, ocr_words *out);
/* Score of a reading for choosing between orientations: mean word
 * confidence weighted by characters, with a small bonus for more text. */
double ocr_read_score(const ocr_words *w);
/* Text lines found by layout analysis only (no recognition) in `pix`
 * (normalised and padded) with page segmentation mode `psm`. Returns a
 * Boxa (caller destroys) or NULL. */
struct Boxa *ocr_read_layout(struct TessBaseAPI *api, struct Pix *pix,
                             int psm);

/* ---- ocr_emit.c --------------------------------------------------------- */
/* Maps a box in a read image back to native plane coordinates: the read
 * image is the work image clipped at (cx, cy), scaled by `lscale` (0 or 1:
 * not scaled), padded by `pad`, then rotated clockwise by `quads` quarter
 * turns (cw x ch = the scaled clip size before padding); the work image is
 * native scaled by `scale` and offset by (ox, oy). */
typedef struct ocr_xform {
  int cx, cy, cw, ch, pad, quads;
  double lscale;
  double scale;
  int ox, oy;
  int plane_w, plane_h;
} ocr_xform;

/* Emission state for one detect() call. */
typedef struct ocr_emitter {
  mv_box_sink sink;
  void *ud;
  uint32_t plane;
  uint32_t next_line; /* unique line numbers within the call */
  size_t emitted;
  int stopped; /* the sink asked to stop */
  /* Native rects of the chains of characters (ocr_cc.c): boxes lying at
   * least a quarter inside them are flagged MV_BOX_SHAPED. */
  mv_rect *shaped;
  size_t nshaped, capshaped;
  int chains_known; /* chains were searched (mode=lines): a line outside
                       them is layout's guess only */
  /* Native rects of every box sent (to find characters no box covers). */
  mv_rect *sent;
  size_t nsent, capsent;
} ocr_emitter;

/* Map box corners (half-open, read-image coordinates) to a native rect;
 * returns 0 when nothing of it lies in the plane. */
int ocr_emit_map(const ocr_xform *t, int x1, int y1, int x2, int y2,
                 mv_rect *r);
/* Emit the words of one reading, one new line number per reading line.
 * `rotated` adds MV_BOX_ROTATED. Returns non-zero when the sink stopped. */
int ocr_emit_words(ocr_emitter *e, const ocr_xform *t, const ocr_words *w,
                   int rotated);
/* 1 when at least a quarter of r lies in chains of characters. */
int ocr_emit_in_chains(const ocr_emitter *e, const mv_rect *r);
/* Line numbers from here on belong to chains of characters (box.line of a
 * word in chain i is OCR_CHAIN_LINE + i); readings number from 0. */
#define OCR_CHAIN_LINE 0x40000000u
/* Remember native rect r as a chain of characters. MV_OK or MV_ENOMEM. */
int ocr_emit_add_shaped(ocr_emitter *e, const mv_rect *r);

/* The characters of a chain (`glyphs`, work coordinates of `base`) that no
 * box sent so far covers, as UNREAD boxes: one per run of neighbouring
 * uncovered characters. What tesseract left out of a line it read, or
 * could not read at all, is still redacted. */
int ocr_emit_uncovered(ocr_emitter *e, const ocr_xform *base,
                       struct Boxa *glyphs);
/* Free what the emitter holds. */
void ocr_emit_free(ocr_emitter *e);

/* Emit one UNREAD box (confidence 0, empty text) for a native rect. */
int ocr_emit_unread(ocr_emitter *e, const mv_rect *r);

/* Emit one UNREAD box for a box in work-image coordinates of `base`. */
int ocr_emit_unread_box(ocr_emitter *e, const ocr_xform *base, int x, int y,
                        int w, int h);

/* ---- ocr_line.c --------------------------------------------------------- */
struct Box;
/* Read layout line `lb` (work-image coordinates) of `work`: clip with a
 * margin, double when thin, normalise, pad, read; tall lines are read
 * turned 90/270, doubtful ones also 180; word boxes grown to their ink.
 * Words go to *out in the coordinates *t describes; *score is
 * ocr_read_score of the chosen reading (-1: nothing read). */
int ocr_line_read(ocr_ctx *c, struct Pix *work, const struct Box *lb,
                  const ocr_xform *base, ocr_words *out, ocr_xform *t,
                  double *score);
/* ocr_line_read, then emit the words, or one UNREAD box when none. With
 * `chroma` (a colour image's max - min of R, G, B, same geometry as work),
 * a line read badly is read again there, and the better reading wins. */
int ocr_line_emit(ocr_ctx *c, struct Pix *work, struct Pix *chroma,
                  const struct Box *lb, const ocr_xform *base, ocr_emitter *e);

/* ---- ocr_layout.c ------------------------------------------------------- */
struct Boxa;
/* Candidate text lines of the work image `work[0]` (work-image
 * coordinates; work[1..3] its colour channels or NULL): chains of
 * characters (ocr_cc.c; their components go to *glyphs, one Boxa per
 * chain), then, with layout=full, layout passes on its stroke images (the
 * dark ones also turned by 90 degrees), then on the normalised page
 * (upright and turned); lines too thick for text dropped, side by side
 * pieces of a row joined. `scale` is work pixels per native pixel. NULL
 * when out of memory. Passes after `deadline` (ms) are skipped. */
struct Boxa *ocr_layout_lines(ocr_ctx *c, struct Pix *const *work, double scale,
                              double deadline, struct Boxaa **glyphs);
/* Offer the lines of one layout pass with `psm` on `norm` (the work image
 * of size w x h, normalised and padded by OCR_PAD) to `all`. */
void ocr_layout_pass(ocr_ctx *c, struct Pix *norm, int psm, struct Boxa *all,
                     int w, int h);
/* Join lines of `all` that continue each other along one row or column. */
void ocr_layout_join(struct Boxa *all);
/* 1 when a w x h line runs vertically. */
int ocr_layout_tall(int w, int h);

/* ---- ocr_cc.c ----------------------------------------------------------- */
/* Candidate lines (work-image coordinates) from the connected components of
 * `strokes` (1 bpp, padded by `pad`): chains of three or more components of
 * one character size along a row or a column, with one edge straight,
 * standing out from the strokes around them. `scale` is work pixels per
 * native pixel. With `glyphs`, each line's components (in order along it)
 * are appended to it as one Boxa, at the line's index. An empty Boxa when
 * there are none, NULL when out of memory. */
struct Boxa *ocr_cc_lines(struct Pix *strokes, int pad, double scale,
                          struct Boxaa *glyphs);
/* The ink and ground greys of a chain and the ground's median absolute
 * deviation; ok = 0 when they could not be measured. */
typedef struct ocr_cc_level {
  int ok, ink, ground, spread;
} ocr_cc_level;
/* The levels of each line of ocr_cc_lines (with its glyphs) in `norm` (the
 * grey image, 8 bpp), from its stroke pixels in `strokes` (the stroke
 * image it was found in), both padded by `pad`: one per line, from the
 * glyphs it has so far. Free with free(); NULL when there are no lines or
 * no memory. */
ocr_cc_level *ocr_cc_levels(struct Boxa *lines, struct Boxaa *glyphs,
                            struct Pix *norm, struct Pix *strokes, int pad);
/* Grow the lines of ocr_cc_lines (and their glyphs, when given) along their
 * length over the components of `weak` (a stroke image of the same
 * polarity at a lower contrast, padded by `pad`) that lie in the line's
 * band and continue it within 2 thicknesses: the faint ends of a line on
 * a shaded ground, punctuation, accents. `strict` (strokes of the other
 * polarity): components of about the line's height, within 1 thickness.
 * With `norm` and `lv` (ocr_cc_levels), a line with a clear ink level of
 * its own takes only components nearer that level than its ground. */
void ocr_cc_grow(struct Boxa *lines, struct Boxaa *glyphs, struct Pix *weak,
                 struct Pix *norm, const ocr_cc_level *lv, int pad,
                 int strict);
/* Grow the lines (ocr_cc_lines, with their glyphs) over the components of
 * the pixels of `norm` (8 bpp, padded by `pad`) at each line's own ink
 * level `lv` (ocr_cc_levels): the rest of a line drawn in one colour over
 * an uneven ground. */
void ocr_cc_grow_level(struct Boxa *lines, struct Boxaa *glyphs,
                       struct Pix *norm, const ocr_cc_level *lv, int pad);

/* ---- ocr_region.c ------------------------------------------------------- */
/* Find and read text in rectangle `roi` (native, already clipped to the
 * plane) of the grey plane `grey`; boxes go to `e`. `deadline_ms` is an
 * absolute monotonic time after which remaining lines are emitted UNREAD. */
int ocr_region(ocr_ctx *c, struct Pix *const *planes, const mv_rect *roi,
               ocr_emitter *e, double deadline_ms, char *err, size_t errlen);
/* Monotonic clock in milliseconds. */
double ocr_now_ms(void);

/* Formats a reason into err (never attribute values). */
void ocr_set_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
