"""Scoring responses: answers, epistemic words, grading, intervals."""
