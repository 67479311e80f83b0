"""What each corpus submission's grade must show, whichever way it was graded.

The fast suite (tests/test_corpus_fast.py, in-process) and the slow end-to-end
tests assert the same things through these functions, so a case means one thing.
Also what the held-out programs must score (tests/heldout/cases.py and the answer notebook's
header), which name the items a mistake must cost.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import corpus
from autograder.items.registry import specs
from autograder.rubric import ITEM_IDS

# The items judged on the answers to the exercises' questions (autograder/items/answers.py): six
# trainings per grade, so the fast tier grades them only for the cases about them (Case.claims).
ANSWER_ITEMS = frozenset(i for i, spec in specs().items() if spec.function.__module__ == "autograder.items.answers")
CODE_ITEMS = tuple(i for i in ITEM_IDS if i not in ANSWER_ITEMS)

HELDOUT = Path(__file__).resolve().parent / "heldout"
HELDOUT_CORRECT = sorted((HELDOUT / "correct").glob("*.py")) + sorted((HELDOUT / "correct").glob("*.ipynb"))


def lost_items(result):
    return {item.id for item in result.items if not item.passed}


def describe(result, ids=None):
    return "\n".join(f"  {item.id}: {item.score}/{item.max_score} {item.feedback}"
                     for item in result.items if ids is None or item.id in ids)


def points_lost_outside(result, function):
    """The metric of "one mistake costs points once": points lost on items that do not grade ``function``
    (nor judge a claim its broken numbers may contradict: corpus.CLAIMS_FED_BY)."""
    allowed = corpus.items_of(function) | corpus.CLAIMS_FED_BY.get(function, set())
    return sum(item.max_score - item.score for item in result.items if item.id not in allowed)


def assert_full_marks(result, what):
    """Every graded item in full: 100 when all were graded (the fast tier may leave out the answers)."""
    graded = {item.id for item in result.items}
    assert result.score == result.max_score == (100 if graded == set(ITEM_IDS) else result.max_score), \
        f"{what} scored {result.score}\n{describe(result)}"


def assert_reference_grade(result):
    assert_full_marks(result, "the reference")
    assert [item.id for item in result.items] == list(ITEM_IDS)     # the rubric's order


def assert_wrong_case(case, result):
    """Points lost exactly on ``case.loses``, none outside its function's items, with real feedback;
    a claim the broken code's numbers feed may be lost too (corpus.CLAIMS_FED_BY)."""
    lost = lost_items(result)
    assert case.loses <= lost and lost - case.loses <= corpus.CLAIMS_FED_BY.get(case.function, set()), \
        f"{case.why}\n{describe(result)}"
    assert points_lost_outside(result, case.function) == 0, describe(result)
    for item in result.items:
        if item.id in case.loses:
            assert item.feedback and "GRADER ERROR" not in item.feedback, describe(result)
        assert case.says.get(item.id, "") in item.feedback, f"{item.id} must name the cause\n{describe(result)}"
        wrong = case.never_says.get(item.id)
        assert not wrong or wrong not in item.feedback, f"{item.id} names a wrong cause\n{describe(result)}"


def assert_heldout_correct(path, result):
    """Full marks on every item graded (100 when all are) and no grader error: the submission is correct per the spec."""
    assert not result.import_error, result.import_error
    crashed = [item.id for item in result.items if "GRADER ERROR" in item.feedback]
    lost = [item.id for item in result.items if not item.passed]
    assert not crashed and result.score == result.max_score and not lost, (
        f"{path.name} is correct per the spec but scored {result.score}; wrongly failed: {lost}"
        f"{'; GRADER ERROR in ' + str(crashed) if crashed else ''}\n{describe(result, set(lost))}")


def assert_heldout_wrong(case, result):
    """Loses the case's ``loses``, maybe its ``may_lose``, nothing else, and no grader error
    (``case``: a tests/heldout/cases.py ``Wrong``)."""
    assert not result.import_error, result.import_error
    lost = lost_items(result)
    crashed = [item.id for item in result.items if "GRADER ERROR" in item.feedback]
    wrongly_passed = set(case.loses) - lost
    wrongly_failed = lost - set(case.loses) - set(case.may_lose)
    assert not (wrongly_passed or wrongly_failed or crashed), (
        f"{case.name} ({case.function}: {case.mistake})\n"
        f"wrongly passed (must lose): {sorted(wrongly_passed)}\n"
        f"wrongly failed (the spec's table says this item does not grade {case.function}): "
        f"{sorted(wrongly_failed)}\n"
        f"GRADER ERROR: {crashed}\n{describe(result, lost | set(case.loses))}")


# --- the held-out answers (tests/heldout/cases.py's ANSWERS, and the notebooks in tests/heldout/answers/) ---

# Notebooks written by tests/heldout/make_notebooks.py, each with its header atop its answer cell.
HELDOUT_ANSWER_NOTEBOOKS = sorted((HELDOUT / "answers").glob("*.ipynb"))
ANSWERS_LINE = re.compile(r"^# (answers|loses|based on): (.*)$")
ANSWER_KINDS = ("consistent", "contradicted", "blank", "mixed")
# The spec's allowed values per claim (table "Answers to the exercises' questions"), as the feedback
# for a missing or invalid claim must name them: the student can then fix the answer without the spec.
ALLOWED_CLAIMS = {
    "answer_window_size": ("8", "16", "32"),
    "answer_gru_vs_lstm": ("'LSTM'", "'GRU'"),
    "answer_clipping": ("True", "False"),
    "answer_plot": ("'lag'", "'flatline'", "'missed peaks'", "'noisy'", "'none'"),
}
REASONS = ("WHY_WINDOW_SIZE", "WHY_GRU_VS_LSTM", "WHY_CLIPPING", "WHY_PLOT")
ANSWER_NAMES = frozenset(["BEST_WINDOW_SIZE", "LOWER_VAL_MSE", "STABLE_WITHOUT_CLIPPING", "PLOT_SHOWS", *REASONS])
MEASURED = re.compile(r"\d\.\d\d")     # a validation MSE, a ratio of two, a pattern's strength


@dataclass
class AnswersHeader:
    name: str
    kind: str
    loses: set
    based_on: Path


def answers_header_lines(path):
    """A notebook's header: the lines of the answer cell it opens."""
    import nbformat

    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.source.startswith("# answers: ")]
    if len(cells) != 1:
        raise ValueError(f"{path.name}: {len(cells)} cells open with '# answers: ', not one")
    return cells[0].splitlines()


def read_answers_header(path):
    """The leading comment block of a held-out answers notebook's answer cell, its item ids checked."""
    fields = {}
    for line in answers_header_lines(path):
        match = ANSWERS_LINE.match(line)
        if not match:
            break
        fields[match.group(1)] = match.group(2).strip()
    missing = {"answers", "loses", "based on"} - set(fields)
    if missing:
        raise ValueError(f"{path.name}: header lacks {', '.join(sorted(missing))}")
    if fields["answers"] not in ANSWER_KINDS:
        raise ValueError(f"{path.name}: answers is {fields['answers']!r}, not one of {', '.join(ANSWER_KINDS)}")
    loses = {part.strip() for part in fields["loses"].split(",") if part.strip()}
    if loses - set(ALLOWED_CLAIMS):
        raise ValueError(f"{path.name}: loses names {sorted(loses - set(ALLOWED_CLAIMS))}, not answer items")
    return AnswersHeader(path.stem, fields["answers"], loses, HELDOUT / fields["based on"])


def actionable(item_id, feedback):
    """Feedback a student can act on: it names every allowed value (a missing or invalid claim), or it
    quotes at least two of the student's own measurements (a contradicted one)."""
    names_choices = all(value in feedback for value in ALLOWED_CLAIMS[item_id])
    return names_choices or len(MEASURED.findall(feedback)) >= 2


def assert_heldout_answers(header, result):
    """Code items in full (a correct program); answer items lost exactly as the header says, each with
    actionable feedback; reasoning 0 points and never failed; no grader error (``header``: a
    tests/heldout/cases.py ``Answers``, or a notebook's ``AnswersHeader``)."""
    loses = set(header.loses)
    assert not result.import_error, result.import_error
    lost = lost_items(result)
    crashed = [item.id for item in result.items if "GRADER ERROR" in item.feedback]
    code_lost = lost & set(CODE_ITEMS)
    wrongly_passed = loses - lost
    wrongly_failed = (lost & set(ALLOWED_CLAIMS)) - loses
    assert not (code_lost or wrongly_passed or wrongly_failed or crashed), (
        f"{header.name} ({header.kind} answers)\ncode items lost (a correct program): {sorted(code_lost)}\n"
        f"wrongly passed (must lose): {sorted(wrongly_passed)}\nwrongly failed: {sorted(wrongly_failed)}\n"
        f"GRADER ERROR: {crashed}\n{describe(result, lost | loses)}")
    for item in result.items:
        if item.id in loses:
            assert actionable(item.id, item.feedback), \
                f"{item.id}: feedback a student cannot act on\n{describe(result, {item.id})}"
    reasoning = [item for item in result.items if item.id == "reasoning"]
    assert len(reasoning) == 1 and reasoning[0].score == reasoning[0].max_score == 0, describe(result, {"reasoning"})
    assert reasoning[0].passed, f"reasoning is read by people, never failed\n{describe(result, {'reasoning'})}"
    # What a person will read: every text kept short and printable, whatever the student put there.
    for name, text in reasoning[0].artifacts.get("reasoning", {}).items():
        assert isinstance(text, str) and len(text) < 10_000, f"{name}: {len(str(text))} characters kept"
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), f"{name} keeps control characters: {text[:80]!r}"
