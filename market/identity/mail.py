"""The one place identity sends an e-mail: an invitation or a password-reset link, queued in the
notifications outbox (market.notify) in the caller's transaction and delivered by the worker."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from market import i18n
from market.i18n import gettext as _
from market.notify import send_email

LINK_KINDS = ("invitation", "reset")


def render_link(kind: str, url: str, username: str, org_name: str, lang: str) -> tuple[str, str]:
    """Subject and body of the link's e-mail, in ``lang``."""
    token = i18n.set_locale(lang)
    try:
        if kind == "invitation":
            subject = _("You are invited to %(org)s on the Intermediary Service Supermarket", org=org_name)
            body = _(
                "%(org)s invites you to use the Intermediary Service Supermarket as %(username)s. "
                "Open this link within 7 days to set your password (it works once): %(url)s",
                org=org_name,
                username=username,
                url=url,
            )
        else:
            subject = _("Reset your password")
            body = _(
                "Someone asked to reset the password of %(username)s. Open this link within 30 minutes "
                "to choose a new one (it works once): %(url)s — if it was not you, ignore this message.",
                username=username,
                url=url,
            )
    finally:
        i18n.reset_locale(token)
    return subject, body


async def send_link(
    session: AsyncSession, to_address: str, kind: str, url: str, lang: str, *, username: str, org_name: str = ""
) -> None:
    """Queue the e-mail carrying a one-time ``url`` of ``kind`` (invitation | reset) to ``to_address``."""
    if kind not in LINK_KINDS:
        raise ValueError(f"unknown link kind {kind!r}")
    subject, body = render_link(kind, url, username, org_name, lang)
    await send_email(session, to_address, subject, body, lang)
