"""OAuth 2.0 client credentials (RFC 6749 §4.4) and the JWT access tokens they buy.

Each client belongs to a party; a token names the party (``sub``) and its scopes. Every MEF endpoint
asks :func:`caller` for the party of the request, and every resource is scoped to that party.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from lso.db import Base, Database
from lso.mef.errors import MefError
from lso.mef.http import MefResponse

TOKEN_LIFETIME_S = 3600
ALGORITHM = "HS256"
VERIFIED_TOKENS = 10_000
"""Verified tokens remembered at most (one or a few per client an hour)."""


class OAuthClient(Base):
    __tablename__ = "oauth_client"

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(256))
    party_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))


@dataclass(frozen=True)
class Caller:
    """The authenticated party of a request and what it may do."""

    party_id: str
    role: str  # "customer", "buyer" (a provider buying over SONATA/INTERLUDE), "admin" or "internal"

    @property
    def is_internal(self) -> bool:
        return self.role == "internal"


def hash_secret(secret: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), 10_000).hex()
    return f"{salt}${digest}"


def _matches(secret: str, stored: str) -> bool:
    salt, _, _digest = stored.partition("$")
    return hmac.compare_digest(hash_secret(secret, salt), stored)


def register_client(session: Session, client_id: str, secret: str, party_id: str, role: str) -> None:
    """Create or update a client; idempotent so seeding on every start is safe."""
    client = session.get(OAuthClient, client_id)
    if client is None:
        session.add(
            OAuthClient(client_id=client_id, secret_hash=hash_secret(secret), party_id=party_id, role=role)
        )
    elif not _matches(secret, client.secret_hash) or client.party_id != party_id or client.role != role:
        client.secret_hash, client.party_id, client.role = hash_secret(secret), party_id, role


def internal_secret(jwt_secret: str, entity: str) -> str:
    """The client secret of one of this domain's own entities, derived so nothing extra is stored."""
    return hmac.new(jwt_secret.encode(), f"entity:{entity}".encode(), hashlib.sha256).hexdigest()


class TokenService:
    """Issues and verifies this domain's access tokens."""

    def __init__(self, db: Database, secret: str, issuer: str) -> None:
        self.db = db
        self.secret = secret
        self.issuer = issuer
        self._clients: dict[str, tuple[str, Caller]] = {}
        self._verified: dict[str, tuple[Caller, float]] = {}

    def authenticate(self, client_id: str, client_secret: str) -> Caller:
        cached = self._clients.get(client_id)
        if cached and hmac.compare_digest(cached[0], client_secret):
            return cached[1]
        with self.db.read() as session:
            client = session.get(OAuthClient, client_id)
            if client is None or not _matches(client_secret, client.secret_hash):
                raise MefError(401, "Unknown client or wrong secret", code="invalidCredentials")
            caller = Caller(party_id=client.party_id, role=client.role)
        self._clients[client_id] = (client_secret, caller)
        return caller

    def issue(self, caller: Caller) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": caller.party_id,
            "role": caller.role,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Caller:
        """The caller a token names. A token is checked once and then known until it expires: an entity
        sends the same token for an hour, and decoding it on each of its requests was a measurable part of
        what a request costs."""
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        try:
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM], issuer=self.issuer)
        except jwt.PyJWTError as exc:
            self._verified.pop(token, None)
            raise MefError(401, f"Invalid access token: {exc}", code="invalidCredentials") from exc
        caller = Caller(party_id=claims["sub"], role=claims["role"])
        if "exp" in claims:
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.clear()  # mostly tokens of clients long gone: the live ones are decoded again
            self._verified[token] = (caller, float(claims["exp"]))
        return caller


def token_router(tokens: TokenService) -> APIRouter:
    router = APIRouter()

    @router.post("/oauth2/token", tags=["security"])
    async def token(request: Request) -> MefResponse:
        form = await request.form()
        client_id, client_secret = _basic_credentials(request) or (
            str(form.get("client_id") or ""),
            str(form.get("client_secret") or ""),
        )
        if form.get("grant_type") != "client_credentials":
            return MefResponse({"error": "unsupported_grant_type"}, status_code=400)
        if not client_id:
            return MefResponse({"error": "invalid_client"}, status_code=401)
        try:
            caller = await run_in_threadpool(tokens.authenticate, client_id, client_secret)
        except MefError:
            return MefResponse({"error": "invalid_client"}, status_code=401)
        body = {"access_token": tokens.issue(caller), "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S}
        return MefResponse(body, headers={"Cache-Control": "no-store"})

    return router


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return client_id, secret


# The dependencies below are coroutines: they do not block, and a plain function dependency would cost every
# request a hop to the thread pool and back (two for InternalDep) before its handler starts.
async def _caller(request: Request) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise MefError(401, "An OAuth2 bearer access token is required", code="missingCredentials")
    tokens: TokenService = request.app.state.tokens
    return tokens.verify(token)


async def _internal(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    if not caller.is_internal:
        raise MefError(403, "This interface serves the domain's own entities only", code="accessDenied")
    return caller


CallerDep = Annotated[Caller, Depends(_caller)]
"""Any authenticated party: customers, partners and internal entities."""

InternalDep = Annotated[Caller, Depends(_internal)]
"""Only this domain's own entities (LEGATO, PRESTO, ADAGIO are internal reference points)."""
