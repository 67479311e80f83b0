"""Where grading runs: the Gradescope and PrairieLearn bundles, their entry points, and the one
install script their images share. Each turns a grading into the platform's results.json."""
