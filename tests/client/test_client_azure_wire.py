"""Wire conformance: each method sends what azure-ai-vision-face 1.0.0b2 sends, and reads its answer alike.

Both clients talk to one recording HTTP server (stdlib) that answers canned API responses.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from openliveness.client import (
    CreateLivenessSessionContent,
    CreateLivenessWithVerifySessionContent,
    FaceSessionClient,
)

face = pytest.importorskip("azure.ai.vision.face")
azure_models = pytest.importorskip("azure.ai.vision.face.models")
azure_credentials = pytest.importorskip("azure.core.credentials")

KEY = "wire-key"
IMAGE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 16
VERIFY_IMAGE_JSON = {
    "faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4},
    "qualityForRecognition": "low",
}


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class Recording(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, payloads: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[Seen] = []
        self.payloads = payloads


class _Handler(BaseHTTPRequestHandler):
    server: Recording
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.seen.append(Seen(self.command, url.path, parse_qs(url.query), headers, body))
        p = self.server.payloads
        status, content, ctype = 200, b"", "application/json"
        if self.command == "DELETE":
            # azure-ai-vision-face 1.0.0b2 accepts only 200 (empty body) here: a 204 makes it raise.
            pass
        elif url.path.endswith("/audit"):
            content = json.dumps([p["audit"]]).encode()
        elif "/sessionImages/" in url.path:
            content, ctype = b"\x89PNG-session-image", "application/octet-stream"
        elif url.path.endswith("/sessions"):
            if self.command == "POST":
                created = {"sessionId": "new-id", "authToken": "tok"}
                if headers.get("content-type", "").startswith("multipart/"):
                    created["verifyImage"] = VERIFY_IMAGE_JSON
                content = json.dumps(created).encode()
            else:
                content = json.dumps([p["item"]]).encode()
        else:
            content = json.dumps(p["session"]).encode()
        self.send_response(status)
        if content:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_DELETE = _answer


@pytest.fixture
def recording(
    session_json: dict[str, Any], session_item_json: dict[str, Any], audit_entry: dict[str, Any]
) -> Iterator[Recording]:
    server = Recording({"session": session_json, "item": session_item_json, "audit": audit_entry})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def parts(seen: Seen) -> dict[str, tuple[str | None, bytes]]:
    raw = b"Content-Type: " + seen.headers["content-type"].encode() + b"\r\n\r\n" + seen.body
    message = email.message_from_bytes(raw, policy=email.policy.HTTP)
    found = {}
    for part in message.iter_parts():
        filename = part.get_param("filename", header="content-disposition")
        found[str(part.get_param("name", header="content-disposition"))] = (
            None if filename is None else str(filename),
            part.get_payload(decode=True),
        )
    return found


def comparable(seen: Seen) -> dict[str, Any]:
    """What must be equal between Azure's request and ours (not user agents, boundaries or request ids)."""
    content_type = seen.headers.get("content-type", "").split(";")[0]
    if content_type == "multipart/form-data":
        body: Any = {
            name: (filename, json.loads(payload) if name == "Parameters" else payload)
            for name, (filename, payload) in parts(seen).items()
        }
    elif seen.body:
        body = json.loads(seen.body)
    else:
        body = None
    return {
        "method": seen.method,
        "path": seen.path,
        "query": seen.query,
        "key": seen.headers.get("ocp-apim-subscription-key"),
        "accept": seen.headers.get("accept"),
        "content_type": content_type,
        "body": body,
    }


LIVENESS_BODY = {
    "liveness_operation_mode": "Passive",
    "device_correlation_id": "dev-1",
    "send_results_to_client": True,
}
VERIFY_BODY = {
    "liveness_operation_mode": "PassiveActive",
    "device_correlation_id": "dev-2",
    "auth_token_time_to_live_in_seconds": 120,
    "return_verify_image_hash": True,
    "verify_confidence_threshold": 0.6,
}

# (method, positional args with BODY / VBODY standing for the create content, keyword args)
CASES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("create_liveness_session", ("BODY",), {}),
    ("get_liveness_session_result", ("sess-1",), {}),
    ("get_liveness_sessions", (), {"start": "sess-0", "top": 7}),
    ("get_liveness_session_audit_entries", ("sess-1",), {"start": "3", "top": 2}),
    ("delete_liveness_session", ("sess-1",), {}),
    ("create_liveness_with_verify_session", ("VBODY",), {"verify_image": None}),
    ("create_liveness_with_verify_session", ("VBODY",), {"verify_image": IMAGE}),
    ("get_liveness_with_verify_session_result", ("sess-2",), {}),
    ("get_liveness_with_verify_sessions", (), {"top": 1}),
    ("get_liveness_with_verify_session_audit_entries", ("sess-2",), {}),
    ("delete_liveness_with_verify_session", ("sess-2",), {}),
    ("get_session_image", ("img-1",), {}),
]


def _args(args: tuple[Any, ...], liveness: Callable[[], Any], verify: Callable[[], Any]) -> list[Any]:
    return [liveness() if a == "BODY" else verify() if a == "VBODY" else a for a in args]


@pytest.mark.parametrize(("method", "args", "kwargs"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_same_request_and_same_result_as_azure(
    recording: Recording,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    assert_same_as_azure: Callable[[Any, Any], None],
) -> None:
    endpoint = f"http://127.0.0.1:{recording.server_address[1]}"
    azure = face.FaceSessionClient(endpoint, azure_credentials.AzureKeyCredential(KEY))
    with azure:
        theirs = getattr(azure, method)(
            *_args(
                args,
                lambda: azure_models.CreateLivenessSessionContent(**LIVENESS_BODY),
                lambda: azure_models.CreateLivenessWithVerifySessionContent(**VERIFY_BODY),
            ),
            **kwargs,
        )
        if method == "get_session_image":
            theirs = b"".join(theirs)
    with FaceSessionClient(endpoint, KEY) as client:
        ours = getattr(client, method)(
            *_args(
                args,
                lambda: CreateLivenessSessionContent(**LIVENESS_BODY),
                lambda: CreateLivenessWithVerifySessionContent(**VERIFY_BODY),
            ),
            **kwargs,
        )
    azure_request, our_request = recording.seen
    assert comparable(our_request) == comparable(azure_request)
    if isinstance(ours, bytes) or ours is None:
        assert ours == theirs
    else:
        assert_same_as_azure(ours, theirs)
