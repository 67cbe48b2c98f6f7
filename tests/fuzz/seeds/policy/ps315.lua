local mv = require "medveil"
return mv.ps315 {
  name = "opts",
  options = { retain_safe_private = true, retain_long_full_dates = true,
              retain_institution_identity = true, clean_structured_content = true },
  hipaa = true,
  age_cap = 89,
  private = mv.remove,
  default = mv.keep,
}
