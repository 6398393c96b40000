"""The session service layer: lifecycle, tokens, API keys, attempts and audit entries."""

from openliveness.sessions.keys import ApiKeyService, NewApiKey
from openliveness.sessions.service import (
    CreatedSession,
    ReferenceAnalyzer,
    SessionParameters,
    SessionService,
    SessionView,
)
from openliveness.sessions.tokens import TokenClaims, TokenSigner, load_or_create_secret

__all__ = [
    "ApiKeyService",
    "CreatedSession",
    "NewApiKey",
    "ReferenceAnalyzer",
    "SessionParameters",
    "SessionService",
    "SessionView",
    "TokenClaims",
    "TokenSigner",
    "load_or_create_secret",
]
