"""HTTP machinery shared by the control plane and the surfaces (no business rules)."""
