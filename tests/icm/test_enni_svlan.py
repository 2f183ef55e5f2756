"""PRESTO ``lso-allocate-service-interface-point`` with ``s-vlan-id``: ICM reserves exactly the S-VLAN a
caller names at an ENNI (both networks of the ENNI must map the OVC to it) or answers 409 saying why."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from lso.settings import Settings
from lso.sof.presto_client import PrestoClient, PrestoError
from tests.harness import internal_client

ENNI = "enni-carrier-x-1"  # S-VLANs 100-199 in the demo footprint
S_VLAN = 150  # mid-range: BUS states S-VLANs from the top down, ICM's pool hands them out from the bottom


@pytest.fixture
def presto(domain: Settings) -> Iterator[PrestoClient]:
    with internal_client(domain, "sof") as http:
        yield PrestoClient(http)


def test_a_named_s_vlan_is_reserved_exactly_once(presto: PrestoClient) -> None:
    key = uuid.uuid4().hex
    try:
        sip = presto.allocate_sip(ENNI, key, 100, S_VLAN)
        assert (sip.s_vlan_id, sip.site_id) == (S_VLAN, ENNI)
        assert presto.allocate_sip(ENNI, key, 100, S_VLAN) == sip  # a retried step gets the same SIP
        with pytest.raises(PrestoError) as taken:
            presto.allocate_sip(ENNI, f"{key}-other", 100, S_VLAN)
        assert taken.value.status == 409
        assert f"S-VLAN {S_VLAN} at ENNI {ENNI} is taken by {key}" in taken.value.reason
        with pytest.raises(PrestoError) as moved:  # one key, one S-VLAN
            presto.allocate_sip(ENNI, key, 100, S_VLAN + 1)
        assert moved.value.status == 409 and f"holds S-VLAN {S_VLAN}" in moved.value.reason
    finally:
        presto.release_sip(key)
    other = f"{key}-after"
    assert presto.allocate_sip(ENNI, other, 100, S_VLAN).s_vlan_id == S_VLAN  # free again once released
    presto.release_sip(other)


def test_an_s_vlan_outside_the_enni_range_is_refused(presto: PrestoClient) -> None:
    with pytest.raises(PrestoError) as outside:
        presto.allocate_sip(ENNI, uuid.uuid4().hex, 100, 4000)
    assert outside.value.status == 409
    assert f"S-VLAN 4000 is outside the range of ENNI {ENNI} (100-199)" in outside.value.reason
