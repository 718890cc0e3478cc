"""Hospital staff: accounts with roles, their own short-lived tokens, scanning patients' codes, the audit log."""
