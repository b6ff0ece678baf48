"""Intake: a dealer's record or bulk file into the raw zone, and what became of a submission."""
