"""The Quart HTTP API: app factory, blueprints, DTOs and error mapping."""
