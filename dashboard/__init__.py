"""Presentation: ids, components, figures, pages and the snapshot. Never runs SQL."""
