"""The fictional demonstration programme."""
