/* dicom_open.cc - open(): guard, parse with dcmtk, convert text to UTF-8.
 *
 * The guard (dicom_guard.cc) has already refused what must not reach dcmtk.
 * When its pre-scan could not vouch for a file, dcmtk parses it on a thread
 * with a large stack and the nesting depth is measured on the parsed tree,
 * so no input can overflow the caller's stack. Large values stay on disk
 * (dcmtk's maxReadLength) until written. Pass-through syntaxes (HTJ2K,
 * JPEG XL...) are read as a stand-in syntax dcmtk knows. */
#include "dicom_internal.h"

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcistrmf.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <pthread.h>

#include <cstring>
#include <memory>
#include <new>

namespace mvdcm {
namespace {

/* Stack for parsing files the pre-scan could not vouch for. Only reserved
 * address space until touched. */
constexpr size_t kBigStack = size_t(256) << 20;

/* A pass-through syntax: what DcmFileFormat::read does, except that the
 * dataset is read as the stand-in rather than as the meta says (dcmtk
 * would guess plain explicit VR little endian, turn the pixel sequence
 * into a native value and drop it on write). Large values stay on disk:
 * the file stream gives each one a factory to re-read it. */
OFCondition load_passthrough(mv_doc *doc, const char *path) {
  DcmInputFileStream fs{OFFilename(path)};
  OFCondition c = fs.status();
  if (c.bad()) return c;
  DcmMetaInfo *meta = doc->ff.getMetaInfo();
  DcmDataset *ds = doc->ff.getDataset();
  if (!meta || !ds) return EC_IllegalCall;
  doc->ff.transferInit();
  c = meta->read(fs, EXS_Unknown, EGL_withoutGL, DCM_MaxReadLength);
  /* the pre-scan vouched for the bytes after the meta it found: dcmtk
   * must start the dataset there too */
  if (c.good() && static_cast<size_t>(fs.tell()) != doc->ds_start)
    c = EC_CorruptedData;
  if (c.good()) c = ds->read(fs, kStandIn, EGL_withoutGL, DCM_MaxReadLength);
  doc->ff.transferEnd();
  return c;
}

OFCondition load(mv_doc *doc, const char *path) {
  if (doc->passthrough) return load_passthrough(doc, path);
  /* EGL_withoutGL drops group length elements: dcmtk recomputes what the
   * writer needs, and stale lengths are a classic source of broken files. */
  return doc->ff.loadFile(OFFilename(path), EXS_Unknown, EGL_withoutGL,
                          DCM_MaxReadLength, ERM_autoDetect);
}

/* The meta's transfer syntax as dcmtk read it, padding removed. */
std::string meta_ts(DcmMetaInfo *meta) {
  OFString v;
  if (!meta || meta->findAndGetOFString(DCM_TransferSyntaxUID, v).bad())
    return std::string();
  std::string s(v.c_str(), v.length());
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

/* Deepest SQ nesting of a parsed tree, without recursion. */
unsigned tree_depth(DcmItem *root) {
  struct Pos {
    DcmItem *item;
    DcmObject *el;
  };
  std::vector<Pos> st;
  unsigned maxd = 0;
  st.push_back({root, nullptr});
  while (!st.empty()) {
    Pos &top = st.back();
    DcmObject *el = top.item->nextInContainer(top.el);
    top.el = el;
    if (!el) {
      st.pop_back();
      continue;
    }
    if (el->ident() != EVR_SQ) continue;
    DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(el);
    unsigned d = static_cast<unsigned>(st.size());
    if (d > maxd) maxd = d;
    if (d > kMaxDepth) return d; /* enough to refuse */
    /* push every item; their order does not matter for a depth */
    for (unsigned long i = 0; i < sq->card(); i++) st.push_back({sq->getItem(i), nullptr});
  }
  return maxd;
}

struct BigJob {
  mv_doc *doc;
  const char *path;
  OFCondition cond;
  bool too_deep = false;
  bool failed = false;
};

void *big_stack_load(void *arg) {
  BigJob *job = static_cast<BigJob *>(arg);
  try {
    job->cond = load(job->doc, job->path);
    /* Measure even a failed parse: its partial tree may be deep too. */
    job->too_deep = tree_depth(job->doc->ff.getDataset()) > kMaxDepth;
  } catch (...) {
    job->failed = true;
  }
  if (job->too_deep || job->failed || job->cond.bad()) {
    /* dcmtk's destructors recurse too: free the tree on this stack */
    try {
      delete job->doc;
    } catch (...) {
    }
    job->doc = nullptr;
  }
  return nullptr;
}

/* Parse on a dedicated thread with a large stack. */
int load_on_big_stack(mv_doc *&doc, const char *path, OFCondition &cond,
                      char *err, size_t errlen) {
  BigJob job{doc, path, EC_Normal};
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) {
    set_err(err, errlen, "cannot create parser thread");
    return MV_ENOMEM;
  }
  pthread_attr_setstacksize(&attr, kBigStack);
  pthread_t th;
  int prc = pthread_create(&th, &attr, big_stack_load, &job);
  pthread_attr_destroy(&attr);
  if (prc != 0) {
    set_err(err, errlen, "cannot create parser thread");
    return MV_ELIMIT;
  }
  pthread_join(th, nullptr);
  doc = job.doc;
  if (job.failed) {
    set_err(err, errlen, "parser failed");
    return MV_EPLUGIN;
  }
  if (job.too_deep) {
    set_err(err, errlen, "sequence nesting deeper than %u levels", kMaxDepth);
    return MV_ELIMIT;
  }
  cond = job.cond;
  return MV_OK;
}

/* Groups 0000 (command) and 0002 (file meta) do not belong in a stored
 * dataset; stray copies can carry AE titles, and the meta is rebuilt on
 * write anyway. Items are sorted by tag, so they are at the front. */
void drop_stray_groups(DcmDataset *ds) {
  DcmList *list = element_list(ds);
  DcmObject *o = list->seek(ELP_first);
  while (o && o->getGTag() <= 0x0002) {
    if (o->getGTag() == 0x0000 || o->getGTag() == 0x0002) {
      delete list->remove(); /* cursor moves to the next element */
      o = list->get(ELP_atpos);
    } else {
      o = list->seek(ELP_next);
    }
  }
}

/* Elements whose VR dcmtk did not know (explicit VR files) are kept as
 * "unknown" and would be written as UN; on re-open unknown-VR conversion
 * reads them with the dictionary VR, so open -> write -> open could fail
 * without any edit. Make the tree what a re-open would see: a string
 * dictionary VR takes the bytes as they are; a tag the dictionary does not
 * know stays UN (re-read as UN); anything else (sequences, binary VRs) is
 * dropped and counted. A SpecificCharacterSet is always made CS or the file
 * is refused: without it text would pass unconverted. */
int fix_unknown_vrs(mv_doc *doc, char *err, size_t errlen) {
  struct Change {
    DcmItem *item;
    DcmElement *el;
    DcmElement *repl; /* nullptr: drop */
  };
  std::vector<Change> changes;
  std::vector<DcmItem *> todo{doc->ff.getDataset()};
  int rc = MV_OK;
  while (!todo.empty() && rc == MV_OK) {
    DcmItem *item = todo.back();
    todo.pop_back();
    DcmList *list = element_list(item);
    for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next)) {
      DcmEVR evr = o->ident();
      if (evr == EVR_SQ) {
        DcmList *il = item_list(static_cast<DcmSequenceOfItems *>(o));
        for (DcmObject *it = il->seek(ELP_first); it; it = il->seek(ELP_next))
          todo.push_back(static_cast<DcmItem *>(it));
        continue;
      }
      const DcmTag &tag = o->getTag();
      const bool charset = tag == DCM_SpecificCharacterSet;
      const bool unknown = evr == EVR_UNKNOWN || evr == EVR_UNKNOWN2B;
      if (!unknown && !(charset && evr != EVR_CS)) continue;
      DcmElement *el = static_cast<DcmElement *>(o);
      DcmEVR dv = charset ? EVR_CS
                          : DcmTag(tag.getGroup(), tag.getElement(),
                                   tag.getPrivateCreator()).getEVR();
      if (!charset && (dv == EVR_UN || dv == EVR_UNKNOWN || dv == EVR_UNKNOWN2B))
        continue; /* not in the dictionary: UN now and on re-open */
      DcmElement *repl = nullptr;
      if (is_string_vr(dv)) {
        const char *bytes = nullptr;
        Uint32 len = 0;
        bool got;
        if (unknown) {
          Uint8 *b = nullptr;
          got = el->getUint8Array(b).good();
          bytes = reinterpret_cast<const char *>(b);
          len = el->getLength();
        } else if (is_string_vr(evr)) {
          char *b = nullptr;
          got = el->getString(b, len).good();
          bytes = b;
        } else {
          got = false;
        }
        if (len == 0) got = true;
        /* a NUL before the end would cut the value short */
        Uint32 end = len;
        while (got && end > 0 && bytes[end - 1] == '\0') end--;
        if (got && end && memchr(bytes, '\0', end)) got = false;
        DcmTag nt(tag);
        nt.setVR(DcmVR(dv));
        if (got && DcmItem::newDicomElementWithVR(repl, nt).good() && repl) {
          if (repl->putString(len ? bytes : "", len).bad()) {
            delete repl;
            repl = nullptr;
          }
        } else {
          repl = nullptr;
        }
      }
      if (!repl && charset) {
        set_err(err, errlen,
                "SpecificCharacterSet (0008,0005) has an invalid VR");
        rc = MV_EFORMAT;
        break;
      }
      changes.push_back({item, el, repl});
    }
  }
  unsigned dropped = 0, converted = 0;
  for (const Change &c : changes) {
    if (rc != MV_OK) {
      delete c.repl;
      continue;
    }
    delete c.item->remove(c.el);
    if (c.repl) {
      if (c.item->insert(c.repl, OFTrue).bad()) {
        delete c.repl;
        dropped++;
      } else {
        converted++;
      }
    } else {
      dropped++;
    }
  }
  const State *st = doc->st;
  if (rc == MV_OK && st && st->log) {
    if (dropped)
      st->log(MV_LOG_WARN, "format-dicom",
              "dropped %u element(s) with a VR not valid for their tag",
              dropped);
    if (converted)
      st->log(MV_LOG_DEBUG, "format-dicom",
              "read %u element(s) with an unknown VR as their dictionary VR",
              converted);
  }
  return rc;
}

} // namespace

int op_open(void *state, const char *path, mv_doc **out, char *err,
            size_t errlen) {
  if (!path || !out) return MV_EINVAL;
  *out = nullptr;
  GuardResult g;
  int rc = guard_file(path, g, err, errlen);
  if (rc != MV_OK) return rc;

  std::unique_ptr<mv_doc> own(new mv_doc);
  own->st = static_cast<const State *>(state);
  own->passthrough = g.passthrough;
  own->ds_start = g.ds_start;
  OFCondition cond;
  if (g.unsure) {
    const State *st = own->st;
    if (st && st->log) /* never the path: names live there */
      st->log(MV_LOG_DEBUG, "format-dicom",
                    "pre-scan unsure (%s); parsing on a large stack", g.why);
    /* the parser thread may have to free the doc on its own stack */
    mv_doc *d = own.release();
    rc = load_on_big_stack(d, path, cond, err, errlen);
    own.reset(d);
    if (rc != MV_OK) return rc;
  } else {
    cond = load(own.get(), path);
  }
  if (cond.bad()) {
    set_err(err, errlen, "cannot parse DICOM: %s", cond.text());
    return MV_EFORMAT;
  }
  mv_doc *doc = own.get();
  DcmDataset *ds = doc->ff.getDataset();
  if (!ds || ds->card() == 0) {
    set_err(err, errlen, "no attributes in dataset");
    return MV_EFORMAT;
  }
  doc->read_xfer = ds->getOriginalXfer();
  if (doc->read_xfer == EXS_Unknown) {
    set_err(err, errlen, "cannot determine the transfer syntax");
    return MV_EFORMAT;
  }
  /* What the guard saw must be what dcmtk read. A meta the pre-scan could
   * not follow reaches here unchecked, and with two TransferSyntaxUIDs the
   * guard sees the last, dcmtk the first. For a syntax dcmtk does not know
   * it guessed the dataset's encoding and would drop the pixel data on
   * write; a pass-through syntax must be the one the stand-in was for. */
  std::string ts = meta_ts(doc->ff.getMetaInfo());
  if (doc->passthrough
          ? ts != doc->passthrough
          : !ts.empty() && DcmXfer(ts.c_str()).getXfer() == EXS_Unknown) {
    set_err(err, errlen,
            "transfer syntax not supported or ambiguous in the file meta");
    return MV_EFORMAT;
  }
  drop_stray_groups(ds);
  if (ds->card() == 0) {
    set_err(err, errlen, "no attributes in dataset");
    return MV_EFORMAT;
  }
  if ((rc = fix_unknown_vrs(doc, err, errlen)) != MV_OK) return rc;
  if (ds->card() == 0) {
    set_err(err, errlen, "no attributes in dataset");
    return MV_EFORMAT;
  }
  if ((rc = to_utf8(doc, err, errlen)) != MV_OK) return rc;
  /* Raw datasets come without meta; they leave as Part 10 files, and an
   * implicit VR one as explicit VR little endian (the default syntax). */
  DcmMetaInfo *meta = doc->ff.getMetaInfo();
  bool had_meta = meta && meta->card() > 0;
  doc->write_xfer = doc->read_xfer;
  if (!had_meta && !DcmXfer(doc->read_xfer).isExplicitVR())
    doc->write_xfer = EXS_LittleEndianExplicit;
  *out = own.release();
  return MV_OK;
}

} // namespace mvdcm
