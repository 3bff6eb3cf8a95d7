"""GraphQL object types, built from read-model views (never from domain objects)."""
