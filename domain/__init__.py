"""The service-record model, its business rules and value types. Pure: no I/O."""
