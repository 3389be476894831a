"""The risk register (models come with the register itself)."""
