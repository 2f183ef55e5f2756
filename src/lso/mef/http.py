"""HTTP conventions of MEF APIs: the media type and JSON bodies without nulls."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response

MEDIA_TYPE = "application/json;charset=utf-8"


class MefResponse(JSONResponse):
    """JSON in the MEF media type; absent optional properties are left out rather than sent as null."""

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(_drop_nulls(content), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def no_content() -> Response:
    return Response(status_code=204)


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
