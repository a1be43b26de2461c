"""Template tags of the approvals app."""
