"""The ``servicepipe`` command line."""
