"""The control plane: the admin API under ``/_pishkhan/v1`` and sandbox controls."""
