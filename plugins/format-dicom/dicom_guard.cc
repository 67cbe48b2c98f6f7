/* dicom_guard.cc - decide, from the raw bytes, whether dcmtk may parse a file.
 *
 * Runs before dcmtk sees the file: finds the preamble and file meta, reads
 * the transfer syntax, refuses syntaxes dcmtk 3.6.7 does not know (it would
 * silently drop their pixel data) except the explicit VR little endian
 * encapsulated ones it can carry under a stand-in syntax, inflates deflated
 * datasets (bounded) and runs the non-recursive pre-scan for nesting depth
 * and impossible lengths.
 * The file is mapped, not read, so the pre-scan touches only header pages. */
#include "dicom_internal.h"

#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmdata/dcvr.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mvdcm {
namespace {

/* An inflated dataset larger than this is refused: deflate is used for
 * SR and small objects, and a zip bomb must not take the machine's memory
 * (dcmtk would hold all of it too: a deflated stream cannot be re-read). */
constexpr size_t kMaxInflated = size_t(512) << 20;

struct Mapping {
  const uint8_t *p = nullptr;
  size_t n = 0;
  int fd = -1;
  ~Mapping() {
    if (p && n) munmap(const_cast<uint8_t *>(p), n);
    if (fd >= 0) close(fd);
  }
};

bool upper2(const uint8_t *h) {
  return h[0] >= 'A' && h[0] <= 'Z' && h[1] >= 'A' && h[1] <= 'Z';
}

/* Transfer syntax UIDs are not patient data, but a hostile file can put
 * anything in the field: print it only when it looks like a UID. */
std::string clean_uid(const std::string &raw) {
  std::string s = raw;
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}
bool printable_uid(const std::string &s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
  return true;
}

/* How dcmtk guesses a dataset without a declared transfer syntax: explicit
 * when a standard VR follows the first tag; little endian when the group
 * reads smaller that way. A wrong guess only makes the pre-scan UNSURE. */
ScanEnc guess_encoding(const uint8_t *p, size_t n) {
  ScanEnc enc{false, false};
  if (n < 8) return enc;
  char vr[3] = {char(p[4]), char(p[5]), 0};
  enc.explicit_vr = upper2(p + 4) && DcmVR(vr).isStandard();
  uint16_t le = uint16_t(p[1] << 8 | p[0]), be = uint16_t(p[0] << 8 | p[1]);
  enc.big_endian = be < le;
  return enc;
}

/* Inflate raw deflate (as DICOM requires) or, failing that, zlib-wrapped
 * data. A stream cut short keeps what it produced: the pre-scan then judges
 * the truncation. False with a code and reason on corruption or the cap. */
bool inflate_all(const uint8_t *src, size_t n, std::vector<uint8_t> &out,
                 int &rc, char *err, size_t errlen) {
  const size_t chunk = size_t(1) << 20;
  for (int wbits : {-MAX_WBITS, MAX_WBITS}) {
    out.clear();
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, wbits) != Z_OK) {
      rc = MV_ENOMEM;
      set_err(err, errlen, "cannot initialise zlib");
      return false;
    }
    size_t fed = 0, used = 0;
    int zr = Z_OK;
    for (;;) {
      if (z.avail_in == 0 && fed < n) {
        size_t step = n - fed > (size_t(1) << 30) ? (size_t(1) << 30) : n - fed;
        z.next_in = const_cast<Bytef *>(src + fed);
        z.avail_in = static_cast<uInt>(step);
        fed += step;
      }
      if (used == out.size()) {
        if (out.size() >= kMaxInflated) break;
        out.resize(out.size() + chunk);
      }
      z.next_out = out.data() + used;
      z.avail_out = static_cast<uInt>(out.size() - used);
      size_t before = z.avail_out;
      zr = inflate(&z, Z_NO_FLUSH);
      used += before - z.avail_out;
      if (zr == Z_STREAM_END) break;
      if (zr == Z_BUF_ERROR && z.avail_in == 0 && fed >= n) break;
      if (zr != Z_OK && zr != Z_BUF_ERROR) break;
    }
    inflateEnd(&z);
    out.resize(used);
    if (used >= kMaxInflated && zr != Z_STREAM_END) {
      rc = MV_ELIMIT;
      set_err(err, errlen, "deflated dataset inflates beyond %zu MiB",
              kMaxInflated >> 20);
      return false;
    }
    if (zr == Z_STREAM_END || (zr == Z_BUF_ERROR && used > 0)) return true;
  }
  rc = MV_EFORMAT;
  set_err(err, errlen, "cannot inflate the deflated dataset");
  return false;
}

} // namespace

const char *passthrough_uid(const std::string &uid) {
  static const char *const uids[] = {
      "1.2.840.10008.1.2.4.201", /* HTJ2K Lossless */
      "1.2.840.10008.1.2.4.202", /* HTJ2K Lossless RPCL */
      "1.2.840.10008.1.2.4.203", /* HTJ2K */
      "1.2.840.10008.1.2.4.110", /* JPEG XL Lossless */
      "1.2.840.10008.1.2.4.111", /* JPEG XL JPEG Recompression */
      "1.2.840.10008.1.2.4.112", /* JPEG XL */
      "1.2.840.10008.1.2.8.1",   /* Deflated Image Frame Compression */
      "1.2.840.10008.1.2.1.98",  /* Encapsulated Uncompressed Explicit LE */
  };
  for (const char *u : uids)
    if (uid == u) return u;
  return nullptr;
}

int guard_file(const char *path, GuardResult &g, char *err, size_t errlen) {
  Mapping m;
  m.fd = open(path, O_RDONLY | O_CLOEXEC);
  if (m.fd < 0) {
    set_err(err, errlen, "cannot open input: %s", strerror(errno));
    return MV_EIO;
  }
  struct stat sb;
  if (fstat(m.fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    set_err(err, errlen, "input is not a regular file");
    return MV_EIO;
  }
  if (sb.st_size == 0) {
    set_err(err, errlen, "empty file");
    return MV_EFORMAT;
  }
  m.n = static_cast<size_t>(sb.st_size);
  void *addr = mmap(nullptr, m.n, PROT_READ, MAP_PRIVATE, m.fd, 0);
  if (addr == MAP_FAILED) {
    m.n = 0;
    set_err(err, errlen, "cannot map input: %s", strerror(errno));
    return MV_EIO;
  }
  m.p = static_cast<const uint8_t *>(addr);
  const uint8_t *p = m.p;
  const size_t n = m.n;

  /* File meta: after a 128-byte preamble and "DICM", or (as dcmtk also
   * accepts) group 0002 right at the start. */
  size_t ds_start = 0;
  bool meta = false;
  size_t ms = 0;
  if (n >= 132 && memcmp(p + 128, "DICM", 4) == 0) {
    meta = true;
    ms = 132;
  } else if (n >= 8 && p[0] == 0x02 && p[1] == 0x00) {
    meta = true;
    ms = 0;
  }
  std::string ts;
  if (meta) {
    ScanResult r;
    ScanEnc menc{n >= ms + 8 && upper2(p + ms + 4), false};
    prescan(p, n, ms, menc, true, kMaxDepth, r);
    if (r.verdict == SCAN_TOO_DEEP) {
      set_err(err, errlen, "%s", r.reason);
      return MV_ELIMIT;
    }
    if (r.verdict == SCAN_BAD_LENGTH) {
      set_err(err, errlen, "file meta: %s", r.reason);
      return MV_EFORMAT;
    }
    if (r.verdict == SCAN_UNSURE) {
      g.unsure = true;
      memcpy(g.why, r.reason, sizeof g.why);
      return MV_OK;
    }
    ds_start = r.end;
    ts = clean_uid(r.ts_uid);
  }

  ScanEnc enc;
  bool deflated = false;
  if (!ts.empty()) {
    DcmXfer x(ts.c_str());
    if (x.getXfer() == EXS_Unknown && passthrough_uid(ts)) {
      /* dcmtk does not know it; it parses and writes it as the stand-in */
      g.passthrough = passthrough_uid(ts);
      g.ds_start = ds_start;
      x = kStandIn;
    }
    if (x.getXfer() == EXS_Unknown) {
      if (printable_uid(ts))
        set_err(err, errlen, "transfer syntax %s not supported", ts.c_str());
      else
        set_err(err, errlen, "transfer syntax not supported (malformed UID)");
      return MV_EFORMAT;
    }
    enc.explicit_vr = x.isExplicitVR();
    enc.big_endian = x.getByteOrder() == EBO_BigEndian;
    deflated = x.getStreamCompression() != ESC_none;
  } else {
    enc = guess_encoding(p + ds_start, n - ds_start);
  }

  ScanResult r;
  if (deflated) {
    std::vector<uint8_t> buf;
    int rc = MV_OK;
    if (!inflate_all(p + ds_start, n - ds_start, buf, rc, err, errlen))
      return rc;
    prescan(buf.data(), buf.size(), 0, enc, false, kMaxDepth, r);
    /* dcmtk cannot check declared lengths against a deflated stream, so
     * nothing the scanner cannot vouch for goes on to it. */
    if (r.verdict == SCAN_UNSURE) {
      set_err(err, errlen, "deflated dataset is malformed: %s", r.reason);
      return MV_EFORMAT;
    }
  } else if (ds_start < n) {
    prescan(p, n, ds_start, enc, false, kMaxDepth, r);
  }
  switch (r.verdict) {
  case SCAN_CLEAN:
    break;
  case SCAN_TOO_DEEP:
    set_err(err, errlen, "%s", r.reason);
    return MV_ELIMIT;
  case SCAN_BAD_LENGTH:
    set_err(err, errlen, "truncated or corrupt: %s", r.reason);
    return MV_EFORMAT;
  case SCAN_UNSURE:
    g.unsure = true;
    memcpy(g.why, r.reason, sizeof g.why);
    break;
  }
  return MV_OK;
}

} // namespace mvdcm
