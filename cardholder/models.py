"""Cardholder logins (spec/cardholder-api.md)."""
