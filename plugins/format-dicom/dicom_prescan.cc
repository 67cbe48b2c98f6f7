/* dicom_prescan.cc - a non-recursive walk over encoded DICOM bytes.
 *
 * dcmtk parses sequences recursively, so a file nested 100 000 levels deep
 * overflows the stack before any status comes back. This scanner follows
 * the same encoding rules as dcmtk's reader (explicit/implicit VR, either
 * byte order, defined and undefined lengths, items and delimiters, CP-246
 * UN sequences, encapsulated pixel data) with an explicit stack, measures
 * the nesting depth and stops at the limit. It never allocates a declared
 * length and reads only element headers, so it costs little next to the
 * real parse. Where it cannot tell what dcmtk would do it says UNSURE and
 * the caller parses on a big stack instead of trusting it. */
#include "dicom_internal.h"

#include "dcmtk/dcmdata/dcvr.h"
#include "dcmtk/dcmdata/dctag.h"

#include <cstdio>
#include <cstring>
#include <mutex>

namespace mvdcm {
namespace {

constexpr uint32_t kUndef = 0xFFFFFFFFu;
constexpr size_t kOpen = SIZE_MAX; /* frame without a defined end */

/* Flags per two-byte VR code, taken from dcmtk's own DcmVR so that odd and
 * non-standard VRs get exactly the length field size dcmtk assumes. */
enum : uint8_t {
  VR_EXT = 1,    /* 4-byte length after 2 reserved bytes */
  VR_SQ = 2,     /* sequence */
  VR_UNLIKE = 4, /* UN or unknown: undefined length means a CP-246 SQ */
  VR_OBOW = 8,   /* OB/OW/ox: PixelData with undefined length = fragments */
  VR_NA = 16     /* dcmtk's internal "na": a parse error in dcmtk */
};
uint8_t g_vr[65536];
std::once_flag g_vr_once;

void build_vr_table() {
  for (unsigned code = 0; code < 65536; code++) {
    char s[3] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF),
                 0};
    DcmVR vr(s);
    DcmEVR e = vr.getEVR();
    uint8_t f = 0;
    if (vr.usesExtendedLengthEncoding()) f |= VR_EXT;
    if (e == EVR_SQ) f |= VR_SQ;
    if (e == EVR_UN || e == EVR_UNKNOWN || e == EVR_UNKNOWN2B) f |= VR_UNLIKE;
    if (e == EVR_OB || e == EVR_OW || e == EVR_ox) f |= VR_OBOW;
    if (e == EVR_na) f |= VR_NA;
    g_vr[code] = f;
  }
}

enum FrameKind : uint8_t { F_DSET, F_ITEM, F_SEQ, F_FRAG };

struct Frame {
  FrameKind kind;
  bool explicit_vr;
  bool big;
  bool spec;      /* a guess: on trouble, rewind to `restore` as a leaf */
  size_t end;     /* kOpen when the length is undefined */
  size_t restore; /* spec only: end of the element we guessed into */
};

inline uint16_t rd16(const uint8_t *p, bool big) {
  return big ? static_cast<uint16_t>(p[0] << 8 | p[1])
             : static_cast<uint16_t>(p[1] << 8 | p[0]);
}
inline uint32_t rd32(const uint8_t *p, bool big) {
  return big ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 |
                uint32_t(p[2]) << 8 | p[3])
             : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 |
                uint32_t(p[1]) << 8 | p[0]);
}

class Scanner {
public:
  Scanner(const uint8_t *p, size_t n, unsigned limit, ScanResult &r)
      : p_(p), n_(n), limit_(limit), r_(r) {}

  void run(size_t start, ScanEnc enc, bool meta_mode);

private:
  const uint8_t *p_;
  size_t n_;
  unsigned limit_;
  ScanResult &r_;
  std::vector<Frame> st_;
  unsigned depth_ = 0; /* SQ frames on the stack (fragments do not count) */
  size_t pos_ = 0;

  void push(FrameKind k, bool ex, bool big, size_t end, bool spec = false,
            size_t restore = 0) {
    st_.push_back(Frame{k, ex, big, spec, end, restore});
    if (k == F_SEQ) {
      depth_++;
      if (depth_ > r_.max_depth) r_.max_depth = depth_;
    }
  }
  void pop() {
    if (st_.back().kind == F_SEQ) depth_--;
    st_.pop_back();
  }
  /* Trouble: rewind the innermost guess if there is one, else give up
   * with the verdict. Returns true when scanning may continue. */
  bool trouble(ScanVerdict v, uint16_t g, uint16_t e, const char *what) {
    for (size_t i = st_.size(); i-- > 0;) {
      if (st_[i].spec) {
        size_t back = st_[i].restore;
        while (st_.size() > i) pop();
        pos_ = back;
        return true;
      }
    }
    r_.verdict = v;
    snprintf(r_.reason, sizeof r_.reason, "element (%04X,%04X): %s", g, e,
             what);
    return false;
  }
};

void Scanner::run(size_t start, ScanEnc enc, bool meta_mode) {
  pos_ = start;
  st_.reserve(2 * size_t(limit_) + 16);
  push(F_DSET, enc.explicit_vr, enc.big_endian, n_);
  for (;;) {
    Frame &f = st_.back();
    if (f.end != kOpen && pos_ >= f.end) {
      if (f.kind == F_DSET) break;
      if (pos_ > f.end) {
        if (!trouble(SCAN_UNSURE, 0xFFFE, 0xE000, "contents overrun the item"))
          return;
        continue; /* rewound to a guess further out */
      }
      pop();
      continue;
    }
    if (pos_ >= n_) {
      if (f.kind == F_DSET) break;
      if (!trouble(SCAN_UNSURE, 0xFFFE, 0xE0DD,
                   "data ends inside a sequence or item"))
        return;
      continue;
    }
    if (n_ - pos_ < 8) {
      /* Every header is at least 8 bytes; a shorter tail is garbage that
       * dcmtk reports as a premature end. */
      if (!trouble(SCAN_UNSURE, 0, 0, "truncated element header")) return;
      continue;
    }
    const uint8_t *h = p_ + pos_;
    const bool big = f.big;
    const uint16_t g = rd16(h, big), e = rd16(h + 2, big);
    const bool is_item = g == 0xFFFE && e == 0xE000;
    const bool is_item_end = g == 0xFFFE && e == 0xE00D;
    const bool is_seq_end = g == 0xFFFE && e == 0xE0DD;

    if (f.kind == F_SEQ || f.kind == F_FRAG) {
      uint32_t len = rd32(h + 4, big);
      if (is_item) {
        pos_ += 8;
        if (f.kind == F_FRAG) {
          if (len == kUndef) {
            if (!trouble(SCAN_UNSURE, g, e, "fragment of undefined length"))
              return;
          } else if (len > n_ - pos_) {
            if (!trouble(SCAN_BAD_LENGTH, g, e,
                         "fragment length runs past the end of the data"))
              return;
          } else {
            pos_ += len;
          }
          continue;
        }
        if (len != kUndef && len > n_ - pos_) {
          if (!trouble(SCAN_BAD_LENGTH, g, e,
                       "item length runs past the end of the data"))
            return;
          continue;
        }
        push(F_ITEM, f.explicit_vr, f.big, len == kUndef ? kOpen : pos_ + len);
        continue;
      }
      if (is_seq_end) {
        pos_ += 8;
        pop();
        continue;
      }
      if (!trouble(SCAN_UNSURE, g, e, "unexpected tag inside a sequence"))
        return;
      continue;
    }

    /* F_DSET or F_ITEM: a data element or an item delimiter. */
    if (meta_mode && f.kind == F_DSET && g != 0x0002) break;
    if (is_item_end) {
      pos_ += 8;
      if (f.kind == F_ITEM) {
        pop();
        continue;
      }
      if (!trouble(SCAN_UNSURE, g, e, "item delimiter outside an item"))
        return;
      continue;
    }
    if (is_item || is_seq_end) {
      if (!trouble(SCAN_UNSURE, g, e, "misplaced item tag")) return;
      continue;
    }

    uint32_t len;
    uint8_t vf = 0;
    size_t hdr;
    if (f.explicit_vr) {
      vf = g_vr[uint16_t(h[4] << 8 | h[5])];
      if (vf & VR_NA) {
        if (!trouble(SCAN_UNSURE, g, e, "invalid VR")) return;
        continue;
      }
      if (vf & VR_EXT) {
        if (n_ - pos_ < 12) {
          if (!trouble(SCAN_UNSURE, g, e, "truncated element header")) return;
          continue;
        }
        len = rd32(h + 8, big);
        hdr = 12;
      } else {
        len = rd16(h + 6, big);
        hdr = 8;
      }
    } else {
      len = rd32(h + 4, big);
      hdr = 8;
    }
    const size_t vpos = pos_ + hdr;
    const bool pixel = g == 0x7FE0 && e == 0x0010;

    if (len == kUndef) {
      pos_ = vpos;
      /* dcmtk reads PixelData (OB/OW) of undefined length as fragments,
       * UN/unknown as a CP-246 sequence in implicit VR little endian, SQ
       * as a sequence; anything else is an error in dcmtk, which we still
       * walk as a sequence so no nesting escapes the count. */
      if (f.explicit_vr) {
        if (vf & VR_SQ)
          push(F_SEQ, true, big, kOpen);
        else if (pixel && (vf & VR_OBOW))
          push(F_FRAG, true, big, kOpen);
        else if (vf & VR_UNLIKE)
          push(F_SEQ, false, false, kOpen);
        else
          push(F_SEQ, true, big, kOpen);
      } else {
        if (pixel)
          push(F_FRAG, false, big, kOpen);
        else
          push(F_SEQ, false, big, kOpen);
      }
      if (depth_ > limit_) {
        r_.verdict = SCAN_TOO_DEEP;
        snprintf(r_.reason, sizeof r_.reason,
                 "sequence nesting deeper than %u levels", limit_);
        return;
      }
      continue;
    }
    if (vpos > n_ || len > n_ - vpos) {
      if (!trouble(SCAN_BAD_LENGTH, g, e,
                   "declared length runs past the end of the data"))
        return;
      continue;
    }
    if (f.kind == F_ITEM && f.end != kOpen && vpos + len > f.end) {
      if (!trouble(SCAN_UNSURE, g, e, "value overruns its item")) return;
      continue;
    }
    if (meta_mode && f.kind == F_DSET && g == 0x0002 && e == 0x0010 &&
        len <= 256)
      r_.ts_uid.assign(reinterpret_cast<const char *>(p_ + vpos), len);

    /* Does this defined-length value hold a sequence? Explicit VR says so
     * with SQ; a UN of a tag the dictionary knows as SQ is re-read by
     * dcmtk as an implicit VR little endian sequence (unknown-VR
     * conversion is on); in implicit VR only the dictionary knows. The
     * dictionary is asked only when the value starts like an item, which
     * keeps lookups rare. Private VRs depend on their creator: assume SQ,
     * but as a guess that is rewound if the bytes disagree. */
    bool seq = false, spec = false, sub_ex = f.explicit_vr, sub_big = big;
    if (f.explicit_vr && (vf & VR_SQ)) {
      seq = true;
    } else if (!f.explicit_vr || (vf & VR_UNLIKE)) {
      const bool vbig = f.explicit_vr ? false : big; /* UN content is LE */
      if (len >= 8 && rd16(p_ + vpos, vbig) == 0xFFFE &&
          rd16(p_ + vpos + 2, vbig) == 0xE000) {
        if ((g & 1) && e >= 0x1000) {
          seq = spec = true;
        } else {
          DcmTag t(g, e);
          seq = t.getEVR() == EVR_SQ;
        }
        if (f.explicit_vr) {
          sub_ex = false;
          sub_big = false;
        }
      }
    }
    pos_ = vpos;
    if (seq) {
      push(F_SEQ, sub_ex, sub_big, vpos + len, spec, vpos + len);
      if (depth_ > limit_) {
        r_.verdict = SCAN_TOO_DEEP;
        snprintf(r_.reason, sizeof r_.reason,
                 "sequence nesting deeper than %u levels", limit_);
        return;
      }
      continue;
    }
    pos_ = vpos + len;
  }
  r_.end = pos_;
}

} // namespace

void prescan_init() { std::call_once(g_vr_once, build_vr_table); }

void prescan(const uint8_t *p, size_t n, size_t start, ScanEnc enc,
             bool meta_mode, unsigned limit, ScanResult &r) {
  prescan_init();
  Scanner s(p, n, limit, r);
  s.run(start, enc, meta_mode);
}

} // namespace mvdcm
