"""Internal audits, nonconformities and management reviews (models come with the audit programme)."""
