"""The worker job that delivers the outbox by e-mail (the row itself is the in-site message).

``MARKET_SMTP_URL`` names the server: ``smtp://user:pass@host:port`` (STARTTLS when the server
offers it), ``smtps://…`` (TLS from the start); ``?from=noreply@example.org`` sets the sender.
Unset, nothing is sent: each e-mail is written to the log and marked ``logged``.

Each message is claimed alone, with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises
writers anyway), sent, and marked in the same transaction, so several workers never send one
twice. A failure counts an attempt, records the error and waits 30 s, 1 min, 2 min … (at most
6 hours, shortened by ``MARKET_ACCELERATOR``) before the next; after :data:`MAX_ATTEMPTS` the
message is ``failed`` (it stays in the inbox). While the server is down the job stops at the
first failure instead of knocking once per message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from market.db import is_postgres
from market.identity.models import Organization, User
from market.notify.models import EmailStatus, Notification
from market.notify.service import language_of, render_row
from market.settings import Settings

log = logging.getLogger("market.notify")

MAX_ATTEMPTS = 12
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
BATCH = 50
SMTP_TIMEOUT = 20.0


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    sender: str


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://user:pass@host:port?from=…`` or ``smtps://…``; a ValueError names what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("MARKET_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("MARKET_SMTP_URL names no host")
    use_tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    sender = (query.get("from") or [""])[0] or f"noreply@{parts.hostname}"
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        sender=sender,
    )


def backoff(attempts: int, accelerator: int = 1) -> timedelta:
    """How long to wait after the ``attempts``-th failure."""
    delay: timedelta = min(BASE_DELAY * (2 ** max(0, attempts - 1)), MAX_DELAY)
    return delay / max(1, accelerator)


def compose(row: Notification, to: str, sender: str, subject: str, body: str, base_url: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=row.id.hex, domain="market.invalid")
    message["X-Market-Notification"] = str(row.id)
    text = body
    if row.link:
        text = f"{body}\n\n{base_url}{row.link}" if body else f"{base_url}{row.link}"
    message.set_content(text)
    return message


async def _recipient(session: AsyncSession, row: Notification) -> tuple[str | None, str | None]:
    """The address and language of a row (a user's: their organisation's address unless they
    have their own)."""
    if row.user_id is None:
        return row.to_address, row.lang
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None, None
    address = getattr(user, "email", None)
    if not address:
        org = await session.get(Organization, user.org_id)
        address = org.email if org is not None else None
    return address, await language_of(session, row.user_id)


async def _claim(session: AsyncSession, now: datetime) -> Notification | None:
    stmt = (
        select(Notification)
        .where(col(Notification.email_status) == EmailStatus.pending)
        .where((col(Notification.next_attempt_at).is_(None)) | (col(Notification.next_attempt_at) <= now))
        .order_by(col(Notification.created_at), col(Notification.id))
        .limit(1)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.scalars(stmt)).first()


async def deliver_tick(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """Send what is due; returns how many e-mails were delivered (sent or logged)."""
    server = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
    delivered = 0
    for _ in range(BATCH):
        async with factory() as session:
            row = await _claim(session, now)
            if row is None:
                await session.rollback()
                break
            address, lang = await _recipient(session, row)
            if not address or "@" not in address:
                row.email_status = EmailStatus.off
                row.last_error = "no e-mail address"
                await session.commit()
                continue
            subject, body = render_row(row, lang)
            row.attempts += 1
            row.email_address = address
            if server is None:
                log.info("e-mail (MARKET_SMTP_URL unset) to %s: %s\n%s", address, subject, body)
                row.email_status = EmailStatus.logged
                row.delivered_at = now
                row.last_error = None
                await session.commit()
                delivered += 1
                continue
            message = compose(row, address, server.sender, subject, body, settings.base_url)
            try:
                await aiosmtplib.send(
                    message,
                    hostname=server.host,
                    port=server.port,
                    username=server.username,
                    password=server.password,
                    use_tls=server.use_tls,
                    timeout=SMTP_TIMEOUT,
                )
            except (aiosmtplib.SMTPException, OSError) as exc:
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if row.attempts >= MAX_ATTEMPTS:
                    row.email_status = EmailStatus.failed
                else:
                    row.next_attempt_at = now + backoff(row.attempts, settings.accelerator)
                await session.commit()
                log.warning("e-mail %s to %s failed (attempt %d): %s", row.id, address, row.attempts, exc)
                if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
                    continue  # this address only: the others may go
                break  # the server is down or refusing: try again later, not once per message
            row.email_status = EmailStatus.sent
            row.delivered_at = now
            row.last_error = None
            await session.commit()
            delivered += 1
    return delivered
