"""The OpenAPI document in Chinese: FastAPI writes its own English texts for the answers no
route describes ("Successful Response", "Validation Error"); integrators of the provincial
platforms read /openapi.json, so these defaults are replaced once when it is first built."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

# FastAPI's default answer texts -> what a reader of the document should see.
DEFAULT_ANSWERS = {
    "Successful Response": "成功",
    "Validation Error": "参数或正文无效（指明字段）",
}


def localize(doc: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's default answer descriptions of every operation in `doc` (in place,
    and returned); texts a route gave itself stay as they are."""
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for answer in operation.get("responses", {}).values():
                text = answer.get("description")
                if text in DEFAULT_ANSWERS:
                    answer["description"] = DEFAULT_ANSWERS[text]
    return doc


def install(app: FastAPI) -> None:
    """Serve the localized document: FastAPI caches it in `app.openapi_schema`, so the
    replacement runs once per app."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = localize(build())
        return app.openapi_schema

    app.openapi = openapi
