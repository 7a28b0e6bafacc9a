"""Pishkhan: a wire-compatible local implementation of four Iranian fintech APIs."""

__version__ = "0.1.0"
