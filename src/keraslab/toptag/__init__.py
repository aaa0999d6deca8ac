"""Day two: top-quark tagging, from generated jets to particle-cloud networks."""
