"""espfleet espfleet."""
