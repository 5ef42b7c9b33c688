"""The contract's own example payloads validate, round-trip, and match the exported schemas."""

import json

import pytest

from protocols.mqtt.codec import decode_message, encode_message
from protocols.mqtt.models import MODEL_BY_SCHEMA, Telemetry
from protocols.mqtt.schema_export import SCHEMAS_DIR, file_name, json_schema, rendered_schemas
from tests.protocols.mqtt_support import DATA, DEPOT, EXAMPLES, example, topic


@pytest.mark.parametrize("stem, kind", EXAMPLES.items())
def test_contract_example_decodes_and_round_trips(stem, kind):
    raw = (DATA / f"{stem}.json").read_bytes()
    message = decode_message(topic(kind), raw)
    assert message.depot == DEPOT
    encoded = encode_message(message)
    assert encoded.startswith(b'{"schema":"' + message.SCHEMA_ID.encode() + b'"')
    assert decode_message(topic(kind), encoded) == message
    # same data as the contract's text, key for key
    assert json.loads(encoded) == json.loads(raw)


def test_telemetry_example_values():
    m = decode_message(topic("telemetry"), (DATA / "telemetry.json").read_bytes())
    assert isinstance(m, Telemetry)
    assert m.batch == 1842
    assert m.grain[0].temps_c == [14.8, 15.1, None, 16.0]
    assert m.grain[0].faults == [3]
    assert m.air[1].granary is None and m.air[1].place == "outdoor"
    assert m.sent_at.isoformat() == "2026-11-22T08:00:07+00:00"


def test_committed_schema_files_match_models():
    rendered = rendered_schemas()
    assert set(rendered) == {p.name for p in SCHEMAS_DIR.glob("*.json")}
    for name, text in rendered.items():
        assert (SCHEMAS_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run `grainlink protocols export-schemas`"
        )


def test_schema_has_schema_first_and_required():
    schema = json_schema(Telemetry)
    assert schema["required"][0] == "schema"
    assert schema["properties"]["schema"]["const"] == "grainlink.telemetry/1"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("stem", EXAMPLES)
def test_examples_validate_with_jsonschema(stem):
    jsonschema = pytest.importorskip("jsonschema")
    instance = example(stem)
    model = MODEL_BY_SCHEMA[instance["schema"]]
    schema = json.loads((SCHEMAS_DIR / file_name(model)).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(instance)
    instance["unexpected"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(instance)


@pytest.mark.parametrize("stem, kind", EXAMPLES.items())
def test_topic_of_message(stem, kind):
    from protocols.mqtt.codec import topic_of

    message = decode_message(topic(kind), (DATA / f"{stem}.json").read_bytes())
    assert topic_of(message) == topic(kind)
