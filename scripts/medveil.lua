-- scripts/medveil.lua -- the Lua side of the medveil policy language.
--
--   local mv = require "medveil"
--   return mv.profile "research" { tags = { InstitutionName = mv.replace "SITE 07" } }
--
-- A rule file returns ONE policy table (see docs/policy-guide.md for the contract). This module
-- gives policy authors action values (mv.keep, mv.remove, ...), action constructors
-- (mv.replace, mv.pseudonym, mv.hash, mv.shift{...}), a builder for DICOM PS3.15 Table E.1-1
-- profiles (mv.ps315) and a way to extend a bundled profile (mv.profile).
--
-- Runs in the core's sandbox: base (no load/loadfile/dofile/print), table, string, math, utf8.
-- No debug, io or os. Errors are raised at level 2 so they point at the rule file's line.

local M = {}
M.version = "1"

local type, pairs, ipairs, next, tostring, error, pcall, select =
      type, pairs, ipairs, next, tostring, error, pcall, select
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local sfmt = string.format

---------------------------------------------------------------------------------------------
-- errors: internal code raises fail(...); public entry points re-raise at the caller's level
---------------------------------------------------------------------------------------------
local ERR = {}
local function fail(fmt, ...)
  error(setmetatable({ msg = sfmt(fmt, ...) }, ERR), 0)
end

-- wrap(f [, fallback [, pass_where]]): run f; turn our errors into "file:line: medveil: msg"
-- at the caller of the wrapper. When the wrapper is tail-called (`return mv.profile "x" {...}`)
-- Lua has no line for the caller, so `fallback` (a position captured earlier) is used.
-- With pass_where, f receives the caller's position as its first argument.
local function wrap(f, fallback, pass_where)
  return function(...)
    local _, w = pcall(error, "", 3)          -- "file:line: " of our caller, or ""
    if type(w) ~= "string" or w == "" then w = fallback or "" end
    local r
    if pass_where then r = table.pack(pcall(f, w, ...)) else r = table.pack(pcall(f, ...)) end
    if r[1] then return table.unpack(r, 2, r.n) end
    local e = r[2]
    if getmetatable(e) == ERR then error(w .. "medveil: " .. e.msg, 0) end
    error(e, 0)
  end
end

local function levenshtein(a, b)
  if #a > 40 or #b > 40 then return 99 end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = (a:sub(i, i) == b:sub(j, j)) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- " (did you mean 'x'?)" for the closest of names, or "" ; names is a list
local function suggest(word, names)
  if type(word) ~= "string" then return "" end
  local best, bd = nil, 4
  for _, n in ipairs(names) do
    local d = levenshtein(word:lower(), n:lower())
    if d < bd then best, bd = n, d end
  end
  return best and sfmt(" (did you mean '%s'?)", best) or ""
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

local function shallow_copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function show(k)
  return type(k) == "string" and k or tostring(k)
end

---------------------------------------------------------------------------------------------
-- options (CID 7050 codes; the core turns the true ones into DeidentificationMethodCodeSequence)
---------------------------------------------------------------------------------------------
M.OPTIONS = {
  retain_safe_private                = { code = "113111", meaning = "Retain Safe Private Option" },
  retain_uids                        = { code = "113110", meaning = "Retain UIDs Option" },
  retain_device_identity             = { code = "113109", meaning = "Retain Device Identity Option" },
  retain_institution_identity        = { code = "113112", meaning = "Retain Institution Identity Option" },
  retain_patient_characteristics     = { code = "113108", meaning = "Retain Patient Characteristics Option" },
  retain_long_full_dates             = { code = "113106", meaning = "Retain Longitudinal Temporal Information Full Dates Option" },
  retain_long_modified_dates         = { code = "113107", meaning = "Retain Longitudinal Temporal Information Modified Dates Option" },
  clean_descriptors                  = { code = "113105", meaning = "Clean Descriptors Option" },
  clean_structured_content           = { code = "113104", meaning = "Clean Structured Content Option" },
  clean_graphics                     = { code = "113103", meaning = "Clean Graphics Option" },
  clean_pixel_data                   = { code = "113101", meaning = "Clean Pixel Data Option" },
  clean_recognizable_visual_features = { code = "113102", meaning = "Clean Recognizable Visual Features Option" },
}
M.BASIC_CODE = "113100"

-- Harmless on-image words for pixels.allow (see scripts/onscreen_words.lua).
M.onscreen_words = require "onscreen_words"
local OPTION_NAMES = sorted_keys(M.OPTIONS)

-- Table E.1-1 column for each option, in the standard's order (= order of application)
local OPTION_COLUMN = {
  { "retain_safe_private",            "rtnSafePrivOpt" },
  { "retain_uids",                    "rtnUIDsOpt" },
  { "retain_device_identity",         "rtnDevIdOpt" },
  { "retain_institution_identity",    "rtnInstIdOpt" },
  { "retain_patient_characteristics", "rtnPatCharsOpt" },
  { "retain_long_full_dates",         "rtnLongFullDatesOpt" },
  { "retain_long_modified_dates",     "rtnLongModifDatesOpt" },
  { "clean_descriptors",              "cleanDescOpt" },
  { "clean_structured_content",       "cleanStructContOpt" },
  { "clean_graphics",                 "cleanGraphOpt" },
}

---------------------------------------------------------------------------------------------
-- action values
---------------------------------------------------------------------------------------------
local ACTION_PARAMS = {           -- action name -> allowed parameter fields
  keep = {}, remove = {}, empty = {}, dummy = {}, uid = {}, clean = {},
  shift = {}, year = {}, age = {},
  replace = { value = true }, pseudonym = { prefix = true }, hash = { length = true },
}
local ACTION_NAMES = sorted_keys(ACTION_PARAMS)

local proxies = setmetatable({}, { __mode = "k" })   -- read-only action value -> its fields

local function readonly_action(fields, call)
  local p = {}
  proxies[p] = fields
  return setmetatable(p, {
    __index = fields,
    __newindex = function(_, k)
      error(sfmt("medveil: mv.%s is a shared read-only action value (tried to set '%s'); "
        .. "build your own with a constructor or a plain table", fields.action, show(k)), 2)
    end,
    __pairs = function() return next, fields, nil end,
    __len = function() return 0 end,
    __tostring = function() return "mv." .. fields.action end,
    __call = call,
    __metatable = "medveil action (read-only)",
  })
end

local function check_text(what, s, maxlen)
  if type(s) ~= "string" then fail("%s must be a string, got %s", what, type(s)) end
  if maxlen and #s > maxlen then fail("%s is %d characters, at most %d allowed", what, #s, maxlen) end
  if s:find("[%c\\]") then fail("%s must not contain control characters or '\\'", what) end
  return s
end

local function mk_replace(value)
  if type(value) == "number" then value = tostring(value) end
  check_text("mv.replace value", value, 1024)
  return { action = "replace", value = value }
end

local function mk_pseudonym(prefix)
  if prefix == nil then prefix = "" end
  check_text("mv.pseudonym prefix", prefix, 16)
  if prefix:find("[^%w _%-%.]") then
    fail("mv.pseudonym prefix %q: use letters, digits, space, '_', '-' or '.'", prefix)
  end
  return { action = "pseudonym", prefix = prefix }
end

local function mk_hash(length)
  if type(length) == "table" then length = length.length end
  if length == nil then length = 16 end
  if math.type(length) ~= "integer" or length < 8 or length > 64 then
    fail("mv.hash length must be an integer from 8 to 64 (hex digits), got %s", tostring(length))
  end
  return { action = "hash", length = length }
end

-- dates parameters (the shift action uses them)
local DATE_DEFAULTS = { min_days = -3650, max_days = -365, per = "PatientID" }

local function check_dates(d, what)
  what = what or "dates"
  if type(d) ~= "table" or proxies[d] then
    fail("%s must be a table like mv.shift{ min_days = -3650, max_days = -365, per = \"PatientID\" }", what)
  end
  local out = shallow_copy(DATE_DEFAULTS)
  for k, v in pairs(d) do
    if k ~= "min_days" and k ~= "max_days" and k ~= "per" then
      fail("%s: unknown field '%s'%s", what, show(k), suggest(k, { "min_days", "max_days", "per" }))
    end
    out[k] = v
  end
  for _, k in ipairs { "min_days", "max_days" } do
    local v = out[k]
    if math.type(v) ~= "integer" or v < -36500 or v > 36500 then
      fail("%s.%s must be an integer number of days in [-36500, 36500], got %s", what, k, tostring(v))
    end
  end
  if out.min_days > out.max_days then
    fail("%s: min_days (%d) is greater than max_days (%d)", what, out.min_days, out.max_days)
  end
  if out.min_days <= 0 and out.max_days >= 0 then
    fail("%s: the range [%d, %d] contains 0, so some patients would keep their real dates",
      what, out.min_days, out.max_days)
  end
  check_text(what .. ".per", out.per, 64)
  return out
end

local function nop_call(name, hint)
  return wrap(function() fail("mv.%s is not callable%s", name, hint or "") end)
end

M.keep   = readonly_action({ action = "keep" }, nop_call("keep"))
M.remove = readonly_action({ action = "remove" }, nop_call("remove"))
M.empty  = readonly_action({ action = "empty" }, nop_call("empty"))
M.dummy  = readonly_action({ action = "dummy" }, nop_call("dummy"))
M.uid    = readonly_action({ action = "uid" }, nop_call("uid"))
M.clean  = readonly_action({ action = "clean" }, nop_call("clean"))
M.year   = readonly_action({ action = "year" }, nop_call("year"))
M.age    = readonly_action({ action = "age" },
  nop_call("age", "; set the cap at policy level: age_cap = 89"))
M.shift  = readonly_action({ action = "shift" },
  wrap(function(_, d) return check_dates(d or {}, "mv.shift{...}") end))
-- parametrised actions: usable as a call, and (pseudonym, hash) also bare with defaults
M.replace   = wrap(mk_replace)
M.pseudonym = readonly_action({ action = "pseudonym", prefix = "" },
  wrap(function(_, prefix) return mk_pseudonym(prefix) end))
M.hash      = readonly_action({ action = "hash", length = 16 },
  wrap(function(_, length) return mk_hash(length) end))

-- normalise one action (as written in a policy) to a fresh plain table or a function
local function norm_action(v, where)
  if v == M.replace then fail("%s: mv.replace needs a value: mv.replace \"text\"", where) end
  if type(v) == "function" then
    for name, f in pairs(M) do
      if f == v then fail("%s: mv.%s is not an action", where, name) end
    end
    return v
  end
  if type(v) ~= "table" then
    fail("%s: expected an action (mv.keep, mv.remove, ...), a table {action=...} or a function, got %s",
      where, type(v))
  end
  local fields = proxies[v] or v
  local name = fields.action
  if type(name) ~= "string" then
    fail("%s: action table without a string 'action' field", where)
  end
  local params = ACTION_PARAMS[name]
  if not params then
    fail("%s: unknown action '%s'%s", where, name, suggest(name, ACTION_NAMES))
  end
  for k in pairs(fields) do
    if k ~= "action" and not params[k] then
      fail("%s: action '%s' has no parameter '%s'", where, name, show(k))
    end
  end
  local ok, res = pcall(function()
    if name == "replace" then return mk_replace(fields.value)
    elseif name == "pseudonym" then return mk_pseudonym(fields.prefix)
    elseif name == "hash" then return mk_hash(fields.length)
    else return { action = name } end
  end)
  if not ok then
    if getmetatable(res) == ERR then fail("%s: %s", where, res.msg) end
    error(res, 0)
  end
  return res
end

---------------------------------------------------------------------------------------------
-- keys: tags, keywords, VRs
---------------------------------------------------------------------------------------------
local VRS = {}
for vr in ("AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV")
    :gmatch("%u%u") do VRS[vr] = true end
local VR_NAMES = sorted_keys(VRS)

local ps315_cache
local function ps315_data()
  if not ps315_cache then
    local t = require "ps315"
    local kw2tag, bykey = {}, {}
    for _, r in ipairs(t.rows) do
      if r.keyword then kw2tag[r.keyword] = r.tag end
      bykey[r.tag] = r
    end
    ps315_cache = { rows = t.rows, private = t.private, edition = t.edition, kw2tag = kw2tag,
                    bykey = bykey }
  end
  return ps315_cache
end

-- canonical identity of a tags key, to find two keys naming the same element:
-- "(0010,0010)" / "(0010,0010)" / "PatientName" -> "(0010,0010)"; patterns keep lower-case x;
-- private keys keep their creator. Unknown keywords map to themselves.
local function canon_key(k)
  local g, e, rest = k:match("^%s*%(%s*(%w%w%w%w)%s*,%s*(%w%w%w%w)%s*%)%s*(.-)%s*$")
  if g then
    local c = "(" .. g:upper():gsub("X", "x") .. "," .. e:upper():gsub("X", "x") .. ")"
    if rest ~= "" then c = c .. " " .. rest end
    return c
  end
  local kw = k:match("^%s*(.-)%s*$"):gsub("^RETIRED_", "")
  return ps315_data().kw2tag[kw] or kw
end

-- normalise a tags table; returns new table and canon->key map. Errors on duplicates.
local function norm_tags(tags, where)
  if type(tags) ~= "table" or proxies[tags] then fail("%s must be a table of key = action", where) end
  local out, seen = {}, {}
  for _, k in ipairs(sorted_keys(tags)) do
    if type(k) ~= "string" or k:match("^%s*$") then
      fail("%s: keys must be keywords or tag strings like \"(0010,0010)\", got %s", where, show(k))
    end
    local c = canon_key(k)
    if seen[c] then
      fail("%s: '%s' and '%s' name the same attribute", where, seen[c], k)
    end
    seen[c] = k
    out[k] = norm_action(tags[k], sfmt("%s[%q]", where, k))
  end
  return out, seen
end

local function norm_vrs(vrs, where)
  if type(vrs) ~= "table" or proxies[vrs] then fail("%s must be a table of VR = action", where) end
  local out = {}
  for k, v in pairs(vrs) do
    if type(k) ~= "string" or not VRS[k] then
      fail("%s: unknown VR '%s'%s", where, show(k), suggest(k, VR_NAMES))
    end
    out[k] = norm_action(v, sfmt("%s.%s", where, k))
  end
  return out
end

-- overlay tags src onto dst (both normalised), removing dst entries that name the same element
local function overlay_tags(dst, src)
  local canon_of_dst = {}
  for k in pairs(dst) do canon_of_dst[canon_key(k)] = k end
  for k, v in pairs(src) do
    local old = canon_of_dst[canon_key(k)]
    if old then dst[old] = nil end
    dst[k] = v
  end
end

---------------------------------------------------------------------------------------------
-- named: attributes of non-DICOM formats ("png:tEXt:Comment", "jpeg:exif:*")
---------------------------------------------------------------------------------------------
-- Actions that mean something for a named value (binary values: keep or remove).
local NAMED_ACTIONS = { keep = true, remove = true, empty = true, replace = true, clean = true,
                        pseudonym = true, hash = true }

-- What every bundled profile keeps of other formats: only what an image needs to display
-- correctly (colour profile, gamma, chromaticities, pixel size, orientation). Anything no
-- rule names is removed by the core.
local DISPLAY_NAMED = {
  ["png:iCCP"] = "keep", ["png:gAMA"] = "keep", ["png:cHRM"] = "keep", ["png:sRGB"] = "keep",
  ["png:sBIT"] = "keep", ["png:pHYs"] = "keep",
  ["jpeg:icc"] = "keep", ["jpeg:jfif"] = "keep", ["jpeg:adobe"] = "keep",
  ["jpeg:exif:Orientation"] = "keep",
  ["nifti:descrip"] = "empty", ["nifti:aux_file"] = "empty", ["nifti:intent_name"] = "empty",
  ["nifti:db_name"] = "empty", ["nifti:ext:*"] = "remove",
}
-- mv.display_named(): a fresh copy of those rules, to build on
M.display_named = function()
  local out = {}
  for k, a in pairs(DISPLAY_NAMED) do out[k] = { action = a } end
  return out
end

local function check_named_key(k, where)
  if type(k) ~= "string" or #k > 128 or not k:match("^[a-z][a-z0-9_]*:[^%c]+$")
     or (k:find("*", 1, true) or #k) ~= #k then
    fail("%s: '%s' is not a key like \"png:tEXt:Comment\" or \"png:tEXt:*\" "
      .. "(<format>:..., '*' only at the end)", where, show(k))
  end
  return k
end

-- normalise a named table: keys checked, actions restricted to those named values take
local function norm_named(t, where)
  if type(t) ~= "table" or proxies[t] then
    fail("%s must be a table like { [\"png:tEXt:*\"] = mv.remove }", where)
  end
  local out = {}
  for _, k in ipairs(sorted_keys(t)) do
    check_named_key(k, where)
    local w = sfmt("%s[%q]", where, k)
    if type(t[k]) == "function" then
      fail("%s: functions do not apply to named attributes; use keep, remove, empty, replace, "
        .. "clean, pseudonym or hash", w)
    end
    local a = norm_action(t[k], w)
    if not NAMED_ACTIONS[a.action] then
      fail("%s: %s does not apply to named attributes (keep, remove, empty, replace, clean, "
        .. "pseudonym, hash)", w, a.action)
    end
    out[k] = a
  end
  return out
end

local function overlay_named(dst, src)
  for k, v in pairs(src or {}) do dst[k] = v end
  return dst
end

---------------------------------------------------------------------------------------------
-- other top-level fields
---------------------------------------------------------------------------------------------
local function check_options(o, where)
  if type(o) ~= "table" or proxies[o] then fail("%s must be a table of option = true/false", where) end
  local out = {}
  for k, v in pairs(o) do
    if type(k) ~= "string" or not M.OPTIONS[k] then
      fail("%s: unknown option '%s'%s", where, show(k), suggest(k, OPTION_NAMES))
    end
    if type(v) ~= "boolean" then fail("%s.%s must be true or false, got %s", where, k, type(v)) end
    out[k] = v
  end
  return out
end

local function full_options(o)
  local out = {}
  for _, n in ipairs(OPTION_NAMES) do out[n] = o[n] == true end
  if out.retain_long_full_dates and out.retain_long_modified_dates then
    fail("options: retain_long_full_dates and retain_long_modified_dates exclude each other")
  end
  return out
end

local PIXEL_WHEN = { never = true, burned_in = true, always = true }
local PIXEL_PHI = { auto = true, all_text = true, identifiers = true }
local PIXEL_FIELDS = { "when", "modalities", "detect", "options", "redact", "phi",
                       "all_text_modalities", "allow", "review_below", "uncertain", "margin", "verify",
                       "complete_lines" }

local function string_list(v, where, what, pattern, maxlen)
  if type(v) ~= "table" or proxies[v] then fail("%s.%s must be a list of strings", where, what) end
  local list = {}
  for i, m in pairs(v) do
    if math.type(i) ~= "integer" or type(m) ~= "string" or #m == 0 or #m > maxlen
       or (pattern and not m:match(pattern)) then
      fail("%s.%s: item %s is not valid (%s)", where, what, show(i), show(m))
    end
    list[i] = m
  end
  if #list ~= #v then fail("%s.%s must be a list without holes", where, what) end
  return list
end

local function check_pixels(p, base, where)
  if type(p) ~= "table" or proxies[p] then fail("%s must be a table { when = ..., modalities = {...} }", where) end
  local out = { when = "burned_in", modalities = {} }
  if base then
    for k, v in pairs(base) do out[k] = type(v) == "table" and shallow_copy(v) or v end
  end
  for k, v in pairs(p) do
    if k == "when" then
      if not PIXEL_WHEN[v] then
        fail("%s.when must be \"never\", \"burned_in\" or \"always\", got %s%s", where, show(v),
          suggest(v, { "never", "burned_in", "always" }))
      end
      out.when = v
    elseif k == "modalities" then
      out.modalities = string_list(v, where, "modalities", "^[A-Z0-9_]+$", 16)
    elseif k == "all_text_modalities" then
      out.all_text_modalities = string_list(v, where, "all_text_modalities", "^[A-Z0-9_]+$", 16)
    elseif k == "detect" then
      out.detect = string_list(v, where, "detect", "^[%w_%-]+$", 31)
    elseif k == "options" then
      if type(v) ~= "table" or proxies[v] then
        fail("%s.options must be a table like { ocr = \"lang=eng+deu\" }", where)
      end
      local o = {}
      for name, opt in pairs(v) do
        if type(name) ~= "string" or type(opt) ~= "string" then
          fail("%s.options: detector names and option strings must be strings", where)
        end
        o[name] = opt
      end
      out.options = o
    elseif k == "redact" then
      if type(v) ~= "string" or not v:match("^[%w_]+[:%w%.%-]*$") then
        fail("%s.redact must be a method name (\"fill\", \"blur\", \"pixelate\"), got %s", where, show(v))
      end
      out.redact = v
    elseif k == "phi" then
      if not PIXEL_PHI[v] then
        fail("%s.phi must be \"auto\", \"all_text\" or \"identifiers\", got %s%s", where, show(v),
          suggest(v, { "auto", "all_text", "identifiers" }))
      end
      out.phi = v
    elseif k == "allow" then
      out.allow = string_list(v, where, "allow", nil, 64)
    elseif k == "review_below" then
      if type(v) ~= "number" or v < 0 or v > 1 then fail("%s.review_below must be a number from 0 to 1", where) end
      out.review_below = v
    elseif k == "uncertain" then
      if v ~= "review" and v ~= "redact" then
        fail("%s.uncertain must be \"review\" or \"redact\", got %s", where, show(v))
      end
      out.uncertain = v
    elseif k == "margin" then
      if math.type(v) ~= "integer" or v < 0 or v > 64 then
        fail("%s.margin must be an integer from 0 to 64 (pixels)", where)
      end
      out.margin = v
    elseif k == "verify" then
      if type(v) ~= "boolean" then fail("%s.verify must be true or false", where) end
      out.verify = v
    elseif k == "complete_lines" then
      if type(v) ~= "boolean" then fail("%s.complete_lines must be true or false", where) end
      out.complete_lines = v
    else
      fail("%s: unknown field '%s'%s", where, show(k), suggest(k, PIXEL_FIELDS))
    end
  end
  if out.options then
    for name in pairs(out.options) do
      local found = false
      for _, d in ipairs(out.detect or { "regions", "ocr" }) do found = found or d == name end
      if not found then fail("%s.options.%s: no such detector in %s.detect", where, name, where) end
    end
  end
  return out
end

local function check_age_cap(v, where)
  if v == false then return nil end
  if v ~= nil and (math.type(v) ~= "integer" or v < 1 or v > 150) then
    fail("%s must be an integer from 1 to 150 (or false for none), got %s", where, tostring(v))
  end
  return v
end

local function check_after(v, where)
  if v ~= nil and type(v) ~= "function" then
    fail("%s must be a function(ds, ctx), got %s", where, type(v))
  end
  return v
end

local function check_name(v, where)
  check_text(where, v, 64)
  if not v:match("^[%w_%-%.]+$") then fail("%s %q: use letters, digits, '_', '-' or '.'", where, v) end
  return v
end

local function check_description(v, where)
  return check_text(where, v, 64)
end

local function chain_after(a, b)
  if not a then return b end
  if not b then return a end
  return function(ds, ctx) a(ds, ctx); return b(ds, ctx) end
end

---------------------------------------------------------------------------------------------
-- mv.ps315: a policy from Table E.1-1
---------------------------------------------------------------------------------------------
local BASIC_ACTION = {
  X = "remove", Z = "empty", D = "dummy", U = "uid", K = "keep", C = "clean",
  ["X/Z"] = "empty", ["X/D"] = "dummy", ["X/Z/D"] = "dummy", ["Z/D"] = "dummy",
  ["X/Z/U*"] = "uid",
}
-- VRs that the core's clean action knows how to handle
local CLEANABLE = {}
for vr in ("AE AS CS DA DS DT IS LO LT PN SH ST UC UI UR UT SQ"):gmatch("%u%u") do CLEANABLE[vr] = true end

local PS315_KEYS = { "name", "description", "options", "dates", "age_cap", "pixels", "hipaa",
                     "tags", "vrs", "private", "default", "after", "named" }
local PS315_KEYSET = {}
for _, k in ipairs(PS315_KEYS) do PS315_KEYSET[k] = true end

local function check_keys(t, allowed_set, allowed_list, where)
  for k in pairs(t) do
    if not allowed_set[k] then
      fail("%s: unknown key '%s'%s", where, show(k), suggest(k, allowed_list))
    end
  end
end

-- action for one row's option code
local function option_action(col, code, row, current)
  if code == "K" then return "keep" end
  -- code C
  local vr = row.vr
  if col == "rtnLongModifDatesOpt" then
    if vr == "DA" or vr == "DT" then return "shift" end
    if vr == "TM" then return "keep" end   -- a shift by whole days leaves the time of day as is
    return current                          -- binary / offset values: keep the Basic action
  end
  if col == "rtnSafePrivOpt" then return current end -- no safe-private list yet
  if vr and CLEANABLE[vr] then return "clean" end
  return current                            -- e.g. Overlay Data, Curve Data: nothing to clean
end

local function build_ps315(spec)
  local D = ps315_data()
  local o = spec.options
  local actions, rowof = {}, {}
  for _, r in ipairs(D.rows) do
    if r.tag:sub(2, 5) ~= "0002" then  -- group 0002 (file meta) is never touched by rules
      local a = BASIC_ACTION[r.basic] or fail("ps315: unknown code %s for %s", r.basic, r.tag)
      for _, oc in ipairs(OPTION_COLUMN) do
        local code = r.opt[oc[2]]
        if o[oc[1]] and code then a = option_action(oc[2], code, r, a) end
      end
      actions[r.tag], rowof[r.tag] = a, r
    end
  end
  -- consistent pseudonyms instead of empty/dummy patient name and ID
  local tags = {}
  for tag, a in pairs(actions) do tags[tag] = { action = a } end
  for _, kw in ipairs { "PatientName", "PatientID" } do
    local tag = D.kw2tag[kw]
    if tags[tag].action ~= "keep" then tags[tag] = { action = "pseudonym", prefix = "SUBJ" } end
  end
  -- DICOMDIR file references name the exporter's folders and files, often
  -- after the patient or the MRN (Table E.1-1 does not list them). The
  -- output tree is named by medveil, so they would point nowhere anyway.
  for _, tag in ipairs { "(0004,1500)", "(0004,1130)" } do  -- ReferencedFileID, FileSetDescriptorFileID
    if not tags[tag] then tags[tag] = { action = "remove" } end
  end

  local vrs = { UI = { action = "uid" }, PN = { action = "dummy" } }
  for k, v in pairs(spec.vrs or {}) do vrs[k] = v end
  if o.retain_uids and vrs.UI and vrs.UI.action == "uid" then vrs.UI = { action = "keep" } end
  if o.retain_long_full_dates then
    for _, vr in ipairs { "DA", "DT" } do
      if vrs[vr] and (vrs[vr].action == "shift" or vrs[vr].action == "year") then
        vrs[vr] = { action = "keep" }
      end
    end
  end

  if spec.hipaa then
    for tag, r in pairs(rowof) do
      local a = tags[tag].action
      if (r.vr == "DA" or r.vr == "DT") and (r.opt.rtnLongModifDatesOpt or r.keyword == "PatientBirthDate") then
        tags[tag] = { action = "year" }
      elseif r.vr == "AS" and a == "keep" then
        tags[tag] = { action = "age" }
      elseif r.opt.rtnPatCharsOpt == "C" and a == "clean" then
        tags[tag] = { action = BASIC_ACTION[r.basic] }   -- free text about the patient: not kept
      end
    end
    vrs.DA, vrs.DT, vrs.AS = { action = "year" }, { action = "year" }, { action = "age" }
  end

  if spec.tags then overlay_tags(tags, spec.tags) end

  local policy = {
    name = spec.name,
    description = spec.description,
    options = o,
    tags = tags,
    vrs = vrs,
    private = spec.private or { action = "remove" },
    default = spec.default or { action = "keep" },
    dates = spec.dates or shallow_copy(DATE_DEFAULTS),
    age_cap = spec.age_cap,
    pixels = spec.pixels or { when = "burned_in", modalities = {} },
    after = spec.after,
    named = overlay_named(M.display_named(), spec.named),
  }
  if policy.age_cap == nil and spec.hipaa then policy.age_cap = 89 end
  return policy
end

-- validate and normalise a ps315 spec (a fresh table, safe to keep)
local function norm_spec(s, where)
  if type(s) ~= "table" or proxies[s] then fail("%s expects a table", where) end
  check_keys(s, PS315_KEYSET, PS315_KEYS, where)
  local n = {}
  n.name = check_name(s.name or "ps315", where .. " name")
  n.description = check_description(s.description
    or ("medveil " .. n.name .. ": DICOM PS3.15 E.1 profile"):sub(1, 64), where .. " description")
  n.options = check_options(s.options or {}, where .. " options")
  if s.dates ~= nil then n.dates = check_dates(s.dates, where .. " dates") end
  n.age_cap = check_age_cap(s.age_cap, where .. " age_cap")
  if s.pixels ~= nil then n.pixels = check_pixels(s.pixels, nil, where .. " pixels") end
  if s.hipaa ~= nil and type(s.hipaa) ~= "boolean" then fail("%s hipaa must be true or false", where) end
  n.hipaa = s.hipaa == true
  if s.tags ~= nil then n.tags = norm_tags(s.tags, where .. " tags") end
  if s.vrs ~= nil then n.vrs = norm_vrs(s.vrs, where .. " vrs") end
  if s.private ~= nil then n.private = norm_action(s.private, where .. " private") end
  if s.default ~= nil then n.default = norm_action(s.default, where .. " default") end
  if s.named ~= nil then n.named = norm_named(s.named, where .. " named") end
  n.after = check_after(s.after, where .. " after")
  return n
end

-- a recipe {spec=, layers={...}} is kept in the policy's metatable so mv.profile can rebuild
-- the profile with other options. The metatable is invisible to the core's key checks.
local RECIPE = "__medveil_recipe"

local function apply_layer(policy, L)
  if L.name then policy.name = L.name end
  if L.description then policy.description = L.description end
  if L.tags then overlay_tags(policy.tags, L.tags) end
  if L.vrs then for k, v in pairs(L.vrs) do policy.vrs[k] = v end end
  if L.private then policy.private = L.private end
  if L.default then policy.default = L.default end
  if L.dates then
    local d = shallow_copy(policy.dates or DATE_DEFAULTS)
    for k, v in pairs(L.dates) do d[k] = v end
    policy.dates = check_dates(d, "dates")
  end
  if L.age_cap ~= nil then policy.age_cap = check_age_cap(L.age_cap, "age_cap") end
  if L.pixels then policy.pixels = check_pixels(L.pixels, policy.pixels, "pixels") end
  if L.after then policy.after = chain_after(policy.after, L.after) end
  if L.named then policy.named = overlay_named(shallow_copy(policy.named or {}), L.named) end
end

local function build_recipe(recipe, extra_options)
  local spec = shallow_copy(recipe.spec)
  local o = shallow_copy(spec.options)
  for _, L in ipairs(recipe.layers) do
    for k, v in pairs(L.options or {}) do o[k] = v end
  end
  for k, v in pairs(extra_options or {}) do o[k] = v end
  spec.options = full_options(o)
  local policy = build_ps315(spec)
  for _, L in ipairs(recipe.layers) do apply_layer(policy, L) end
  return setmetatable(policy, { [RECIPE] = recipe })
end

M.ps315 = wrap(function(s)
  local spec = norm_spec(s, "mv.ps315")
  full_options(spec.options)        -- early check for exclusive options
  return build_recipe({ spec = spec, layers = {} })
end)

---------------------------------------------------------------------------------------------
-- mv.profile "name" { overrides }
---------------------------------------------------------------------------------------------
local policy_impl   -- defined below (mv.policy)

local OVERRIDE_KEYS = { "name", "description", "options", "tags", "vrs", "private", "default",
                        "dates", "age_cap", "pixels", "after", "named" }
local OVERRIDE_KEYSET = {}
for _, k in ipairs(OVERRIDE_KEYS) do OVERRIDE_KEYSET[k] = true end

local function norm_layer(ov, where)
  if type(ov) ~= "table" or proxies[ov] then
    fail("%s expects a table of overrides: mv.profile \"research\" { ... }", where)
  end
  check_keys(ov, OVERRIDE_KEYSET, OVERRIDE_KEYS, where)
  local L = {}
  if ov.name ~= nil then L.name = check_name(ov.name, "name") end
  if ov.description ~= nil then L.description = check_description(ov.description, "description") end
  if ov.options ~= nil then L.options = check_options(ov.options, "options") end
  if ov.tags ~= nil then L.tags = norm_tags(ov.tags, "tags") end
  if ov.vrs ~= nil then L.vrs = norm_vrs(ov.vrs, "vrs") end
  if ov.private ~= nil then L.private = norm_action(ov.private, "private") end
  if ov.default ~= nil then L.default = norm_action(ov.default, "default") end
  if ov.dates ~= nil then
    if type(ov.dates) ~= "table" or proxies[ov.dates] then check_dates(ov.dates, "dates") end
    L.dates = shallow_copy(ov.dates)   -- merged with the profile's dates, then checked
  end
  if ov.age_cap ~= nil then check_age_cap(ov.age_cap, "age_cap"); L.age_cap = ov.age_cap end
  if ov.pixels ~= nil then check_pixels(ov.pixels, nil, "pixels"); L.pixels = ov.pixels end
  if ov.named ~= nil then L.named = norm_named(ov.named, "named") end
  L.after = check_after(ov.after, "after")
  return L
end

local function copy_policy(p)
  local c = shallow_copy(p)
  c.tags = shallow_copy(p.tags or {})
  c.vrs = shallow_copy(p.vrs or {})
  c.options = shallow_copy(p.options or {})
  c.named = shallow_copy(p.named or {})
  return c
end

M.profile = wrap(function(where, name)
  if type(name) ~= "string" or not name:match("^[%w_%-]+$") then
    fail("mv.profile expects a profile name like \"research\", got %s", show(name))
  end
  return wrap(function(ov)
    local L = norm_layer(ov == nil and {} or ov, "mv.profile \"" .. name .. "\"")
    local native = require "medveil.native"
    local base = native.load_profile(name)
    if type(base) ~= "table" then fail("profile '%s' did not return a policy table", name) end
    local mt = getmetatable(base)
    local recipe = type(mt) == "table" and rawget(mt, RECIPE) or nil
    if recipe then
      local layers = {}
      for i, l in ipairs(recipe.layers) do layers[i] = l end
      layers[#layers + 1] = L
      full_options((function()   -- check the merged options before building
        local o = shallow_copy(recipe.spec.options)
        for _, l in ipairs(layers) do for k, v in pairs(l.options or {}) do o[k] = v end end
        return o
      end)())
      return build_recipe({ spec = recipe.spec, layers = layers })
    end
    -- a hand-written profile: overlay only
    if L.options and next(L.options) then
      fail("profile '%s' was not built with mv.ps315, so its options cannot be changed; "
        .. "set tags instead", name)
    end
    local p = policy_impl(copy_policy(base))
    apply_layer(p, L)
    return p
  end, where)
end, nil, true)

---------------------------------------------------------------------------------------------
-- mv.policy { ... }: validate and normalise a hand-written policy (optional helper)
---------------------------------------------------------------------------------------------
local POLICY_KEYS = { "name", "description", "options", "tags", "vrs", "private", "default",
                      "dates", "age_cap", "pixels", "after", "named" }
local POLICY_KEYSET = {}
for _, k in ipairs(POLICY_KEYS) do POLICY_KEYSET[k] = true end

policy_impl = function(p)
  if type(p) ~= "table" or proxies[p] then fail("mv.policy expects a table") end
  check_keys(p, POLICY_KEYSET, POLICY_KEYS, "mv.policy")
  return {
    name = check_name(p.name or "custom", "name"),
    description = check_description(p.description or "medveil custom policy", "description"),
    options = full_options(check_options(p.options or {}, "options")),
    tags = (norm_tags(p.tags or {}, "tags")),
    vrs = norm_vrs(p.vrs or {}, "vrs"),
    private = norm_action(p.private or M.remove, "private"),
    default = norm_action(p.default or M.keep, "default"),
    dates = check_dates(p.dates or {}, "dates"),
    age_cap = check_age_cap(p.age_cap, "age_cap"),
    pixels = check_pixels(p.pixels or {}, nil, "pixels"),
    after = check_after(p.after, "after"),
    named = overlay_named(M.display_named(), norm_named(p.named or {}, "named")),
  }
end
M.policy = wrap(policy_impl)

---------------------------------------------------------------------------------------------
-- helpers for tools and tests
---------------------------------------------------------------------------------------------
-- mv.rule(policy, key): the action the policy's tags table gives for a keyword or tag, or nil
M.rule = function(policy, key)
  local c = canon_key(key)
  for k, v in pairs(policy.tags or {}) do
    if canon_key(k) == c then return v end
  end
  return nil
end
-- mv.action_name(v): "remove", ..., "function"
M.action_name = function(v)
  if type(v) == "function" then return "function" end
  if type(v) == "table" then return (proxies[v] or v).action end
  return nil
end
M.tag_of = function(keyword) return ps315_data().kw2tag[keyword] end

return M
