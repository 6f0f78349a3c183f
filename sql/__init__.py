"""espfleet sql."""
