-- a hand-written policy without the Lua library
return {
  name = "hand",
  description = "fuzz seed",
  tags = {
    ["(0010,0010)"] = "remove",
    ["(0010,0020)"] = { action = "replace", value = "X" },
    ["(50xx,xxxx)"] = "remove",
    ["(0019,xx10) GEMS_ACQU_01"] = "keep",
  },
  vrs = { UI = "uid", PN = "dummy", DA = "shift" },
  private = "remove",
  default = "keep",
  dates = { min_days = -100, max_days = -1, per = "PatientID" },
  age_cap = 89,
  pixels = { when = "always", modalities = { "US", "SC" } },
}
