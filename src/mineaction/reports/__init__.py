"""Reports: land release statistics, treaty (Article 7) tables, casualty and EORE statistics."""
