"""HTTP routes, one module per area; each parses, calls the library, serialises."""
