"""One catalogue of error codes: every code the BFF raises is in it, and docs/ERRORS.md is generated from it."""
import ast
import pathlib

import pytest

from bff.error_catalogue import CATALOGUE, markdown
from bff.errors import AppError

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _app_error_calls():
    for path in (ROOT / "bff").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AppError":
                yield path.relative_to(ROOT), node


def test_every_literal_code_raised_is_catalogued_and_no_call_writes_a_status():
    seen = set()
    for path, call in _app_error_calls():
        first = call.args[0]
        if isinstance(first, ast.Constant):
            assert first.value in CATALOGUE, f"{path}:{call.lineno} raises uncatalogued {first.value}"
            seen.add(first.value)
        inline_status = [a for a in call.args[1:] if isinstance(a, ast.Constant) and isinstance(a.value, int)]
        assert not inline_status, f"{path}:{call.lineno} writes a status inline; the catalogue owns it"
    assert len(seen) > 40  # the scan really found the raises


def test_status_and_default_message_come_from_the_catalogue():
    error = AppError("SLOT_FULL")
    assert (error.status, error.message) == (409, CATALOGUE["SLOT_FULL"].message)
    assert AppError("PATIENT_LIMIT", "每个账号最多添加5位就诊人").status == 409
    with pytest.raises(KeyError):
        AppError("NO_SUCH_CODE")


def test_every_message_is_chinese_and_codes_are_unique_per_status():
    for code, spec in CATALOGUE.items():
        assert code.isupper() and 400 <= spec.status < 600
        assert any("\u4e00" <= ch <= "\u9fff" for ch in spec.message), code


def test_docs_errors_md_is_generated_from_the_catalogue():
    committed = (ROOT / "docs" / "ERRORS.md").read_text(encoding="utf-8")
    assert committed == markdown(), "run: python -m bff.error_catalogue > docs/ERRORS.md"
