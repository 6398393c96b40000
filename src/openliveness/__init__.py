"""OpenLiveness: a self-hosted face liveness service speaking the Azure AI Face liveness session API.

Importing this package is cheap: the server lives in `openliveness.api`, the client in `openliveness.client`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
