-- metamethods everywhere the compiler looks (they must fail as script errors)
local calls = 0
local function counted(t)
  return setmetatable(t, {
    __index = function(_, k) calls = calls + 1; if calls > 50 then error("too many lookups of " .. tostring(k)) end end,
    __pairs = function(x) return next, x, nil end,
    __len = function() return 3 end,
  })
end
local action = setmetatable({}, { __index = function(_, k) if k == "action" then return "keep" end end })
return counted {
  name = "meta",
  tags = counted { PatientName = action, PatientID = setmetatable({ action = "replace" }, { __index = { value = "X" } }) },
  vrs = counted { PN = action },
  options = counted {},
  dates = counted { min_days = -5, max_days = -1 },
  pixels = counted { when = "never", modalities = counted { "US" } },
}
