"""A minimal app server for OpenLiveness: creates a session with the API key, hands the token to a page that
runs the web SDK, and reads the result server-side. Run it beside `openliveness serve`:

    OPENLIVENESS_ENDPOINT=http://127.0.0.1:8000 OPENLIVENESS_KEY=<api key> \\
        uvicorn examples.app_server.app:app --port 5000

then open http://127.0.0.1:5000/. The page talks to OpenLiveness through this server's `/face/` proxy, so
everything is same-origin (no CORS set-up) and the API key never leaves the server.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from openliveness.client import FaceSessionClient

ENDPOINT = os.environ.get("OPENLIVENESS_ENDPOINT", "http://127.0.0.1:8000")
face = FaceSessionClient(ENDPOINT, os.environ["OPENLIVENESS_KEY"])
proxy = httpx.AsyncClient(base_url=ENDPOINT, timeout=60)
app = FastAPI(title="Example app server")

PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Sign-up · face check</title>
<script type="module" src="/sdk/openliveness.js"></script>
<body style="font-family:system-ui;background:#f4f6fb;padding:32px">
<h1>Confirm it is you</h1>
<openliveness-check token="{token}" endpoint="" kind="detectLiveness"></openliveness-check>
<p id="out"></p>
<script type="module">
  document.querySelector("openliveness-check").addEventListener("result", async () => {{
    // 204 from OpenLiveness means "done": ask our own server for the decision.
    const r = await fetch("/result/{session_id}");
    document.getElementById("out").textContent = "Decision: " + (await r.json()).decision;
  }});
</script></body></html>"""


@app.get("/", response_class=HTMLResponse)
def start() -> str:
    # 1. Create the session with the API key (server-side only).
    session = face.create_liveness_session({"livenessOperationMode": "Passive", "deviceCorrelationId": "demo-device"})
    # 2. Hand the session token to the page; it is valid only for this session's client calls.
    return PAGE.format(token=session.auth_token, session_id=session.session_id)


@app.get("/result/{session_id}")
def result(session_id: str) -> dict[str, Any]:
    # 3. Read the result with the API key: the decision the app acts on.
    session = face.get_liveness_session_result(session_id)
    decision = session.result.response.body.liveness_decision if session.result else None
    return {"status": str(session.status), "decision": str(decision) if decision else None}


@app.api_route("/face/{path:path}", methods=["POST"])
@app.get("/sdk/openliveness.js")
async def forward(request: Request, path: str = "") -> Response:
    """Pass the page's client calls (session token) and the SDK file through to OpenLiveness."""
    headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
    upstream = await proxy.request(request.method, request.url.path, content=await request.body(), headers=headers)
    kept = {k: v for k, v in upstream.headers.items() if k.lower() in ("content-type", "cache-control", "etag")}
    if upstream.status_code == 204:
        return Response(status_code=204)
    return Response(upstream.content, status_code=upstream.status_code, headers=kept)


@app.exception_handler(httpx.HTTPError)
async def upstream_down(_: Request, exc: httpx.HTTPError) -> JSONResponse:
    return JSONResponse({"error": {"code": "Upstream", "message": str(exc)}}, status_code=502)
