"""ADAGIO client: how ICM drives the elements through ECM (docs/adagio.md)."""

from __future__ import annotations

from typing import Any

from lso.mef.client import MefApiClient, MefApiError

Document = dict[str, Any]


class AdagioError(MefApiError):
    """ECM refused a request; carries its status and MEF error body (``message`` says why)."""

    api = "ADAGIO"


class AdagioClient(MefApiClient):
    PREFIX = "/adagio/v1"
    error = AdagioError

    def configure(self, element: str, service_id: str, config: Document) -> Document:
        """Idempotent: the element holds exactly this configuration of the service afterwards."""
        return self._call("PUT", f"/elements/{element}/configurations/{service_id}", config)

    def configure_route(self, service_id: str, configs: dict[str, Document]) -> Document:
        """Idempotent: each element of ``configs`` holds exactly its configuration of the service
        afterwards (applied in order; at a refusal, the elements before it keep theirs)."""
        return self._call("PUT", f"/configurations/{service_id}", {"elements": configs})

    def unconfigure(self, element: str, service_id: str) -> None:
        """Idempotent: the element holds no configuration of the service afterwards."""
        self._call("DELETE", f"/elements/{element}/configurations/{service_id}")

    def configurations(self, element: str) -> list[Document]:
        result: list[Document] = self._call("GET", f"/elements/{element}/configurations")
        return result

    def run_test(self, request: Document) -> Document:
        return self._call("POST", "/tests", request)

    def start_oam_session(self, session_id: str, request: Document) -> Document:
        return self._call("PUT", f"/oam-sessions/{session_id}", request)

    def _call(self, method: str, path: str, body: Document | None = None) -> Any:
        return self._json(method, self.PREFIX + path, json=body)
