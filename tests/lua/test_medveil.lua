-- tests/lua/test_medveil.lua -- pure-Lua tests of scripts/medveil.lua and the bundled rules.
--
--   lua5.4 tests/lua/test_medveil.lua [REPO]
--
-- A small shim imitates the core's sandbox: only base (without load/loadfile/dofile/print/
-- collectgarbage), table, string, math, utf8; `require "X"` loads scripts/X.lua; the module
-- `medveil.native` offers load_profile(name), which runs rules/<name>.lua in the same sandbox.
-- Everything runs twice: with require caching modules (like package.loaded) and without.

local REPO = arg and arg[1] or "."
local passed, failed = 0, 0

local function check(name, cond, detail)
  if cond then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write("FAIL: " .. name .. (detail and (": " .. tostring(detail)) or "") .. "\n")
  end
end

local function new_sandbox(cache_modules)
  local env = {}
  for _, k in ipairs { "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
                       "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable",
                       "tonumber", "tostring", "type", "xpcall", "_VERSION", "warn" } do
    env[k] = _G[k]
  end
  env.table, env.math, env.utf8 = table, math, utf8
  local s = {}
  for k, v in pairs(string) do s[k] = v end
  s.dump = nil
  env.string = s
  env._G = env
  local loaded = {}
  local function run_file(path, chunkname)
    local fh = assert(io.open(path, "rb"))
    local src = fh:read("a")
    fh:close()
    local f = assert(load(src, "@" .. chunkname, "t", env))
    return f()
  end
  local native = {
    load_profile = function(name)
      assert(type(name) == "string" and name:match("^[%w_%-]+$"), "bad profile name")
      return run_file(REPO .. "/rules/" .. name .. ".lua", "rules/" .. name .. ".lua")
    end,
  }
  env.require = function(name)
    if name == "medveil.native" then return native end
    assert(type(name) == "string" and name:match("^[%w_]+$"), "bad module name")
    if cache_modules and loaded[name] ~= nil then return loaded[name] end
    local m = run_file(REPO .. "/scripts/" .. name .. ".lua", "scripts/" .. name .. ".lua")
    if cache_modules then loaded[name] = m end
    return m
  end
  -- run a rule file given as a string, as the core would
  env.__run = function(src, chunkname)
    local f = assert(load(src, "@" .. (chunkname or "rules/site.lua"), "t", env))
    return pcall(f)
  end
  return env
end

local function act(v)
  if type(v) == "function" then return "function" end
  return type(v) == "table" and v.action or nil
end

local function suite(cache_modules)
  local tag = cache_modules and "[cached] " or "[uncached] "
  local env = new_sandbox(cache_modules)
  local mv = env.require "medveil"
  local function prof(name) return env.require("medveil.native").load_profile(name) end
  local function rule(p, key) return act(mv.rule(p, key)) end
  local function T(name, cond, detail) check(tag .. name, cond, detail) end

  -- generated table
  local ps = env.require "ps315"
  T("ps315 rows", #ps.rows == 620, #ps.rows)
  T("ps315 private row", ps.private and ps.private.basic == "X")
  T("ps315 patterns", mv.rule({ tags = { ["(60xx,3000)"] = mv.remove } }, "(60XX,3000)") ~= nil)

  -- basic
  local ok, basic = pcall(prof, "basic")
  T("basic loads", ok, basic)
  if ok then
    T("basic name", basic.name == "basic")
    T("basic PatientName pseudonym", rule(basic, "PatientName") == "pseudonym")
    T("basic PatientName prefix", mv.rule(basic, "PatientName").prefix == "SUBJ")
    T("basic PatientID pseudonym", rule(basic, "PatientID") == "pseudonym")
    T("basic StudyDate empty", rule(basic, "StudyDate") == "empty", rule(basic, "StudyDate"))
    T("basic AccessionNumber empty", rule(basic, "AccessionNumber") == "empty")
    T("basic SOPInstanceUID uid", rule(basic, "SOPInstanceUID") == "uid")
    -- 2024b lists Content Sequence as D (dummy; the core empties a dummied sequence)
    T("basic ContentSequence dummy", rule(basic, "ContentSequence") == "dummy",
      rule(basic, "ContentSequence"))
    T("basic StudyDescription remove", rule(basic, "StudyDescription") == "remove")
    T("basic PatientSex empty", rule(basic, "PatientSex") == "empty")
    T("basic InstitutionName dummy", rule(basic, "InstitutionName") == "dummy")
    T("basic overlay pattern", rule(basic, "(60xx,3000)") == "remove")
    T("basic no group 0002", mv.rule(basic, "(0002,0003)") == nil)
    T("basic vrs", act(basic.vrs.UI) == "uid" and act(basic.vrs.PN) == "dummy")
    T("basic private/default", act(basic.private) == "remove" and act(basic.default) == "keep")
    T("basic options all false", basic.options.retain_uids == false and basic.options.clean_pixel_data == false)
    local n = 0
    for _ in pairs(basic.options) do n = n + 1 end
    T("basic 12 options", n == 12, n)
    local keys, badkeys = 0, {}
    for k in pairs(basic.tags) do
      keys = keys + 1
      if not k:match("^%(%x%x[%xx][%xx],[%xx][%xx][%xx][%xx]%)$") then badkeys[#badkeys + 1] = k end
    end
    -- 619 rows of Table E.1-1 outside group 0002, plus the two DICOMDIR file references
    T("basic 621 tags", keys == 621, keys)
    T("ReferencedFileID removed", basic.tags["(0004,1500)"] and basic.tags["(0004,1500)"].action == "remove")
    T("basic keys are tags", #badkeys == 0, table.concat(badkeys, " "))
  end

  -- research
  local research
  ok, research = pcall(prof, "research")
  T("research loads", ok, research)
  if ok then
    T("research StudyDate shift", rule(research, "StudyDate") == "shift")
    T("research StudyTime keep", rule(research, "StudyTime") == "keep")
    T("research StudyDescription clean", rule(research, "StudyDescription") == "clean")
    T("research PatientSex keep", rule(research, "PatientSex") == "keep")
    T("research PatientAge keep", rule(research, "PatientAge") == "keep")
    T("research DeviceSerialNumber keep", rule(research, "DeviceSerialNumber") == "keep")
    T("research DateOfInstallation shift", rule(research, "(0018,1205)") == "shift")
    T("research StationAETitle clean", rule(research, "StationAETitle") == "clean")
    T("research InstitutionName dummy", rule(research, "InstitutionName") == "dummy")
    T("research MakerNote stays removed", rule(research, "MakerNote") == "remove")
    T("research PatientBirthDate shift", rule(research, "PatientBirthDate") == "shift")
    T("research vrs DA shift", act(research.vrs.DA) == "shift" and act(research.vrs.DT) == "shift")
    T("research options", research.options.retain_long_modified_dates and research.options.clean_pixel_data
      and not research.options.retain_uids)
    T("research pixels", research.pixels.when == "burned_in" and #research.pixels.modalities == 13)
    T("research pixel settings", research.pixels.phi == "auto" and research.pixels.redact == "fill"
      and #research.pixels.detect == 2 and #research.pixels.allow > 100
      and research.pixels.review_below == 0.5 and research.pixels.verify == true)
  end

  -- hipaa
  local hipaa
  ok, hipaa = pcall(prof, "hipaa")
  T("hipaa loads", ok, hipaa)
  if ok then
    T("hipaa StudyDate year", rule(hipaa, "StudyDate") == "year")
    T("hipaa AcquisitionDateTime year", rule(hipaa, "AcquisitionDateTime") == "year")
    T("hipaa PatientBirthDate year", rule(hipaa, "PatientBirthDate") == "year")
    T("hipaa StudyTime empty", rule(hipaa, "StudyTime") == "empty")
    T("hipaa PatientAge age", rule(hipaa, "PatientAge") == "age")
    T("hipaa PatientSex keep", rule(hipaa, "PatientSex") == "keep")
    T("hipaa Allergies remove", rule(hipaa, "Allergies") == "remove")
    T("hipaa age_cap", hipaa.age_cap == 89)
    T("hipaa vrs", act(hipaa.vrs.DA) == "year" and act(hipaa.vrs.AS) == "age")
    T("hipaa description", hipaa.description == "HIPAA Safe Harbor (45 CFR 164.514(b)(2))")
    T("hipaa PatientAddress remove", rule(hipaa, "PatientAddress") == "remove")
  end

  -- mv.profile
  local function site(src) return env.__run(src) end
  local okp, p = site [[
    local mv = require "medveil"
    return mv.profile "research" { options = { retain_institution_identity = true } }
  ]]
  T("profile options ok", okp, p)
  if okp then
    T("profile keeps InstitutionName", rule(p, "InstitutionName") == "keep")
    T("profile still shifts", rule(p, "StudyDate") == "shift")
    T("profile option on", p.options.retain_institution_identity == true)
  end
  okp, p = site [[
    local mv = require "medveil"
    return mv.profile "research" { options = { retain_long_modified_dates = false } }
  ]]
  T("profile option off", okp and rule(p, "StudyDate") == "empty", okp and rule(p, "StudyDate") or p)

  okp, p = site [[
    local mv = require "medveil"
    return mv.profile "research" {
      name = "site07",
      tags = { PatientName = mv.pseudonym "S07", ["(0008,0080)"] = mv.replace "SITE 07",
               ["(0019,xx10) GEMS_ACQU_01"] = mv.keep, PatientComments = function(v) return nil end },
      vrs = { TM = mv.empty },
      dates = { min_days = -730, max_days = -30 },
      pixels = { when = "always" },
      after = function(ds, ctx) end,
    }
  ]]
  T("profile overrides ok", okp, p)
  if okp then
    T("override by keyword replaces tag entry", p.tags["(0010,0010)"] == nil and p.tags.PatientName.prefix == "S07")
    T("override by tag", p.tags["(0008,0080)"].value == "SITE 07")
    T("override private", act(p.tags["(0019,xx10) GEMS_ACQU_01"]) == "keep")
    T("override function", type(p.tags.PatientComments) == "function")
    T("override vrs", act(p.vrs.TM) == "empty" and act(p.vrs.DA) == "shift")
    T("override dates merged", p.dates.min_days == -730 and p.dates.per == "PatientID")
    T("override pixels merged", p.pixels.when == "always" and #p.pixels.modalities == 13)
    T("override name", p.name == "site07")
    T("override after", type(p.after) == "function")
  end

  -- a profile of a profile (rules/site files extend each other)
  okp, p = site [[
    local mv = require "medveil"
    return mv.profile "hipaa" { options = { retain_device_identity = true } }
  ]]
  T("hipaa + device", okp and rule(p, "DeviceSerialNumber") == "keep" and rule(p, "StudyDate") == "year",
    okp and rule(p, "DeviceSerialNumber") or p)

  -- errors
  local function err_case(name, src, want)
    local okx, e = site(src)
    T(name .. " errors", not okx, e)
    if not okx then
      T(name .. " message", tostring(e):find(want, 1, true) ~= nil, e)
      T(name .. " points at rule file", tostring(e):find("rules/site.lua:", 1, true) ~= nil, e)
    end
  end
  err_case("unknown option", [[
    local mv = require "medveil"
    return mv.profile "research" { options = { retain_uid = true } }
  ]], "unknown option 'retain_uid' (did you mean 'retain_uids'?)")
  err_case("unknown top-level key", [[
    local mv = require "medveil"
    return mv.profile "research" { tag = {} }
  ]], "unknown key 'tag'")
  err_case("unknown action", [[
    local mv = require "medveil"
    return mv.profile "research" { tags = { PatientName = { action = "remvoe" } } }
  ]], "unknown action 'remvoe'")
  err_case("mutating mv.remove", [[
    local mv = require "medveil"
    mv.remove.action = "keep"
  ]], "read-only")
  err_case("new field on mv.keep", [[
    local mv = require "medveil"
    mv.keep.value = "x"
  ]], "read-only")
  err_case("bare mv.replace", [[
    local mv = require "medveil"
    return mv.profile "basic" { tags = { InstitutionName = mv.replace } }
  ]], "mv.replace needs a value")
  err_case("duplicate key", [[
    local mv = require "medveil"
    return mv.profile "basic" { tags = { PatientName = mv.keep, ["(0010,0010)"] = mv.remove } }
  ]], "name the same attribute")
  err_case("exclusive dates", [[
    local mv = require "medveil"
    return mv.profile "research" { options = { retain_long_full_dates = true } }
  ]], "exclude each other")
  err_case("bad vr", [[
    local mv = require "medveil"
    return mv.profile "basic" { vrs = { pn = mv.keep } }
  ]], "unknown VR 'pn'")
  err_case("zero in date range", [[
    local mv = require "medveil"
    return mv.profile "basic" { dates = mv.shift { min_days = -10, max_days = 10 } }
  ]], "contains 0")
  err_case("bad pixels", [[
    local mv = require "medveil"
    return mv.profile "basic" { pixels = { when = "burnedin" } }
  ]], "did you mean 'burned_in'")
  err_case("bad pixels phi", [[
    local mv = require "medveil"
    return mv.profile "research" { pixels = { phi = "all-text" } }
  ]], "pixels.phi must be")
  err_case("pixels options for a detector not listed", [[
    local mv = require "medveil"
    return mv.profile "research" { pixels = { detect = { "ocr" }, options = { regions = "us_regions=keep" } } }
  ]], "no such detector")
  err_case("pixels allow not strings", [[
    local mv = require "medveil"
    return mv.profile "research" { pixels = { allow = { "L", 3 } } }
  ]], "pixels.allow: item 2")
  err_case("pixels unknown field", [[
    local mv = require "medveil"
    return mv.profile "research" { pixels = { review_bellow = 0.5 } }
  ]], "did you mean 'review_below'")
  err_case("pixels margin range", [[
    local mv = require "medveil"
    return mv.profile "research" { pixels = { margin = 100 } }
  ]], "pixels.margin must be")
  err_case("pixels complete_lines not a boolean", [[
    local mv = require "medveil"
    return mv.profile "research" { pixels = { complete_lines = "yes" } }
  ]], "pixels.complete_lines must be true or false")
  err_case("age callable", [[
    local mv = require "medveil"
    return mv.profile "hipaa" { tags = { PatientAge = mv.age { cap = 80 } } }
  ]], "age_cap")
  err_case("bad hash", [[
    local mv = require "medveil"
    return mv.profile "basic" { tags = { AccessionNumber = mv.hash(3) } }
  ]], "mv.hash length")
  err_case("ps315 bad option", [[
    local mv = require "medveil"
    local p = mv.ps315 { name = "x", options = { clean_descriptor = true } }
    return p
  ]], "did you mean 'clean_descriptors'")
  err_case("mv.policy unknown key", [[
    local mv = require "medveil"
    local p = mv.policy { tags = {}, privat = mv.keep }
    return p
  ]], "unknown key 'privat'")
  err_case("missing profile name", [[
    local mv = require "medveil"
    return mv.profile "../etc" {}
  ]], "profile name")

  -- the shipped example
  do
    local fh = io.open(REPO .. "/examples/site-example.lua", "rb")
    local src = fh and fh:read("a")
    if fh then fh:close() end
    local oke, pe = env.__run(src or "error 'missing'", "examples/site-example.lua")
    T("site example loads", oke, pe)
    if oke then
      T("site example pseudonym", mv.rule(pe, "PatientName").prefix == "S07-")
      T("site example replace", mv.rule(pe, "InstitutionName").value == "SITE 07")
      T("site example function", type(mv.rule(pe, "ProtocolName")) == "function")
      T("site example dates", pe.dates.min_days == -730)
      T("site example base kept", rule(pe, "StudyDate") == "shift" and rule(pe, "PatientSex") == "keep")
      -- run the function action and after() against fakes
      local f = mv.rule(pe, "ProtocolName")
      T("function keeps known", f("chest pa", {}) == "chest pa")
      T("function cleans unknown", act(f("SMITH PROTOCOL", {})) == "clean")
      local rejected
      local ctx = { reject = function(_, why) rejected = why end }
      local ds = { Modality = "SR" }
      pe.after(ds, ctx)
      T("after rejects SR", rejected == "structured reports go to manual review")
    end
  end

  -- constructors
  T("mv.replace", mv.replace("X").action == "replace" and mv.replace("X").value == "X")
  T("mv.pseudonym", mv.pseudonym("P").prefix == "P")
  T("mv.hash default", mv.hash.length == 16 and mv.hash(20).length == 20 and mv.hash { length = 24 }.length == 24)
  T("mv.shift value", mv.shift.action == "shift")
  local d = mv.shift { min_days = -100, max_days = -10 }
  T("mv.shift call", d.min_days == -100 and d.max_days == -10 and d.per == "PatientID")
  T("rawget on action is empty", rawget(mv.remove, "action") == nil and mv.remove.action == "remove")
  local pol = mv.policy { tags = { PatientName = mv.remove }, vrs = { PN = mv.empty } }
  T("mv.policy plain", getmetatable(pol.tags.PatientName) == nil and pol.tags.PatientName.action == "remove")
  T("mv.policy defaults", act(pol.private) == "remove" and act(pol.default) == "keep" and pol.pixels.when == "burned_in")
end

suite(true)
suite(false)

print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
