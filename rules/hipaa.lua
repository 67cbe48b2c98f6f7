-- rules/hipaa.lua -- HIPAA Safe Harbor (45 CFR 164.514(b)(2)) on top of the PS3.15 Basic Profile.
--
-- What it applies:
--   * Table E.1-1 (2024b), Basic Profile column (names, IDs, addresses, phone numbers, device
--     serials, free-text descriptions and comments removed, emptied or dummied; UIDs remapped).
--   * retain_patient_characteristics (113108): sex, size, weight, ethnic group, smoking and
--     pregnancy status kept (not Safe Harbor identifiers). Its free-text rows (allergies,
--     patient state, pre-medication, special needs) stay removed as in the Basic Profile.
--   * hipaa = true, applied after the options:
--       - every date and datetime of Table E.1-1 that has a longitudinal-dates column, and
--         PatientBirthDate, -> year (DA "YYYY0101", DT "YYYY"); the core empties the birth date
--         when the age at the study is over age_cap. Times keep their Basic action.
--       - PatientAge and other kept AS values -> age (over 89 -> "090Y").
--       - unlisted DA/DT -> year, unlisted AS -> age.
--   * age_cap = 89 (ages 90 and over are aggregated into "90 or older").
--   * Geographic units: Basic removes PatientAddress, RegionOfResidence, CountryOfResidence,
--     InstitutionAddress (stricter than Safe Harbor, which allows state and country).
--   * PatientName, PatientID -> keyed pseudonym "SUBJ…" (a code not derived from the
--     identifier without the site key, as 164.514(c) allows).
--   * clean_pixel_data (113101), pixels as in research: burned-in text (BurnedInAnnotation
--     YES, or a modality that commonly carries it) is found and redacted, words read badly
--     included (uncertain = "redact"); objects still readable after redaction go to the
--     review folder. 113101 is claimed per object, once its pixels were cleaned.
--     Full-face photographs (XC, OP, ES...) are not recognised as faces: redact or exclude
--     them in a site policy.
--   * Unlisted: UI -> uid, PN -> dummy, private -> remove, everything else -> keep.
--   * Other formats (PNG, JPEG, NIfTI): named attributes kept only when an image needs them to
--     display (colour profile, gamma, pixel size, orientation: mv.display_named()); the rest
--     removed. See docs/policy-guide.md, "Named attributes".
local mv = require "medveil"

local policy = mv.ps315 {
  name        = "hipaa",
  description = "HIPAA Safe Harbor (45 CFR 164.514(b)(2))",
  hipaa       = true,
  options     = {
    retain_patient_characteristics = true,
    clean_pixel_data               = true,
  },
  age_cap = 89,
  dates   = { min_days = -3650, max_days = -365, per = "PatientID" },
  pixels  = { when = "burned_in",
              modalities = { "US", "SC", "OT", "XA", "RF", "ES", "XC", "GM", "SM", "DOC",
                             "OP", "IO", "PX" },
              detect = { "regions", "ocr" }, redact = "fill", phi = "auto",
              allow = mv.onscreen_words, review_below = 0.5, uncertain = "redact",
              verify = true },
  vrs     = { UI = mv.uid, PN = mv.dummy },
  private = mv.remove,
  default = mv.keep,
}

return policy
