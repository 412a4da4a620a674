"""The web dashboard and HTTP API (to come)."""
