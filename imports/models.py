"""imports models."""
