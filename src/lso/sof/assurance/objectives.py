"""What an EVC service's SLS promises and whether a measurement keeps the promise (MEF 55.0.1 §10.6 step 3).

The objectives come from the service's ``carrierEthernetServiceLevelSpecification`` (MEF 101, mapped by
BUS from the EPL product's ``carrierEthernetSls``), read by ``metrics.sls_objectives``. A measurement
here is one OAM round per ordered pair of UNIs — mean one-way frame delay, mean inter-frame delay
variation and frame loss ratio — so it checks the delay, mean delay, IFDV and FLR objectives of every CoS
Name (against the mean, the round's best estimate). Range, availability and HLI objectives need interval
series over the SLS period (MEF 10.4 §8.8; ``metrics.assess``); one round cannot decide them, so they are
left to the performance reports rather than guessed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.mef.store import Document
from lso.sof.assurance.metrics import SlsObjective, sls_objectives

# metric (metrics.sls_objectives' name) → what of a measurement round it bounds
_MEASURED = {
    "oneWayFrameDelay": "frameDelayMs",
    "oneWayMeanFrameDelay": "frameDelayMs",
    "oneWayInterFrameDelayVariation": "frameDelayVariationMs",
    "oneWayFrameLossRatio": "frameLossRatio",
}


@dataclass(frozen=True)
class Objective:
    """One performance objective of one CoS Name: ``measured`` must not exceed ``limit``."""

    metric: str
    cos_name: str
    measured: str
    limit: float


@dataclass(frozen=True)
class PairMeasurement:
    """One OAM round between two UNIs (``element/port``), as ICM reports it."""

    a_end: str
    z_end: str
    frame_delay_ms: float
    frame_delay_variation_ms: float
    frame_loss_ratio: float

    def wire(self) -> Document:
        return {
            "aEnd": self.a_end,
            "zEnd": self.z_end,
            "frameDelayMs": self.frame_delay_ms,
            "frameDelayVariationMs": self.frame_delay_variation_ms,
            "frameLossRatio": self.frame_loss_ratio,
        }


def sls_of(service: Document) -> Document | None:
    sls = (service.get("serviceConfiguration") or {}).get("carrierEthernetServiceLevelSpecification")
    return sls if isinstance(sls, dict) else None


def objectives_of(service: Document) -> list[Objective]:
    """The objectives a measurement round can check, for every CoS Name of the service's SLS."""
    sls = sls_of(service)
    if sls is None:
        return []
    return [
        Objective(o.metric, o.cos.cos_name, _MEASURED[o.metric], _limit(o))
        for o in sls_objectives(sls)
        if o.metric in _MEASURED
    ]


def _limit(objective: SlsObjective) -> float:
    if objective.metric == "oneWayFrameLossRatio":
        return objective.objective / 100  # the SLS states FLR as a percentage
    return objective.objective / 1000  # µs as metrics.py reads durations → ms as OAM reports delay


def breaches(measurements: list[PairMeasurement], objectives: list[Objective]) -> list[Document]:
    """Every (pair, objective) whose measured value exceeds the objective, with both values."""
    found: list[Document] = []
    for measurement in measurements:
        values = measurement.wire()
        for objective in objectives:
            value = float(values[objective.measured])
            if value > objective.limit:
                found.append(
                    {
                        "metric": objective.metric,
                        "cosName": objective.cos_name,
                        "aEnd": measurement.a_end,
                        "zEnd": measurement.z_end,
                        "measured": round(value, 6),
                        "objective": objective.limit,
                    }
                )
    return found
