"""A whole class at once: batch grading, its grading subprocess, shards and their merge, a TA's scores."""
