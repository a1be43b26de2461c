"""The append-only audit trail: the bottom layer every app writes to (see docs/architecture.md)."""
