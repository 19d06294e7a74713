"""Pure rules of issue 10: the sign-in wait, usernames in one spelling, trusted proxies and the
client address behind them."""

from __future__ import annotations

import pytest

from market.identity.services import canonical_username, login_delay
from market.settings import Settings, SettingsError
from market.web.deps import resolve_client_ip


def test_the_wait_doubles_from_the_limit_and_stops_at_the_window():
    s = Settings(login_max_failures=5, login_delay_seconds=30, login_window_minutes=15)
    assert [login_delay(s, n, 5) for n in range(4)] == [0, 0, 0, 0]
    assert [login_delay(s, n, 5) for n in range(5, 11)] == [30, 60, 120, 240, 480, 900]
    assert login_delay(s, 10_000, 5) == 900


def test_usernames_have_one_spelling():
    for spelling in ["admin", "ADMIN", " Admin ", "ａｄｍｉｎ", "ＡＤＭＩＮ", "ad\u200bmin", "\ufeffadmin"]:
        assert canonical_username(spelling) == "admin", spelling
    assert canonical_username("Straße") == "strasse"


def test_trusted_proxies_are_parsed_and_checked():
    s = Settings.from_env({"MARKET_TRUSTED_PROXIES": " 10.0.0.5, 172.18.0.0/16 ,::1,"})
    assert s.trusted_proxies == ("10.0.0.5/32", "172.18.0.0/16", "::1/128")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="MARKET_TRUSTED_PROXIES"):
        Settings.from_env({"MARKET_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"})


class Headers:
    def __init__(self, **values: list[str]) -> None:
        self.values = {k.replace("_", "-"): v for k, v in values.items()}

    def getall(self, name: str, default: list[str]) -> list[str]:
        return self.values.get(name, default)


TRUSTED = Settings(trusted_proxies=("10.0.0.0/8", "127.0.0.1/32")).trusted_proxy_networks


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # no trusted proxy: the peer, whatever the headers say
        ("203.0.113.7", Headers(x_forwarded_for=["192.0.2.1"]), "203.0.113.7"),
        ("127.0.0.2", Headers(x_forwarded_for=["192.0.2.1"]), "127.0.0.2"),
        # from a trusted proxy: the right-most untrusted address
        ("10.0.0.2", Headers(x_forwarded_for=["192.0.2.1, 198.51.100.9"]), "198.51.100.9"),
        ("10.0.0.2", Headers(x_forwarded_for=["192.0.2.1", "198.51.100.9, 10.9.9.9"]), "198.51.100.9"),
        ("127.0.0.1", Headers(forwarded=['for=192.0.2.60;proto=https, for="[2001:db8::1]:80"']), "2001:db8::1"),
        ("10.0.0.2", Headers(forwarded=["for=198.51.100.3:4711"]), "198.51.100.3"),
        # Forwarded wins over X-Forwarded-For when both are there
        ("10.0.0.2", Headers(forwarded=["for=198.51.100.4"], x_forwarded_for=["192.0.2.9"]), "198.51.100.4"),
        # nothing forwarded, or only trusted hops, or garbage: the last good hop
        ("10.0.0.2", Headers(), "10.0.0.2"),
        ("10.0.0.2", Headers(x_forwarded_for=["10.1.1.1"]), "10.1.1.1"),
        ("10.0.0.2", Headers(x_forwarded_for=["192.0.2.1, unknown"]), "10.0.0.2"),
        ("10.0.0.2", Headers(x_forwarded_for=["<script>"]), "10.0.0.2"),
    ],
)
def test_the_client_address_behind_trusted_proxies(peer, headers, expected):
    assert resolve_client_ip(peer, headers, TRUSTED) == expected
    assert resolve_client_ip(peer, headers, ()) == peer


def test_market_serve_names_no_software_and_ignores_forwarded_headers(monkeypatch, tmp_path):
    """uvicorn itself must neither send ``server: uvicorn`` nor rewrite the client address from
    X-Forwarded-For (which it would trust from 127.0.0.1): the app decides, by
    MARKET_TRUSTED_PROXIES."""
    import uvicorn
    from click.testing import CliRunner

    from market.cli import main

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    env = {"MARKET_VAR_DIR": str(tmp_path), "MARKET_ARGON2_PROFILE": "fast"}
    result = CliRunner().invoke(main, ["serve", "--port", "8123", "--no-worker"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen["server_header"] is False and seen["proxy_headers"] is False and seen["port"] == 8123
