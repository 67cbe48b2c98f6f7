#!/usr/bin/env python3
"""Generate scripts/ps315.lua from DICOM PS3.15 Table E.1-1.

Input: the innolitics/dicom-standard file standard/confidentiality_profile_attributes.json
(a copy lives in /work/shared/standard/, see SOURCE.txt there), plus a DICOM data dictionary
for keywords and VRs (DCMTK's dicom.dic; attributes newer than that dictionary come from the
SUPPLEMENT table below, taken from PS3.6 2024b).

    python3 scripts/gen_ps315.py /work/shared/standard/confidentiality_profile_attributes.json \
        [--dict /usr/share/libdcmtk17/dicom.dic] [-o scripts/ps315.lua]

Python 3 standard library only. The output is deterministic (rows sorted by tag) so the
generated file can be committed and diffed.
"""
import argparse
import json
import os
import re
import sys

EDITION = "2024b"
UPSTREAM = ("innolitics/dicom-standard standard/confidentiality_profile_attributes.json "
            "(commit 7f4749d09ed3ef2fa70637d376d423a4b13523cd)")

# Option columns in the order the standard lists them (this is also the order in which
# mv.ps315 applies them).
OPTION_COLUMNS = [
    "rtnSafePrivOpt", "rtnUIDsOpt", "rtnDevIdOpt", "rtnInstIdOpt", "rtnPatCharsOpt",
    "rtnLongFullDatesOpt", "rtnLongModifDatesOpt", "cleanDescOpt", "cleanStructContOpt",
    "cleanGraphOpt",
]
KNOWN_CODES = {"X", "Z", "D", "U", "K", "C", "X/Z", "X/D", "X/Z/D", "Z/D", "X/Z/U*"}

# Attributes of Table E.1-1 (2024b) that DCMTK 3.6.7's dictionary does not know yet.
# Keyword and VR from PS3.6 2024b.
SUPPLEMENT = {
    "(0012,0022)": ("IssuerOfClinicalTrialProtocolID", "LO"),
    "(0012,0023)": ("OtherClinicalTrialProtocolIDsSequence", "SQ"),
    "(0012,0032)": ("IssuerOfClinicalTrialSiteID", "LO"),
    "(0012,0041)": ("IssuerOfClinicalTrialSubjectID", "LO"),
    "(0012,0043)": ("IssuerOfClinicalTrialSubjectReadingID", "LO"),
    "(0012,0055)": ("IssuerOfClinicalTrialTimePointID", "LO"),
    "(0012,0073)": ("IssuerOfClinicalTrialSeriesID", "LO"),
    "(0018,1204)": ("DateOfManufacture", "DA"),
    "(0018,1205)": ("DateOfInstallation", "DA"),
    "(003A,0329)": ("WaveformFilterDescription", "ST"),
    "(003A,032B)": ("FilterLookupTableDescription", "ST"),
    "(3002,0121)": ("PositionAcquisitionTemplateName", "LO"),
    "(3002,0123)": ("PositionAcquisitionTemplateDescription", "LT"),
    "(3006,002D)": ("ROIDateTime", "DT"),
    "(3006,002E)": ("ROIObservationDateTime", "DT"),
    "(3006,004D)": ("ROICreatorSequence", "SQ"),
    "(3006,004E)": ("ROIInterpreterSequence", "SQ"),
}
# DCMTK pseudo-VRs -> the VR we record.
VR_FIX = {"ox": "OW", "xs": "US", "lt": "OW", "up": "UL", "na": None}

TAG_RE = re.compile(r"\(([0-9A-Fa-f]{4}|[0-9A-Fa-f]{2}[Xx]{2}),([0-9A-Fa-f]{4}|[0-9A-Fa-f]{2}[Xx]{2}|[Xx]{4})\)$")
PRIVATE_ROW = "(GGGG,EEEE) WHERE GGGG IS ODD"


def norm_tag(tag):
    """'(60XX,3000)' -> '(60xx,3000)'; hex digits upper case, wildcards lower case x."""
    m = TAG_RE.match(tag.strip())
    if not m:
        return None
    return "(%s,%s)" % (m.group(1).upper().replace("X", "x"), m.group(2).upper().replace("X", "x"))


def load_dict(path):
    out = {}
    rng = re.compile(r"\(([0-9A-Fa-f]{4})(?:-([0-9A-Fa-f]{4}))?,([0-9A-Fa-f]{4})(?:-([0-9A-Fa-f]{4}))?\)$")
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) < 3:
                continue
            m = rng.match(f[0].strip())
            if not m:
                continue  # private dictionary lines with creators etc.
            g, e = m.group(1).upper(), m.group(3).upper()
            if m.group(2):
                g = g[:2] + "xx"
            if m.group(4):
                e = e[:2] + "xx"
            kw = f[2].strip()
            retired = kw.startswith("RETIRED_")
            if retired:
                kw = kw[len("RETIRED_"):]
            vr = VR_FIX.get(f[1].strip(), f[1].strip())
            out.setdefault("(%s,%s)" % (g, e), (kw, vr, retired))
    return out


def lua_str(s):
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    if not all(32 <= ord(c) < 127 for c in s):
        raise SystemExit("non-ASCII or control character in %r" % s)
    return '"%s"' % s


def clean_name(name):
    return re.sub(r"\s+", " ", name).strip()


def sort_key(tag):
    return tag.replace("x", "0")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", help="confidentiality_profile_attributes.json")
    ap.add_argument("--dict", default="/usr/share/libdcmtk17/dicom.dic",
                    help="DCMTK dicom.dic for keywords and VRs (default: %(default)s)")
    ap.add_argument("-o", "--output",
                    default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "ps315.lua"))
    a = ap.parse_args()

    with open(a.json, encoding="utf-8") as fh:
        data = json.load(fh)
    if not os.path.exists(a.dict):
        raise SystemExit("dictionary %s not found (install libdcmtk17 or pass --dict)" % a.dict)
    dic = load_dict(a.dict)

    rows, private_row, seen, problems = [], None, {}, []
    for r in data:
        code = r["basicProfile"].strip()
        if code not in KNOWN_CODES:
            problems.append("unknown basic code %r for %s" % (code, r["tag"]))
        opts = {}
        for col in OPTION_COLUMNS:
            v = r.get(col, "").strip()
            if v:
                if v not in ("K", "C"):
                    problems.append("unexpected option code %r in %s for %s" % (v, col, r["tag"]))
                opts[col] = v
        extra = set(r) - set(OPTION_COLUMNS) - {"name", "tag", "id", "stdCompIOD", "basicProfile"}
        if extra:
            problems.append("unknown columns %s for %s" % (sorted(extra), r["tag"]))
        if r["tag"].strip().upper() == PRIVATE_ROW:
            private_row = {"name": clean_name(r["name"]), "basic": code, "opt": opts}
            continue
        tag = norm_tag(r["tag"])
        if tag is None:
            problems.append("unparseable tag %r" % r["tag"])
            continue
        if tag in seen:
            problems.append("duplicate tag %s (%s / %s)" % (tag, seen[tag], r["name"]))
            continue
        seen[tag] = r["name"]
        kw, vr, retired = dic.get(tag.upper().replace("X", "x"), (None, None, False))
        if kw is None and tag in SUPPLEMENT:
            kw, vr = SUPPLEMENT[tag]
        rows.append({"tag": tag, "keyword": kw, "vr": vr, "retired": retired,
                     "name": clean_name(r["name"]), "basic": code, "opt": opts,
                     "std": r.get("stdCompIOD") == "Y"})
    if problems:
        raise SystemExit("input problems:\n  " + "\n  ".join(problems))
    rows.sort(key=lambda x: sort_key(x["tag"]))

    out = []
    w = out.append
    w("-- scripts/ps315.lua -- GENERATED by scripts/gen_ps315.py; do not edit by hand.")
    w("--")
    w("-- DICOM PS3.15 %s, Annex E, Table E.1-1 \"Application Level Confidentiality Profile" % EDITION)
    w("-- Attributes\", via %s," % UPSTREAM)
    w("-- MIT licence, Copyright (c) 2017 Innolitics, LLC; the table content is the DICOM Standard,")
    w("-- copyright NEMA. Keywords and VRs: DCMTK dicom.dic, plus PS3.6 %s for attributes it lacks." % EDITION)
    w("--")
    w("-- Regenerate (from the repository root):")
    w("--   python3 scripts/gen_ps315.py /work/shared/standard/confidentiality_profile_attributes.json \\")
    w("--       --dict /usr/share/libdcmtk17/dicom.dic -o scripts/ps315.lua")
    w("--")
    w("-- Each row: tag (\"(gggg,eeee)\", x = any hex digit), keyword (standard keyword, nil if none),")
    w("-- vr, name, basic (Basic Profile code), opt (option column -> code, only non-empty columns),")
    w("-- std (listed as used in a standard composite IOD), retired (keyword retired in PS3.6).")
    w("-- The \"(GGGG,EEEE) where GGGG is odd\" row (private attributes) is `private`, not a row.")
    w("-- %d rows + 1 private row = %d entries of the table." % (len(rows), len(rows) + (1 if private_row else 0)))
    w("")
    w("local M = {}")
    w("M.edition = %s" % lua_str(EDITION))
    w("M.source = %s" % lua_str(UPSTREAM))
    w("M.option_columns = { %s }" % ", ".join(lua_str(c) for c in OPTION_COLUMNS))

    def opt_str(opts):
        return "{" + ", ".join("%s=%s" % (k, lua_str(opts[k])) for k in OPTION_COLUMNS if k in opts) + "}"

    if private_row:
        w("M.private = {name=%s, basic=%s, opt=%s}" % (lua_str(private_row["name"]),
                                                        lua_str(private_row["basic"]),
                                                        opt_str(private_row["opt"])))
    w("M.rows = {")
    for r in rows:
        parts = ["tag=%s" % lua_str(r["tag"])]
        if r["keyword"]:
            parts.append("keyword=%s" % lua_str(r["keyword"]))
        if r["vr"]:
            parts.append("vr=%s" % lua_str(r["vr"]))
        parts.append("name=%s" % lua_str(r["name"]))
        parts.append("basic=%s" % lua_str(r["basic"]))
        parts.append("opt=%s" % opt_str(r["opt"]))
        parts.append("std=%s" % ("true" if r["std"] else "false"))
        if r["retired"]:
            parts.append("retired=true")
        w("  {" + ", ".join(parts) + "},")
    w("}")
    w("return M")
    w("")
    text = "\n".join(out)
    with open(a.output, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    nokw = [r["tag"] for r in rows if not r["keyword"]]
    print("wrote %s: %d rows%s; rows without keyword: %s" % (
        a.output, len(rows), " + private row" if private_row else "", ", ".join(nokw) or "none"),
        file=sys.stderr)


if __name__ == "__main__":
    main()
