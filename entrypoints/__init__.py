"""Entrypoints: CLI, HTTP app, Lambda handler, workers, loader, and the composition root."""
