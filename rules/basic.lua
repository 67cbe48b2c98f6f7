-- rules/basic.lua -- DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile.
--
-- What it applies (and nothing else):
--   * Table E.1-1 (2024b) Basic Profile column for every listed attribute, no options:
--     X -> remove, Z and X/Z -> empty, D, X/D, X/Z/D, Z/D -> dummy, U and X/Z/U* -> uid, K -> keep.
--   * PatientName and PatientID -> keyed pseudonym "SUBJ" + 12 characters (a consistent dummy,
--     so one patient's objects stay together).
--   * Attributes not in the table: every UI -> uid (keyed remap, standard UIDs kept),
--     every PN -> dummy, private elements -> remove, everything else -> keep.
--   * Group 0002 (file meta) is handled by the core, not by rules.
--   * Other formats (PNG, JPEG, NIfTI): named attributes kept only when an image needs them to
--     display (colour profile, gamma, pixel size, orientation: mv.display_named()); the rest
--     removed. See docs/policy-guide.md, "Named attributes".
--   * Pixels: only objects that declare BurnedInAnnotation = YES are cleaned (known device
--     regions and OCR; every word not in mv.onscreen_words is redacted on US, SC, OT, XA, ES,
--     DOC, XC, GM and RF images, identifying text on the others); uncertain ones go to the
--     review folder. Code 113101 is added to an object whose pixels were cleaned.
--   * dates: present for completeness; the Basic Profile has no shift actions.
local mv = require "medveil"

local policy = mv.ps315 {
  name        = "basic",
  description = "DICOM PS3.15 E.1 Basic Application Confidentiality Profile",
  options     = {},
  dates       = { min_days = -3650, max_days = -365, per = "PatientID" },
  pixels      = { when = "burned_in", modalities = {}, allow = mv.onscreen_words },
  vrs         = { UI = mv.uid, PN = mv.dummy },
  private     = mv.remove,
  default     = mv.keep,
}

return policy
