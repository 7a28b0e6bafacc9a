"""Payman (Faraboom/Boom) direct debit: mandates through a bank consent page, limits, payments."""
