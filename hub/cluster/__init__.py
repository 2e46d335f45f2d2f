"""Several hub nodes on one PostgreSQL and one Redis (docs/scaling.md): the Redis adapters."""
