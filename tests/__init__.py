"""Visnyk tests; `tests/kit.py` is the end-to-end kit."""
