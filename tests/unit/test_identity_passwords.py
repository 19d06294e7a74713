"""The one password policy (issue 11.6): length, common passwords (package data), the username."""

from __future__ import annotations

import pytest

from market import i18n
from market.errors import InvalidInput
from market.identity.services import check_password_strength, common_passwords


def test_the_common_list_ships_with_the_package():
    common = common_passwords()
    assert len(common) >= 1000 and {"password", "123456789", "qwertyuiop", "iloveyou123", "woaini1314"} <= common


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("Sh0rt-pass", ""),  # 10: the shortest accepted, see below
        ("Quiet-River-2026", "hbj"),
        ("长城脚下的一棵老槐树2026", "zhang"),
    ],
)
def test_strong_passwords_pass(password, username):
    check_password_strength(password, username=username)


@pytest.mark.parametrize(
    ("password", "username", "why"),
    [
        ("Sh0rt-pas", "", "10"),
        ("QWERTYUIOP", "", "common"),
        ("Password123", "", "common"),
        ("1234567890", "", "common"),
        ("my-survey-firm-2026", "Survey", "username"),
        ("ｐａｓｓｗｏｒｄ１２３", "", "common"),  # full-width spelling is the same password
    ],
)
def test_weak_passwords_are_refused_naming_the_field(password, username, why):
    token = i18n.set_locale("en")
    try:
        with pytest.raises(InvalidInput) as refused:
            check_password_strength(password, "new_password", username)
    finally:
        i18n.reset_locale(token)
    assert [e.field for e in refused.value.errors] == ["new_password"]
    message = refused.value.errors[0].message
    assert {"10": "10", "common": "common", "username": "username"}[why] in message
