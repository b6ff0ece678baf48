"""History: a vehicle's service history and one record's lookup."""
