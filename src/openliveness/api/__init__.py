"""The HTTP layer: FastAPI app factory, dependencies, the error table, wire schemas and routes."""

from openliveness.api.app import create_app

__all__ = ["create_app"]
