"""Template tags of the transfers app."""
