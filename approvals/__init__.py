"""Approvals: one engine and one inbox for every request that needs a decision, and the audit trail
that records every change and decision."""
