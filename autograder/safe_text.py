"""Text from a submission, made safe for terminals, files and spreadsheets.

A submission controls much of what the kit writes: what it prints, its
exception messages, the strings it returns, its file names. Escape sequences
and carriage returns in that text could rewrite a report's FAIL lines or its
total in a terminal, and a CSV cell starting with ``=`` becomes a live formula
in a spreadsheet. Every writer passes its text through these helpers at the
boundary (the moment it is printed or written), so no path forgets.
"""

import re

# ANSI/VT escape sequences: CSI (ESC [ ... final), OSC and other strings
# (ESC ] ... BEL or ESC \), and two-character escapes (ESC + one byte).
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"                 # CSI: colours, cursor moves, erase line
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"   # OSC, DCS, SOS, PM, APC: up to BEL or ST
    r"|\x1b[ -/]*[0-~]"                        # two-character and nF escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"                  # the single-character (C1) CSI
)
# Every other C0 control but \t and \n, DEL and the C1 controls; \r included. And the Unicode
# format controls that reorder or hide text (bidi embeddings, overrides and isolates, marks).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]")
# What str.splitlines() would also break a line at: a new line in disguise, so it becomes one.
_LINE_BREAK = re.compile(r"[\u2028\u2029\x85\x0b\x0c\x1c-\x1e]")
# Lone surrogates (a file name that is not UTF-8, a student's "\ud800"): they cannot be written as UTF-8.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What spreadsheet applications read as the start of a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _surrogate_escape(match):
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:                 # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def printable(text):
    """``text`` without escape sequences or control characters (\\n and \\t stay), always writable as UTF-8."""
    text = str(text)
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _LINE_BREAK.sub("\n", text)
    text = _CONTROL.sub("", text)
    return _SURROGATE.sub(_surrogate_escape, text)


def one_line(text):
    """``printable`` text on one line: newlines and tabs become spaces (a report line must stay one line)."""
    return printable(text).replace("\n", " ").replace("\t", " ")


def spreadsheet_cell(value):
    """A CSV cell that a spreadsheet shows as text: a leading formula character gets a quote in front."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value
