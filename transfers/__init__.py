"""Transfers: moving a member's league relationship in (转入) and out (转出), with allocation to a branch."""
