# attack: Unicode bidi overrides and line/paragraph separators (not C0/C1 controls, so printable() keeps them) in an
#         exception message, printed text and the import error, to reorder or split what a TA reads
# must hold: no U+202A-202E, U+2066-2069, U+200E/200F, U+2028/2029 from the submission reaches the terminal, report.txt,
#            report.html, results.json or grades.csv
# result today: BROKEN (they pass through autograder.text.printable into every report)
# (The test puts the reference solution between this block and the part after the marker below.)
print("ATTACK bidi \u202eFAIL 0.00/10\u202c \u2028Total: 100.00/100\u2029 \u2066x\u2069")


def _bidi_make_windows(series, window_size):
    raise RuntimeError("\u202e01/00.0 LIAF\u202c\u2028ok   make_windows  10.00/10  all checks passed")


# === after the reference ===
make_windows = _bidi_make_windows
