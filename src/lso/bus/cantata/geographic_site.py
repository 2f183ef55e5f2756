"""CANTATA and SONATA Geographic Site Management v8: the provider's sites (from the footprint), searched
by the address they are at and read by id."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lso.bus import places
from lso.bus.irp import SellerIrp
from lso.entity import EntityContext
from lso.footprint import named_footprint
from lso.mef.body import JsonBody, parse_model
from lso.mef.errors import Issue, unprocessable
from lso.mef.http import MefResponse
from lso.mef.paging import page_of, page_response
from lso.mef.store import Document
from lso.security.tokens import CallerDep


class SiteQuery(BaseModel):
    """GeographicSite_Query: a place (address ref or query) and optional site properties to match."""

    model_config = ConfigDict(extra="forbid")
    place: dict[str, Any]
    name: str | None = None
    administrativeAuthority: str | None = None
    customerName: str | None = None
    siteRestrictionType: Literal["public", "private"] | None = None
    networkType: Literal["offNet", "onNet"] | None = None
    subUnit: list[dict[str, Any]] | None = None


class AddressRef(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: Literal["GeographicAddressRef"] = Field(alias="@type")
    id: str


def router(ctx: EntityContext, irp: SellerIrp) -> APIRouter:
    api = irp.router("geographicSiteManagement")

    @api.post("/geographicSite")
    def list_geographic_site(request: Request, body: JsonBody, _caller: CallerDep) -> MefResponse:
        page = page_of(request, set())
        query = parse_model(SiteQuery, body)
        with ctx.db.read() as session:
            found = [s for s in _sites_at(session, query.place) if _selected(s, query)]
        items = [places.with_href(site, ctx.settings.base_url, irp) for site in found]
        return page_response(items[page.offset : page.offset + page.limit], len(items), page)

    @api.get("/geographicSite/{site_id}")
    def retrieve_geographic_site(site_id: str, _caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            site = places.sites.get(session, site_id)
        return MefResponse(places.with_href(site, ctx.settings.base_url, irp))

    return api


def _sites_at(session: Session, place: dict[str, Any]) -> list[Document]:
    """The sites at an address reference, or at the addresses an address query matches (best first)."""
    kind = place.get("@type")
    if kind == "GeographicAddressRef":
        ref = parse_model(AddressRef, place, "/place")
        site = places.site_of_address(session, ref.id)
        return [site] if site else []
    if kind == "GeographicAddress_Query":
        match = places.match_address(session, place)
        matched = ([match.best] if match.best else []) + match.alternates
        return [s for a in matched if (s := places.site_of_address(session, a["id"])) is not None]
    raise unprocessable(
        Issue("/place/@type", "place is a GeographicAddressRef or a GeographicAddress_Query", "invalidValue")
    )


def _selected(site: Document, query: SiteQuery) -> bool:
    wanted = query.model_dump(exclude={"place", "subUnit"}, exclude_none=True)
    return all(site.get(name) == value for name, value in wanted.items())


def seed_demo(session: Session, ctx: EntityContext) -> None:
    places.seed(session, named_footprint(ctx.settings.footprint), ctx.settings.name)
