"""Jibit identity inquiry surface (``/ide/v1``)."""
