"""Delivery and acceptance: the provider submits deliverables, the owner accepts or returns them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from invoices import bounds, documents, notifications, rules
from invoices.contracts import get_contract, require_side
from invoices.models import Contract, ContractStatus, Delivery, DeliveryFile, DeliveryStatus
from listings import credit
from listings.credit import CreditFactKind
from listings.storage import check_upload, clean_filename, storage_for
from market import audit, clock
from market.actor import Actor
from market.errors import Conflict, InvalidInput, NotFound, RuleViolation
from market.i18n import gettext as _
from market.settings import Settings

MAX_FILES = 10


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def check_uploads(files: list[Upload], settings: Settings) -> list[tuple[Upload, str]]:
    """Each file recognised by its content (PDF, PNG or JPEG; the name proves nothing)."""
    if not files:
        raise InvalidInput.field("files", _("Attach at least one deliverable."))
    if len(files) > MAX_FILES:
        raise InvalidInput.field("files", _("Attach at most %(n)d files.", n=MAX_FILES))
    return [
        (
            upload,
            check_upload(upload.data, clean_filename(upload.filename, "files"), settings.max_upload_bytes, "files"),
        )
        for upload in files
    ]


async def deliveries_of(session: AsyncSession, contract_id: uuid.UUID) -> list[Delivery]:
    rows = await session.scalars(
        select(Delivery).where(col(Delivery.contract_id) == contract_id).order_by(col(Delivery.seq))
    )
    return list(rows)


async def files_of(session: AsyncSession, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DeliveryFile]]:
    result: dict[uuid.UUID, list[DeliveryFile]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        rows = await session.scalars(
            select(DeliveryFile)
            .where(col(DeliveryFile.delivery_id).in_(delivery_ids))
            .order_by(col(DeliveryFile.filename))
        )
        for row in rows:
            result[row.delivery_id].append(row)
    return result


async def submit(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    contract_id: uuid.UUID,
    *,
    note: str,
    files: list[Upload],
) -> Delivery:
    contract = await get_contract(session, actor, contract_id, lock=True)
    user_id = require_side(contract, actor, "provider")
    if contract.status == ContractStatus.draft:
        raise RuleViolation(_("The contract is not signed by both parties yet."))
    if contract.status == ContractStatus.delivered:
        raise Conflict(_("The last delivery awaits the purchaser's decision."))
    if contract.status == ContractStatus.accepted:
        raise RuleViolation(_("The service has already been accepted."))
    note = bounds.text("note", note, most=bounds.DELIVERY_NOTE)
    checked = check_uploads(files, settings)
    seq = (
        int(
            await session.scalar(
                select(func.coalesce(func.max(col(Delivery.seq)), 0)).where(col(Delivery.contract_id) == contract.id)
            )
            or 0
        )
        + 1
    )
    now = clock.now()
    delivery = Delivery(contract_id=contract.id, seq=seq, note=note, submitted_at=now, submitted_by=user_id)
    session.add(delivery)
    await session.flush()
    storage = storage_for(settings)
    listed = []
    seen: set[str] = set()
    for upload, content_type in checked:
        sha = await documents.store_file(session, storage, upload.data, content_type)
        if sha in seen:
            continue
        seen.add(sha)
        name = clean_filename(upload.filename, "files")
        session.add(
            DeliveryFile(
                delivery_id=delivery.id, sha256=sha, filename=name, content_type=content_type, size=len(upload.data)
            )
        )
        listed.append({"name": name, "sha256": sha, "size": len(upload.data), "type": content_type})
    contract.status = ContractStatus.delivered
    contract.delivered_at = now
    await session.flush()
    audit.record(
        session,
        actor,
        "delivery.submitted",
        "contract",
        contract.id,
        {"delivery_id": delivery.id, "seq": seq, "files": listed, "late": _late(contract, now)},
    )
    await notifications.delivery_submitted(session, contract)
    return delivery


def _late(contract: Contract, moment: datetime) -> bool:
    return contract.due_at_current is not None and moment > clock.ensure_aware(contract.due_at_current)


async def _open_delivery(session: AsyncSession, contract: Contract) -> Delivery:
    delivery = await session.scalar(
        select(Delivery)
        .where(col(Delivery.contract_id) == contract.id, col(Delivery.status) == DeliveryStatus.submitted)
        .order_by(col(Delivery.seq).desc())
    )
    if delivery is None or contract.status != ContractStatus.delivered:
        raise RuleViolation(_("There is no delivery awaiting a decision."))
    return delivery


async def accept(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, settings: Settings | None = None
) -> Delivery:
    """The owner accepts the delivery; with ``settings`` the payment term's end is stored on the
    contract (without, it stays unset and is computed where it is read)."""
    contract = await get_contract(session, actor, contract_id, lock=True)
    user_id = require_side(contract, actor, "owner")
    delivery = await _open_delivery(session, contract)
    now = clock.now()
    delivery.status = DeliveryStatus.accepted
    delivery.decided_at = now
    delivery.decided_by = user_id
    contract.status = ContractStatus.accepted
    contract.accepted_at = now
    if settings is not None:
        contract.payment_due_at = rules.payment_deadline(now, contract.payment_days, settings.accelerator)
    await session.flush()
    audit.record(
        session,
        actor,
        "delivery.accepted",
        "contract",
        contract.id,
        {"delivery_id": delivery.id, "seq": delivery.seq, "accepted_at": now},
    )
    if _late(contract, clock.ensure_aware(delivery.submitted_at)):
        # the firm's credit: the accepted delivery came after the due date (the contract's flag delivered_late)
        await credit.record_fact(
            session,
            provider_id=contract.provider_id,
            kind=CreditFactKind.delivery_late,
            occurred_at=clock.ensure_aware(delivery.submitted_at),
            value=1,
            source_id=contract.id,
            link=f"/contracts/{contract.id}",
            note=contract.number,
        )
    await notifications.delivery_decided(session, contract, None)
    return delivery


async def return_delivery(session: AsyncSession, actor: Actor, contract_id: uuid.UUID, reason: str) -> Delivery:
    contract = await get_contract(session, actor, contract_id, lock=True)
    user_id = require_side(contract, actor, "owner")
    least, most = bounds.RETURN_REASON
    reason = bounds.text(
        "reason", reason, least=least, most=most, too_short=_("Say what must be corrected (at least 5 characters).")
    )
    delivery = await _open_delivery(session, contract)
    now = clock.now()
    delivery.status = DeliveryStatus.returned
    delivery.decided_at = now
    delivery.decided_by = user_id
    delivery.reason = reason
    contract.status = ContractStatus.returned
    await session.flush()
    audit.record(
        session,
        actor,
        "delivery.returned",
        "contract",
        contract.id,
        {"delivery_id": delivery.id, "seq": delivery.seq, "reason": reason},
    )
    await credit.record_fact(
        session,
        provider_id=contract.provider_id,
        kind=CreditFactKind.delivery_returned,
        occurred_at=now,
        value=1,
        source_id=delivery.id,
        link=f"/contracts/{contract.id}",
        note=contract.number,
    )
    await notifications.delivery_decided(session, contract, reason)
    return delivery


async def get_file(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, sha256: str
) -> tuple[Contract, DeliveryFile]:
    """A deliverable, for those who may read the contract."""
    contract = await get_contract(session, actor, contract_id)
    row = await session.scalar(
        select(DeliveryFile)
        .join(Delivery, col(Delivery.id) == col(DeliveryFile.delivery_id))
        .where(col(Delivery.contract_id) == contract.id, col(DeliveryFile.sha256) == sha256)
        .limit(1)
    )
    if row is None:
        raise NotFound(_("No such file in this contract's deliveries."))
    return contract, row
