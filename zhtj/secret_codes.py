"""One-time codes (admin registration codes, password reset codes) are stored only as a hash of their text.

Plumbing at the bottom of the layers (docs/architecture.md): orgs.codes, orgs.admin_registration and
members.accounts use it.
"""

import hashlib


def hash_code(code: str) -> str:
    """The SHA-256 (hex) of the code as given; callers normalise first where their codes allow it."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()
