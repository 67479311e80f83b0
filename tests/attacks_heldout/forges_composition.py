# attack: earn exercise 1 (window_comparison) with a compare_window_sizes that does no work (constants that differ
#         by window size): the check may accept "the same composition of the student's own parts", which the
#         worker computes (LessonOps' compose_windows). Student code finds the worker's LessonOps with gc and
#         replaces that op in its ops dict, so the "composition" returns the same constants
# must hold: the forgery earns exactly what the same constants earn without it
# result when written (red team, own-uid tier, before the composition check proved the parts): BROKEN, 5/5 against
#         2.5/5 honest. Held since: with parts that behave, the composition must equal the reference's numbers
# (The test appends the reference solution, then the part after the marker, which plants the constant function.)
import gc as _gc

_FORGE = True


def _forge():
    def fake_compose(req):
        return {int(s): 0.1 + 0.01 * int(s) for s in req["sizes"]}
    for obj in _gc.get_objects():
        if type(obj).__name__ == "LessonOps" and isinstance(getattr(obj, "ops", None), dict):
            obj.ops["compose_windows"] = fake_compose


if _FORGE:
    _forge()
print("ATTACK forge-composition", "armed" if _FORGE else "honest", flush=True)
# === after the reference ===


def compare_window_sizes(series, sizes=(8, 16, 32), *, epochs=120, seed=42):     # no work: constants
    return {int(s): 0.1 + 0.01 * int(s) for s in sizes}
