"""Pure-ASGI middleware: Azure's case-insensitive paths, the request-body limit, and the request context
(ids, logs, metrics)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openliveness.logs import RequestIds, request_ids
from openliveness.metrics import HTTP_IN_PROGRESS, HTTP_LATENCY, HTTP_REQUESTS

__all__ = ["BodyLimitMiddleware", "CanonicalPathMiddleware", "RequestContextMiddleware"]

access_log = logging.getLogger("openliveness.access")
# Probes and scrapes come every few seconds: counted in the metrics, kept out of the access log.
_QUIET_ROUTES = {"/healthz", "/readyz", "/metrics"}

# Azure treats these path segments case-insensitively (its own docs use /detectliveness/singlemodal/...).
_CANONICAL = {
    s.lower(): s
    for s in (
        "face",
        "detectLiveness",
        "detectLivenessWithVerify",
        "singleModal",
        "sessions",
        "audit",
        "session",
        "sessionImages",
        "attempts",
        "guidance",
    )
}


class CanonicalPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path[:6].lower() == "/face/":
                parts = path.rstrip("/").split("/")
                canonical = "/".join(_CANONICAL.get(p.lower(), p) for p in parts)
                if canonical != path:
                    # In place: outer middleware reads what routing adds to this same scope (the route).
                    scope["path"] = canonical
                    scope["raw_path"] = canonical.encode()
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses bodies over `max_bytes` with 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_large = int(value) > self.max_bytes
                except ValueError:
                    too_large = False
                if too_large:
                    await _send_413(send, self.max_bytes)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send, self.max_bytes)


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps(
        {"error": {"code": "PayloadTooLarge", "message": f"The request body is larger than {limit} bytes."}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-ms-error-code", b"PayloadTooLarge"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Per request: an id (`scope["state"]["request_id"]`, returned as `apim-request-id`; a caller's
    `client-request-id` is echoed back), the log context, the HTTP metrics and one access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        client_request_id = None
        for name, value in scope["headers"]:
            if name == b"client-request-id":
                client_request_id = value[:256]
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        ids = RequestIds(request_id, client_request_id.decode("latin-1") if client_request_id else None)
        context = request_ids.set(ids)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"apim-request-id", request_id.encode()))
                if client_request_id is not None:
                    headers.append((b"client-request-id", client_request_id))
                message = dict(message, headers=headers)
            await send(message)

        HTTP_IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            HTTP_IN_PROGRESS.dec()
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            HTTP_LATENCY.labels(method=method, route=route).observe(elapsed)
            if route not in _QUIET_ROUTES:
                client = scope.get("client")
                access_log.info(
                    "%s %s %d",
                    method,
                    scope["path"],
                    status,
                    extra={
                        "method": method,
                        "path": scope["path"][:512],
                        "route": route,
                        "status": status,
                        "durationMs": round(elapsed * 1000, 1),
                        "peer": client[0] if client else None,
                    },
                )
            request_ids.reset(context)
