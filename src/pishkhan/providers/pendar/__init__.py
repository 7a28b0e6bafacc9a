"""Pendar Koushk Imen: the registration authority API (``/api/{Method}``) and its CA."""
