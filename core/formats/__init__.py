"""The field's annotation formats, in and out: ELAN .eaf (pympi-ling), Praat TextGrid (praatio), audformat.

ELAN and TextGrid use one tier mapping (core.formats.tiers): a tier `ANNOTATOR/DIMENSION` (e.g.
`alice/arousal`, `consensus:ewe/valence`) holds one interval per segment whose text is the value on EmoTrace's
1-7 scale; `ANNOTATOR/category` holds MSP's class letter; a tier `transcript` holds each segment's text
(exported, never imported as a label). Tiers named otherwise are skipped on import and listed in the report.
Intervals of one annotator at the same bounds form one label. Consensus tiers are exported for reading and
skipped on import (a consensus is recomputed from its raters). audformat: core.formats.audformat_db.
"""
