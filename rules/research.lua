-- rules/research.lua -- PS3.15 Basic Profile with the options a research data set usually needs.
--
-- What it applies:
--   * Table E.1-1 (2024b), Basic Profile column, then these options in the standard's order:
--       retain_device_identity          (113109) device serials, station names... kept;
--                                                AE titles cleaned
--       retain_patient_characteristics  (113108) sex, age, size, weight, ethnic group,
--                                                smoking/pregnancy status kept; allergies,
--                                                patient state, pre-medication, special needs cleaned
--       retain_long_modified_dates      (113107) every listed date/datetime shifted by the
--                                                patient's offset (intervals exact); times kept
--       clean_descriptors               (113105) study/series/protocol descriptions, comments...
--                                                cleaned (names, IDs, dates, numbers scrubbed)
--       clean_pixel_data                (113101) claimed because burned-in text must be cleaned
--                                                before release (see pixels below)
--   * PatientName, PatientID -> keyed pseudonym "SUBJ…".
--   * PatientBirthDate is shifted with the patient's other dates (Table E.1-1 lists it as Z
--     with no option column; shifting it by the same offset keeps the age at every study
--     exact, which a research set needs, and reveals no real date).
--   * Attributes not in the table: UI -> uid, PN -> dummy, DA and DT -> shift (so unlisted
--     dates move with the rest), private -> remove, everything else -> keep.
--   * dates: one offset per PatientID, 1 to 10 years back.
--   * Other formats (PNG, JPEG, NIfTI): named attributes kept only when an image needs them to
--     display (colour profile, gamma, pixel size, orientation: mv.display_named()); the rest
--     removed. See docs/policy-guide.md, "Named attributes".
--   * pixels: cleaning required when BurnedInAnnotation is YES, or for modalities whose images
--     commonly carry burned-in text: US (ultrasound annotations), SC (secondary capture,
--     screenshots), OT (other), XA and RF (fluoroscopy overlays), ES (endoscopy), XC (external
--     camera), GM (general microscopy), SM (slide labels), DOC (scanned documents), OP
--     (ophthalmic photographs), IO (intra-oral), PX (panoramic X-ray). Known device regions
--     and OCR find text; under phi = "auto" every word not in mv.onscreen_words is redacted on
--     US, SC, OT, XA, ES, DOC, XC, GM and RF images, and only identifying text on the others.
--     A word OCR cannot read well is redacted too (uncertain = "redact"), never kept; objects
--     whose text is still readable after redaction, or whose pixels cannot be written back,
--     go to the review folder, never to OUT.
local mv = require "medveil"

local policy = mv.ps315 {
  name        = "research",
  description = "medveil research: PS3.15 Basic Profile with options",
  options     = {
    retain_device_identity         = true,
    retain_patient_characteristics = true,
    retain_long_modified_dates     = true,
    clean_descriptors              = true,
    clean_pixel_data               = true,
  },
  dates   = { min_days = -3650, max_days = -365, per = "PatientID" },
  pixels  = { when = "burned_in",
              modalities = { "US", "SC", "OT", "XA", "RF", "ES", "XC", "GM", "SM", "DOC",
                             "OP", "IO", "PX" },
              detect = { "regions", "ocr" }, redact = "fill", phi = "auto",
              allow = mv.onscreen_words, review_below = 0.5, uncertain = "redact",
              verify = true },
  tags    = { PatientBirthDate = mv.shift },
  vrs     = { UI = mv.uid, PN = mv.dummy, DA = mv.shift, DT = mv.shift },
  private = mv.remove,
  default = mv.keep,
}

return policy
