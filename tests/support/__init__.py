"""Helpers shared by every test directory (importable as ``support``: ``tests/`` is on the path)."""
