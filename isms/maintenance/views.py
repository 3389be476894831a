"""Calendar pages (being written)."""
