"""Organization tree: league orgs (committee → work committee → general branch → branch), their admins,
admin registration codes, and the permission vocabulary every view and service asks."""
