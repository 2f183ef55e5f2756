"""MEF error bodies: codes per status, 422 as an array with property paths."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from lso.mef.errors import Issue, MefError, from_validation_error, not_implemented, unprocessable


class _Envelope(BaseModel):
    cir: int
    ebs: int


def test_plain_errors_carry_the_code_of_their_status() -> None:
    assert MefError(404, "productOrder x does not exist").body() == {
        "code": "notFound",
        "reason": "Not found",
        "message": "productOrder x does not exist",
    }
    assert not_implemented("cancelProductOrder").body()["code"] == "notImplemented"


def test_422_is_an_array_with_property_paths() -> None:
    body = unprocessable(Issue("/productOrderItem/0/product", "missing product", "missingProperty")).body()
    assert body == [
        {
            "code": "missingProperty",
            "reason": "missing product",
            "message": "missing product",
            "propertyPath": "/productOrderItem/0/product",
        }
    ]


def test_pydantic_errors_become_json_pointers_under_a_prefix() -> None:
    try:
        _Envelope.model_validate({"cir": "fast"})
    except ValidationError as exc:
        body = from_validation_error(exc, "/productOrderItem/2/product/productConfiguration").body()
    paths = {(issue["propertyPath"], issue["code"]) for issue in body}
    assert paths == {
        ("/productOrderItem/2/product/productConfiguration/cir", "invalidFormat"),
        ("/productOrderItem/2/product/productConfiguration/ebs", "missingProperty"),
    }
