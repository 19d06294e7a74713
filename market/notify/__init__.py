"""Notifications (issue 11): an outbox written in the transaction of the change that causes each
message, delivered by the worker in-site and by e-mail in the recipient's language.

Packages call :func:`send` (a user, an organisation's users, every user of an organisation kind)
and register what each kind says with :func:`register_kind`; :func:`send_email` queues an e-mail
to a bare address; :func:`once` marks a time-based message as sent (:func:`once_each` many).
"""

from market.notify.models import NotificationMark
from market.notify.service import APPROVERS, Kind, kinds, once, once_each, register_kind, render, send, send_email

__all__ = [
    "APPROVERS",
    "Kind",
    "NotificationMark",
    "kinds",
    "once",
    "once_each",
    "register_kind",
    "render",
    "send",
    "send_email",
]
