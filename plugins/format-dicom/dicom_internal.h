/* dicom_internal.h - what the format-dicom sources share (never installed).
 *
 * The plugin is C++ on dcmtk behind the C ABI of medveil/plugin.h. Each
 * source file has one job; this header holds the document type and the
 * small helpers more than one of them needs. Nothing here may put attribute
 * values into an error message or a log line: only tags, counts, reasons. */
#ifndef MVDCM_INTERNAL_H
#define MVDCM_INTERNAL_H

#include "dcmtk/config/osconfig.h" /* must come first for dcmtk */

#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcelem.h"
#include "dcmtk/dcmdata/dcsequen.h"

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "medveil/plugin.h"

namespace mvdcm {

/* Deepest sequence nesting we accept. Real files rarely exceed 6; dcmtk's
 * recursive parser (and its recursive destructors) must never see more. */
constexpr unsigned kMaxDepth = 32;
/* Longest key path (segments) accepted by get/set/remove. */
constexpr size_t kMaxPathSegments = kMaxDepth + 1;

/* Plugin state from init: read-only afterwards, so threads share it. */
struct State {
  const mv_host *host = nullptr;
  /* host->log, when the host's size says it has one */
  void (*log)(int level, const char *who, const char *fmt, ...) = nullptr;
  /* Public dictionary keywords -> tag, built once: dcmtk's own lookup by
   * name is a linear scan of thousands of entries. */
  std::unordered_map<std::string, DcmTagKey> keywords;
};

/* Write a reason (never a value) into the host's buffer. */
void set_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* --- values (dicom_value.cc) --- */
bool is_string_vr(DcmEVR evr);
bool is_numeric_vr(DcmEVR evr); /* AT FL FD SL SS UL US SV UV and aliases */
/* Two-letter VR name of an element ("UN" for anything dcmtk-internal). */
const char *vr_name(DcmEVR evr);
/* The element's value as UTF-8 text, values joined with '\', trailing
 * padding removed. False when the element has no text form. */
bool text_value(DcmElement *el, OFString &out);
/* Replace a string (or, when allow_numeric, numeric) value. */
int put_text(DcmElement *el, const char *value, size_t len, bool allow_numeric,
             bool *non_ascii);
/* Raw length of an element's value; encapsulated pixel data included. */
size_t value_length(DcmElement *el, E_TransferSyntax xfer);

/* --- protected child lists (dicom_value.cc) ---
 * dcmtk keeps children in a protected DcmList; walking it directly gives
 * O(1) next/remove where DcmItem's public API is O(position). */
DcmList *element_list(DcmItem *item);
DcmList *item_list(DcmSequenceOfItems *sq);

/* --- character sets (dicom_charset.cc) --- */
/* Convert all text to UTF-8 (declaring ISO_IR 192), or refuse. */
int to_utf8(mv_doc *doc, char *err, size_t errlen);

/* --- keys (dicom_keys.cc) --- */
void build_keywords(State &st); /* at init, single-threaded */
int resolve_key(const State *st, const char *key, uint32_t *tag, char vr[4]);

/* --- pre-scan (dicom_prescan.cc) --- */
enum ScanVerdict {
  SCAN_CLEAN = 0,   /* understood to the end; depth within the limit */
  SCAN_TOO_DEEP,    /* nesting deeper than the limit */
  SCAN_BAD_LENGTH,  /* a declared length runs past the end of the data */
  SCAN_UNSURE       /* something the scanner does not follow */
};
struct ScanEnc {
  bool explicit_vr;
  bool big_endian;
};
struct ScanResult {
  ScanVerdict verdict = SCAN_CLEAN;
  unsigned max_depth = 0;
  size_t end = 0;            /* meta mode: offset where group 0002 ended */
  std::string ts_uid;        /* meta mode: raw TransferSyntaxUID, if seen */
  char reason[160] = {0};
};
/* Walk the encoded dataset in p[start..n) without recursion and without
 * allocating declared lengths. meta_mode stops at the first top-level tag
 * outside group 0002. */
void prescan(const uint8_t *p, size_t n, size_t start, ScanEnc enc,
             bool meta_mode, unsigned limit, ScanResult &r);
/* Build the VR lookup table the scanner uses (idempotent, thread-safe). */
void prescan_init();

/* --- file guard (dicom_guard.cc) --- */
/* Transfer syntaxes dcmtk 3.6.7 does not know but that are explicit VR
 * little endian with encapsulated pixel data (HTJ2K, JPEG XL, Deflated
 * Image Frame, Encapsulated Uncompressed). dcmtk parses and writes their
 * datasets as a known syntax of the same shape (the stand-in) and the
 * original UID goes back into the meta. Returns the canonical UID, or
 * nullptr when `uid` is not one of them. */
const char *passthrough_uid(const std::string &uid);
/* The syntax dcmtk reads and writes such datasets in. */
constexpr E_TransferSyntax kStandIn = EXS_JPEG2000LosslessOnly;

struct GuardResult {
  bool unsure = false;  /* pre-scan could not vouch for the file */
  char why[160] = {0};  /* its reason (tags only) */
  /* set for a pass-through syntax: its UID and where the dataset starts */
  const char *passthrough = nullptr;
  size_t ds_start = 0;
};
/* Map the file, find meta and transfer syntax, refuse unknown syntaxes,
 * inflate deflated data, run the pre-scan. Returns MV_OK or a code with
 * a reason in err. */
int guard_file(const char *path, GuardResult &g, char *err, size_t errlen);

struct PixelState; /* dicom_pixels.h */
void free_pixels(PixelState *px);

} // namespace mvdcm

/* The document: one parsed file, used by one thread at a time. */
struct mv_doc {
  DcmFileFormat ff;
  const mvdcm::State *st = nullptr;
  E_TransferSyntax read_xfer = EXS_Unknown;  /* as parsed */
  E_TransferSyntax write_xfer = EXS_Unknown; /* what write() uses */
  /* A pass-through syntax (see passthrough_uid): read and written as
   * mvdcm::kStandIn, with this UID in the meta. nullptr otherwise. */
  const char *passthrough = nullptr;
  size_t ds_start = 0; /* pass-through: offset of the dataset in the file */
  /* get() results: valid until the next change, so kept here; a deque
   * never moves its strings when it grows. */
  std::deque<std::string> borrowed;
  std::vector<uint32_t> parents; /* reused by visit() */
  uint64_t gen = 0;      /* bumped by keyed set/remove: visit re-syncs */
  bool non_ascii = false; /* a non-ASCII value was set: needs ISO_IR 192 */
  /* Pixel access (dicom_pixels*.cc): plane list, acquired planes and
   * pending changes that write() stores. Created on first use. */
  mvdcm::PixelState *px = nullptr;
  /* Encoding write() stores the pixels in (dicom_transcode.cc); empty:
   * as read. */
  std::string out_encoding;

  mv_doc() = default;
  mv_doc(const mv_doc &) = delete;
  mv_doc &operator=(const mv_doc &) = delete;
  ~mv_doc() { mvdcm::free_pixels(px); }

  void touched() { borrowed.clear(); }
  void restructured() {
    borrowed.clear();
    gen++;
  }
};

namespace mvdcm {
int op_open(void *state, const char *path, mv_doc **out, char *err,
            size_t errlen);
int op_visit(mv_doc *doc, mv_visit_fn fn, void *ud);
int op_set_value(mv_doc *doc, void *handle, const char *value, size_t len);
int op_get(mv_doc *doc, const char *key, const char **value, size_t *len);
int op_set(mv_doc *doc, const char *key, const char *vr, const char *value,
           size_t len);
int op_remove(mv_doc *doc, const char *key);
int op_write(mv_doc *doc, const char *path, char *err, size_t errlen);
int op_probe(const uint8_t *head, size_t n);
/* pixels (dicom_pixels*.cc, see dicom_pixels.h) */
int op_pixel_info(mv_doc *doc, mv_pixel_info *info);
int op_acquire(mv_doc *doc, uint32_t plane, mv_image *img, char *err,
               size_t errlen);
int op_release(mv_doc *doc, uint32_t plane, const mv_rect *changed, size_t n,
               char *err, size_t errlen);
int op_drop_hidden_pixels(mv_doc *doc, uint32_t *count);
int pixels_commit(mv_doc *doc, char *err, size_t errlen);
void codecs_register();
void codecs_unregister();
} // namespace mvdcm

#endif
