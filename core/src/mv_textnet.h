/* mv_textnet.h - a small convolutional network that marks text lines.
 *
 * OCR and the stroke chains often find only part of a faint line over
 * texture: the middle of a date, "OKAFOR" without its "Dr. C.". This
 * network, trained on text burned into real images
 * (scripts/train_textnet.py), marks per pixel "inside a line of text",
 * whatever the line's polarity and ground. The pixel stage uses it to
 * finish a redaction along its line (mv_textnet_complete): the line is
 * followed while the network marks the columns (rows, for a turned line)
 * beside it. Lines it marks surely where no reading started one are
 * found too (mv_textnet_lines).
 *
 * The model is a text file in the models folder (models/textnet.txt):
 *   medveil-textnet 1 <layers>
 *   conv <in> <out> <k> <dilation>      then out*in*k*k weights, out biases
 * ... for every layer, as whitespace-separated numbers. Layers are k x k
 * convolutions with zero padding ("same" size), ReLU between them; the
 * last layer gives one logit per pixel. Input: two channels of the 8-bit
 * view (mv_render.h), luma and chroma (max - min of R, G, B), each /255. */
#ifndef MV_TEXTNET_H
#define MV_TEXTNET_H

#include <stddef.h>

#include "medveil/plugin.h"

typedef struct mv_textnet mv_textnet;

/* Load a model. MV_OK, or MV_EIO / MV_EFORMAT / MV_ENOMEM with a reason
 * (path and line) in err. */
int mv_textnet_load(const char *path, mv_textnet **out, char *err,
                    size_t errlen);
void mv_textnet_free(mv_textnet *n);
/* Receptive radius: how far beyond a pixel the network looks. */
int mv_textnet_radius(const mv_textnet *n);

/* Logits of the pixels of `r` (clipped to the view) of the 8-bit view
 * (grey or RGB): out receives r.w * r.h floats, row by row (> 0: text).
 * MV_OK, MV_EINVAL (empty r, unknown view) or MV_ENOMEM. */
int mv_textnet_logits(const mv_textnet *n, const mv_image *view, mv_rect r,
                      float *out);

/* Logits of the whole view: *out (malloc'd, caller frees) receives
 * width * height floats. MV_OK, MV_EINVAL or MV_ENOMEM. */
int mv_textnet_map(const mv_textnet *n, const mv_image *view, float **out);

/* Grow `r` (a redaction rectangle over a text line; vertical when it is at
 * least twice as tall as wide, or when `vertical` says so) along its line
 * over the columns (rows) the network marks as text, bridging gaps no
 * wider than a word space, up to 20 line heights each way. `map` is the
 * view's mv_textnet_map, or NULL to compute just the line's band. Returns
 * 1 when r grew, 0 when not, or MV_ENOMEM. */
int mv_textnet_complete(const mv_textnet *n, const mv_image *view,
                        const float *map, mv_rect *r, int vertical);

/* Lines in `area` of a logit map that no reading has to start: connected
 * marked pixels (logit > 0.4) holding a share of sure ones (logit > 1.5),
 * shaped like a line of text
 * (thickness 5..48 px, at least twice as long, mostly filled). A line
 * shaped so but under-filled, because its marks bleed into the ground
 * beside it, is its core when surely marked (70% at logit > 1.5): the
 * rows (columns) marked over 30% of its length. `logit`
 * points at the area's first pixel, rows `stride` floats apart. *out
 * (malloc'd, caller frees) receives the rectangles in the map's
 * coordinates offset by area.x, area.y. MV_OK or MV_ENOMEM. */
int mv_textnet_lines(const float *logit, size_t stride, mv_rect area,
                     mv_rect **out, size_t *nout);

#endif
