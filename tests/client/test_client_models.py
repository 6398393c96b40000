"""Parsing and serialising of the client's models, including values a newer server may send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from openliveness.client import (
    CreateLivenessSessionContent,
    CreateLivenessWithVerifySessionContent,
    CreateLivenessWithVerifySessionResult,
    FaceImageType,
    FaceLivenessDecision,
    FaceSessionStatus,
    LivenessOperationMode,
    LivenessResponseBody,
    LivenessSession,
    LivenessSessionAuditEntry,
    LivenessSessionItem,
    QualityForRecognition,
)
from openliveness.client._models import ResponseFormatError


def test_session_parses_every_field(session_json: dict[str, Any]) -> None:
    s = LivenessSession.from_dict(session_json)
    assert s.id == session_json["id"]
    assert s.status is FaceSessionStatus.RESULT_AVAILABLE
    assert s.session_expired is False
    assert s.auth_token_time_to_live_in_seconds == 600
    assert s.device_correlation_id == session_json["deviceCorrelationId"]
    assert s.created_date_time == datetime(2024, 5, 15, 20, 0, 6, 828123, tzinfo=UTC)
    assert s.session_start_date_time is not None and s.session_start_date_time.tzinfo is not None
    entry = s.result
    assert entry is not None
    assert entry.id == 4
    assert entry.request.method == "POST"
    assert entry.request.content_length == 352568
    assert entry.response.status_code == 200
    assert entry.response.latency_in_milliseconds == 1306
    body = entry.response.body
    assert body.liveness_decision is FaceLivenessDecision.REAL_FACE
    assert body.target is not None
    assert body.target.image_type is FaceImageType.COLOR
    assert (body.target.face_rectangle.top, body.target.face_rectangle.width) == (59, 409)
    assert body.verify_result is not None
    assert body.verify_result.is_identical is True
    assert body.verify_result.match_confidence == pytest.approx(0.9304124)
    assert body.verify_result.verify_image.quality_for_recognition is QualityForRecognition.HIGH
    assert body.signals is None and body.reasons is None
    assert entry.session_image_id == session_json["result"]["sessionImageId"]
    assert entry.verify_image_hash == session_json["result"]["verifyImageHash"]


def test_session_without_result_or_start(session_json: dict[str, Any]) -> None:
    session_json.update(status="NotStarted", sessionStartDateTime=None)
    del session_json["result"]
    s = LivenessSession.from_dict(session_json)
    assert s.status is FaceSessionStatus.NOT_STARTED
    assert s.result is None and s.session_start_date_time is None


def test_item_ignores_unknown_fields(session_json: dict[str, Any]) -> None:
    session_json["somethingNew"] = {"x": 1}
    item = LivenessSessionItem.from_dict(session_json)
    assert item.id == session_json["id"]
    assert not hasattr(item, "status")


def test_unknown_enum_values_are_kept_as_strings(session_json: dict[str, Any]) -> None:
    session_json["status"] = "Canceled"
    body = session_json["result"]["response"]["body"]
    body["livenessDecision"] = "deepfake"
    body["target"]["imageType"] = "Thermal"
    body["verifyResult"]["verifyImage"]["qualityForRecognition"] = "excellent"
    s = LivenessSession.from_dict(session_json)
    assert s.status == "Canceled" and not isinstance(s.status, FaceSessionStatus)
    assert s.result is not None
    parsed = s.result.response.body
    assert parsed.liveness_decision == "deepfake"
    assert parsed.target is not None and parsed.target.image_type == "Thermal"


def test_enum_values_match_case_insensitively() -> None:
    body = LivenessResponseBody.from_dict({"livenessDecision": "RealFace"})
    assert body.liveness_decision is FaceLivenessDecision.REAL_FACE


def test_openliveness_signals_and_reasons(audit_entry: dict[str, Any]) -> None:
    audit_entry["response"]["body"].update(
        signals={"flash_timing": 0.91, "flash_shape": 1, "parallax": 0.4}, reasons=["flash_timing_ok", "x"]
    )
    entry = LivenessSessionAuditEntry.from_dict(audit_entry)
    body = entry.response.body
    assert body.signals == {"flash_timing": 0.91, "flash_shape": 1.0, "parallax": 0.4}
    assert all(isinstance(v, float) for v in body.signals.values())
    assert body.reasons == ("flash_timing_ok", "x")


def test_error_body_of_failed_attempt_is_kept() -> None:
    body = LivenessResponseBody.from_dict({"error": {"code": "FaceNotFound", "message": "no face"}})
    assert body.liveness_decision is None
    assert body.additional_properties["error"]["code"] == "FaceNotFound"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-15T20:01:22Z", datetime(2024, 5, 15, 20, 1, 22, tzinfo=UTC)),
        (
            "2024-05-15T22:01:22.5+02:00",
            datetime(2024, 5, 15, 22, 1, 22, 500000, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2024-05-15T20:01:22", datetime(2024, 5, 15, 20, 1, 22, tzinfo=UTC)),
    ],
)
def test_datetimes_parse_with_offset(session_json: dict[str, Any], text: str, expected: datetime) -> None:
    session_json["createdDateTime"] = text
    parsed = LivenessSessionItem.from_dict(session_json).created_date_time
    assert parsed == expected and parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), None),
        (("createdDateTime",), "yesterday"),
        (("sessionExpired",), "no"),
        (("result", "id"), "4"),
        (("result", "response", "statusCode"), True),
        (("result", "response", "body", "signals"), {"a": "high"}),
        (("result", "response", "body", "reasons"), "one"),
    ],
)
def test_malformed_fields_raise(session_json: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    target = session_json
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ResponseFormatError):
        LivenessSession.from_dict(session_json)


def test_missing_required_field_raises(session_json: dict[str, Any]) -> None:
    del session_json["status"]
    with pytest.raises(ResponseFormatError, match="status"):
        LivenessSession.from_dict(session_json)


def test_content_serialises_camel_case_and_drops_unset() -> None:
    content = CreateLivenessSessionContent(
        liveness_operation_mode=LivenessOperationMode.PASSIVE,
        device_correlation_id="dev-1",
        auth_token_time_to_live_in_seconds=120,
        device_correlation_id_set_in_client=False,
    )
    assert content.as_dict() == {
        "livenessOperationMode": "Passive",
        "deviceCorrelationId": "dev-1",
        "authTokenTimeToLiveInSeconds": 120,
        "deviceCorrelationIdSetInClient": False,
    }
    verify = CreateLivenessWithVerifySessionContent(
        liveness_operation_mode="PassiveActive",
        return_verify_image_hash=True,
        verify_confidence_threshold=0.7,
    )
    assert verify.as_dict() == {
        "livenessOperationMode": "PassiveActive",
        "returnVerifyImageHash": True,
        "verifyConfidenceThreshold": 0.7,
    }


def test_models_are_frozen() -> None:
    content = CreateLivenessSessionContent(liveness_operation_mode="Passive")
    with pytest.raises(AttributeError):
        content.device_correlation_id = "x"  # type: ignore[misc]


def test_create_result_hides_token_in_repr() -> None:
    result = CreateLivenessWithVerifySessionResult.from_dict({"sessionId": "s", "authToken": "secret-token"})
    assert "secret-token" not in repr(result)
    assert result.auth_token == "secret-token" and result.verify_image is None


def test_enums_format_as_their_wire_value() -> None:
    assert f"{FaceSessionStatus.RESULT_AVAILABLE}" == "ResultAvailable"
    assert LivenessOperationMode.PASSIVE_ACTIVE == "PassiveActive"
