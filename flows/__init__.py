"""espfleet flows."""
