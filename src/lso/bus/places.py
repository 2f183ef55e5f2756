"""The provider's known geographic addresses and sites, and how a buyer's address is matched to them.

Address validation, the site search and serviceability all need the same answer to "which of our
addresses is this?", so the matching lives here once. Addresses and sites are seeded from the footprint
into BUS's own store; matching reads the store, so a deployment with its own footprint file just works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy.orm import Session

from lso.bus.irp import SellerIrp
from lso.footprint import Footprint, Site
from lso.mef.store import Document, Store

addresses = Store("bus.geographicAddress", "geographicAddress")
sites = Store("bus.geographicSite", "geographicSite")

# The fielded properties compared, with how much each says about identity.
_WEIGHTS = {
    "streetNr": 1.0,
    "streetName": 2.0,
    "streetType": 0.5,
    "city": 1.0,
    "postcode": 2.0,
    "countryCode": 0.5,
}
_SPECIFIC = {"streetName", "postcode"}  # a query naming neither cannot single out one address
_ABBREVIATIONS = {"st": "street", "rd": "road", "pl": "place", "ave": "avenue", "sq": "square", "ln": "lane"}
_SIMILAR = 0.75  # below this a misspelt value no longer counts as the same
BEST_MATCH = 0.8
ALTERNATE = 0.4


def address_id(site: Site) -> str:
    return "addr-" + site.id.removeprefix("site-")


def seed(session: Session, footprint: Footprint, provider: str) -> None:
    """Write the footprint's addresses and sites (again on every start: the footprint may have changed)."""
    for site in footprint.sites:
        _upsert(session, addresses, _address_doc(site))
        _upsert(session, sites, _site_doc(site, provider))


def _upsert(session: Session, store: Store, doc: Document) -> None:
    if store.find(session, doc["id"]) is None:
        store.add(session, doc)
    elif store.find(session, doc["id"]) != doc:
        store.put(session, doc)


def _address_doc(site: Site) -> Document:
    a = site.address
    formatted = f"{a.street_nr} {a.street_name} {a.street_type}, {a.city} {a.postcode}, {a.country}"
    return {
        "id": address_id(site),
        "@type": "GeographicAddress",
        "hasPublicSite": "true",
        "allowsNewSite": "false",  # buyers connect at our data-centre site, not at a site of their own
        "fieldedAddressRepresentation": [
            {
                "streetNr": a.street_nr,
                "streetName": a.street_name,
                "streetType": a.street_type,
                "city": a.city,
                "postcode": a.postcode,
                "countryCode": a.country,
            }
        ],
        "formattedAddressRepresentation": [{"formattedAddress": formatted}],
        "geographicPointRepresentation": [
            {"spatialRef": "WGS84", "latitude": f"{site.latitude:.4f}", "longitude": f"{site.longitude:.4f}"}
        ],
    }


def _site_doc(site: Site, provider: str) -> Document:
    return {
        "id": site.id,
        "@type": "GeographicSite",
        "name": site.name,
        "administrativeAuthority": provider,
        "customerName": provider,
        "siteRestrictionType": "public",
        "networkType": "onNet",
        "subUnit": [],
        "place": {"@type": "GeographicAddressRef", "id": address_id(site)},
    }


def with_href(doc: Document, base_url: str, irp: SellerIrp) -> Document:
    """A stored address or site as served on ``irp``: ``href``s are absolute and the base URL is the
    server's own."""
    addresses = f"{base_url}{irp.path('geographicAddressManagement')}/geographicAddress"
    is_address = doc["@type"] == "GeographicAddress"
    path = addresses if is_address else f"{base_url}{irp.path('geographicSiteManagement')}/geographicSite"
    served = {**doc, "href": f"{path}/{doc['id']}"}
    if "place" in doc:
        served["place"] = {**doc["place"], "href": f"{addresses}/{doc['place']['id']}"}
    return served


@dataclass(frozen=True)
class AddressMatch:
    """The outcome of matching one submitted address: a best match (or none) and the alternates."""

    best: Document | None
    alternates: list[Document]


def match_address(session: Session, query: dict[str, Any]) -> AddressMatch:
    """Match a ``GeographicAddress_Query`` against the known addresses.

    Fielded representations are compared property by property, tolerating case, punctuation, common
    street-type abbreviations and small misspellings; a formatted representation is compared as words.
    The best match must be specific (street name or postcode given), score at least ``BEST_MATCH`` and
    beat every other address; the others that score ``ALTERNATE`` or more are alternates.
    """
    scored = sorted(((_score(query, known), known) for known in addresses.all(session)), key=lambda s: -s[0])
    scored = [(score, known) for score, known in scored if score >= ALTERNATE]
    if not scored:
        return AddressMatch(None, [])
    top_score, top = scored[0]
    unique = len(scored) == 1 or scored[1][0] < top_score
    if top_score >= BEST_MATCH and unique and _is_specific(query):
        return AddressMatch(top, [known for _, known in scored[1:]])
    return AddressMatch(None, [known for _, known in scored])


def _is_specific(query: dict[str, Any]) -> bool:
    fielded = (query.get("fieldedAddressRepresentation") or [{}])[0]
    return bool(_SPECIFIC & {k for k, v in fielded.items() if v}) or bool(
        query.get("formattedAddressRepresentation")
    )


def _score(query: dict[str, Any], known: Document) -> float:
    scores = []
    for fielded in query.get("fieldedAddressRepresentation") or []:
        scores.append(_fielded_score(fielded, known["fieldedAddressRepresentation"][0]))
    for formatted in query.get("formattedAddressRepresentation") or []:
        scores.append(_formatted_score(formatted.get("formattedAddress", ""), known))
    return max(scores, default=0.0)


def _fielded_score(query: dict[str, Any], known: dict[str, str]) -> float:
    weight = total = 0.0
    for name, importance in _WEIGHTS.items():
        asked = query.get(name)
        if not isinstance(asked, str) or not asked.strip():
            continue
        weight += importance
        total += importance * _similarity(_normal(name, asked), _normal(name, known.get(name, "")))
    return total / weight if weight else 0.0


def _formatted_score(text: str, known: Document) -> float:
    asked = set(_words(text))
    have = set(_words(known["formattedAddressRepresentation"][0]["formattedAddress"]))
    return len(asked & have) / len(asked | have) if asked else 0.0


def _similarity(asked: str, known: str) -> float:
    if asked == known:
        return 1.0
    ratio = SequenceMatcher(None, asked, known).ratio()
    return ratio if ratio >= _SIMILAR else 0.0


def _normal(name: str, value: str) -> str:
    if name == "postcode":
        return re.sub(r"\s+", "", value).upper()
    return " ".join(_words(value))


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [_ABBREVIATIONS.get(word, word) for word in words]


def site_of_address(session: Session, address: str) -> Document | None:
    """The known site at address ``address`` (each on-net address has exactly one)."""
    return next((site for site in sites.all(session) if site["place"]["id"] == address), None)
