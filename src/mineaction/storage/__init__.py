"""Storage: the register on a GeoPackage file or on PostgreSQL/PostGIS."""
