-- odd keys and values: numbers as keys, booleans, deep tables, huge numbers
local t = { name = "m", description = ("d"):rep(80) }
t.tags = { [1] = "keep", ["(gggg,eeee)"] = "remove", [true] = 1, ["(0010,0010)"] = { action = { "x" } } }
t.vrs = { XX = "keep", [2] = "remove" }
t.options = { retain_uids = 1, [3] = true }
t.dates = { min_days = 0/0, max_days = math.huge }
t.age_cap = 2^63
t.pixels = { when = "always", modalities = { 1, ("M"):rep(40), {} } }
return t
