"""The browser side of OpenLiveness: the web SDK and the demo page, as static files served by the API."""
