"""Paystar open banking (core.paystar.ir): API-key lifecycle and identity matching."""
