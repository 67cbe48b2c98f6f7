-- scripts/onscreen_words.lua -- harmless words burned into images, for pixels.allow.
--
-- Under pixels.phi = "all_text" every word found on an image is redacted unless it is on the
-- policy's allow-list. This list holds what devices print that identifies nobody: orientation
-- letters, units, acquisition and probe labels, body-part and view words. Matching is
-- case-insensitive on whole words (surrounding punctuation ignored); '#' stands for a number of
-- 1 to 3 digits with an optional decimal part, so a year, a date or an ID never matches.
-- Words read with low confidence are redacted anyway (pixels.review_below).
-- A site policy extends it with a copy:
--   local allow = { "MYWORD" }
--   for _, w in ipairs(mv.onscreen_words) do allow[#allow + 1] = w end
return {
  -- numbers and units
  "#", "-#", "+#", "#%", "#x", "x#", "#cm", "#mm", "#m", "#s", "#ms", "#Hz", "#kHz", "#MHz",
  "#dB", "#fps", "#bpm", "#kV", "#kVp", "#mA", "#mAs", "#mGy", "#cGy", "#deg", "#cm/s", "#m/s",
  "#mm/s", "#mmHg", "cm", "mm", "m", "s", "ms", "Hz", "kHz", "MHz", "dB", "fps", "bpm", "kV",
  "kVp", "mA", "mAs", "mGy", "cGy", "cm/s", "m/s", "mm/s", "mmHg", "deg", "sec", "min",
  "[cm]", "[mm]", "[Hz]", "[dB]", "[m/s]", "[cm/s]",
  -- orientation and views
  "L", "R", "A", "P", "H", "F", "S", "I", "LT", "RT", "AP", "PA", "LAT", "OBL", "SUP", "INF",
  "ANT", "POST", "MED", "PROX", "DIST", "LAO", "RAO", "CRA", "CAU", "LAO#", "RAO#", "CRA#",
  "CAU#", "TRV", "TRANS", "SAG", "LONG", "COR", "AX", "AXIAL", "CORONAL", "SAGITTAL",
  "Tra", "Sag", "Cor",
  -- ultrasound modes, probes and settings
  "B", "M", "D", "2D", "3D", "4D", "CW", "PW", "CF", "CFM", "PD", "PDI", "THI", "TGC", "PRF",
  "PRF#", "WF", "WF#", "Gain", "Gain#", "Gn", "Gn#", "G#", "DR", "DR#", "Dyn", "Frq", "Freq",
  "Depth", "Dep", "Dep#", "Focus", "FR", "FR#", "Fr", "Fr#", "TIS", "TIB", "TIC", "MI", "TIS#",
  "TIB#", "TIC#", "MI#", "Pwr", "Pwr#", "Power", "Res", "Gen", "Pen", "Map", "Map#", "Persist",
  "P#", "C#", "E#", "Flow", "Harm", "Harmonic", "Zoom", "Cine", "Frame", "Frames", "Res#",
  "C#-#", "L#-#", "P#-#", "V#-#", "S#-#", "E#-#", "EC#-#", "IC#-#", "#C#", "#L#", "#V#", "#S",
  "#C", "#L", "HD", "SR", "XRES", "SonoCT", "Adv", "General", "Gen#", "Vel", "Angle", "Scale",
  "Baseline", "Filter", "Wall", "Sample", "Volume", "SV", "SV#", "HR", "ECG", "RR", "PV",
  -- body parts and exam words
  "ABD", "Abdomen", "OB", "GYN", "Renal", "Kidney", "Liver", "Breast", "Thyroid", "Vasc",
  "Vascular", "Cardiac", "Heart", "Carotid", "Bladder", "Pelvis", "Prostate", "Testis", "MSK",
  "Spleen", "Aorta", "Lymph", "Node", "Neck", "Chest", "Lung", "Leg", "Arm", "Hip", "Knee",
  "Shoulder", "Small", "Parts", "Superficial", "Fetal", "Echo",
  -- device makers (device identity is not patient identity)
  "SIEMENS", "GE", "PHILIPS", "TOSHIBA", "CANON", "ALOKA", "HITACHI", "SAMSUNG", "MINDRAY",
  "ESAOTE", "ACUSON", "SONOSITE", "ZONARE", "VOLCANO", "FUJIFILM", "ATL", "HP",
  -- X-ray, fluoroscopy and CT/MR overlay words
  "Fluoro", "DSA", "Cine", "Acq", "Store", "FOV", "FOV#", "Slice", "Thk", "Thk#", "W", "C",
  "WL", "WW", "W#", "C#", "L#", "Se", "Se#", "Im", "Im#", "Ser", "Img", "TR", "TE", "TI", "FA",
  "ET", "NEX", "ST", "SL", "SP", "Mag", "Magnification", "Portable", "PORTABLE", "Upright",
  "Supine", "Erect", "Prone", "Decub", "Inspiration", "Expiration",
}
