"""Organisations, users, roles, sessions and the guards that protect every route."""
