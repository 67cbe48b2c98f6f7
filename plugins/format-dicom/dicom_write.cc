/* dicom_write.cc - write(): a Part 10 file with a meta header rebuilt.
 *
 * The meta header is rebuilt rather than kept: old headers can carry names
 * (Source/Sending/Receiving AE titles, private information), and the core
 * may have changed the SOP Class/Instance UIDs it must repeat. Pixel data
 * is written in the transfer syntax it was read in, so dcmtk copies it
 * (fragments included) without decoding; for a pass-through syntax that is
 * the stand-in, with the original UID put back into the meta. Changed pixel
 * planes are stored first (pixels_commit): only their frames or fragments
 * differ from the input. */
#include "dicom_internal.h"
#include "dicom_pixels.h"

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcmetinf.h"

#include <cstdio>
#include <unistd.h>

namespace mvdcm {
namespace {

/* The value of a top-level UID element, or "" */
OFString uid_of(DcmItem *item, const DcmTagKey &tag) {
  OFString v;
  if (item && item->findAndGetOFString(tag, v).bad()) v.clear();
  return v;
}

/* Any text value (SH LO ST LT PN UC UT) with a byte outside ASCII? */
bool has_non_ascii_text(DcmItem *root) {
  std::vector<DcmItem *> todo{root};
  while (!todo.empty()) {
    DcmItem *item = todo.back();
    todo.pop_back();
    DcmList *list = element_list(item);
    for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next)) {
      DcmEVR e = o->ident();
      if (e == EVR_SQ) {
        DcmList *il = item_list(static_cast<DcmSequenceOfItems *>(o));
        for (DcmObject *it = il->seek(ELP_first); it; it = il->seek(ELP_next))
          todo.push_back(static_cast<DcmItem *>(it));
        continue;
      }
      if (e != EVR_SH && e != EVR_LO && e != EVR_ST && e != EVR_LT &&
          e != EVR_PN && e != EVR_UC && e != EVR_UT)
        continue;
      char *v = nullptr;
      Uint32 len = 0;
      if (static_cast<DcmElement *>(o)->getString(v, len).bad() || !v) continue;
      for (Uint32 k = 0; k < len; k++)
        if (static_cast<unsigned char>(v[k]) >= 0x80) return true;
    }
  }
  return false;
}

} // namespace

int op_write(mv_doc *doc, const char *path, char *err, size_t errlen) {
  if (!doc || !path) return MV_EINVAL;
  DcmDataset *ds = doc->ff.getDataset();
  DcmMetaInfo *meta = doc->ff.getMetaInfo();
  if (!ds || !meta) return MV_EINVAL;

  /* Pixel changes released by the core are encoded now, in the file's own
   * encoding (dicom_pixels_info.cc); on failure nothing is written. */
  int prc = pixels_commit(doc, err, errlen);
  if (prc != MV_OK) return prc;
  /* Then the encoding the run asked for (--compress), if any. */
  prc = transcode_commit(doc, err, errlen);
  if (prc != MV_OK) return prc;

  /* All text is UTF-8 once opened (converted, or ASCII in any set), plus
   * what the core set. If any of it is not ASCII, the top level and every
   * item declaring its own set must say ISO_IR 192, or the output is
   * mislabelled (a DICOMDIR, or ASCII under another declaration). */
  if (doc->non_ascii || has_non_ascii_text(ds)) {
    std::vector<DcmItem *> todo{ds};
    bool changed = false;
    while (!todo.empty()) {
      DcmItem *item = todo.back();
      todo.pop_back();
      DcmList *list = element_list(item);
      for (DcmObject *o = list->seek(ELP_first); o; o = list->seek(ELP_next)) {
        if (o->ident() != EVR_SQ) continue;
        DcmList *il = item_list(static_cast<DcmSequenceOfItems *>(o));
        for (DcmObject *it = il->seek(ELP_first); it; it = il->seek(ELP_next))
          todo.push_back(static_cast<DcmItem *>(it));
      }
      if (item != ds && !item->tagExists(DCM_SpecificCharacterSet)) continue;
      OFString cs;
      if (item->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs, OFFalse).good() &&
          cs == "ISO_IR 192")
        continue;
      if (item->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192").bad()) {
        set_err(err, errlen, "cannot declare the character set");
        return MV_EIO;
      }
      changed = true;
    }
    if (changed) doc->restructured();
  }

  /* Keep only what the dataset cannot tell (a DICOMDIR has no SOP Common
   * module), then let dcmtk fill version, syntax and implementation. */
  OFString cls = uid_of(ds, DCM_SOPClassUID);
  OFString inst = uid_of(ds, DCM_SOPInstanceUID);
  if (cls.empty()) cls = uid_of(meta, DCM_MediaStorageSOPClassUID);
  if (inst.empty()) inst = uid_of(meta, DCM_MediaStorageSOPInstanceUID);
  /* Assigning a fresh header also zeroes the preamble, which dcmtk would
   * otherwise copy from the input (it can hold anything). */
  *meta = DcmMetaInfo();
  if (!cls.empty()) meta->putAndInsertString(DCM_MediaStorageSOPClassUID, cls.c_str());
  if (!inst.empty()) meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, inst.c_str());

  E_FileWriteMode mode = EWM_fileformat;
  OFCondition c = EC_Normal;
  if (doc->passthrough) {
    /* A syntax dcmtk does not know: the dataset goes out as the stand-in
     * it was read in (pixel fragments copied as they are), the meta says
     * what the file really is. dcmtk fills the meta, then the UID and the
     * group length are put right and dcmtk is told to leave it alone. */
    c = doc->ff.validateMetaInfo(doc->write_xfer, EWM_fileformat);
    if (c.good())
      c = meta->putAndInsertString(DCM_TransferSyntaxUID, doc->passthrough);
    if (c.good())
      c = meta->computeGroupLengthAndPadding(EGL_withGL, EPD_noChange,
                                             EXS_LittleEndianExplicit,
                                             EET_ExplicitLength);
    mode = EWM_dontUpdateMeta;
  }
  if (c.good())
    c = doc->ff.saveFile(OFFilename(path), doc->write_xfer, EET_ExplicitLength,
                         EGL_withoutGL, EPD_noChange, 0, 0, mode);
  if (c.bad()) {
    unlink(path); /* never leave a partial output behind */
    set_err(err, errlen, "cannot write DICOM: %s", c.text());
    return MV_EIO;
  }
  return MV_OK;
}

} // namespace mvdcm
