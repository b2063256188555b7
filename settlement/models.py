"""Settlement models (owned by the settlement work)."""
