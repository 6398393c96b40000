"""Session auth tokens: HMAC-signed JWTs naming one session and its kind, expiring with the session's TTL."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jwt

from openliveness.domain import SessionKind, SessionRecord
from openliveness.errors import Unauthorized

__all__ = ["TokenClaims", "TokenSigner", "load_or_create_secret"]

_AUDIENCE = "openliveness:session-client"
_ALGORITHM = "HS256"
_MIN_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class TokenClaims:
    session_id: str
    kind: SessionKind
    expires_at: datetime


class TokenSigner:
    """Issues and checks session tokens. The signature alone is not enough: callers must also check that the
    session still exists, which is how DELETE revokes a token at once."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < _MIN_SECRET_BYTES:
            raise ValueError(f"the token secret must be at least {_MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def issue(self, session: SessionRecord) -> str:
        claims = {
            "sid": session.id,
            "knd": session.kind.value,
            "aud": _AUDIENCE,
            "iat": int(session.created_at.timestamp()),
            "exp": int(session.token_expires_at.timestamp()),
            # Unique per token, so two sessions created in the same second never share a token shape.
            "jti": secrets.token_urlsafe(8),
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str, *, now: datetime | None = None) -> TokenClaims:
        """Check signature, audience and expiry; raise `Unauthorized` for anything else than a valid token."""
        if not token or len(token) > 2048:
            raise Unauthorized("The session token is missing or malformed.")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=_AUDIENCE,
                options={"require": ["sid", "knd", "exp", "aud"], "verify_exp": False, "verify_iat": False},
            )
            kind = SessionKind(claims["knd"])
            expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
            session_id = str(claims["sid"])
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
            raise Unauthorized("The session token is invalid.") from exc
        # Time is checked here against the service clock (not PyJWT's), so the service and tests agree on "now".
        if (now or datetime.now(UTC)) >= expires_at:
            raise Unauthorized("The session token has expired.")
        return TokenClaims(session_id=session_id, kind=kind, expires_at=expires_at)


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """The configured secret, else the one kept in `<data_dir>/token-secret`, created on first use (mode 600)."""
    if configured:
        return configured.encode()
    path = data_dir / "token-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; read its secret below
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    secret = path.read_text().strip().encode()
    if len(secret) < _MIN_SECRET_BYTES:
        raise ValueError(f"{path} holds a secret shorter than {_MIN_SECRET_BYTES} bytes")
    return secret
