"""Adapters to third-party scanners (configured explicitly, never from repo content)."""
