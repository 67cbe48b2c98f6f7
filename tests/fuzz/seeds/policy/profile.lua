local mv = require "medveil"
return mv.profile "research" {
  name = "site",
  options = { clean_graphics = true, retain_uids = true },
  tags = { ["(0019,xx10) GEMS_ACQU_01"] = mv.keep, AccessionNumber = mv.hash(16) },
  dates = mv.shift { min_days = -730, max_days = -30, per = "PatientID" },
  pixels = { when = "never" },
}
