/* nifti_plugin.c - the format-nifti descriptor: probe, companion files,
 * per-document output extension. See README.md. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "nifti_internal.h"

const mv_host *nv_host;

static int nv_init(const mv_host *host, const char *config, void **state,
                   char *err, size_t errlen) {
  (void)config;
  (void)err;
  (void)errlen;
  nv_host = host;
  *state = NULL;
  return MV_OK;
}

static void nv_fini(void *state) { (void)state; }

static int looks_like_sizeof_hdr(const uint8_t *b, size_t n) {
  if (n < 4) return 0;
  int32_t le = nv_get32(b, 0), be = nv_get32(b, 1);
  return le == NV_N1_SIZE || le == NV_N2_SIZE || be == NV_N1_SIZE ||
         be == NV_N2_SIZE;
}

/* 100 for a NIfTI-1/-2 header, plain or at the start of a gzip stream;
 * 60 for a gzip stream whose first inflated bytes are too few to show the
 * magic but start with a NIfTI sizeof_hdr (open() decides then). */
static int probe_pair(const uint8_t *head, size_t n, int *pair) {
  if (nv_sniff(head, n, pair)) return 100;
  if (n >= 18 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8) {
    uint8_t buf[NV_MAX_HDR];
    size_t got = nv_gz_peek(head, n, buf, sizeof buf);
    if (nv_sniff(buf, got, pair)) return 100;
    if (got < NV_N1_SIZE && looks_like_sizeof_hdr(buf, got)) return 60;
  }
  return 0;
}

static int nv_probe(void *state, const uint8_t *head, size_t n) {
  (void)state;
  int pair = 0;
  return probe_pair(head, n, &pair);
}

/* foo.img / foo.img.gz whose foo.hdr / foo.hdr.gz carries a pair magic. */
static int nv_companion_of(void *state, const char *path, char *note,
                           size_t notelen) {
  (void)state;
  size_t n = strlen(path);
  const char *suffix[] = {".img", ".img.gz"};
  for (int i = 0; i < 2; i++) {
    size_t k = strlen(suffix[i]);
    if (n <= k || n >= 4096 || strncasecmp(path + n - k, suffix[i], k) != 0)
      continue;
    char hdr[4096];
    memcpy(hdr, path, n + 1);
    memcpy(hdr + n - k + 1, hdr[n - k + 1] == 'I' ? "HDR" : "hdr", 3);
    int fd = open(hdr, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return MV_ENOTFOUND;
    uint8_t head[512];
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    int pair = 0;
    if (got <= 0 || probe_pair(head, (size_t)got, &pair) < 100 || !pair)
      return MV_ENOTFOUND;
    snprintf(note, notelen, "voxel file of the .hdr/.img pair beside it; "
             "written into that pair's .nii%s output", i ? ".gz" : "");
    return MV_OK;
  }
  return MV_ENOTFOUND;
}

static const char *nv_doc_extension(mv_doc *doc) {
  return doc->gz ? "nii.gz" : "nii";
}

static int nv_resolve(void *state, const char *key, uint32_t *tag,
                      char vr[4]) {
  (void)state;
  (void)key;
  (void)tag;
  (void)vr;
  return MV_ENOTFOUND; /* no DICOM dictionary here */
}

/* Volumes have no pixel stage: burned-in text is a 2D-image problem. */
static int nv_pixel_info(mv_doc *doc, mv_pixel_info *info) {
  (void)doc;
  (void)info;
  return MV_ENOTFOUND;
}

static const mv_format_ops nv_ops = {
    .size = sizeof(mv_format_ops),
    .probe = nv_probe,
    .open = nv_open,
    .close = nv_close,
    .visit = nv_visit,
    .set_value = nv_set_value,
    .get = nv_get,
    .set = nv_set,
    .remove = nv_remove,
    .resolve = nv_resolve,
    .write = nv_write,
    .extension = "nii",
    .pixel_info = nv_pixel_info,
    .doc_extension = nv_doc_extension,
    .companion_of = nv_companion_of,
};

static const mv_plugin nv_plugin = {
    .abi = MV_PLUGIN_ABI,
    .size = sizeof(mv_plugin),
    .name = "format-nifti",
    .version = "1.0.0",
    .kinds = MV_KIND_FORMAT,
    .init = nv_init,
    .fini = nv_fini,
    .format = &nv_ops,
};

MV_EXPORT const mv_plugin *mv_plugin_entry(void) { return &nv_plugin; }
