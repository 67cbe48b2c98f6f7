-- examples/site-example.lua -- a site policy on top of the bundled "research" profile.
-- Copy to rules/site.lua, adapt, then:  medveil rules check rules/site.lua
--
-- Everything not mentioned here comes from rules/research.lua (PS3.15 Basic Profile with
-- retain device identity, retain patient characteristics, retain modified dates, clean
-- descriptors, clean pixel data).
local mv = require "medveil"

-- protocol names this site knows to be free of identifiers; anything else is cleaned
local KNOWN_PROTOCOLS = { ["CHEST PA"] = true, ["HEAD W/O CONTRAST"] = true, ["ABD/PELVIS"] = true }

return mv.profile "research" {
  name        = "site07-research",
  description = "Site 07 research export (medveil research profile)",

  -- switch a standard option on: it changes every Table E.1-1 row it covers (overlay comments
  -- and graphic annotations are cleaned instead of removed) and is reported as code 113103
  options = { clean_graphics = true },

  tags = {
    -- keyed pseudonyms: the same patient gets the same code in every batch, on every machine
    PatientName = mv.pseudonym "S07-",
    PatientID   = mv.pseudonym "S07-",
    -- a fixed value
    InstitutionName = mv.replace "SITE 07",
    -- a private element, by creator: element xx10 of the GEMS_ACQU_01 block is kept
    ["(0019,xx10) GEMS_ACQU_01"] = mv.keep,
    -- free text: scrub the object's own names, IDs, dates and number runs, keep the words
    StudyDescription = mv.clean,
    -- a stable keyed hash instead of the accession number (links re-exports of one study)
    AccessionNumber = mv.hash(16),
    -- a function: keep known protocol names, clean the rest
    ProtocolName = function(value, ctx)
      if value and KNOWN_PROTOCOLS[value:upper()] then return value end
      return mv.clean
    end,
    -- a function using ctx: a consistent pseudonym for the referring physician
    ReferringPhysicianName = function(value, ctx)
      if value == nil or value == "" then return nil end   -- nil removes the element
      return ctx:pseudonym(value, "DR")
    end,
  },

  -- dates move 30 days to 2 years back, one offset per patient (intervals stay exact)
  dates = mv.shift { min_days = -730, max_days = -30, per = "PatientID" },

  -- runs last, once per object, on the de-identified data set
  after = function(ds, ctx)
    if ds.Modality == "SR" then
      ctx:reject "structured reports go to manual review"
    end
    if ds.BurnedInAnnotation == "YES" and ds.Modality == "CT" then
      ctx:reject "CT with burned-in annotation: check the export settings"
    end
    -- label the object with the site (ds.Keyword = value sets, = nil removes)
    ds.ClinicalTrialSiteID = "07"
  end,
}
