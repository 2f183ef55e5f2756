"""An IFDV frame pair that straddles a measurement interval boundary is counted end to end (sim): ECM's
model reports it apart from the pairs inside the interval (``ifdv_straddling_*``), ADAGIO and PRESTO
pass it on, SOF stores it and counts it over a period that holds both of its frames — and not over a
period that starts between them (MEF 10.4 §8.8.5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from lso.db import Database
from lso.settings import Settings
from lso.sof.assurance import measurement_store, series
from lso.sof.assurance.intervals import measure_series
from tests.harness import wait_until
from tests.sof.assurance.sls_orders import active_evc, sls_of, with_sls
from tests.sof.orders import epl_order

DELTA_TAU_MS = 500  # the test domain measures 1-s intervals: half of a pair's frames straddle a start
IFDV = {
    "orderedPairList": [{"fromCarrierEthernetServiceEndPoint": "A", "toCarrierEthernetServiceEndPoint": "Z"}],
    "timeDuration": {"timeDurationValue": DELTA_TAU_MS, "timeDurationUnits": "MS"},
    "oneWayIfdvPercentile": 99.0,
    "oneWayIfdvObjective": {"timeDurationValue": 5, "timeDurationUnits": "MS"},
}
SLS = sls_of(consecutive_intervals=2, oneWayInterFrameDelayVariationPmMetric=[IFDV])


@pytest.fixture
def store(domain: Settings) -> Iterator[Database]:
    db = Database(domain.database_url)
    yield db
    db.dispose()


def three_in_a_row(store: Database, service_id: str) -> tuple[series.IntervalSeries, int] | None:
    """A stored series of the service and the start of three consecutive intervals of it."""
    with store.read() as session:
        found = measurement_store.read_service(session, service_id, 0, 2**40)
    for one in found:
        starts = one.records["start"]
        step = one.profile.interval_s
        consecutive = np.flatnonzero(starts[2:] - starts[:-2] == 2 * step)
        if consecutive.size:
            return one, int(starts[consecutive[0]])
    return None


def test_a_pair_straddling_an_interval_boundary_is_counted_end_to_end(
    bus: httpx.Client,
    store: Database,
    terminated: Any,
) -> None:
    evc = terminated(active_evc(bus, with_sls(epl_order(), SLS)))
    one, begin = wait_until(lambda: three_in_a_row(store, evc["id"]), timeout=30)
    step = one.profile.interval_s
    assert one.profile.ifdv_delta_tau_us == DELTA_TAU_MS * 1000
    frames_per_tau = DELTA_TAU_MS * 100 // 1000  # ECM probes every 10 ms
    in_t = one.records[(one.records["start"] >= begin) & (one.records["start"] < begin + 3 * step)]
    inside = in_t["ifdv_bins"].sum(axis=1)
    straddling = in_t["ifdv_straddling_bins"].sum(axis=1)
    # Every interval's first Δτ of frames pairs with the previous interval's last: reported, binned.
    assert list(straddling) == [frames_per_tau] * 3, in_t
    assert list(inside) == [step * 100 - frames_per_tau] * 3
    assert (in_t["ifdv_straddling_max_us"] > 0).all()

    # Over T of all three, the pairs straddling the second and third starts count (both frames in T).
    whole = measure_series(one, 2, begin, begin + 3 * step, ())
    assert int(whole.ifdv_bins.sum()) == int(inside.sum() + straddling[1:].sum())
    # Over T from the second interval on, the pairs straddling its start do not (one frame is before T).
    later = measure_series(one, 2, begin + step, begin + 3 * step, ())
    assert int(later.ifdv_bins.sum()) == int(inside[1:].sum() + straddling[2:].sum())
