"""The catalog's price rules: what an EPL, an EVPL, an Access E-Line OVC or a UNI costs, by bandwidth,
distance and term.

One table serves both sides: the catalog shows it as ``productOfferingTerm``/``productOfferingPrice``
entries, and quotes apply it to the buyer's configuration. An EVC's monthly recurring charge (MRC) is a
base charge plus a charge per Mbit/s of CIR and per km between its two sites (the distance the
serviceability check measured); a UNI's depends on its port speed. Longer terms lower the MRC and the
non-recurring charge (NRC).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lso.bus.products import ACCESS_ELINE_OVC, EPL_EVC, EVPL_EVC, UNI_TYPES

CURRENCY = "GBP"
TERMS_MONTHS = (12, 24, 36)
# The longer the commitment, the lower the monthly charge and the installation charge.
_MRC_FACTOR = {12: 1.0, 24: 0.9, 36: 0.8}
_NRC_FACTOR = {12: 1.0, 24: 0.5, 36: 0.0}


@dataclass(frozen=True)
class EvcRule:
    base_mrc: float
    mrc_per_mbps: float
    mrc_per_km: float
    nrc: float


@dataclass(frozen=True)
class UniRule:
    mrc_by_speed_mbps: dict[int, float]
    nrc: float


EVC_RULES = {
    EPL_EVC: EvcRule(base_mrc=300.0, mrc_per_mbps=2.0, mrc_per_km=1.5, nrc=1500.0),
    EVPL_EVC: EvcRule(base_mrc=200.0, mrc_per_mbps=1.6, mrc_per_km=1.2, nrc=1000.0),
    # Wholesale (SONATA): the buyer provider carries the service to its own customer past the ENNI.
    ACCESS_ELINE_OVC: EvcRule(base_mrc=150.0, mrc_per_mbps=1.0, mrc_per_km=0.8, nrc=600.0),
}
UNI_RULE = UniRule(mrc_by_speed_mbps={100: 80.0, 1000: 150.0, 10000: 400.0}, nrc=750.0)
DEFAULT_UNI_SPEED_MBPS = 1000


@dataclass(frozen=True)
class Charges:
    """What one product costs for one term: a monthly recurring and a one-off non-recurring charge."""

    mrc: float
    nrc: float


def evc_charges(product_type: str, cir_mbps: float, distance_km: float, term_months: int) -> Charges:
    rule = EVC_RULES[product_type]
    mrc = rule.base_mrc + rule.mrc_per_mbps * cir_mbps + rule.mrc_per_km * distance_km
    return Charges(_money(mrc * _MRC_FACTOR[term_months]), _money(rule.nrc * _NRC_FACTOR[term_months]))


def uni_charges(speed_mbps: int | None, term_months: int) -> Charges:
    """A UNI is priced by the smallest port tier that carries ``speed_mbps``."""
    speed = speed_mbps or DEFAULT_UNI_SPEED_MBPS
    tier = min((s for s in UNI_RULE.mrc_by_speed_mbps if s >= speed), default=max(UNI_RULE.mrc_by_speed_mbps))
    mrc = UNI_RULE.mrc_by_speed_mbps[tier] * _MRC_FACTOR[term_months]
    return Charges(_money(mrc), _money(UNI_RULE.nrc * _NRC_FACTOR[term_months]))


def _money(amount: float) -> float:
    return round(amount, 2)


def _price(amount: float) -> dict[str, Any]:
    return {"dutyFreeAmount": {"unit": CURRENCY, "value": amount}}


MONTHLY = {"amount": 1, "units": "months"}


def quote_prices(charges: Charges) -> list[dict[str, Any]]:
    """The ``quoteItemPrice`` entries of ``charges``."""
    return [
        {
            "name": "Monthly recurring charge",
            "priceType": "recurring",
            "recurringChargePeriod": MONTHLY,
            "price": _price(charges.mrc),
        },
        {"name": "Installation charge", "priceType": "nonRecurring", "price": _price(charges.nrc)},
    ]


def item_term(months: int) -> dict[str, Any]:
    """An MEFItemTerm of ``months``, rolling monthly at its end."""
    return {
        "name": f"{months} months",
        "duration": {"amount": months, "units": "months"},
        "endOfTermAction": "roll",
        "rollInterval": MONTHLY,
    }


def offering_terms(product_type: str, last_update: str) -> list[dict[str, Any]]:
    """The price rules of ``product_type`` as catalog ``productOfferingTerm`` entries, one per term."""
    return [
        {**item_term(months), "productOfferingPrice": _offering_prices(product_type, months, last_update)}
        for months in TERMS_MONTHS
    ]


def _offering_prices(product_type: str, months: int, last_update: str) -> list[dict[str, Any]]:
    common = {"lastUpdate": last_update, "validFor": {"startDateTime": last_update}}
    mrc, nrc = _MRC_FACTOR[months], _NRC_FACTOR[months]

    def recurring(description: str, amount: float, unit: str | None = None) -> dict[str, Any]:
        price = {**common, "description": description, "priceType": "recurring", "price": _price(amount)}
        price["recurringChargePeriod"] = MONTHLY
        if unit:
            price["unitOfMeasure"] = unit
        return price

    if product_type in UNI_TYPES:
        prices = [
            recurring(f"Monthly charge of a {speed} Mbit/s UNI port", _money(amount * mrc), "port")
            for speed, amount in UNI_RULE.mrc_by_speed_mbps.items()
        ]
        installation = UNI_RULE.nrc
    else:
        rule = EVC_RULES[product_type]
        prices = [
            recurring("Monthly base charge", _money(rule.base_mrc * mrc)),
            recurring("Monthly charge per Mbit/s of CIR", _money(rule.mrc_per_mbps * mrc), "Mbit/s"),
            recurring("Monthly charge per km between the two sites", _money(rule.mrc_per_km * mrc), "km"),
        ]
        installation = rule.nrc
    one_off = {**common, "description": "Installation charge", "priceType": "nonRecurring"}
    return [*prices, {**one_off, "price": _price(_money(installation * nrc))}]
