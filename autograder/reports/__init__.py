"""What the grader shows: one result type (results.py) and its formats (text, HTML, grades.csv,
the class summary). Nothing here runs student code or judges it."""
