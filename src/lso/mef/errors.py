"""The one error type of every MEF API and the handlers that turn it into MEF error bodies.

MEF error bodies are ``{code, reason, message, referenceError}`` with a code from the enum of the HTTP
status; a 422 answers an *array* of such bodies, each with a ``propertyPath`` (a JSON pointer to the
offending property).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from lso.mef.http import MefResponse

_REASONS = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable entity",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad gateway",
    503: "Service unavailable",
}

_DEFAULT_CODES = {
    400: "invalidBody",
    401: "missingCredentials",
    403: "accessDenied",
    404: "notFound",
    405: "notImplemented",
    409: "conflict",
    422: "invalidValue",
    500: "internalError",
    501: "notImplemented",
    502: "internalError",
    503: "internalError",
}


class Issue:
    """One problem of a 422 answer: which property, what code, what went wrong."""

    def __init__(self, property_path: str, message: str, code: str = "invalidValue") -> None:
        self.property_path = property_path
        self.message = message
        self.code = code

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reason": _reason(self.message),
            "message": self.message,
            "propertyPath": self.property_path,
        }


class MefError(Exception):
    """Raised anywhere in a request; answered with the MEF error body of ``status``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        issues: list[Issue] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _DEFAULT_CODES.get(status, "internalError")
        self.issues = issues or []
        self.headers = headers

    def body(self) -> Any:
        if self.status == 422:
            issues = self.issues or [Issue("/", self.message, self.code)]
            return [issue.body() for issue in issues]
        return {
            "code": self.code,
            "reason": _reason(_REASONS.get(self.status, self.message)),
            "message": self.message,
        }

    def response(self) -> MefResponse:
        return MefResponse(self.body(), status_code=self.status, headers=self.headers)


def not_found(what: str, ident: str) -> MefError:
    return MefError(404, f"{what} {ident} does not exist")


def unprocessable(*issues: Issue) -> MefError:
    return MefError(422, "; ".join(i.message for i in issues), issues=list(issues))


def not_implemented(operation: str) -> MefError:
    return MefError(501, f"{operation} is not offered by this seller")


def from_validation_error(error: ValidationError, prefix: str = "") -> MefError:
    """A pydantic error as a MEF 422: one issue per failing property, with its JSON pointer."""
    issues = []
    for item in error.errors():
        pointer = prefix + "/" + "/".join(str(part) for part in item["loc"])
        code = {"missing": "missingProperty", "extra_forbidden": "unexpectedProperty"}.get(
            item["type"], "invalidFormat" if item["type"].endswith("_parsing") else "invalidValue"
        )
        issues.append(Issue(pointer, f"{pointer}: {item['msg']}", code))
    return unprocessable(*issues)


def _reason(text: str) -> str:
    # MEF limits reason to 255 characters; message carries the details.
    return text[:255]


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaving the app, expected or not, is a MEF error body."""

    async def on_mef_error(_request: Request, exc: Exception) -> MefResponse:
        assert isinstance(exc, MefError)
        return exc.response()

    async def on_request_validation(_request: Request, exc: Exception) -> MefResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return MefError(400, "The request body is not valid JSON", code="invalidBody").response()
        if all(e["loc"] and e["loc"][0] == "query" for e in errors):
            detail = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors)
            return MefError(400, f"Invalid query: {detail}", code="invalidQuery").response()
        issues = [
            Issue("/" + "/".join(str(p) for p in e["loc"][1:]), str(e["msg"]), "invalidValue") for e in errors
        ]
        return unprocessable(*issues).response()

    async def on_http_error(_request: Request, exc: Exception) -> MefResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code if exc.status_code in _REASONS else 500
        if status == 405:
            return MefError(501, f"{exc.detail}", code="notImplemented").response()
        return MefError(status, str(exc.detail)).response()

    async def on_unexpected(_request: Request, exc: Exception) -> MefResponse:
        return MefError(500, f"Internal error: {type(exc).__name__}").response()

    app.add_exception_handler(MefError, on_mef_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
