"""The official MEF OpenAPI documents, and the check every MEF response a test receives goes through.

The documents are reference data outside the repository (DESIGN §3): ``LSO_MEF_SPECS`` points at the
folder holding ``kylie-openapi-harvest/openapi/``. A response is matched to its document by the path
prefix of the document's ``servers`` URL (``basePath`` for the Swagger 2.0 PRESTO documents), to an
operation by method and path template, and its body is validated with jsonschema against the schema of
the documented status code, resolving the document's ``$ref``s.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

LSO_EXTENSIONS = ("/restconf/operations/lso-", "/mefApi/legato/serviceFeasibility/", "/mefApi/adagio/")
"""Operations lso adds where MEF defines none (docs/presto.md, docs/legato.md, docs/adagio.md): no
official document."""

MEF_PATH_PREFIXES = ("/mefApi/", "/restconf/")
MEDIA_TYPE = "application/json;charset=utf-8"
HOW_TO_GET_SPECS = (
    "LSO_MEF_SPECS is not set: point it at a folder holding the MEF LSO SDKs "
    "(kylie-openapi-harvest/openapi/ with the Kylie OpenAPI documents, e.g. from "
    "`git clone --branch kylie https://github.com/MEF-GIT/MEF-LSO-Cantata-SDK` and its siblings)"
)


def specs_root() -> Path | None:
    """The folder of the MEF SDKs, or None when the conformance checks cannot run."""
    value = os.environ.get("LSO_MEF_SPECS")
    if not value:
        return None
    root = Path(value).expanduser().resolve()
    return root if (root / "kylie-openapi-harvest" / "openapi").is_dir() else None


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value


_FORMATS = FormatChecker()
_FORMATS.checks("date-time")(_is_date_time)


def _discriminated_one_of(
    validator: Any, one_of: list[dict[str, Any]], instance: Any, schema: dict[str, Any]
) -> Any:
    """OpenAPI's ``discriminator``: the ``@type`` value names the one schema to validate against.

    Plain JSON Schema ``oneOf`` would reject a GeographicSiteRef because it also matches the (equally
    open) GeographicAddressRef; the documents resolve that ambiguity with the discriminator.
    """
    discriminator = schema.get("discriminator")
    if discriminator and isinstance(instance, dict) and discriminator["propertyName"] in instance:
        value = str(instance[discriminator["propertyName"]])
        target = discriminator.get("mapping", {}).get(value)
        if target is None:
            target = next((s["$ref"] for s in one_of if s.get("$ref", "").endswith(f"/{value}")), None)
        if target is not None:
            # A subtype is ``allOf: [base, ...]`` and the base holds this oneOf (e.g. CANTATA CimIncident):
            # reaching the base again from its subtype must not dispatch again, or validation never ends.
            key = (id(schema), id(instance))
            if key in _DISPATCHING:
                return
            _DISPATCHING.add(key)
            try:
                yield from validator.descend(instance, {"$ref": target})
            finally:
                _DISPATCHING.discard(key)
            return
    yield from _PLAIN_ONE_OF(validator, one_of, instance, schema)


_DISPATCHING: set[tuple[int, int]] = set()


_PLAIN_ONE_OF = Draft4Validator.VALIDATORS["oneOf"]
OpenApiValidator = jsonschema.validators.extend(Draft4Validator, {"oneOf": _discriminated_one_of})


@dataclass
class Document:
    """One OpenAPI (3.0) or Swagger (2.0) document and the path templates it serves."""

    path: Path
    prefix: str
    _content: dict[str, Any] | None = None
    _templates: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"urn:mef-spec:{self.path.name}"

    @property
    def content(self) -> dict[str, Any]:
        if self._content is None:
            self._content = _string_keys(yaml.load(self.path.read_text(), Loader=yaml.CSafeLoader))
            self._templates = [(_template_pattern(t), t) for t in self._content.get("paths", {})]
        return self._content

    @property
    def swagger2(self) -> bool:
        return "swagger" in self.content

    def template_for(self, path: str) -> str | None:
        _ = self.content
        return next((template for pattern, template in self._templates if pattern.fullmatch(path)), None)

    def resolve(self, pointer: str) -> tuple[str, Any]:
        """Follow ``$ref``s from ``pointer``; return the final pointer and the object there."""
        node: Any = self.content
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        while isinstance(node, dict) and "$ref" in node:
            return self.resolve(node["$ref"].lstrip("#"))
        return pointer, node


def _string_keys(node: Any) -> Any:
    """Swagger 2.0 documents key responses by integers (``200:``); JSON pointers and status lookups use
    strings, as OpenAPI 3 documents do."""
    if isinstance(node, dict):
        return {str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template.rstrip("/"))
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(body + "/?")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _server_prefix(document: dict[str, Any]) -> str:
    if "swagger" in document:
        return str(document.get("basePath", "")).rstrip("/")
    server = document["servers"][0]
    url = server["url"]
    for name, variable in server.get("variables", {}).items():
        url = url.replace("{" + name + "}", str(variable.get("default", "")))
    return urlsplit(url.strip()).path.rstrip("/")


@cache
def documents(root: Path) -> tuple[Document, ...]:
    """Every document under ``root``, the full PRESTO document first among those sharing /restconf."""
    found = []
    for path in sorted((root / "kylie-openapi-harvest" / "openapi").glob("*.yml")):
        document = Document(path, "")
        document.prefix = _server_prefix(document.content)
        found.append(document)
    return tuple(sorted(found, key=lambda d: (d.prefix, d.path.name != "mef-lso-presto-nrp-openapi.yml")))


@cache
def _registry(root: Path) -> Registry:
    resources = [(d.uri, Resource(contents=d.content, specification=DRAFT4)) for d in documents(root)]
    return Registry().with_resources(resources)


def document_by_name(root: Path, file_name: str) -> Document:
    return next(d for d in documents(root) if d.path.name == file_name)


@dataclass(frozen=True)
class Operation:
    document: Document
    template: str
    method: str

    @property
    def pointer(self) -> str:
        return f"/paths/{_escape(self.template)}/{self.method}"

    @property
    def operation_id(self) -> str:
        return str(self.document.resolve(self.pointer)[1].get("operationId", self.pointer))


def find_operation(root: Path, method: str, path: str) -> Operation | None:
    for document in documents(root):
        if document.prefix and (path == document.prefix or path.startswith(document.prefix + "/")):
            template = document.template_for(path[len(document.prefix) :] or "/")
            if template is not None and method.lower() in document.content["paths"][template]:
                return Operation(document, template, method.lower())
    return None


def violations(root: Path, response: httpx.Response) -> list[str]:
    """What is wrong with ``response`` according to the official document of its endpoint."""
    request = response.request
    path = request.url.path
    if not path.startswith(MEF_PATH_PREFIXES) or path.startswith(LSO_EXTENSIONS):
        return []
    where = f"{request.method} {path} → {response.status_code}"
    operation = find_operation(root, request.method, path)
    if operation is None:
        return [f"{where}: no operation of the official MEF documents serves this method and path"]
    responses = operation.document.resolve(operation.pointer)[1].get("responses", {})
    status = str(response.status_code)
    if operation.document.swagger2 and response.status_code >= 400 and status not in responses:
        # MEF 60's generated Swagger documents only 400; RESTCONF (RFC 8040 §7) answers errors with the
        # whole range of HTTP statuses. Those must still be MEF error bodies.
        return _error_body_violations(where, response)
    if status not in responses and "default" not in responses:
        documented = ", ".join(sorted(responses))
        return [f"{where}: status not documented for {operation.operation_id} (documented: {documented})"]
    key = status if status in responses else "default"
    pointer, described = operation.document.resolve(f"{operation.pointer}/responses/{key}")
    schema_pointer = _schema_pointer(operation.document, pointer, described)
    if schema_pointer is None:
        return []
    problems = []
    content_type = response.headers.get("content-type", "").replace(" ", "").lower()
    if content_type != MEDIA_TYPE:
        problems.append(f"{where}: content-type {content_type!r}, expected {MEDIA_TYPE!r}")
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [*problems, f"{where}: the body is not JSON: {response.text[:200]!r}"]
    found = schema_violations(root, operation.document, schema_pointer, body)
    return [*problems, *(f"{where}: {operation.operation_id} body {v}" for v in found)]


def _error_body_violations(where: str, response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [f"{where}: the error body is not JSON"]
    bodies = body if isinstance(body, list) else [body]
    if all(isinstance(b, dict) and {"code", "reason"} <= b.keys() for b in bodies):
        return []
    return [f"{where}: not a MEF error body: {response.text[:200]!r}"]


def schema_violations(root: Path, document: Document, pointer: str, instance: Any) -> list[str]:
    """Validate ``instance`` against the schema at ``pointer`` in ``document`` (first five errors)."""
    validator = OpenApiValidator(
        {"$ref": f"{document.uri}#{pointer}"}, registry=_registry(root), format_checker=_FORMATS
    )
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))[:5]
    return [f"at {'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:300]}" for e in errors]


def _schema_pointer(document: Document, pointer: str, described: dict[str, Any]) -> str | None:
    """Where the body schema of a response object is (None: the response has no body)."""
    if document.swagger2:
        return f"{pointer}/schema" if "schema" in described else None
    content = described.get("content") or {}
    media = next((m for m in content if m.replace(" ", "").lower() == MEDIA_TYPE), None)
    media = media or next((m for m in content if "json" in m), None)
    if media is None or "schema" not in content[media]:
        return None
    return f"{pointer}/content/{_escape(media)}/schema"


class Recorder:
    """The httpx response hook: records what is wrong with every MEF response a test receives."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def __call__(self, response: httpx.Response) -> None:
        root = specs_root()
        if root is None or not response.request.url.path.startswith(MEF_PATH_PREFIXES):
            return
        response.read()
        self.found.extend(violations(root, response))

    def take(self) -> list[str]:
        found, self.found = self.found, []
        return found


RECORDER = Recorder()
"""One per test process; conftest fails the test during which a violation was recorded."""
