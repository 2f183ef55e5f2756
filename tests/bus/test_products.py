"""Product configuration models: MEF-shaped EPL, EVPL and Subscriber UNI configurations, valid and not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lso.bus.products import (
    EPL_EVC,
    EVPL_EVC,
    SUBSCRIBER_UNI,
    EplEvcConfiguration,
    EvplEvcConfiguration,
    SubscriberUniConfiguration,
    configuration_json,
    validate_configuration,
)
from lso.mef.errors import MefError

POINTER = "/productOrderItem/0/product/productConfiguration"


def rate(value: float, units: str = "MBPS") -> dict[str, Any]:
    return {"irValue": value, "irUnits": units}


def bwp(cos: str, cir: dict[str, Any], eir: dict[str, Any] | None = None) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "cir": cir,
        "cbs": {"dataSizeValue": 12, "dataSizeUnits": "KBYTES"},
        "eir": eir or rate(0),
        "ebs": {"dataSizeValue": 12, "dataSizeUnits": "KBYTES"},
        "couplingFlag": False,
        "colorMode": "COLOR_BLIND",
    }
    return {"classOfServiceName": cos, "bwpFlow": flow}


def end_point(identifier: str, cir: dict[str, Any], eir: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "ingressClassOfServiceMap": {"mapType": "ENDPOINT", "map_M": "H"},
        "colorMap": {"mapType": "ENDPOINT", "epColor": "GREEN"},
        "ingressBandwidthProfilePerClassofServiceName": [bwp("H", cir, eir)],
        "subscriberMegMip": "NONE",
    }


def epl(cir_a: dict[str, Any] | None = None, cir_z: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "@type": EPL_EVC,
        "listOfCosNames": ["H"],
        "maximumFrameSize": 1522,
        "availableMegLevel": "6",
        "carrierEthernetSls": [
            {
                "startTime": "2026-01-01T00:00:00Z",
                "timeDuration": {"timeDurationValue": 1, "timeDurationUnits": "MONTH"},
                "slsCosNameEntry": [
                    {
                        "cosName": "H",
                        "deltaT": 10,
                        "thresholdC": 0.5,
                        "consecutiveIntervalN": 10,
                        "oneWayFrameDelayPmMetric": [
                            {
                                "orderedPairList": [
                                    {
                                        "fromCarrierEthernetServiceEndPoint": "A",
                                        "toCarrierEthernetServiceEndPoint": "Z",
                                    }
                                ],
                                "oneWayFdPercentile": 99.9,
                                "oneWayFdObjective": {"timeDurationValue": 10, "timeDurationUnits": "MS"},
                            }
                        ],
                        "oneWayFrameLossRatioPmMetric": [
                            {
                                "orderedPairList": [
                                    {
                                        "fromCarrierEthernetServiceEndPoint": "A",
                                        "toCarrierEthernetServiceEndPoint": "Z",
                                    }
                                ],
                                "oneWayFlrObjective": 0.01,
                            }
                        ],
                    }
                ],
            }
        ],
        "evcEndPointA": end_point("A", cir_a or rate(100)),
        "evcEndPointZ": end_point("Z", cir_z or rate(100)),
    }


def evpl(vlans: list[int] | None = None) -> dict[str, Any]:
    config = epl()
    config["@type"] = EVPL_EVC
    config["cTagPcpPreservation"] = "ENABLED"
    config["cTagDeiPreservation"] = "ENABLED"
    config["frameDisposition"] = {
        "unicast": "DELIVER_UNCONDITIONALLY",
        "multicast": "DELIVER_CONDITIONALLY",
        "broadcast": "DELIVER_UNCONDITIONALLY",
    }
    for name in ("evcEndPointA", "evcEndPointZ"):
        config[name]["evcEndPointMap"] = {"vlanType": "LIST", "vlanId": vlans or [100]}
    return config


def uni(phy: str = "10GBASE_LR") -> dict[str, Any]:
    return {
        "@type": SUBSCRIBER_UNI,
        "instantiation": "PHYSICAL",
        "listOfPhyLinks": [
            {
                "id": "link-1",
                "physicalLink": phy,
                "synchronousEthernet": "DISABLED",
                "precisionTiming": "DISABLED",
                "uniConnectorType": "LC",
                "uniConnectorGender": "SOCKET",
                "autoNegotiation": "DISABLED",
            }
        ],
        "linkAggregation": "NONE",
        "maximumServiceFrameSize": 1522,
        "maximumNumberOfEndPoints": 10,
        "maximumNumberOfCtagVlanIdsPerEndPoint": 100,
        "tokenShare": "DISABLED",
        "linkOam": "DISABLED",
        "meg": "DISABLED",
        "l2cpAddressSet": "CTB",
    }


def issues(data: Any) -> list[dict[str, Any]]:
    with pytest.raises(MefError) as caught:
        validate_configuration(data, POINTER)
    assert caught.value.status == 422
    body = caught.value.body()
    assert isinstance(body, list) and body
    return body


def test_epl_configuration_validates_and_reports_its_rates() -> None:
    config = validate_configuration(epl(rate(1, "GBPS"), rate(200)), POINTER)
    assert isinstance(config, EplEvcConfiguration)
    assert config.ingress_cir_mbps() == 1000
    assert config.ingress_eir_mbps() == 0


def test_evpl_configuration_keeps_its_end_point_maps() -> None:
    config = validate_configuration(evpl([100, 200]), POINTER)
    assert isinstance(config, EvplEvcConfiguration)
    assert config.evcEndPointA.evcEndPointMap is not None
    assert config.evcEndPointA.evcEndPointMap.vlanId == [100, 200]
    assert config.ingress_cir_mbps() == 100


def test_subscriber_uni_configuration_gives_its_port_speed() -> None:
    config = validate_configuration(uni("1000BASE_LX"), POINTER)
    assert isinstance(config, SubscriberUniConfiguration)
    assert config.port_speed_mbps() == 1000
    faster = validate_configuration(uni("2_5GBASE_T"), POINTER)
    assert isinstance(faster, SubscriberUniConfiguration) and faster.port_speed_mbps() == 2500


def test_configuration_json_round_trips_what_the_buyer_sent() -> None:
    data = evpl()
    data["vendorNote"] = "kept: the schema allows properties it does not list"
    again = configuration_json(validate_configuration(data, POINTER))
    assert again["@type"] == EVPL_EVC
    assert again["vendorNote"] == data["vendorNote"]
    assert (
        again["evcEndPointA"]["ingressBandwidthProfilePerClassofServiceName"]
        == (data["evcEndPointA"]["ingressBandwidthProfilePerClassofServiceName"])
    )


def test_unknown_type_is_a_422_on_the_type_pointer() -> None:
    body = issues({"@type": "urn:mef:lso:spec:cantata-sonata:eplan-evc:v1.0.0:all"})
    assert body[0]["propertyPath"] == f"{POINTER}/@type"
    assert issues({"maximumFrameSize": 1522})[0]["propertyPath"] == f"{POINTER}/@type"
    assert issues("EPL")[0]["propertyPath"] == POINTER


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda c: c.pop("evcEndPointZ"), "/evcEndPointZ"),
        (lambda c: c.update(maximumFrameSize=1500), "/maximumFrameSize"),
        (
            lambda c: c["evcEndPointA"]["ingressBandwidthProfilePerClassofServiceName"][0]["bwpFlow"].update(
                cir={"irValue": -1, "irUnits": "MBPS"}
            ),
            "/evcEndPointA/ingressBandwidthProfilePerClassofServiceName/0/bwpFlow/cir/irValue",
        ),
        (
            lambda c: c["evcEndPointA"]["ingressBandwidthProfilePerClassofServiceName"][0]["bwpFlow"].update(
                cir={"irValue": 1, "irUnits": "MEGABITS"}
            ),
            "/evcEndPointA/ingressBandwidthProfilePerClassofServiceName/0/bwpFlow/cir/irUnits",
        ),
        (lambda c: c["evcEndPointA"].update(subscriberMegMip="9"), "/evcEndPointA/subscriberMegMip"),
        (
            lambda c: c["evcEndPointA"].update(
                ingressClassOfServiceMap={"mapType": "C_TAG_PCP", "map_M": []}
            ),
            "/evcEndPointA/ingressClassOfServiceMap",
        ),
    ],
)
def test_invalid_epl_is_a_422_pointing_at_the_property(mutate: Any, path: str) -> None:
    config = copy.deepcopy(epl())
    mutate(config)
    assert POINTER + path in [issue["propertyPath"] for issue in issues(config)]


def test_cos_name_outside_the_evc_list_is_rejected() -> None:
    config = epl()
    config["listOfCosNames"] = ["M"]
    body = issues(config)
    assert "listOfCosNames" in body[0]["message"]


def test_cir_above_cir_max_is_rejected() -> None:
    config = epl()
    config["evcEndPointA"]["ingressBandwidthProfilePerClassofServiceName"][0]["bwpFlow"]["cirMax"] = rate(10)
    assert "cirMax" in issues(config)[0]["message"]


def test_evpl_list_map_needs_vlans_in_range() -> None:
    config = evpl()
    config["evcEndPointA"]["evcEndPointMap"] = {"vlanType": "LIST"}
    assert issues(config)[0]["propertyPath"] == f"{POINTER}/evcEndPointA/evcEndPointMap"
    config["evcEndPointA"]["evcEndPointMap"] = {"vlanType": "LIST", "vlanId": [4095]}
    assert issues(config)[0]["propertyPath"] == f"{POINTER}/evcEndPointA/evcEndPointMap"


def test_uni_with_unknown_phy_or_small_frames_is_rejected() -> None:
    paths = [i["propertyPath"] for i in issues(uni("1000BASE_BOGUS"))]
    assert paths == [f"{POINTER}/listOfPhyLinks/0/physicalLink"]
    config = uni()
    config["maximumServiceFrameSize"] = 1000
    assert issues(config)[0]["propertyPath"] == f"{POINTER}/maximumServiceFrameSize"
