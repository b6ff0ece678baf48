"""Local adapters: folders for buckets, an SQLite queue and database, in-memory fakes."""
