"""Adapters: implementations of the application's ports (``local`` and ``aws``)."""
