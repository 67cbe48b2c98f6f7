#!/usr/bin/env python3
"""plant_phi.py - make DICOM test files with planted, recognisable identifiers.

Takes real DICOM files (by default pydicom's own test files, as shipped by
Debian's python3-pydicom) and plants unique, searchable identifying values
everywhere they hide: names, IDs, addresses, phones, dates, free text,
descriptors, private tags with and without a creator, nested sequences,
Latin-1 and ISO 2022 (Japanese) character sets, and the file and folder names.

Every planted token contains "ZQX" followed by random letters/digits drawn
from --seed, so a byte search of the de-identified outputs has no false
positives.  A manifest (DIR/manifest.json) lists every planted string with the
byte encodings to search for, every planted file with its study/series/SOP
UIDs and references, and the date relationships a date-shifting profile must
preserve.

    plant_phi.py --out DIR [--seed N] [--sources DIR_OR_FILE ...]

Only python3 + pydicom (>= 2.0).  On Debian run it with /usr/bin/python3.
"""

import argparse
import datetime
import json
import os
import random
import re
import sys

try:
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    from pydicom.charset import encode_string, convert_encodings
except ImportError:  # pragma: no cover
    sys.exit("plant_phi.py: pydicom is required (Debian: apt-get install "
             "python3-pydicom; then run with /usr/bin/python3)")

MARK = "ZQX"                      # every planted token contains this
UID_ROOT = "1.2.826.0.1.3680043.8.498.77."   # planted UIDs: ROOT + 24 digits
STD_UID = "1.2.840.10008."       # well-known UIDs (classes, syntaxes): kept
MIN_NEEDLE = 6                   # bytes; shorter needles are not searched

CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"
MR_CLASS = "1.2.840.10008.5.1.4.1.1.4"

# Kanji / hiragana for the ISO 2022 IR 87 persona (filtered below so that no
# JIS byte is '\\', '=' or '^', which would confuse value/component splitting).
KANJI = "山田中村佐藤鈴木高橋伊渡辺小林加吉松井上清水森池本石川前野原太郎花子秀明和美健一雄誠直樹洋平真由紀恵"
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"


def _jis_ok(ch):
    b = ch.encode("iso2022_jp")
    core = re.sub(rb"\x1b[\(\$][A-Z@]", b"", b)
    return not any(x in core for x in b"\\=^")


KANJI = "".join(c for c in KANJI if _jis_ok(c))
KANA = "".join(c for c in KANA if _jis_ok(c))


def default_source_dirs():
    base = os.path.join(os.path.dirname(pydicom.__file__), "data")
    return [os.path.join(base, "test_files"), os.path.join(base, "charset_files")]


class Planter:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.used = set()
        self.strings = []          # manifest "strings"
        self.uids = {}             # original uid -> planted uid
        self.planted_uids = []     # every UID value written by us
        self.date_values = set()   # every planted DA (YYYYMMDD)

    # ---- random tokens -------------------------------------------------
    def letters(self, n=7, prefix=MARK):
        while True:
            t = prefix + "".join(self.rng.choice("BCDFGHJKLMNPRSTVWXZ") for _ in range(n))
            if t not in self.used:
                self.used.add(t)
                return t

    def digits(self, n):
        while True:
            t = str(self.rng.randint(1, 9)) + "".join(
                self.rng.choice("0123456789") for _ in range(n - 1))
            if t not in self.used:
                self.used.add(t)
                return t

    def uid(self):
        u = UID_ROOT + self.digits(24)
        self.planted_uids.append(u)
        return u

    def map_uid(self, orig):
        if orig not in self.uids:
            self.uids[orig] = self.uid()
        return self.uids[orig]

    def date(self, lo_year, hi_year):
        """A date whose month is not 01/07 and day is not 01 (so that
        'year only' or dummy dates like YYYY0101 can never equal it)."""
        y = self.rng.randint(lo_year, hi_year)
        m = self.rng.choice([2, 3, 4, 5, 6, 8, 9, 10, 11, 12])
        d = self.rng.randint(2, 28)
        return datetime.date(y, m, d)

    # ---- manifest of searchable strings ---------------------------------
    def register(self, label, value, kind="text", extra=()):
        """Record a planted value and the byte strings to search for."""
        needles = []

        def add(enc, b):
            if len(b) >= MIN_NEEDLE and all(n["hex"] != b.hex() for n in needles):
                needles.append({"encoding": enc, "hex": b.hex(),
                                "text": b.decode("latin-1")})

        variants = [value]
        if kind == "name":   # Latin-1/UTF-8 case variants (bytes.lower() folds ASCII only)
            variants += [value.lower(), value.title()]
        if kind in ("id", "phone"):
            variants.append(re.sub(r"[-\s./()+]", "", value))
        if kind == "phone" or kind == "id":
            d = re.sub(r"\D", "", value)
            if len(d) >= 9:
                variants.append(d)
        for v in list(variants) + list(extra):
            add("utf-8", v.encode("utf-8"))
            try:
                add("latin-1", v.encode("latin-1"))
            except UnicodeEncodeError:
                pass
            folded = fold_ascii(v)
            if folded != v:
                for f in sorted({folded, fold_ascii(v, german=True)}):
                    add("ascii-folded", f.encode("ascii", "ignore"))
            if any(ord(c) > 0x2000 for c in v):
                for enc in ("iso2022_jp", "shift_jis", "euc_jp"):
                    try:
                        b = v.encode(enc)
                    except UnicodeEncodeError:
                        continue
                    add(enc, b)
                    core = re.sub(rb"\x1b[\(\$][A-Z@]", b"", b)
                    add(enc + "-no-escapes", core)
        self.strings.append({"label": label, "value": value, "kind": kind,
                             "needles": needles})
        return value

    def register_bytes(self, label, value, raw, encoding):
        for s in self.strings:
            if s["label"] == label:
                if len(raw) >= MIN_NEEDLE and all(n["hex"] != raw.hex() for n in s["needles"]):
                    s["needles"].append({"encoding": encoding, "hex": raw.hex(),
                                         "text": raw.decode("latin-1")})
                return
        self.strings.append({"label": label, "value": value, "kind": "raw",
                             "needles": [{"encoding": encoding, "hex": raw.hex(),
                                          "text": raw.decode("latin-1")}]})


def fold_ascii(s, german=False):
    table = {"Ä": "A", "Ö": "O", "Ü": "U", "ä": "a", "ö": "o", "ü": "u", "ß": "ss",
             "É": "E", "é": "e", "È": "E", "è": "e"}
    if german:
        table.update({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ä": "ae", "ö": "oe", "ü": "ue"})
    return "".join(table.get(c, c) for c in s)


def dstr(d):
    return d.strftime("%Y%m%d")


def age_at(birth, on):
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return "%03dY" % years


# ---------------------------------------------------------------------------
# Personas: one per planted patient.
# ---------------------------------------------------------------------------

def make_persona(p, key, style, age_years, n_studies):
    """style: 'ascii' | 'latin1' | 'japanese'."""
    P = {"key": key, "style": style}
    L = p.letters
    if style == "latin1":
        fam, giv = "MÜLLER" + L(5), "JÖRG" + L(5)
        P["charset"] = "ISO_IR 100"
        P["name"] = fam + "^" + giv
        P["name_parts"] = [fam, giv]
        P["folder"] = P["name"]
    elif style == "japanese":
        afam, agiv = L(7), L(6)
        kfam = "".join(p.rng.choice(KANJI) for _ in range(4))
        kgiv = "".join(p.rng.choice(KANJI) for _ in range(3))
        hfam = "".join(p.rng.choice(KANA) for _ in range(4))
        hgiv = "".join(p.rng.choice(KANA) for _ in range(4))
        P["charset"] = ["", "ISO 2022 IR 87"]
        P["name"] = "%s^%s=%s^%s=%s^%s" % (afam, agiv, kfam, kgiv, hfam, hgiv)
        P["name_parts"] = [afam, agiv, kfam, kgiv, hfam, hgiv]
        P["kanji"] = [kfam, kgiv]
        P["folder"] = kfam + kgiv + "_" + afam
    else:
        fam, giv, mid = L(7), L(7), L(5)
        P["charset"] = None
        P["name"] = "%s^%s^%s" % (fam, giv, mid)
        P["name_parts"] = [fam, giv, mid]
        P["folder"] = P["name"]
    fam = P["name_parts"][0]
    giv = P["name_parts"][1]
    P["family"], P["given"] = fam, giv
    P["id"] = "%s-%s" % (L(4), p.digits(9))
    P["other_id"] = "%s-%s" % (L(3, MARK + "O"), p.digits(9))
    P["deep_id"] = "%s-%s" % (L(3, MARK + "D"), p.digits(9))
    P["issuer"] = L(6) + " HOSPITAL MRN"
    P["uei"] = L(8, MARK + "UEI")
    P["birth_name"] = L(6) + "^" + L(6)
    P["mother_name"] = L(6) + "^" + L(6)
    if style == "latin1":
        P["address"] = "Hauptstraße %d, %s" % (p.rng.randint(10, 99), L(6))
    else:
        P["address"] = "%d %s STREET, %s CITY" % (p.rng.randint(100, 9999), L(6), L(6))
    P["phone"] = "+1-%s-555-%s" % (p.digits(3), p.digits(4))
    P["phone2"] = "(%s) 555-%s" % (p.digits(3), p.digits(4))
    P["email"] = "%s@%s.example.org" % (L(5).lower(), L(4).lower())
    P["ref_phys"] = L(6) + "^" + L(6)
    P["perf_phys"] = L(6) + "^" + L(6)
    P["operator"] = L(6) + "^" + L(6)
    P["reader"] = L(6) + "^" + L(6)
    P["record_phys"] = L(6) + "^" + L(6)
    P["req_phys"] = L(6) + "^" + L(6)
    P["institution"] = L(6) + " MEMORIAL HOSPITAL"
    if style == "japanese":
        P["institution_local"] = "".join(p.rng.choice(KANJI) for _ in range(3)) + "病院"
    P["inst_address"] = "%d %s AVENUE, %s" % (p.rng.randint(100, 9999), L(6), L(5))
    P["department"] = L(6) + " RADIOLOGY"
    P["ref_address"] = "%d %s ROAD" % (p.rng.randint(10, 999), L(6))
    P["ref_phone"] = "+1-%s-555-%s" % (p.digits(3), p.digits(4))
    P["private_name"] = L(8, MARK + "PRV")
    P["private_id"] = L(6, MARK + "PI")
    P["orphan"] = L(8, MARK + "ORF")
    P["deep_private"] = L(8, MARK + "DPR")
    P["free_date"] = p.date(2010, 2014).strftime("%Y-%m-%d")   # generic date in text
    P["run"] = p.digits(10)                                   # 5+ digit run in text
    # dates: first study, later ones 200..800 days apart; birth age_years before
    first = p.date(2015, 2019)
    studies = [first]
    for _ in range(n_studies - 1):
        studies.append(studies[-1] + datetime.timedelta(days=p.rng.randint(200, 800)))
    birth = first - datetime.timedelta(days=int(age_years * 365.25) + p.rng.randint(30, 300))
    birth = datetime.date(birth.year, birth.month, max(2, min(birth.day, 28)))
    if birth.month in (1, 7):
        birth = birth.replace(month=birth.month + 1)
    P["birth"] = birth
    P["studies"] = studies
    P["accessions"] = ["%s-%s" % (MARK + "A", p.digits(8)) for _ in studies]
    P["study_ids"] = [L(6, MARK + "S") for _ in studies]
    P["req_proc_ids"] = [L(6, MARK + "R") for _ in studies]
    P["sps_ids"] = [L(5, MARK + "SP") for _ in studies]
    P["pps_ids"] = [L(5, MARK + "PP") for _ in studies]
    for d in studies + [birth]:
        p.date_values.add(dstr(d))

    # register everything searchable
    reg = p.register
    k = key
    reg("%s PatientName" % k, P["name"], "name")
    for i, part in enumerate(P["name_parts"]):
        reg("%s PatientName part %d" % (k, i), part, "name")
    for f in ("id", "other_id", "deep_id"):
        reg("%s %s" % (k, f), P[f], "id")
    for f in ("issuer", "uei", "address", "email", "institution", "inst_address",
              "department", "ref_address", "private_name", "private_id",
              "orphan", "deep_private", "free_date", "run"):
        reg("%s %s" % (k, f), P[f], "text")
    if style == "japanese":
        reg("%s institution_local" % k, P["institution_local"], "text")
    for f in ("phone", "phone2", "ref_phone"):
        reg("%s %s" % (k, f), P[f], "phone")
    for f in ("birth_name", "mother_name", "ref_phys", "perf_phys", "operator",
              "reader", "record_phys", "req_phys"):
        reg("%s %s" % (k, f), P[f], "name")
        for j, part in enumerate(P[f].split("^")):
            reg("%s %s part %d" % (k, f, j), part, "name")
    for f in ("address", "inst_address", "issuer", "institution", "department", "ref_address"):
        for tok in re.findall(MARK + r"[A-Z0-9]+", P[f]):
            reg("%s %s token %s" % (k, f, tok), tok, "text")
    for i in range(n_studies):
        reg("%s accession %d" % (k, i), P["accessions"][i], "id")
        reg("%s study_id %d" % (k, i), P["study_ids"][i], "id")
        reg("%s requested_procedure_id %d" % (k, i), P["req_proc_ids"][i], "id")
        reg("%s sps_id %d" % (k, i), P["sps_ids"][i], "id")
        reg("%s pps_id %d" % (k, i), P["pps_ids"][i], "id")
    for i, d in enumerate(studies):
        reg("%s study date %d as text (d/m/y)" % (k, i), d.strftime("%d/%m/%Y"), "text")
        reg("%s study date %d as text (month d, y)" % (k, i),
            "%s %d, %d" % (d.strftime("%B"), d.day, d.year), "text")
    # the birth date as free text (dd.mm.yyyy) for the latin-1 description
    P["birth_text"] = birth.strftime("%d.%m.%Y")
    reg("%s birth date as text" % k, P["birth_text"], "text")
    return P


def free_text(P, si):
    """Free text as people write it: the name in other cases, IDs without
    their separators, the study date in other formats, phones, e-mail."""
    d = P["studies"][si]
    return ("Pt %s %s, MRN %s, acc %s, seen %s, call %s, mail %s, ref no %s, Dr %s. "
            "Mr %s (%s), MRN %s, acc %s, on %s / %s %d, %d, tel %s" %
            (P["family"], P["given"], P["id"], P["accessions"][si], P["free_date"],
             P["phone"], P["email"], P["run"], P["ref_phys"].split("^")[0],
             P["family"].title(), P["given"].lower(), P["id"].replace("-", ""),
             P["accessions"][si].replace("-", ""), d.strftime("%d/%m/%Y"),
             d.strftime("%B"), d.day, d.year, P["phone2"]))


# ---------------------------------------------------------------------------
# Planting into one dataset
# ---------------------------------------------------------------------------

def walk(ds, fn, depth=0):
    for elem in list(ds):
        fn(ds, elem, depth)
        if elem.VR == "SQ" and elem.value is not None:
            for item in elem.value:
                walk(item, fn, depth + 1)


def item(**kw):
    d = Dataset()
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def free_odd_group(ds, start):
    g = start
    while any(t.group == g for t in ds.keys()):
        g += 2
    return g


def plant(p, ds, P, si, study_uid, series_uid, sop_uid, series_no, inst_no, refs,
          evidence=None, burned_in=False, age=None):
    date = P["studies"][si]
    # drop stale group lengths (pydicom would write the old values)
    for t in [t for t in ds.keys() if t.element == 0 and t.group != 2]:
        del ds[t]
    # 1. every UID (any depth) remapped to a planted one, consistently
    def uidfix(parent, elem, depth):
        if elem.VR != "UI" or elem.value in (None, ""):
            return
        vals = elem.value if elem.VM > 1 else [elem.value]
        new = [v if (not v or v.startswith(STD_UID)) else p.map_uid(v) for v in vals]
        elem.value = new if elem.VM > 1 else new[0]
    walk(ds, uidfix)
    # 2. every DA/DT (any depth) set to the study date (birth date below)
    def datefix(parent, elem, depth):
        if elem.VR == "DA":
            elem.value = dstr(date)
        elif elem.VR == "DT":
            elem.value = dstr(date) + "101500"
    walk(ds, datefix)

    if P["charset"] is not None:
        ds.SpecificCharacterSet = P["charset"]
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.SOPInstanceUID = sop_uid
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.SeriesNumber = series_no
    ds.InstanceNumber = inst_no
    for kw in ("StudyDate", "SeriesDate", "ContentDate", "AcquisitionDate"):
        setattr(ds, kw, dstr(date))
    ds.PatientBirthDate = dstr(P["birth"])
    ds.PatientAge = age or age_at(P["birth"], date)

    ds.PatientName = P["name"]
    ds.PatientID = P["id"]
    ds.OtherPatientIDs = P["other_id"]
    ds.OtherPatientNames = P["birth_name"]
    ds.IssuerOfPatientID = P["issuer"]
    ds.PatientBirthName = P["birth_name"]
    ds.PatientMotherBirthName = P["mother_name"]
    ds.PatientAddress = P["address"]
    ds.PatientTelephoneNumbers = P["phone"]
    ds.AccessionNumber = P["accessions"][si]
    ds.StudyID = P["study_ids"][si]
    ds.InstitutionName = P.get("institution_local", P["institution"])
    ds.InstitutionAddress = P["inst_address"]
    ds.InstitutionalDepartmentName = P["department"]
    ds.ReferringPhysicianName = P["ref_phys"]
    ds.ReferringPhysicianAddress = P["ref_address"]
    ds.ReferringPhysicianTelephoneNumbers = P["ref_phone"]
    ds.PerformingPhysicianName = P["perf_phys"]
    ds.OperatorsName = P["operator"]
    ds.NameOfPhysiciansReadingStudy = P["reader"]
    ds.PhysiciansOfRecord = P["record_phys"]
    ds.RequestingPhysician = P["req_phys"]
    ds.PerformedProcedureStepID = P["pps_ids"][si]
    text = free_text(P, si)
    ds.ImageComments = text
    ds.PatientComments = "Patient comment: " + text
    ds.StudyComments = "Study comment: " + text
    ds.AdditionalPatientHistory = "History: " + text
    ds.PerformedProcedureStepDescription = "PPS for %s %s" % (P["family"], P["id"])
    mod = ds.get("Modality", "OT")
    if P["style"] == "latin1":
        ds.StudyDescription = "Untersuchung für %s Geb. %s" % (P["family"], P["birth_text"])
    elif P["style"] == "japanese":
        ds.StudyDescription = "%s %s MRN %s" % (mod, P["kanji"][0], P["id"])
    else:
        ds.StudyDescription = "%s for %s MRN %s" % (mod, P["family"], P["id"])
    ds.SeriesDescription = "%s acc %s" % (P["given"], P["accessions"][si])
    ds.ProtocolName = "PROT %s %s" % (P["family"], P["free_date"])
    if burned_in:
        ds.BurnedInAnnotation = "YES"

    # 3. nested sequences
    ds.OtherPatientIDsSequence = Sequence([item(PatientID=P["other_id"],
                                                IssuerOfPatientID=P["issuer"],
                                                TypeOfPatientID="TEXT")])
    ds.ReferencedPatientSequence = Sequence([item(
        ReferencedSOPClassUID="1.2.840.10008.3.1.2.1.1",
        ReferencedSOPInstanceUID=p.uid(),
        PatientName=P["name"], PatientID=P["id"])])
    ds.RequestAttributesSequence = Sequence([item(
        AccessionNumber=P["accessions"][si],
        RequestedProcedureID=P["req_proc_ids"][si],
        ScheduledProcedureStepID=P["sps_ids"][si],
        RequestedProcedureDescription="Request for %s %s" % (P["family"], P["id"]),
        ScheduledProcedureStepDescription="SPS %s %s" % (P["given"], P["free_date"]))])
    # 4 levels, inside a sequence no profile removes (Anatomic Region)
    uei = item(UniversalEntityID=P["uei"], UniversalEntityIDType="ISO")
    opid = item(PatientID=P["deep_id"], IssuerOfPatientID=P["issuer"], TypeOfPatientID="TEXT",
                IssuerOfPatientIDQualifiersSequence=Sequence([uei]))
    modifier = item(CodeValue="G-A101", CodingSchemeDesignator="SRT", CodeMeaning="Left",
                    OtherPatientIDsSequence=Sequence([opid]),
                    PatientName=P["name"])
    region = item(CodeValue="T-D3000", CodingSchemeDesignator="SRT", CodeMeaning="Chest",
                  PatientName=P["name"], PatientID=P["id"],
                  AccessionNumber=P["accessions"][si],
                  AnatomicRegionModifierSequence=Sequence([modifier]))
    rblock = region.private_block(0x0029, "ACME 1.1", create=True)
    rblock.add_new(0x10, "LO", P["deep_private"])
    ds.AnatomicRegionSequence = Sequence([region])

    # 4. private tags: with a creator (value = planted name), a private SQ,
    #    and an orphan element whose block has no creator
    blk = ds.private_block(0x0009, "ACME 1.1", create=True)
    blk.add_new(0x10, "LO", P["private_name"])
    blk.add_new(0x11, "SH", P["private_id"])
    blk.add_new(0x12, "LO", P["name"].split("=")[0])
    blk.add_new(0x20, "SQ", Sequence([item(PatientName=P["name"], PatientID=P["id"])]))
    og = free_odd_group(ds, 0x0011)
    ds.add_new((og << 16) | 0x1010, "LO", P["orphan"])
    ds.add_new((og << 16) | 0x1011, "LO", P["id"])

    # 5. references to other planted objects
    if refs:
        cls = ds.SOPClassUID
        ds.ReferencedImageSequence = Sequence([item(ReferencedSOPClassUID=c or cls,
                                                    ReferencedSOPInstanceUID=u)
                                               for u, c in refs])
        ds.SourceImageSequence = Sequence([item(ReferencedSOPClassUID=c or cls,
                                                ReferencedSOPInstanceUID=u)
                                           for u, c in refs[:1]])
        # Referenced Instance Sequence is not in PS3.15 E.1-1: every profile keeps it
        ds.ReferencedInstanceSequence = Sequence([item(ReferencedSOPClassUID=c or cls,
                                                       ReferencedSOPInstanceUID=u)
                                                  for u, c in refs])
    if evidence:
        # CurrentRequestedProcedureEvidenceSequence (not in PS3.15 E.1-1: kept)
        series = {}
        for st, se, u, c in evidence:
            series.setdefault((st, se), []).append((u, c))
        ev = []
        for (st, se), objs in series.items():
            ev.append(item(StudyInstanceUID=st, ReferencedSeriesSequence=Sequence([item(
                SeriesInstanceUID=se,
                ReferencedSOPSequence=Sequence([item(ReferencedSOPClassUID=c,
                                                     ReferencedSOPInstanceUID=u)
                                                for u, c in objs]))])))
        ds.CurrentRequestedProcedureEvidenceSequence = Sequence(ev)

    # 6. structured report content
    if "ContentSequence" in ds:
        def srfix(parent, elem, depth):
            if elem.keyword == "TextValue":
                elem.value = "Patient %s %s MRN %s seen %s" % (
                    P["family"], P["given"], P["id"], P["free_date"])
            elif elem.keyword == "PersonName":
                elem.value = P["ref_phys"]
            elif elem.keyword == "VerifyingObserverName":
                elem.value = P["perf_phys"]
            elif elem.keyword == "VerifyingOrganization":
                elem.value = P["institution"]
        walk(ds, srfix)
        ds.ContentSequence.append(item(
            RelationshipType="HAS OBS CONTEXT", ValueType="PNAME",
            ConceptNameCodeSequence=Sequence([item(CodeValue="121008",
                                                   CodingSchemeDesignator="DCM",
                                                   CodeMeaning="Person Observer Name")]),
            PersonName=P["operator"]))


# ---------------------------------------------------------------------------

def find_source(dirs, name):
    for d in dirs:
        if os.path.isfile(d) and os.path.basename(d) == name:
            return d
        for sub in ("", "test_files", "charset_files"):
            f = os.path.join(d, sub, name)
            if os.path.isfile(f):
                return f
    return None


def safe_component(s):
    return s.replace("/", "_").replace("\0", "_")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--seed", type=int, default=None,
                    help="random seed (default: random; printed and stored in the manifest)")
    ap.add_argument("--sources", nargs="+", default=None,
                    help="folders (or files) holding pydicom's test files "
                         "(default: pydicom's data/test_files and data/charset_files)")
    ap.add_argument("--manifest", default=None,
                    help="where to write the manifest JSON (default: OUT/manifest.json; "
                         "put it outside OUT when OUT is fed to a de-identifier)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)

    seed = a.seed if a.seed is not None else random.SystemRandom().randint(1, 2**31 - 1)
    dirs = a.sources or default_source_dirs()
    p = Planter(seed)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)

    personas = {
        "A": make_persona(p, "A", "ascii", 57, 2),      # two studies: intervals
        "B": make_persona(p, "B", "latin1", 94, 1),     # ISO_IR 100, age > 89
        "C": make_persona(p, "C", "japanese", 41, 1),   # ISO 2022 IR 87
        "D": make_persona(p, "D", "ascii", 63, 1),      # needs pixel cleaning
    }
    for P in personas.values():
        P["study_uids"] = [p.uid() for _ in P["studies"]]

    # role table: (persona, study index, series key, source, options)
    # expect: profile -> "ok" (must be written) or "any"; pixel_clean: research must send it
    # through pixel cleaning ("cleaned": ok with 113101 and BurnedInAnnotation NO, or review)
    plan = [
        ("A", 0, "ct1", "CT_small.dcm", {}),
        ("A", 0, "ct1", "CT_small.dcm", {"ref": [0]}),
        ("A", 0, "ct2", "CT_small.dcm", {"ref": [0, 1]}),
        ("A", 0, "rt", "rtplan.dcm", {}),
        ("A", 1, "mr1", "MR_small.dcm", {}),
        ("A", 1, "mr1", "MR_small.dcm", {"ref": [4]}),
        ("A", 1, "mr2", "MR_small_implicit.dcm", {}),
        ("A", 1, "mr3", "MR_small_RLE.dcm", {}),
        ("A", 1, "sr", "test-SR.dcm", {"evidence": [4, 5, 6]}),
        ("B", 0, "mr1", "MR_small.dcm", {"age": "094Y"}),
        ("C", 0, "ct1", "CT_small.dcm", {}),
        ("C", 0, "cr1", "chrJapMulti.dcm", {}),
        ("D", 0, "sc1", "SC_rgb_rle.dcm", {"pixel_clean": True}),
        ("D", 0, "ct1", "CT_small.dcm", {"burned_in": True, "pixel_clean": True}),
        ("D", 0, "nm1", "JPEG2000.dcm", {}),
    ]
    required = {"CT_small.dcm", "MR_small.dcm"}
    series_uids, series_nos = {}, {}
    files = []
    counters = {}
    for idx, (pk, si, skey, src, opt) in enumerate(plan):
        P = personas[pk]
        path = find_source(dirs, src)
        if path is None:
            if src in required:
                sys.exit("plant_phi.py: source %s not found in %s" % (src, dirs))
            files.append(None)
            continue
        ds = pydicom.dcmread(path)
        sk = (pk, si, skey)
        if sk not in series_uids:
            series_uids[sk] = p.uid()
            series_nos[sk] = len([k for k in series_nos if k[:2] == sk[:2]]) + 1
        sop = p.uid()
        refs = [(files[r]["sop_uid"], files[r]["sop_class"]) for r in opt.get("ref", [])
                if files[r]]
        evidence = [(files[r]["study_uid"], files[r]["series_uid"], files[r]["sop_uid"],
                     files[r]["sop_class"]) for r in opt.get("evidence", []) if files[r]]
        counters[sk] = counters.get(sk, 0) + 1
        plant(p, ds, P, si, P["study_uids"][si], series_uids[sk], sop, series_nos[sk],
              counters[sk], refs, evidence, opt.get("burned_in", False), opt.get("age"))
        # folder named after the PatientName, file named after the PatientID
        n = sum(1 for f in files if f and f["persona"] == pk)
        rel = os.path.join(safe_component(P["folder"]),
                           safe_component(P["accessions"][si]),
                           safe_component(P["id"] + ("" if n == 0 else "_%d" % (n + 1))) + ".dcm")
        dst = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        ds.save_as(dst, write_like_original=False)
        modality = str(ds.get("Modality", ""))
        ts = str(ds.file_meta.TransferSyntaxUID)
        # clean, uncompressed CT/MR must come out.  ISO 2022 IR 87 files are
        # "any": dcmtk built on iconv (Debian) cannot convert them, and a
        # de-identifier may reject what it cannot read (fail closed)
        must_ok = (modality in ("CT", "MR") and not opt.get("pixel_clean")
                   and ts in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
                   and P["style"] != "japanese")
        files.append({
            "path": rel, "source": src, "persona": pk, "study": si, "series": skey,
            "modality": modality, "transfer_syntax": ts,
            "sop_class": str(ds.SOPClassUID), "sop_uid": sop,
            "study_uid": P["study_uids"][si], "series_uid": series_uids[sk],
            "references": [u for u, _ in refs] + [e[2] for e in evidence],
            "reference_sequences": dict(
                ([("ReferencedImageSequence", [u for u, _ in refs]),
                  ("SourceImageSequence", [u for u, _ in refs[:1]]),
                  ("ReferencedInstanceSequence", [u for u, _ in refs])] if refs else [])
                + ([("CurrentRequestedProcedureEvidenceSequence", [e[2] for e in evidence])]
                   if evidence else [])),
            "study_date": dstr(P["studies"][si]), "birth_date": dstr(P["birth"]),
            "age": str(ds.PatientAge),
            "charset": (list(ds.SpecificCharacterSet)
                        if isinstance(ds.get("SpecificCharacterSet"), (list, tuple, pydicom.multival.MultiValue))
                        else ds.get("SpecificCharacterSet")),
            "expect": {"basic": "ok" if must_ok else "any",
                       "hipaa": "ok" if must_ok else "any",
                       "research": "cleaned" if opt.get("pixel_clean")
                       else ("ok" if must_ok else "any")},
        })
        # raw bytes as actually stored (ISO 2022 escapes, Latin-1)
        if P["style"] in ("japanese", "latin1"):
            raw = pydicom.dcmread(dst)
            for kw in ("PatientName", "InstitutionName", "StudyDescription"):
                el = raw.get_item(kw)
                if el is None or not isinstance(el.value, bytes):
                    continue
                val = el.value.rstrip(b" \0")
                label = "%s raw %s" % (pk, kw)
                if kw == "PatientName":
                    p.register_bytes(label, P["name"], val, "raw")
                    for gi, grp in enumerate(val.split(b"=")):
                        p.register_bytes("%s raw PatientName group %d" % (pk, gi),
                                         P["name"], grp, "raw")
                        for pi, part in enumerate(grp.split(b"^")):
                            p.register_bytes("%s raw PatientName group %d part %d" % (pk, gi, pi),
                                             P["name"], part, "raw")
                elif kw == "InstitutionName" and P["style"] == "japanese":
                    p.register_bytes(label, P["institution_local"], val, "raw")
            if P["style"] == "japanese":
                encs = convert_encodings(P["charset"])
                for part in P["kanji"] + P["name_parts"][4:]:
                    p.register_bytes("%s raw ISO 2022 %s" % (pk, part), part,
                                     encode_string(part, encs), "iso-2022-ir-87")

    files = [f for f in files if f]
    manifest = {
        "generator": "tests/gen/plant_phi.py",
        "seed": seed,
        "mark": MARK,
        "uid_root": UID_ROOT,
        "note": "needles: search output bytes (ASCII case-insensitive) for every "
                "needles[].hex; dates: planted YYYYMMDD values, shifted under research",
        "files": files,
        "patients": {k: {"name": P["name"], "id": P["id"], "style": P["style"],
                         "birth_date": dstr(P["birth"]),
                         "study_dates": [dstr(d) for d in P["studies"]],
                         "study_uids": P["study_uids"],
                         "ages": [age_at(P["birth"], d) for d in P["studies"]],
                         "interval_days": [(d - P["studies"][0]).days for d in P["studies"]],
                         "birth_to_study_days": [(d - P["birth"]).days for d in P["studies"]]}
                     for k, P in personas.items()},
        "dates": sorted(p.date_values),
        "uids": sorted(set(p.planted_uids)),
        "strings": p.strings,
    }
    mpath = os.path.abspath(a.manifest or os.path.join(out, "manifest.json"))
    os.makedirs(os.path.dirname(mpath), exist_ok=True)
    with open(mpath, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
    if not a.quiet:
        n = sum(len(s["needles"]) for s in p.strings)
        print("plant_phi: seed %d, %d files, %d planted strings, %d needles -> %s"
              % (seed, len(files), len(p.strings), n, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
