"""The API's OpenAPI document reads in Chinese: every summary and description an integrator
sees (operations, parameters, answers, models), and FastAPI's own default answer texts."""

from __future__ import annotations

import re

from central.api.openapi_zh import DEFAULT_ANSWERS, localize
from central.settings import Settings
from central.wiring import build_app

CJK = re.compile(r"[\u4e00-\u9fff]")
CODE_SPAN = re.compile(r"`[^`]*`")
# Three English words in a row separated by single spaces is a sentence; sort-field lists
# ("id, updated_at, …"), units, codes and paths are not.
SENTENCE = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")

# central/ingest is another engineer's area; this model docstring is translated there.
KNOWN_ENGLISH: set[str] = set()


def reader_texts(node, path=""):
    """(json path, text) of every summary and description in an OpenAPI document."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}"
            if key in ("summary", "description") and isinstance(value, str):
                yield here, value
            else:
                yield from reader_texts(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from reader_texts(value, f"{path}[{i}]")


def is_english(text: str) -> bool:
    bare = CODE_SPAN.sub(" ", text)
    return not CJK.search(bare) or bool(SENTENCE.search(CJK.sub(" ", bare)))


def test_is_english_tells_sentences_from_codes():
    assert is_english("the depot's alarm thresholds")
    assert is_english("批次 of the caller's scope")
    assert not is_english("粮库的报警阈值")
    assert not is_english("`sort` 取 id, updated_at, opened_at 之一（默认 -updated_at）")
    assert not is_english("由 `grainlink central user add` 生成的令牌")


def test_localize_replaces_only_fastapis_defaults():
    doc = {"paths": {"/x": {
        "parameters": [],  # path-level items that are not operations are left alone
        "get": {"responses": {"200": {"description": "Successful Response"},
                              "422": {"description": "Validation Error"},
                              "404": {"description": "没有这个粮库"}}}}}}
    answers = localize(doc)["paths"]["/x"]["get"]["responses"]
    assert answers["200"]["description"] == DEFAULT_ANSWERS["Successful Response"]
    assert answers["422"]["description"] == DEFAULT_ANSWERS["Validation Error"]
    assert answers["404"]["description"] == "没有这个粮库"


def test_the_served_document_has_no_english_sentence():
    doc = build_app(Settings()).openapi()
    assert CJK.search(doc["info"]["title"]) and CJK.search(doc["info"]["description"])
    english = [(p, t) for p, t in reader_texts(doc) if p not in KNOWN_ENGLISH and is_english(t)]
    assert english == []


def test_every_operation_has_a_chinese_summary():
    doc = build_app(Settings()).openapi()
    missing = [f"{method} {path}" for path, ops in doc["paths"].items()
               for method, op in ops.items() if not CJK.search(op.get("summary", ""))]
    assert missing == []
