"""``python -m solutions``: the lesson's lab, exactly as the lesson prints it.

Options add the exercises (``--exercises``) and figures (``--plot DIR``); the
default output is the lesson's expected block and nothing else.
"""

import argparse

from solutions.sequence_modeling import run_lab


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m solutions", description=__doc__.splitlines()[0])
    parser.add_argument("--exercises", action="store_true", help="also run the five exercises and print their tables")
    parser.add_argument("--plot", metavar="DIR", help="write PNG figures of the lab into DIR")
    args = parser.parse_args(argv)

    lab = run_lab()
    window_results = None
    if args.exercises:
        from solutions.exercises import run_all

        window_results = run_all()
    if args.plot:
        from solutions.plots import write_lab_figures

        for path in write_lab_figures(lab, args.plot, window_results):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
