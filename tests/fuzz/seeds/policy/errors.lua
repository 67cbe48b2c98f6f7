-- a rule file the compiler must refuse with file:line
local mv = require "medveil"
return mv.policy {
  name = "bad",
  tags = { NoSuchKeyword = mv.remove, ["(zzzz,0010)"] = mv.keep, ["(0010,0010)"] = mv.hash(3) },
  vrs = { QQ = mv.keep },
  dates = { min_days = 10, max_days = -10, per = "NotATag" },
  pixels = { when = "sometimes" },
  age_cap = 0,
}
