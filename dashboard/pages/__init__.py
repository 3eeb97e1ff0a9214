"""Page layouts: functions, never module-level data."""
