"""The outbox: written with the change that causes it, delivered by the worker over real SMTP,
exactly once, in the recipient's language, and nothing lost while the server is down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market import clock, notify
from market.identity.models import Organization, User
from market.notify.delivery import backoff, deliver_tick, parse_smtp_url
from market.notify.models import EmailStatus, Notification, NotificationSettings
from market.terms import N_
from tests.integration.helpers import make_user
from tests.integration.smtp_server import SmtpServer

TEST_KIND = notify.Kind(
    "test.hello",
    subject=N_("%(n)s days"),  # msgids the catalog translates already
    body=N_("Or run: market verify-draw %(ref)s"),
    audience="provider",
)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _kind() -> None:
    notify.register_kind(TEST_KIND)


async def _user(factory, username: str, email: str, lang: str | None = None) -> User:
    user = await make_user(factory, "provider", f"{username} 事务所", username)
    async with factory() as session:
        org = await session.get(Organization, user.org_id)
        org.email = email
        if lang:
            session.add(NotificationSettings(user_id=user.id, lang=lang))
        await session.commit()
    return user


async def _rows(factory) -> list[Notification]:
    async with factory() as session:
        return list(await session.scalars(select(Notification).order_by(Notification.created_at)))


async def test_sent_with_the_change_and_delivered_once_in_the_recipients_language(factory, settings, smtp):
    zh = await _user(factory, "zhang", "zhang@example.org")
    en = await _user(factory, "smith", "smith@example.org", lang="en")
    async with factory() as session:
        assert (
            await notify.send(
                session, kind="test.hello", params={"ref": "CG-1", "n": 1}, link="/p/1", to_user_ids=[zh.id, en.id]
            )
            == 2
        )
        await session.rollback()  # the change failed: nothing is sent
    assert await _rows(factory) == []

    async with factory() as session:
        await notify.send(
            session, kind="test.hello", params={"ref": "CG-2", "n": 2}, link="/p/2", to_user_ids=[zh.id, en.id]
        )
        await session.commit()
    with_smtp = settings.with_(smtp_url=smtp.url)
    assert await deliver_tick(factory, with_smtp, clock.now()) == 2
    assert await deliver_tick(factory, with_smtp, clock.now()) == 0  # each message once

    [chinese] = smtp.inbox.to("zhang@example.org")
    assert chinese["Subject"] == "2 天"
    assert "或运行命令：market verify-draw CG-2" in chinese.get_content()
    assert "http://127.0.0.1:8000/p/2" in chinese.get_content()
    [english] = smtp.inbox.to("smith@example.org")
    assert english["Subject"] == "2 days"
    rows = await _rows(factory)
    assert {r.email_status for r in rows} == {EmailStatus.sent}
    assert all(r.attempts == 1 and r.delivered_at is not None and r.last_error is None for r in rows)


async def test_nothing_lost_while_the_server_is_down(factory, settings, smtp):
    user = await _user(factory, "li", "li@example.org")
    async with factory() as session:
        await notify.send(session, kind="test.hello", params={"ref": "CG-3"}, to_user_ids=[user.id])
        await notify.send_email(session, "new@example.org", "重置密码", "链接：/reset/abc", "zh")
        await session.commit()
    with_smtp = settings.with_(smtp_url=smtp.url)
    smtp.stop()
    start = clock.now()
    clock.freeze(start)
    assert await deliver_tick(factory, with_smtp, clock.now()) == 0
    [first, second] = await _rows(factory)
    assert first.attempts == 1 and first.last_error and first.email_status == EmailStatus.pending
    assert first.next_attempt_at == start + backoff(1)
    assert second.attempts == 0  # the job stopped at the first failure

    smtp.start()
    assert await deliver_tick(factory, with_smtp, clock.now()) == 1  # the other one; the first waits
    clock.advance(backoff(1) + timedelta(seconds=1))
    assert await deliver_tick(factory, with_smtp, clock.now()) == 1
    assert await deliver_tick(factory, with_smtp, clock.now()) == 0
    assert len(smtp.inbox.to("li@example.org")) == 1
    [reset] = smtp.inbox.to("new@example.org")
    assert reset["Subject"] == "重置密码"
    rows = await _rows(factory)
    assert [r.attempts for r in rows] == [2, 1]
    assert all(r.email_status == EmailStatus.sent and r.last_error is None for r in rows)


async def test_without_smtp_the_emails_are_logged(factory, settings, caplog):
    user = await _user(factory, "wang", "wang@example.org")
    async with factory() as session:
        await notify.send(session, kind="test.hello", params={"ref": "CG-4"}, to_org_id=user.org_id)
        await session.commit()
    with caplog.at_level("INFO", logger="market.notify"):
        assert await deliver_tick(factory, settings, clock.now()) == 1
    assert "CG-4" in caplog.text
    [row] = await _rows(factory)
    assert row.email_status == EmailStatus.logged and row.email_address == "wang@example.org"


async def test_marks_go_once(factory):
    async with factory() as session:
        assert await notify.once(session, "k:1")
        assert not await notify.once(session, "k:1")
        await session.commit()
    async with factory() as session:
        assert not await notify.once(session, "k:1")
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0


def test_smtp_url():
    server = parse_smtp_url("smtps://me%40x.org:p%3Ass@mail.example.org?from=noreply@example.org")
    assert (server.host, server.port, server.use_tls) == ("mail.example.org", 465, True)
    assert (server.username, server.password, server.sender) == ("me@x.org", "p:ss", "noreply@example.org")
    assert parse_smtp_url("smtp://localhost").port == 25
    with pytest.raises(ValueError):
        parse_smtp_url("http://x")
