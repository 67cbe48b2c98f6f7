local mv = require "medveil"
return mv.policy {
  name = "custom",
  tags = {
    PatientName = mv.pseudonym "P-",
    PatientID = mv.hash(12),
    InstitutionName = mv.replace "SITE",
    StudyDescription = mv.clean,
    PatientAge = mv.age,
    StudyDate = mv.shift,
    PatientBirthDate = mv.year,
    ["(0009,xxxx) ACME"] = mv.keep,
    ProtocolName = function(value, ctx) return value end,
  },
  vrs = { UI = mv.uid, PN = mv.dummy },
  dates = { min_days = -30, max_days = -1 },
  after = function(ds, ctx) ds.ClinicalTrialSiteID = "07" end,
}
