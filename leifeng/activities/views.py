"""Pages of activities."""
