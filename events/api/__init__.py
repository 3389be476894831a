"""The events API: read incidents, changes, suppliers and objectives (token scope events:read)."""
