"""Shared fixtures (examples loaded, signed institution clients, staff and cardholder clients).
Owned by the accounts/foundation work."""
