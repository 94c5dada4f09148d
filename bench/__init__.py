"""Benchmarks of instantly_nb against the physical limits of a rate-limited API.

``python bench/run.py`` (``make bench``) runs every section and prints one table of ratios; see
bench/README.md for the sections, the knobs and how the floors are computed, and bench/RESULTS.md
for recorded runs. Every request goes to a demo server on 127.0.0.1 started by the run itself.
"""
