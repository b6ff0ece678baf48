"""Loading: cleaned lines into the service-record table, a newer version winning."""
