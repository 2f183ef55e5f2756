"""A verified access token is remembered until it expires, then checked again; a refused one never is."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from lso.mef.errors import MefError
from lso.security import tokens
from lso.security.tokens import Caller, TokenService

SECRET = "test-secret-of-at-least-32-bytes-for-hs256"
ISSUER = "http://issuer.test"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens of :data:`ISSUER` :func:`jwt.decode` was asked to check, in order (a domain served by
    this process meanwhile checks its own, also on the clock a test moves)."""
    seen: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        if decode(token, options={"verify_signature": False}).get("iss") == ISSUER:
            seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counted)
    return seen


def _service() -> TokenService:
    return TokenService(db=None, secret=SECRET, issuer=ISSUER)  # type: ignore[arg-type]  # verify needs no db


def test_a_token_is_decoded_once_while_it_is_valid(decodes: list[str]) -> None:
    service = _service()
    token = service.issue(Caller("lso-sof", "internal"))
    assert [service.verify(token) for _ in range(3)] == [Caller("lso-sof", "internal")] * 3
    assert decodes == [token]


def test_a_remembered_token_is_checked_again_once_expired(
    decodes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service()
    token = service.issue(Caller("acme", "customer"))
    service.verify(token)
    later = time.time() + tokens.TOKEN_LIFETIME_S + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    service.verify(token)  # PyJWT's own clock still finds it valid: what matters is that it was asked again
    assert decodes == [token, token]


def test_a_refused_token_is_not_remembered(decodes: list[str]) -> None:
    service = _service()
    forged = jwt.encode(
        {"iss": ISSUER, "sub": "acme", "role": "internal", "exp": time.time() + 60},
        "another-secret-of-32-bytes-or-more",
    )
    for _ in range(2):
        with pytest.raises(MefError):
            service.verify(forged)
    assert decodes == [forged, forged]
