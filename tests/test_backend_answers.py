"""Defensive parsing of model answers: fences, first object, truncation, one repair."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.backends.answers import TOO_DEEP, Choice, build_result, parse_answer

F1 = {
    "path": "a.py",
    "line": 3,
    "end_line": 3,
    "category": "bug",
    "severity": "error",
    "title": "t",
    "message": "m",
    "suggestion": None,
}
F2 = {**F1, "line": 4, "end_line": 4, "title": 'second {tricky] "quote"'}


def test_plain_object() -> None:
    assert parse_answer(json.dumps({"findings": [F1]})).value == {"findings": [F1]}


def test_code_fence_and_prose_are_stripped() -> None:
    text = "Here is my review:\n```json\n" + json.dumps({"findings": [F1]}) + "\n```\nThanks!"
    parsed = parse_answer(text)
    assert parsed.value == {"findings": [F1]} and parsed.error is None


def test_first_object_skips_braces_in_prose() -> None:
    text = "The set {x} is fine. " + json.dumps({"findings": []}) + " and {more}"
    assert parse_answer(text).value == {"findings": []}


def test_truncated_answer_keeps_complete_findings() -> None:
    full = json.dumps({"findings": [F1, F2]})
    cut = full[: full.index('"second') + 5]
    parsed = parse_answer(cut, "length")
    assert parsed.value == {"findings": [F1]}
    assert parsed.note == "answer cut off at max_tokens; kept 1 complete entries"


def test_truncated_before_first_finding_is_an_error_with_advice() -> None:
    parsed = parse_answer('{"findings": [{"path": "a.py", "li', "length")
    assert parsed.value is None
    assert parsed.error is not None and "raise llm.max_tokens" in parsed.error


def test_truncated_after_complete_empty_list_is_an_answer() -> None:
    parsed = parse_answer('{"findings": [], "summary": "no iss', "length")
    assert parsed.value == {"findings": []}


def test_one_repair_step_fixes_trailing_commas_and_python_literals() -> None:
    text = '{"findings": [{"path": "a.py", "line": 1, "ok": True, "s": None, "x": "a, ]",},],}'
    parsed = parse_answer(text)
    assert parsed.value == {
        "findings": [{"path": "a.py", "line": 1, "ok": True, "s": None, "x": "a, ]"}]
    }
    assert parsed.note is not None and "repair" in parsed.note


def test_unrepairable_answer_reports_why() -> None:
    parsed = parse_answer("{findings: [oops]}")
    assert parsed.value is None
    assert parsed.error is not None and "not valid JSON even after one repair" in parsed.error


def test_no_object_and_empty_answers() -> None:
    assert parse_answer("I found nothing.").error == "answer has no JSON object: 'I found nothing.'"
    assert parse_answer("", "length").error == "empty answer (cut off at max_tokens)"


def test_build_result_keeps_every_parseable_sample_and_notes_the_rest() -> None:
    res = build_result(
        "chunk-1",
        [
            Choice(json.dumps({"findings": [F1]}), "stop"),
            Choice("garbage", "stop"),
            Choice(json.dumps({"findings": []}), "stop"),
        ],
        requested=3,
        prompt_tokens=10,
        completion_tokens=20,
    )
    assert res.error is None
    assert res.samples == ({"findings": [F1]}, {"findings": []})
    assert res.notes == ("1 of 3 samples unusable: answer has no JSON object: 'garbage'",)
    none = build_result("chunk-2", [Choice("nope")])
    assert none.samples == () and none.error == "answer has no JSON object: 'nope'"


_finding = st.fixed_dictionaries(
    {
        "path": st.text(min_size=1, max_size=12),
        "line": st.integers(1, 10_000),
        "title": st.text(max_size=20),
        "suggestion": st.one_of(st.none(), st.text(max_size=20)),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_finding, max_size=5), st.data())
def test_any_truncation_yields_a_prefix_of_the_findings_or_an_error(
    findings: list[dict[str, object]], data: st.DataObject
) -> None:
    full = json.dumps({"findings": findings}, ensure_ascii=data.draw(st.booleans()))
    cut = data.draw(st.integers(0, len(full)))
    parsed = parse_answer(full[:cut], "length")
    if parsed.value is None:
        assert parsed.error
        return
    kept = parsed.value["findings"]
    assert kept == findings[: len(kept)]


def test_json_answer_whose_strings_contain_fences_is_parsed_whole() -> None:
    from reviewbot.backends.answers import parse_answer

    text = '{"tests": [{"code": "```python\\nassert f(1) == 2\\n```", "target": "m.f"}]}'
    parsed = parse_answer(text, "stop")
    assert parsed.value == {
        "tests": [{"code": "```python\nassert f(1) == 2\n```", "target": "m.f"}]
    }


def test_repair_error_names_the_position_once() -> None:
    assert parse_answer('{"a": 1 2}').error == (
        "answer is not valid JSON even after one repair (Expecting ',' delimiter at character 8)"
    )
    for text in ('{"a": 1 2}', "{a: [oops]}", '{"a": "\\u12zz"}', '{"a": "x\x01"} }'):
        error = parse_answer(text).error or ""
        assert " at at " not in error


def test_build_result_turns_a_too_deep_answer_into_an_error() -> None:
    res = build_result(
        "chunk-0",
        [
            Choice("[" * 50_000 + "]" * 50_000, "stop"),
            Choice('{"findings": ' + "[" * 50_000, "length"),
        ],
    )
    assert res.samples == () and res.error == TOO_DEEP
