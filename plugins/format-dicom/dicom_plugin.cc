/* dicom_plugin.cc - the entry point: descriptor, init/fini and the C ABI.
 *
 * Every function the core calls goes through a wrapper here, so that no
 * C++ exception crosses the C boundary (bad_alloc becomes MV_ENOMEM, the
 * rest MV_EPLUGIN). */
#include "dicom_internal.h"
#include "dicom_pixels.h"

#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcobject.h"
#include "dcmtk/oflog/oflog.h"

#include <cstddef>
#include <new>

namespace mvdcm {
namespace {

template <typename F> int guarded(F &&f) {
  try {
    return f();
  } catch (const std::bad_alloc &) {
    return MV_ENOMEM;
  } catch (...) {
    return MV_EPLUGIN;
  }
}

int p_init(const mv_host *host, const char *config, void **state, char *err,
           size_t errlen) {
  (void)config;
  return guarded([&]() -> int {
    if (!state) return MV_EINVAL;
    *state = nullptr;
    /* dcmtk logs parser warnings to stderr on its own; the host logger is
     * the only sanctioned channel, and reasons come back as codes. */
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    /* Read UN elements of known tags with their dictionary VR: a name
     * encoded as UN would otherwise reach the policy as opaque bytes.
     * (The pre-scan follows this: such a UN may hold a sequence.) */
    dcmEnableUnknownVRConversion.set(OFTrue);
    if (!dcmDataDict.isDictionaryLoaded()) {
      set_err(err, errlen, "DICOM data dictionary not loaded (DCMDICTPATH?)");
      return MV_EPLUGIN;
    }
    State *st = new State;
    st->host = host;
    if (host && host->abi == MV_PLUGIN_ABI &&
        host->size >= offsetof(mv_host, log) + sizeof host->log)
      st->log = host->log;
    try {
      build_keywords(*st);
      prescan_init();
    } catch (...) {
      delete st;
      throw;
    }
    /* pixel codecs (RLE, JPEG, JPEG-LS): process-wide in dcmtk, counted */
    codecs_register();
    *state = st;
    return MV_OK;
  });
}

void p_fini(void *state) {
  try {
    if (state) codecs_unregister();
    delete static_cast<State *>(state);
  } catch (...) {
  }
}

int p_probe(void *state, const uint8_t *head, size_t n) {
  (void)state;
  try {
    return op_probe(head, n);
  } catch (...) {
    return 0;
  }
}

int p_open(void *state, const char *path, mv_doc **out, char *err,
           size_t errlen) {
  int rc = guarded([&]() -> int { return op_open(state, path, out, err, errlen); });
  if (rc == MV_ENOMEM || rc == MV_EPLUGIN) {
    if (err && errlen && !err[0]) set_err(err, errlen, "internal error while opening");
  }
  return rc;
}

void p_close(mv_doc *doc) {
  try {
    delete doc;
  } catch (...) {
  }
}

int p_visit(mv_doc *doc, mv_visit_fn fn, void *ud) {
  return guarded([&]() -> int { return op_visit(doc, fn, ud); });
}

int p_set_value(mv_doc *doc, void *handle, const char *value, size_t len) {
  return guarded([&]() -> int { return op_set_value(doc, handle, value, len); });
}

int p_get(mv_doc *doc, const char *key, const char **value, size_t *len) {
  return guarded([&]() -> int { return op_get(doc, key, value, len); });
}

int p_set(mv_doc *doc, const char *key, const char *vr, const char *value,
          size_t len) {
  return guarded([&]() -> int { return op_set(doc, key, vr, value, len); });
}

int p_remove(mv_doc *doc, const char *key) {
  return guarded([&]() -> int { return op_remove(doc, key); });
}

int p_resolve(void *state, const char *key, uint32_t *tag, char vr[4]) {
  return guarded([&]() -> int {
    if (!state || !key) return MV_EINVAL;
    return resolve_key(static_cast<const State *>(state), key, tag, vr);
  });
}

int p_write(mv_doc *doc, const char *path, char *err, size_t errlen) {
  return guarded([&]() -> int { return op_write(doc, path, err, errlen); });
}

int p_pixel_info(mv_doc *doc, mv_pixel_info *info) {
  return guarded([&]() -> int { return op_pixel_info(doc, info); });
}

int p_acquire(mv_doc *doc, uint32_t plane, mv_image *img, char *err,
              size_t errlen) {
  int rc = guarded([&]() -> int { return op_acquire(doc, plane, img, err, errlen); });
  if ((rc == MV_ENOMEM || rc == MV_EPLUGIN) && err && errlen && !err[0])
    set_err(err, errlen, "internal error while decoding pixels");
  return rc;
}

int p_release(mv_doc *doc, uint32_t plane, const mv_rect *changed, size_t n,
              char *err, size_t errlen) {
  return guarded(
      [&]() -> int { return op_release(doc, plane, changed, n, err, errlen); });
}

int p_drop_hidden_pixels(mv_doc *doc, uint32_t *count) {
  return guarded([&]() -> int { return op_drop_hidden_pixels(doc, count); });
}

int p_set_output_encoding(mv_doc *doc, const char *encoding, char *err, size_t errlen) {
  return guarded(
      [&]() -> int { return op_set_output_encoding(doc, encoding, err, errlen); });
}

const mv_format_ops kOps = {
    sizeof(mv_format_ops),
    p_probe,
    p_open,
    p_close,
    p_visit,
    p_set_value,
    p_get,
    p_set,
    p_remove,
    p_resolve,
    p_write,
    "dcm",
    p_pixel_info,
    p_acquire,
    p_release,
    p_drop_hidden_pixels,
    p_set_output_encoding,
    nullptr, /* doc_extension: always "dcm" */
    nullptr, /* companion_of: no companion files */
};

const mv_plugin kPlugin = {
    MV_PLUGIN_ABI, sizeof(mv_plugin), "format-dicom", "1.0.0",
    MV_KIND_FORMAT, p_init, p_fini, &kOps, nullptr, nullptr,
};

} // namespace
} // namespace mvdcm

extern "C" MV_EXPORT const mv_plugin *mv_plugin_entry(void) {
  return &mvdcm::kPlugin;
}
