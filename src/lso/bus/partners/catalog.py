"""What a partner's SONATA productCatalog tells us, reduced to what BUS decides with (MEF 55.0.1 §10.1).

An offering keeps its id, name, status, the configuration schema it sells (``@type`` URN) and its billing
terms (``productOfferingTerm``: duration and prices); a specification keeps the schema that defines the
product and its service level objectives. Catalog notifications re-read one offering or specification.
"""

from __future__ import annotations

from typing import Any

from lso.mef.store import Document


def offering_record(offering: Document) -> Document:
    """An offering as the partner record keeps it."""
    schema = (offering.get("productOfferingSpecificationSchema") or {}).get("schemaLocation")
    return {
        "id": offering["id"],
        "name": offering.get("name"),
        "lifecycleStatus": offering.get("lifecycleStatus"),
        "lastUpdate": offering.get("lastUpdate"),
        "productSpecification": (offering.get("productSpecification") or {}).get("id"),
        "productType": schema,
        "billingTerms": [_term(term) for term in offering.get("productOfferingTerm") or []],
        "region": [r.get("countryCode") for r in offering.get("region") or [] if isinstance(r, dict)],
    }


def specification_record(specification: Document) -> Document:
    """A specification as the partner record keeps it: its quality objectives are those of the schema
    it points at (the MEF product schemas carry the SLS), plus whatever the seller notes about them."""
    schema = (specification.get("sourceSchema") or {}).get("schemaLocation")
    return {
        "id": specification["id"],
        "name": specification.get("name"),
        "lifecycleStatus": specification.get("lifecycleStatus"),
        "lastUpdate": specification.get("lastUpdate"),
        "qualityObjectives": {
            "schema": schema,
            "notes": [n.get("text") for n in specification.get("note") or [] if isinstance(n, dict)],
        },
    }


def _term(term: dict[str, Any]) -> Document:
    return {
        "name": term.get("name"),
        "duration": term.get("duration"),
        "endOfTermAction": term.get("endOfTermAction"),
        "prices": [
            {
                "description": p.get("description"),
                "priceType": p.get("priceType"),
                "unitOfMeasure": p.get("unitOfMeasure"),
                "amount": ((p.get("price") or {}).get("dutyFreeAmount") or {}).get("value"),
                "currency": ((p.get("price") or {}).get("dutyFreeAmount") or {}).get("unit"),
            }
            for p in term.get("productOfferingPrice") or []
        ],
    }


def replace_record(records: list[Document], record: Document) -> list[Document]:
    """``records`` with ``record`` in place of the one with its id (or appended)."""
    kept = [r for r in records if r["id"] != record["id"]]
    return sorted([*kept, record], key=lambda r: str(r["id"]))
