"""The data layer: models, engine and named read functions. Never imports Dash."""
