"""On the linux data plane too, an interval's record carries the IFDV pairs straddling its start: the real
frames of the Δτ before it (sent by the stream, in the previous interval) paired with its first ones."""

from __future__ import annotations

import time

from lso.ecm.drivers.linux.driver import LinuxDriver
from tests.ecm.linux.conftest import database, driver, prefix  # noqa: F401 (the linux driver fixtures)
from tests.ecm.linux.test_monitoring import INTERVAL_S, PROFILE, RATE, _monitored
from tests.harness import wait_until


def test_real_frames_straddling_an_interval_start_are_paired(driver: LinuxDriver) -> None:  # noqa: F811
    _monitored(driver)
    # An interval starting after the stream's first one: the frames before its start were sent.
    since = int(time.time()) + 2 * INTERVAL_S
    later = wait_until(lambda: driver.oam_intervals("pm-1", since)["interval"], timeout=6 * INTERVAL_S)[0]
    gap = PROFILE.ifdvDeltaTauUs * RATE // 1_000_000
    frames = INTERVAL_S * RATE
    assert later["delivered"] == later["offered"] == frames
    assert sum(later["ifdv_straddling_bins"]) == gap
    assert sum(later["ifdv_bins"]) == frames - gap
    assert 0 <= later["ifdv_straddling_max_us"] < 100_000
