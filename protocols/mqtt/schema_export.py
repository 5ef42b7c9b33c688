"""JSON Schema of every payload, generated from the models (the models are the reference).

Pure: renders text. `grainlink protocols export-schemas` writes it to `schemas/`, and a test
keeps the committed files equal to what the models say.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from protocols.mqtt.models import MESSAGE_MODELS, Message

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Rules a JSON Schema cannot state; the models enforce them.
_NOT_IN_SCHEMA = {
    "grainlink.telemetry/1": "Also checked by receivers: each fault layer is 1-based, listed once, "
    "within temps_c and null there; indoor air has a granary, outdoor has granary null; "
    "values with more than two decimals are rounded to two; the depot equals the topic's.",
    "grainlink.layout/1": "Also checked by receivers: granary, cable and camera codes are unique; "
    "layer depths increase; a cable's layers fit layer_depths_m; camera references resolve.",
    "grainlink.snapshot/1": "Also checked by receivers: jpeg_b64 is strict base64 of a JPEG "
    "(FF D8 FF) of at most 200 KiB.",
}


def file_name(model: type[Message]) -> str:
    """`grainlink.cmd-result/1` -> `cmd-result.json`."""
    return model.SCHEMA_ID.split(".", 1)[1].split("/", 1)[0] + ".json"


def json_schema(model: type[Message]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one payload model."""
    generated = model.model_json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT, "title": model.SCHEMA_ID}
    description = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
    extra = _NOT_IN_SCHEMA.get(model.SCHEMA_ID, "")
    text = " ".join(x for x in (description, extra) if x)
    if text:
        schema["description"] = text
    schema.update({k: v for k, v in generated.items() if k not in ("title", "description")})
    return schema


def render(model: type[Message]) -> str:
    """The file text for one model's schema: stable key order, two-space indent, final newline."""
    return json.dumps(json_schema(model), indent=2, ensure_ascii=False) + "\n"


def rendered_schemas() -> dict[str, str]:
    """{file name: file text} for every payload schema."""
    return {file_name(m): render(m) for m in MESSAGE_MODELS}
