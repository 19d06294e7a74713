"""The page forms' input path: a form parsed into the API's request schema refuses and accepts
exactly what the JSON API does, naming the same fields with the same messages."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pydantic import Field, ValidationError

from market.errors import InvalidInput
from market.schemas import Money, Schema
from market.web.forms import FormData, parse
from market.web.problems import field_errors_of


class Weights(Schema):
    price: int = Field(ge=0, le=100)
    quality: int = Field(ge=0, le=100)


class Draft(Schema):
    title: str = Field(min_length=4, max_length=200)
    cap: Money
    floor: Money | None = None
    days: int = Field(ge=1, le=365)
    weights: Weights | None = None
    avoid: list[uuid.UUID] = Field(default_factory=list)


def form(**values: str | list[str]) -> FormData:
    data = FormData()
    for name, value in values.items():
        items = value if isinstance(value, list) else [value]
        data.lists[name] = list(items)
        data.values[name] = items[0] if items else ""
    return data


def api_errors(body: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as exc:
        Draft.model_validate(body)
    return {e.field: e.message for e in field_errors_of(exc.value)}


def page_errors(data: FormData) -> dict[str, str]:
    with pytest.raises(InvalidInput) as exc:
        parse(Draft, data)
    return {e.field: e.message for e in exc.value.errors}


def test_a_valid_form_gives_the_schema_with_nested_lists_and_defaults():
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    got = parse(
        Draft,
        form(
            title=" 城南地块评估 ",
            cap="12,800",
            floor="",
            days="30",
            **{"weights.price": "60", "weights.quality": "40"},
            avoid=ids,
            csrf_token="x",
        ),
    )
    assert got.title == "城南地块评估" and got.cap == Decimal("12800.00") and got.floor is None
    assert got.weights == Weights(price=60, quality=40) and [str(i) for i in got.avoid] == ids


def test_empty_optional_nested_model_is_left_out():
    got = parse(Draft, form(title="四个字的", cap="1", days="1", **{"weights.price": "", "weights.quality": ""}))
    assert got.weights is None and got.avoid == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cap", "1e15"),
        ("cap", "1e309"),
        ("cap", "1000000000000000"),
        ("cap", "１２８００"),
        ("cap", "1_000"),
        ("cap", "12.345"),
        ("days", "5000"),
        ("days", "ten"),
        ("title", "ab"),
        ("title", "坏\x00标题"),
        ("title", ""),
    ],
)
def test_the_page_refuses_what_the_api_refuses_with_the_same_field_and_message(field, value):
    good = {"title": "城南地块评估", "cap": "12800", "days": "30"}
    body = {**good, field: value}
    api = api_errors(body)
    page = page_errors(form(**body))
    assert field in api and api == page


def test_nested_and_list_errors_are_named_like_the_api():
    body = {"title": "城南地块评估", "cap": "1", "days": "1", "weights": {"price": 500, "quality": 0}, "avoid": ["x"]}
    page = page_errors(
        form(title="城南地块评估", cap="1", days="1", **{"weights.price": "500", "weights.quality": "0"}, avoid=["x"])
    )
    assert page == api_errors(body)
    assert set(page) == {"weights.price", "avoid.0"}


def test_extra_values_of_the_page_are_validated_too():
    with pytest.raises(InvalidInput) as exc:
        parse(Draft, form(title="城南地块评估", cap="1"), days=0)
    assert [e.field for e in exc.value.errors] == ["days"]


def test_secrets_are_never_shown_again():
    data = form(username="a", password="secret", password2="secret", csrf_token="t")
    assert data.shown() == {"username": "a"}


def test_control_characters_are_not_shown_again():
    assert form(title="坏\x00标题", tags=["a\x07", "b"]).shown() == {"title": "坏标题", "tags": ["a", "b"]}
