"""Reading request bodies: JSON objects into wire models, and the multipart create-with-verify request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from openliveness.api.schemas import request_error
from openliveness.errors import BadArgument, InvalidImageSize
from openliveness.liveness.types import MAX_FRAMES
from openliveness.sessions.attempts import FRAME_LIMITS

__all__ = [
    "CaptureMetadata",
    "CaptureUpload",
    "json_request_body",
    "openapi_components",
    "parse_json",
    "read_capture",
    "read_create_request",
]

M = TypeVar("M", bound=BaseModel)

_MAX_PARAMETERS_BYTES = 64 * 1024
MAX_CAPTURE_FRAMES = MAX_FRAMES
MAX_FRAME_BYTES = FRAME_LIMITS.max_bytes


def parse_json(model: type[M], raw: bytes | str) -> M:
    """Validate a JSON document against `model`, raising Azure's error for the first problem."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadArgument("The request body is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise BadArgument("The request body must be a JSON object.")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise request_error(exc) from None


async def read_create_request(request: Request, model: type[M], *, allow_image: bool) -> tuple[M, bytes | None]:
    """A create request: a JSON body, or (with `allow_image`) multipart `Parameters` + `VerifyImage`."""
    content_type = request.headers.get("content-type", "").lower()
    if allow_image and content_type.startswith("multipart/form-data"):
        return await _read_multipart(request, model)
    return parse_json(model, await request.body()), None


async def _read_multipart(request: Request, model: type[M]) -> tuple[M, bytes | None]:
    try:
        form = await request.form(max_files=2, max_fields=4, max_part_size=_MAX_PARAMETERS_BYTES)
    except MultiPartException as exc:
        raise BadArgument(f"Malformed multipart body: {exc.message}") from None
    try:
        parameters = form.get("Parameters")
        image = form.get("VerifyImage")
        if parameters is None:
            raise BadArgument("The multipart body needs a 'Parameters' part (JSON).")
        if isinstance(parameters, UploadFile):
            raw: bytes | str = await parameters.read(_MAX_PARAMETERS_BYTES + 1)
            if len(raw) > _MAX_PARAMETERS_BYTES:
                raise BadArgument("The 'Parameters' part is too large.")
        else:
            raw = parameters
        content = parse_json(model, raw)
        if image is None:
            raise BadArgument("The multipart body needs a 'VerifyImage' file part.")
        if not isinstance(image, UploadFile):
            raise BadArgument("'VerifyImage' must be a file part (with a filename).")
        return content, await image.read()
    finally:
        await form.close()


def json_request_body(model: type[BaseModel], *, multipart: bool = False) -> dict[str, Any]:
    """OpenAPI `requestBody` for routes that read their body themselves (to map errors to Azure's codes)."""
    # app.py adds the model itself to the OpenAPI components (see `openapi_components`).
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
    if multipart:
        content["multipart/form-data"] = {
            "schema": {
                "type": "object",
                "required": ["Parameters", "VerifyImage"],
                "properties": {
                    "Parameters": {
                        "type": "string",
                        "description": "The JSON parameters, as in the JSON body.",
                    },
                    "VerifyImage": {
                        "type": "string",
                        "format": "binary",
                        "description": "Reference face image.",
                    },
                },
            }
        }
    return {"requestBody": {"required": True, "content": content}}


def openapi_components(*models: type[BaseModel]) -> dict[str, Any]:
    """JSON schemas of `models` and the models they use, keyed by name, for `components.schemas`."""
    components: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return components


class _FrameMeta(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    timestampMs: float = Field(ge=-60_000, le=600_000, allow_inf_nan=False)
    stepIndex: int | None = Field(None, ge=0, le=1000)


class CaptureMetadata(BaseModel):
    """The `metadata` part of a detect call (docs/protocol.md)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    attemptId: str = Field(min_length=1, max_length=64)
    deviceCorrelationId: str | None = Field(None, max_length=64)
    frames: list[_FrameMeta] = Field(min_length=1, max_length=MAX_CAPTURE_FRAMES)


@dataclass(frozen=True, slots=True)
class CaptureUpload:
    metadata: CaptureMetadata
    metadata_bytes: bytes
    frames: list[bytes]
    verify_image: bytes | None


async def read_capture(request: Request) -> CaptureUpload:
    """The multipart body of a detect call: `metadata` (JSON), `frame` parts in order, optional `VerifyImage`."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise BadArgument("The detect call takes multipart/form-data (metadata, frame, frame, ...).")
    try:
        form = await request.form(max_files=MAX_CAPTURE_FRAMES + 1, max_fields=4, max_part_size=_MAX_PARAMETERS_BYTES)
    except MultiPartException as exc:
        raise BadArgument(f"Malformed multipart body: {exc.message}") from None
    try:
        raw = form.get("metadata")
        if raw is None:
            raise BadArgument("The multipart body needs a 'metadata' part (JSON).")
        metadata_bytes = (await raw.read(_MAX_PARAMETERS_BYTES + 1)) if isinstance(raw, UploadFile) else raw.encode()
        if len(metadata_bytes) > _MAX_PARAMETERS_BYTES:
            raise BadArgument("The 'metadata' part is too large.")
        metadata = parse_json(CaptureMetadata, metadata_bytes)
        parts = form.getlist("frame")
        if len(parts) != len(metadata.frames):
            raise BadArgument(f"{len(parts)} 'frame' parts but {len(metadata.frames)} entries in metadata.frames.")
        frames = []
        for index, part in enumerate(parts):
            if not isinstance(part, UploadFile):
                raise BadArgument(f"'frame' part {index} must be a file part.")
            data = await part.read(MAX_FRAME_BYTES + 1)
            if len(data) > MAX_FRAME_BYTES:
                raise InvalidImageSize(f"Frame {index} is larger than {MAX_FRAME_BYTES} bytes.")
            frames.append(data)
        verify_part = form.get("VerifyImage")
        verify_image = None
        if verify_part is not None:
            if not isinstance(verify_part, UploadFile):
                raise BadArgument("'VerifyImage' must be a file part (with a filename).")
            verify_image = await verify_part.read()
        return CaptureUpload(metadata, metadata_bytes, frames, verify_image)
    finally:
        await form.close()
