"""ADAGIO client: how ICM drives the elements through ECM (docs/adagio.md)."""

from __future__ import annotations

from typing import Any

import httpx

Document = dict[str, Any]


class AdagioError(Exception):
    """ECM refused a request; carries its status and MEF error body."""

    def __init__(self, what: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        message = body.get("message") if isinstance(body, dict) else None
        if isinstance(body, list) and body and isinstance(body[0], dict):
            message = body[0].get("message")
        self.message = str(message or body)
        super().__init__(f"ADAGIO {what} failed ({status}): {self.message}")


class AdagioClient:
    PREFIX = "/adagio/v1"

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def configure(self, element: str, service_id: str, config: Document) -> Document:
        """Idempotent: the element holds exactly this configuration of the service afterwards."""
        return self._json("PUT", f"/elements/{element}/configurations/{service_id}", config)

    def unconfigure(self, element: str, service_id: str) -> None:
        """Idempotent: the element holds no configuration of the service afterwards."""
        self._json("DELETE", f"/elements/{element}/configurations/{service_id}")

    def configurations(self, element: str) -> list[Document]:
        result: list[Document] = self._json("GET", f"/elements/{element}/configurations")
        return result

    def run_test(self, request: Document) -> Document:
        return self._json("POST", "/tests", request)

    def start_oam_session(self, session_id: str, request: Document) -> Document:
        return self._json("PUT", f"/oam-sessions/{session_id}", request)

    def _json(self, method: str, path: str, body: Document | None = None) -> Any:
        response = self.http.request(method, self.PREFIX + path, json=body)
        if response.status_code >= 400:
            try:
                error: Any = response.json()
            except ValueError:
                error = response.text
            raise AdagioError(f"{method} {path}", response.status_code, error)
        return response.json() if response.content else None
