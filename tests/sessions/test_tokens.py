"""Session tokens: only an unexpired token signed with our secret, for the right kind, passes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from openliveness.domain import LivenessOperationMode, SessionKind, SessionRecord
from openliveness.errors import Unauthorized
from openliveness.sessions import TokenSigner, load_or_create_secret

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SECRET = b"s" * 48


def session(kind: SessionKind = SessionKind.LIVENESS) -> SessionRecord:
    return SessionRecord(
        id="6c0b4b5e-7d5e-4f5b-9d2a-3f1e2d3c4b5a",
        kind=kind,
        created_at=NOW,
        token_expires_at=NOW + timedelta(seconds=600),
        expires_at=NOW + timedelta(hours=48),
        auth_token_ttl_seconds=600,
        operation_mode=LivenessOperationMode.PASSIVE,
        send_results_to_client=False,
        device_correlation_id="d",
        device_correlation_id_set_in_client=False,
        enable_session_image=False,
        liveness_model=None,
    )


def test_round_trip_and_expiry() -> None:
    signer = TokenSigner(SECRET)
    token = signer.issue(session())
    claims = signer.verify(token, now=NOW + timedelta(seconds=599))
    assert claims.session_id == session().id and claims.kind is SessionKind.LIVENESS
    with pytest.raises(Unauthorized, match="expired"):
        signer.verify(token, now=NOW + timedelta(seconds=600))


def test_tokens_are_unique_per_issue() -> None:
    signer = TokenSigner(SECRET)
    assert signer.issue(session()) != signer.issue(session())


def _tamper(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "make",
    [
        lambda t: _tamper(t, sid="another-session"),
        lambda t: _tamper(t, exp=2**40),
        lambda t: TokenSigner(b"x" * 48).issue(session()),
        lambda t: jwt.encode(
            {"sid": "a", "knd": "detectLiveness", "aud": "openliveness:session-client", "exp": 2**40},
            key="",
            algorithm="none",
        ),
        lambda t: jwt.encode({"sid": "a", "knd": "detectLiveness", "exp": 2**40}, SECRET, algorithm="HS256"),
        lambda t: jwt.encode(
            {"sid": "a", "knd": "bogus", "aud": "openliveness:session-client", "exp": 2**40},
            SECRET,
            algorithm="HS256",
        ),
        lambda t: t[:-3],
        lambda t: "",
        lambda t: "a.b.c",
        lambda t: "x" * 5000,
    ],
    ids=[
        "other-sid",
        "longer-exp",
        "other-secret",
        "alg-none",
        "no-audience",
        "bad-kind",
        "cut",
        "empty",
        "junk",
        "huge",
    ],
)
def test_forged_tokens_are_refused(make) -> None:
    signer = TokenSigner(SECRET)
    with pytest.raises(Unauthorized):
        signer.verify(make(signer.issue(session())), now=NOW)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenSigner(b"short")


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create_secret(None, tmp_path)
    assert load_or_create_secret(None, tmp_path) == first
    assert len(first) >= 32
    assert (tmp_path / "token-secret").stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret("c" * 40, tmp_path) == b"c" * 40
