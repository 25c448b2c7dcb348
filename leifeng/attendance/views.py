"""Pages of attendance."""
