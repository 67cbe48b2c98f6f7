/* nifti_stream.c - reading a plain or gzip file as one byte stream, and
 * writing one. gzip input is inflated in 64 KiB steps (never whole), with
 * a cap on the inflated size so a bomb stops early; concatenated members
 * are read as one stream, as gzip(1) does, and anything else after the
 * last member is refused. gzip output carries no file
 * name and no time stamp. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nifti_internal.h"

#define NV_CHUNK 65536

struct nv_in {
  int fd;
  int gz;
  int zdone;        /* last member ended and no input follows */
  z_stream z;
  uint8_t *buf;     /* compressed input */
  uint64_t limit;   /* inflated bytes allowed (0: none) */
  uint64_t produced;
  uint64_t file_size;
};

static int read_full(int fd, uint8_t *b, size_t n, size_t *got) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = read(fd, b + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    done += (size_t)r;
  }
  *got = done;
  return 0;
}

int nv_in_open(const char *path, uint64_t limit, nv_in **out, char *err,
               size_t errlen) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open: %s", strerror(errno));
    return MV_EIO;
  }
  struct stat st;
  uint8_t magic[2];
  size_t got = 0;
  if (fstat(fd, &st) != 0 || read_full(fd, magic, 2, &got) != 0 ||
      lseek(fd, 0, SEEK_SET) != 0) {
    snprintf(err, errlen, "cannot read: %s", strerror(errno));
    close(fd);
    return MV_EIO;
  }
  nv_in *in = calloc(1, sizeof *in);
  if (!in) {
    close(fd);
    snprintf(err, errlen, "out of memory");
    return MV_ENOMEM;
  }
  in->fd = fd;
  in->limit = limit;
  in->file_size = (uint64_t)st.st_size;
  in->gz = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (in->gz) {
    in->buf = malloc(NV_CHUNK);
    if (!in->buf || inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK) {
      free(in->buf);
      free(in);
      close(fd);
      snprintf(err, errlen, "out of memory");
      return MV_ENOMEM;
    }
  }
  *out = in;
  return MV_OK;
}

int nv_in_is_gz(const nv_in *in) { return in->gz; }
void nv_in_set_limit(nv_in *in, uint64_t limit) { in->limit = limit; }
uint64_t nv_in_file_size(const nv_in *in) { return in->file_size; }

static int refill(nv_in *in, char *err, size_t errlen) {
  size_t got = 0;
  if (read_full(in->fd, in->buf, NV_CHUNK, &got) != 0) {
    snprintf(err, errlen, "cannot read: %s", strerror(errno));
    return MV_EIO;
  }
  in->z.next_in = in->buf;
  in->z.avail_in = (uInt)got;
  return MV_OK;
}

static int gz_read(nv_in *in, uint8_t *dst, size_t n, size_t *got, char *err,
                   size_t errlen) {
  size_t done = 0;
  while (done < n && !in->zdone) {
    if (in->z.avail_in == 0) {
      int rc = refill(in, err, errlen);
      if (rc != MV_OK) return rc;
      if (in->z.avail_in == 0) {
        snprintf(err, errlen, "truncated gzip stream");
        return MV_EFORMAT;
      }
    }
    size_t want = n - done;
    if (want > NV_CHUNK) want = NV_CHUNK;
    in->z.next_out = dst + done;
    in->z.avail_out = (uInt)want;
    int zr = inflate(&in->z, Z_NO_FLUSH);
    size_t made = want - in->z.avail_out;
    done += made;
    in->produced += made;
    if (in->limit && in->produced > in->limit) {
      snprintf(err, errlen, "gzip stream inflates past the size the header "
                            "declares (refused as a possible gzip bomb)");
      return MV_ELIMIT;
    }
    if (zr == Z_STREAM_END) {
      /* Another member may follow; anything else after it is corrupt. */
      if (in->z.avail_in == 0) {
        int rc = refill(in, err, errlen);
        if (rc != MV_OK) return rc;
      }
      /* What follows must be another member: inflate refuses anything
       * else as a bad header (Z_DATA_ERROR below). */
      if (in->z.avail_in == 0)
        in->zdone = 1;
      else
        inflateReset(&in->z);
    } else if (zr == Z_BUF_ERROR && made == 0 && in->z.avail_in != 0) {
      snprintf(err, errlen, "corrupt gzip stream");
      return MV_EFORMAT;
    } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
      snprintf(err, errlen, "corrupt gzip stream (%s)",
               zr == Z_MEM_ERROR ? "out of memory" : "bad data or checksum");
      return zr == Z_MEM_ERROR ? MV_ENOMEM : MV_EFORMAT;
    }
  }
  *got = done;
  return MV_OK;
}

int nv_in_read(nv_in *in, void *dst, size_t n, size_t *got, char *err,
               size_t errlen) {
  *got = 0;
  if (in->gz) return gz_read(in, dst, n, got, err, errlen);
  if (read_full(in->fd, dst, n, got) != 0) {
    snprintf(err, errlen, "cannot read: %s", strerror(errno));
    return MV_EIO;
  }
  return MV_OK;
}

int nv_in_skip(nv_in *in, uint64_t n, char *err, size_t errlen) {
  if (!in->gz) {
    off_t cur = lseek(in->fd, 0, SEEK_CUR);
    if (cur < 0 || (uint64_t)cur + n > in->file_size ||
        lseek(in->fd, (off_t)n, SEEK_CUR) < 0) {
      snprintf(err, errlen, "truncated: the data offset is past the end");
      return MV_EFORMAT;
    }
    return MV_OK;
  }
  uint8_t tmp[4096];
  while (n) {
    size_t step = n > sizeof tmp ? sizeof tmp : (size_t)n, got = 0;
    int rc = gz_read(in, tmp, step, &got, err, errlen);
    if (rc != MV_OK) return rc;
    if (got < step) {
      snprintf(err, errlen, "truncated: the data offset is past the end");
      return MV_EFORMAT;
    }
    n -= got;
  }
  return MV_OK;
}

void nv_in_close(nv_in *in) {
  if (!in) return;
  if (in->gz) inflateEnd(&in->z);
  free(in->buf);
  close(in->fd);
  free(in);
}

size_t nv_gz_peek(const uint8_t *src, size_t n, uint8_t *out, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return 0;
  z.next_in = (Bytef *)(uintptr_t)src;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  (void)inflate(&z, Z_SYNC_FLUSH); /* partial input: Z_BUF_ERROR is fine */
  size_t made = cap - z.avail_out;
  inflateEnd(&z);
  return made;
}

/* ---------------------------------------------------------------------- */

struct nv_out {
  int fd;
  int gz;
  z_stream z;
  uint8_t *buf;
};

static int write_full(int fd, const uint8_t *b, size_t n) {
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

int nv_out_open(const char *path, int gz, nv_out **out, char *err,
                size_t errlen) {
  *out = NULL;
  nv_out *o = calloc(1, sizeof *o);
  if (!o) {
    snprintf(err, errlen, "out of memory");
    return MV_ENOMEM;
  }
  o->gz = gz;
  if (gz) {
    o->buf = malloc(NV_CHUNK);
    /* windowBits 16+: a gzip wrapper with no name and mtime 0. */
    if (!o->buf || deflateInit2(&o->z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
                                Z_DEFAULT_STRATEGY) != Z_OK) {
      free(o->buf);
      free(o);
      snprintf(err, errlen, "out of memory");
      return MV_ENOMEM;
    }
  }
  o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o->fd < 0) {
    snprintf(err, errlen, "cannot create output: %s", strerror(errno));
    if (gz) deflateEnd(&o->z);
    free(o->buf);
    free(o);
    return MV_EIO;
  }
  *out = o;
  return MV_OK;
}

static int deflate_some(nv_out *o, int flush, char *err, size_t errlen) {
  int zr;
  do {
    o->z.next_out = o->buf;
    o->z.avail_out = NV_CHUNK;
    zr = deflate(&o->z, flush);
    if (zr == Z_STREAM_ERROR) {
      snprintf(err, errlen, "gzip compression failed");
      return MV_EIO;
    }
    size_t made = NV_CHUNK - o->z.avail_out;
    if (made && write_full(o->fd, o->buf, made) != 0) {
      snprintf(err, errlen, "cannot write output: %s", strerror(errno));
      return MV_EIO;
    }
  } while (o->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
  return MV_OK;
}

int nv_out_write(nv_out *o, const void *src, size_t n, char *err,
                 size_t errlen) {
  if (!o->gz) {
    if (write_full(o->fd, src, n) != 0) {
      snprintf(err, errlen, "cannot write output: %s", strerror(errno));
      return MV_EIO;
    }
    return MV_OK;
  }
  const uint8_t *p = src;
  while (n) {
    uInt step = n > NV_CHUNK ? NV_CHUNK : (uInt)n;
    o->z.next_in = (Bytef *)(uintptr_t)p;
    o->z.avail_in = step;
    int rc = deflate_some(o, Z_NO_FLUSH, err, errlen);
    if (rc != MV_OK) return rc;
    p += step;
    n -= step;
  }
  return MV_OK;
}

int nv_out_finish(nv_out *o, char *err, size_t errlen) {
  int rc = MV_OK;
  if (o->gz) {
    o->z.avail_in = 0;
    rc = deflate_some(o, Z_FINISH, err, errlen);
    deflateEnd(&o->z);
  }
  if (close(o->fd) != 0 && rc == MV_OK) {
    snprintf(err, errlen, "cannot write output: %s", strerror(errno));
    rc = MV_EIO;
  }
  free(o->buf);
  free(o);
  return rc;
}

void nv_out_abort(nv_out *o) {
  if (!o) return;
  if (o->gz) deflateEnd(&o->z);
  close(o->fd);
  free(o->buf);
  free(o);
}
