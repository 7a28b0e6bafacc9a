"""Cross-cutting machinery with no HTTP: database, clock, ids, audit log, logging, errors."""
