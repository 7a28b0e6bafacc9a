"""Customers, their credentials per surface, wallets, prices, daily limits and usage."""
