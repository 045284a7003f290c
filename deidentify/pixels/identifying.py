"""Telling identifying burned-in text from harmless annotations.

The rule, applied to each detected line of text (when in doubt, the line is redacted):

1. A line that contains a value of the original header (names, IDs, dates, institution...
   as captured in HeaderContext.identifying_text) is identifying: a header token of four or
   more characters anywhere in the line (spaces and punctuation ignored), a shorter one as a
   whole word.
2. A line that looks like a date or a clock time (12/03/2024, 2024-03-12, 20240312, 3 MAR,
   14:05, +2:09:04) is identifying.
3. Otherwise the line is kept only if every word is harmless: a word of the annotation
   vocabulary below (orientation markers such as L/R, scan parameters such as MI, TIS, GAIN,
   units, common view and anatomy labels), a single letter, or a short number (at most four
   digits, e.g. a measurement, a depth or a frame counter). Any other word (a possible name,
   a long number or a mixed letters-and-digits code that may be an ID) makes the line
   identifying.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|SEPT|OCT|NOV|DEC"
_DATE_OR_TIME = re.compile(
    r"\d{1,4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{1,4}"  # 12/03/2024, 2024-03-12, 12.3.24
    r"|(?<!\d)(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)"  # 20240312
    rf"|\b\d{{1,2}}\s*[-/ ]?\s*({_MONTHS})\b|\b({_MONTHS})\s*[-/ ]?\s*\d{{1,4}}\b"  # 3 MAR, MAR 2024
    r"|\d{1,2}\s*:\s*\d{2}",  # 14:05, 2:09:04
)
_WORD = re.compile(r"[A-Z0-9]+")
_SHORT_NUMBER = re.compile(r"\d{1,4}")

ANNOTATION_VOCABULARY = frozenset("""
L R A P S I H F LT RT AP PA LAT LATERAL MED MEDIAL SUP INF ANT POST PROX DIST MID LEFT RIGHT
UPPER LOWER TRA TRANS TRV SAG SAGITTAL COR CORONAL AX AXIAL OBL LONG SHORT APEX BASE
MI TIS TIB TIC THI GEN RES PEN HAR HARM CRD FR FPS HZ KHZ MHZ DB DR GN GAIN DEPTH PWR POWER
CINE CF CFM PRF WF PW CW PD VEL FLOW ZOOM FOV MAT KERNEL TE TR TI FA ET NEX SL THK KV KVP MA MAS
MM CM M MS SEC W WL WW C D B Q IM IMG IMAGE SE SER SERIES ACQ SEQ FRAME FRAMES OF
ADULT ECHO OB GYN FETAL PLA PSAX PLAX AP4 AP2 ABD PELVIS LIVER KIDNEY THYROID BREAST HEART
CARDIAC CAROTID NECK CHEST SPINE HEAD BRAIN KNEE SHOULDER HIP ANKLE WRIST ELBOW LYMPH NODE
""".split())


def is_identifying(text: str, header_values: Iterable[str]) -> bool:
    """True when a detected line must be redacted (see the module docstring)."""
    return line_is_identifying(text, header_tokens(header_values))


def header_tokens(header_values: Iterable[str]) -> frozenset[str]:
    """The words of the header values rule 1 looks for; computed once per object, not per line."""
    return frozenset(token for value in header_values for token in _WORD.findall(str(value).upper()))


def line_is_identifying(text: str, tokens: frozenset[str]) -> bool:
    """``is_identifying`` with the header values already split by ``header_tokens``."""
    line = text.upper()
    words = _WORD.findall(line)
    if not words:
        return False  # punctuation or graphics only
    compact = "".join(words)
    for token in tokens:
        if len(token) >= 4 and token in compact:
            return True
        if 2 <= len(token) < 4 and token in words:
            return True
    if _DATE_OR_TIME.search(line):
        return True
    return not all(_harmless(word) for word in words)


def _harmless(word: str) -> bool:
    return len(word) == 1 or word in ANNOTATION_VOCABULARY or bool(_SHORT_NUMBER.fullmatch(word))
