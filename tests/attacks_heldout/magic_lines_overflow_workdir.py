# attack: a 5 MB notebook of one-character magic lines ("%"): grading turns each into a 46-byte
#         "pass  # notebook magic removed for grading: %" line, so the code the worker copies into its
#         size-capped folder (workdir_mb, file_mb: 64 MiB) is about 74 MB, though the file is far under
#         the 64 MB a submission may be
# must hold: the oversized code costs only this submission (graded, 0 points, a one-line reason naming
#            the size); the grader never says the machine cannot confine student code
# result today: BROKEN (the copy into the jail's folder fails with EFBIG inside confinement, the worker
#               refuses: `grade` exits 3 "refusing to run student code unconfined", Gradescope reports
#               "The autograder failed ... tell your instructor", a batch records grader_failed)
# This file is not itself a submission: notebook_text(reference) returns the notebook the test grades.
import json


def notebook_text(reference, magic_lines=1_600_000):
    cells = [{"cell_type": "code", "metadata": {}, "source": reference, "outputs": [], "execution_count": None},
             {"cell_type": "code", "metadata": {}, "source": "%\n" * magic_lines, "outputs": [],
              "execution_count": None}]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
