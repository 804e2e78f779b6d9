"""Worlds and their data: the arithmetic and math worlds, problem rows, coverage sets, prompt templates, Section 3's contexts."""
