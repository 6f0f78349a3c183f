"""espfleet dashboards."""
