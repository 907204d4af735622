"""Entrypoints: the composition root (container), the HTTP API, the CLI and the embedding API."""
