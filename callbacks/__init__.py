"""Thin Dash glue: each module exposes register(app)."""
