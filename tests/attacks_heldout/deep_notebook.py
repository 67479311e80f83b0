# attack: a notebook whose JSON nests 100000 arrays deep (in a top-level field nbformat ignores)
# must hold: grade exits 2 with a one-line reason (a malformed notebook), like any other unreadable notebook
# result today: BROKEN (json.loads raises RecursionError, which submission._notebook_cells does not catch:
#               grade exits 1 with a traceback; Gradescope reports "GRADER ERROR"; a batch records grader_failed)
# This file is not itself a submission: notebook_text() returns the notebook the test grades.
import json


def notebook_text(depth=100_000):
    cells = [{"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": None}]
    text = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    return text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
