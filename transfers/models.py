"""transfers models."""
