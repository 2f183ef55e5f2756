"""Placeholder until this CANTATA API is built."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.entity import EntityContext


def router(ctx: EntityContext) -> APIRouter:
    return APIRouter()


def start(ctx: EntityContext) -> None:
    """Nothing to start yet."""


def seed_demo(session: Session, ctx: EntityContext) -> None:
    """Nothing to seed yet."""
