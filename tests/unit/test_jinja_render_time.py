"""Filters of literals follow the language of each rendering, not the first one: a template is
compiled once per environment, and one environment serves every request and document."""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment

import invoices.labels  # noqa: F401 - registers the "party" labels
from market import i18n, jinja


def _environment(source: str) -> Environment:
    env = Environment(loader=DictLoader({"t": source}), autoescape=True)
    jinja.configure(env)
    return env


def _render(env: Environment, lang: str, **context: Any) -> str:
    token = i18n.set_locale(lang)
    try:
        return env.get_template("t").render(**context)
    finally:
        i18n.reset_locale(token)


def test_a_label_of_a_literal_is_translated_at_each_rendering_not_once() -> None:
    env = _environment('{{ "owner"|label("party") }} · {{ 1234.5|money }}')
    chinese = _render(env, "zh")  # the template is compiled here, in Chinese
    english = _render(env, "en")
    assert "甲方" in chinese
    assert english.startswith("Party A (purchaser)") and "甲方" not in english
    assert _render(env, "zh") == chinese
