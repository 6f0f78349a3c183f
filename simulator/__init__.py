"""espfleet simulator."""
