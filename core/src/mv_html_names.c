/* mv_html_names.c - tag keywords for the HTML report (see mv_html_names.h). */
#include "mv_html_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
  uint32_t tag;
  char *keyword;
} entry;

struct mv_html_names {
  entry *e;
  size_t n, cap;
};

/* Attributes the profiles keep (so ps315.lua does not list them) but that
 * every image has: the page names them rather than print bare numbers. */
static const struct {
  uint32_t tag;
  const char *keyword;
} builtin[] = {
    {0x00020000, "FileMetaInformationGroupLength"},
    {0x00020001, "FileMetaInformationVersion"},
    {0x00020002, "MediaStorageSOPClassUID"},
    {0x00020010, "TransferSyntaxUID"},
    {0x00020012, "ImplementationClassUID"},
    {0x00020013, "ImplementationVersionName"},
    {0x00080005, "SpecificCharacterSet"},
    {0x00080008, "ImageType"},
    {0x00080016, "SOPClassUID"},
    {0x00080060, "Modality"},
    {0x00080064, "ConversionType"},
    {0x00080070, "Manufacturer"},
    {0x00081090, "ManufacturerModelName"},
    {0x00180015, "BodyPartExamined"},
    {0x00180060, "KVP"},
    {0x00185101, "ViewPosition"},
    {0x00120062, "PatientIdentityRemoved"},
    {0x00120063, "DeidentificationMethod"},
    {0x00120064, "DeidentificationMethodCodeSequence"},
    {0x00180050, "SliceThickness"},
    {0x00180088, "SpacingBetweenSlices"},
    {0x00200011, "SeriesNumber"},
    {0x00200012, "AcquisitionNumber"},
    {0x00200013, "InstanceNumber"},
    {0x00200020, "PatientOrientation"},
    {0x00200032, "ImagePositionPatient"},
    {0x00200037, "ImageOrientationPatient"},
    {0x00201041, "SliceLocation"},
    {0x00280002, "SamplesPerPixel"},
    {0x00280004, "PhotometricInterpretation"},
    {0x00280006, "PlanarConfiguration"},
    {0x00280008, "NumberOfFrames"},
    {0x00280010, "Rows"},
    {0x00280011, "Columns"},
    {0x00280030, "PixelSpacing"},
    {0x00280100, "BitsAllocated"},
    {0x00280101, "BitsStored"},
    {0x00280102, "HighBit"},
    {0x00280103, "PixelRepresentation"},
    {0x00280301, "BurnedInAnnotation"},
    {0x00281050, "WindowCenter"},
    {0x00281051, "WindowWidth"},
    {0x00281052, "RescaleIntercept"},
    {0x00281053, "RescaleSlope"},
    {0x00281054, "RescaleType"},
    {0x00282110, "LossyImageCompression"},
    {0x7FE00008, "FloatPixelData"},
    {0x7FE00009, "DoubleFloatPixelData"},
    {0x7FE00010, "PixelData"},
};

static int add(mv_html_names *n, uint32_t tag, const char *kw, size_t len) {
  if (n->n == n->cap) {
    size_t cap = n->cap ? n->cap * 2 : 256;
    entry *g = realloc(n->e, cap * sizeof *g);
    if (!g) return -1;
    n->e = g, n->cap = cap;
  }
  char *k = malloc(len + 1);
  if (!k) return -1;
  memcpy(k, kw, len);
  k[len] = 0;
  n->e[n->n++] = (entry){tag, k};
  return 0;
}

static int hex4(const char *s, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0) return -1; /* "x" patterns (50xx,xxxx) name no one tag */
    *v = *v << 4 | (uint32_t)d;
  }
  return 0;
}

/* Rows look like {tag="(0010,0010)", keyword="PatientName", ...}. */
static void load_ps315(mv_html_names *n, const char *scripts_dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/ps315.lua", scripts_dir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[2048];
  while (fgets(line, sizeof line, f)) {
    const char *t = strstr(line, "tag=\"(");
    const char *k = strstr(line, "keyword=\"");
    if (!t || !k) continue;
    t += 6;
    uint32_t g, e;
    if (hex4(t, &g) || t[4] != ',' || hex4(t + 5, &e) || t[9] != ')') continue;
    k += 9;
    size_t len = strcspn(k, "\"");
    if (!len || len > 80 || k[len] != '"') continue;
    if (add(n, g << 16 | e, k, len) != 0) break;
  }
  fclose(f);
}

static int by_tag(const void *a, const void *b) {
  uint32_t x = ((const entry *)a)->tag, y = ((const entry *)b)->tag;
  return x < y ? -1 : x > y;
}

mv_html_names *mv_html_names_load(const char *scripts_dir) {
  mv_html_names *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
    if (add(n, builtin[i].tag, builtin[i].keyword,
            strlen(builtin[i].keyword)) != 0)
      break;
  if (scripts_dir && *scripts_dir) load_ps315(n, scripts_dir);
  if (n->n) qsort(n->e, n->n, sizeof *n->e, by_tag);
  return n;
}

const char *mv_html_names_get(const mv_html_names *n, uint32_t tag) {
  if (!n || !n->n) return NULL;
  entry key = {tag, NULL};
  const entry *hit = bsearch(&key, n->e, n->n, sizeof *n->e, by_tag);
  return hit ? hit->keyword : NULL;
}

void mv_html_names_free(mv_html_names *n) {
  if (!n) return;
  for (size_t i = 0; i < n->n; i++) free(n->e[i].keyword);
  free(n->e);
  free(n);
}
