"""The outbox: one row per message and recipient, written in the transaction of the change that
causes it, and the per-user settings (language, e-mail on/off per kind)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from market import clock
from market.db import StrEnumType, UTCDateTime, new_id, one_of


class EmailStatus(StrEnum):
    pending = "pending"  # the worker will send it (again, after a failure: see next_attempt_at)
    sent = "sent"  # accepted by the SMTP server
    logged = "logged"  # no SMTP server configured: written to the log instead
    off = "off"  # the recipient turned e-mail off for this kind, or has no address
    failed = "failed"  # given up after MAX_ATTEMPTS


class Notification(SQLModel, table=True):
    """An outbox row. For a user it is also the inbox item (``read_at``); a bare e-mail (a reset
    link to an address that is nobody's yet) has ``to_address`` and its text already rendered."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(one_of("email_status", EmailStatus), name="email_status"),
        CheckConstraint("user_id IS NOT NULL OR to_address IS NOT NULL", name="recipient"),
        Index("ix_notifications_due", "email_status", "next_attempt_at"),
        Index("ix_notifications_inbox", "user_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    to_address: str | None = Field(default=None, max_length=254)
    kind: str = Field(max_length=64)
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    link: str | None = Field(default=None, max_length=500)
    subject: str | None = Field(default=None, sa_column=Column(Text))
    body: str | None = Field(default=None, sa_column=Column(Text))
    lang: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_status: EmailStatus = Field(default=EmailStatus.pending, sa_type=StrEnumType(EmailStatus, 16))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_address: str | None = Field(default=None, max_length=254)  # where it went
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class NotificationPreference(SQLModel, table=True):
    """A user's choice for one kind: e-mail on or off; subscriptions may also be turned off."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=64)
    email: bool = True
    enabled: bool = True  # only subscriptions can be turned off; the others are always in the inbox
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class NotificationSettings(SQLModel, table=True):
    """The language a user's messages are written in (Chinese unless they chose English)."""

    __tablename__ = "notification_settings"

    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True)
    lang: str = Field(default="zh", sa_column=Column(String(8), nullable=False, server_default="zh"))
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class NotificationMark(SQLModel, table=True):
    """ "Already sent" for the time-based messages (a deadline tomorrow, a payment overdue …):
    the unique key makes each go once, whatever number of workers run."""

    __tablename__ = "notification_marks"

    key: str = Field(sa_column=Column(String(200), primary_key=True))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
