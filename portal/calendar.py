"""What the portal's tasks mean on the calendar: answering an auditor's evidence request (registered by
evidence_requests.py's purpose below)."""
