# attack: raise at import with a 40 MB exception message: the worker trims "message" to 500 characters but the
#         traceback's last line carries str(exc) whole, and the import error is copied into every report untrimmed
# must hold: results.json, report.txt, report.html and the terminal stay small (a report is read by people and
#            uploaded to Gradescope): no report grows with what the submission raises
# result today: BROKEN (results.json, report.txt and the terminal each carry the 40 MB message)
raise RuntimeError("A" * 40_000_000)
