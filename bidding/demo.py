"""Demo purchases in every state, placed in time through the same services and audit trail.

It finds what the listings demo made: approved owner organisations, and retained catalog items
for which at least three approved providers hold a valid qualification. If there is nothing, it
creates nothing and says so. Each scenario is a list of timed steps (publish, bid, close, select,
object, decide, award); the steps of all scenarios run in time order with the clock frozen at
each step, so that the audit trail stays chronological. Idempotent: a scenario whose purchase
exists already (same owner and title) is skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bidding import bids as bid_service
from bidding import clarifications, purchases, scoring, selecting, timeline
from bidding.models import Bid, BidStatus, Funding, Method, Purchase, PurchaseStatus
from bidding.schemas import PurchaseCreate, WeightsIn
from listings.models import CatalogItem, FeeType, ItemStatus, Qualification, QualificationItem, ReviewStatus
from listings.services import qualified
from market import clock
from market.actor import Actor
from market.identity.models import Organization, OrgKind, OrgStatus, User
from market.settings import Settings
from market.workdays import add_period

S = PurchaseStatus
# the owner's written reasons for the blind quality marks of a scored demo purchase
REASONS = [
    "技术方案完整，评估方法与工作计划清晰，人员资历满足要求。",
    "方案基本可行，但现场踏勘安排较粗，进度计划缺少节点。",
    "类似项目经验丰富，质量保证措施具体，成果格式规范。",
    "方案响应了主要要求，人员配置略少，风险应对措施一般。",
    "方案较简略，未说明关键技术路线，仅满足最低要求。",
]

PROJECTS = [
    "云岭县城南污水处理厂扩建工程",
    "云岭县人民医院门诊综合楼建设项目",
    "县道X012线青龙至马街段改扩建工程",
    "云岭县第一中学学生宿舍楼建设项目",
    "云岭县农产品冷链物流中心建设项目",
    "云岭县老旧小区改造（二期）项目",
    "云岭县工业园区标准厂房建设项目",
    "云岭县城乡供水一体化工程",
    "云岭县河道综合治理工程",
    "云岭县全民健身中心建设项目",
    "云岭县殡仪馆迁建项目",
    "云岭县应急物资储备库建设项目",
    "云岭县乡村振兴示范村基础设施项目",
    "云岭县城北片区路网工程",
]


@dataclass
class Cast:
    owners: list[tuple[Organization, User]]
    items: list[tuple[CatalogItem, list[tuple[Organization, User]]]]


def _actor(org: Organization, user: User) -> Actor:
    return Actor(user_id=user.id, org_id=org.id, role=org.role.value, username=user.username)


async def _first_user(session: AsyncSession, org_id: uuid.UUID) -> User | None:
    return await session.scalar(
        select(User)
        .where(col(User.org_id) == org_id, col(User.is_active).is_(True))
        .order_by(col(User.created_at))
        .limit(1)
    )


async def find_cast(session: AsyncSession) -> Cast:
    today = clock.today_local()
    owners = []
    for org in await session.scalars(
        select(Organization)
        .where(col(Organization.kind) == OrgKind.owner, col(Organization.status) == OrgStatus.approved)
        .order_by(col(Organization.name))
    ):
        user = await _first_user(session, org.id)
        if user is not None:
            owners.append((org, user))
    items = []
    for item in await session.scalars(
        select(CatalogItem).where(col(CatalogItem.status) == ItemStatus.retained).order_by(col(CatalogItem.code))
    ):
        candidates = set(
            await session.scalars(
                select(Qualification.provider_id)
                .join(QualificationItem, col(QualificationItem.qualification_id) == col(Qualification.id))
                .where(
                    col(QualificationItem.item_id) == item.id,
                    col(Qualification.status) == ReviewStatus.approved,
                )
            )
        )
        providers = []
        for org in await session.scalars(
            select(Organization).where(col(Organization.id).in_(candidates)).order_by(col(Organization.name))
        ):
            user = await _first_user(session, org.id)
            if user is not None and await qualified(session, org.id, item.code, today):
                providers.append((org, user))
        if len(providers) >= 3:
            items.append((item, providers))
    return Cast(owners, items)


Step = Callable[[AsyncSession], Awaitable[None]]


@dataclass
class Scenario:
    key: str
    project: str
    title: str
    owner: tuple[Organization, User]
    item: CatalogItem
    providers: list[tuple[Organization, User]]
    steps: list[tuple[datetime, Step]] = field(default_factory=list)
    purchase_id: uuid.UUID | None = None
    bid_ids: list[uuid.UUID] = field(default_factory=list)

    def at(self, moment: datetime, step: Step) -> None:
        self.steps.append((moment, step))


def _cap(item: CatalogItem, n: int) -> Decimal:
    if item.fee_type == FeeType.government_priced and item.fee_cap is not None:
        return item.fee_cap
    base = [38000, 56000, 72000, 45000, 98000, 64000, 30000, 120000][n % 8]
    return Decimal(base) if item.fee_cap is None else min(Decimal(base), item.fee_cap)


def _price(cap: Decimal, factor: str) -> Decimal:
    return (cap * Decimal(factor) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 100


class Office:
    """Office hours for the demo timeline (publish at 09:00, deadlines at 17:00, China time).
    With an accelerated clock (SPEC §4) there are no office hours: offsets only shrink."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.accelerated = settings.accelerator > 1
        self.h = timedelta(hours=1) / settings.accelerator

    def at(self, moment: datetime, hour: int) -> datetime:
        if self.accelerated:
            return moment
        return clock.to_local(moment).replace(hour=hour, minute=0, second=0, microsecond=0)

    def morning(self, moment: datetime) -> datetime:
        return self.at(moment, 9)

    def deadline(self, start: datetime, not_before: datetime | None = None) -> datetime:
        """17:00 on the day the minimum bidding period ends (or later, if asked)."""
        earliest = purchases.earliest_deadline(self.settings, start)
        if not_before is not None and not_before > earliest:
            earliest = not_before
        if self.accelerated:
            return earliest + 2 * self.h
        candidate = self.at(earliest, 17)
        return candidate if candidate >= earliest else candidate + timedelta(days=1)

    def start_for_deadline_before(self, target: datetime) -> datetime:
        """A 09:00 publication whose 17:00 deadline falls before ``target``."""
        moment = self.morning(target) if not self.accelerated else target - 2 * self.h
        step = timedelta(days=1) if not self.accelerated else self.h
        while self.deadline(moment) > target:
            moment -= step
        return moment


class Planner:
    def __init__(self, now: datetime, settings: Settings) -> None:
        self.now = now
        self.settings = settings

    def period(self, start: datetime, days: int) -> datetime:
        return add_period(start, days, self.settings.accelerator)

    def draft(self, sc: Scenario, at: datetime, **terms: Any) -> None:
        async def step(session: AsyncSession) -> None:
            t = dict(terms)
            data = PurchaseCreate(
                title=sc.title,
                catalog_code=sc.item.code,
                description=f"为{sc.project}提供{sc.item.name}服务：收集和核实基础资料，编制成果文件，"
                "成果须符合国家和云南省现行技术规范，并配合审批部门完成技术审查和修改。",
                budget_cap=t.pop("cap"),
                funding=t.pop("funding", Funding.fiscal),
                method=t.pop("method", Method.random),
                bid_deadline=t.pop("deadline"),
                service_days=min(sc.item.time_limit_days, t.pop("service_days", 15)),
                **t,
            )
            p = await purchases.create_draft(session, _actor(*sc.owner), self.settings, data)
            sc.purchase_id = p.id

        sc.at(at, step)

    def publish(self, sc: Scenario, at: datetime) -> None:
        async def step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            await purchases.publish(session, _actor(*sc.owner), self.settings, sc.purchase_id)

        sc.at(at, step)

    def bid(self, sc: Scenario, at: datetime, who: int, price: Decimal, days: int = 10, note: str = "") -> None:
        async def step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            purchase = await session.get(Purchase, sc.purchase_id)
            assert purchase is not None
            # a bid may not promise more days than the purchase allows (some items have short limits)
            offered = min(days, purchase.service_days)
            b = await bid_service.submit(
                session,
                _actor(*sc.providers[who]),
                self.settings,
                sc.purchase_id,
                price=price,
                service_days=offered,
                note=note,
            )
            sc.bid_ids.append(b.id)

        sc.at(at, step)

    def due(self, sc: Scenario, at: datetime) -> None:
        """What the worker does at that moment (close, expire explanations, award)."""

        async def step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            p = await timeline.lock(session, sc.purchase_id)
            assert p is not None
            await timeline.apply_due(session, self.settings, p, clock.now())

        sc.at(at, step)

    def select(self, sc: Scenario, at: datetime, **kwargs: Any) -> None:
        async def step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            args = dict(kwargs)
            if args.pop("marks", None):  # blind marks with their reasons, locked, then the prices open
                valid = await selecting.pool(session, sc.purchase_id)
                marks = [88, 76, 93, 81, 70]
                owner = _actor(*sc.owner)
                for i, b in enumerate(sorted(valid, key=lambda b: b.received_at)):
                    await scoring.mark(
                        session,
                        owner,
                        self.settings,
                        sc.purchase_id,
                        b.id,
                        value=marks[i % len(marks)],
                        reason=REASONS[i % len(REASONS)],
                    )
                await scoring.lock(session, owner, self.settings, sc.purchase_id)
            if "pick" in args:
                valid = await selecting.pool(session, sc.purchase_id)
                args["bid_id"] = sorted(valid, key=lambda b: b.price)[args.pop("pick")].id
            await selecting.select_winner(session, _actor(*sc.owner), self.settings, sc.purchase_id, **args)

        sc.at(at, step)

    def ask(self, sc: Scenario, at: datetime, who: int, question: str, answer: str | None, answer_at: datetime) -> None:
        holder: dict[str, uuid.UUID] = {}

        async def ask_step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            q = await clarifications.ask(session, _actor(*sc.providers[who]), self.settings, sc.purchase_id, question)
            holder["q"] = q.id

        async def answer_step(session: AsyncSession) -> None:
            await clarifications.answer(session, _actor(*sc.owner), self.settings, holder["q"], answer or "")

        sc.at(at, ask_step)
        if answer:
            sc.at(answer_at, answer_step)

    def explain(self, sc: Scenario, at: datetime, who: int, text: str) -> None:
        async def step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            b = await session.scalar(
                select(Bid).where(
                    col(Bid.purchase_id) == sc.purchase_id,
                    col(Bid.provider_id) == sc.providers[who][0].id,
                    col(Bid.status) == BidStatus.active,
                )
            )
            assert b is not None
            await bid_service.explain(session, _actor(*sc.providers[who]), self.settings, b.id, text)

        sc.at(at, step)

    def object(self, sc: Scenario, at: datetime, who: int, reason: str, holder: dict[str, uuid.UUID]) -> None:
        async def step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            p = await session.get(Purchase, sc.purchase_id)
            assert p is not None
            selection = await timeline.current_selection(session, p.id)
            assert selection is not None
            winner = await session.get(Bid, selection.winner_bid_id)
            # the objector is a valid bidder that did not win
            for org, user in sc.providers:
                if winner is not None and org.id != winner.provider_id:
                    mine = await bid_service.my_active_bid(session, _actor(org, user), p.id)
                    if mine is not None and mine.valid is not None:
                        o = await selecting.file_objection(session, _actor(org, user), self.settings, p.id, reason)
                        holder["objection"] = o.id
                        return

        sc.at(at, step)

    def decide(
        self, sc: Scenario, at: datetime, admin: Actor, upheld: bool, text: str, holder: dict[str, uuid.UUID]
    ) -> None:
        async def step(session: AsyncSession) -> None:
            await selecting.decide(session, admin, self.settings, holder["objection"], upheld=upheld, decision=text)

        sc.at(at, step)

    def cancel(self, sc: Scenario, at: datetime, reason: str) -> None:
        async def step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            await purchases.cancel(session, _actor(*sc.owner), self.settings, sc.purchase_id, reason)

        sc.at(at, step)

    def republish(self, sc: Scenario, at: datetime, deadline: datetime) -> None:
        async def step(session: AsyncSession) -> None:
            assert sc.purchase_id is not None
            new = await purchases.republish(session, _actor(*sc.owner), self.settings, sc.purchase_id, deadline)
            await purchases.publish(session, _actor(*sc.owner), self.settings, new.id)
            sc.purchase_id = new.id

        sc.at(at, step)


async def _admin(session: AsyncSession) -> Actor | None:
    row = (
        await session.execute(
            select(Organization, User)
            .join(User, col(User.org_id) == col(Organization.id))
            .where(col(Organization.kind) == OrgKind.operator, col(Organization.status) == OrgStatus.approved)
            .order_by(col(User.created_at))
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    org, user = row
    return Actor(user_id=user.id, org_id=org.id, role="admin", username=user.username)


def plan(cast: Cast, admin: Actor | None, now: datetime, settings: Settings) -> list[Scenario]:
    pl = Planner(now, settings)
    scenarios: list[Scenario] = []
    counter = 0

    def scenario(key: str, need: int = 3) -> Scenario | None:
        nonlocal counter
        choices = [(item, provs) for item, provs in cast.items if len(provs) >= need]
        if not choices:
            return None
        item, provs = choices[counter % len(choices)]
        owner = cast.owners[counter % len(cast.owners)]
        title = f"{PROJECTS[counter % len(PROJECTS)]}{item.name}"
        counter += 1
        sc = Scenario(key, PROJECTS[(counter - 1) % len(PROJECTS)], title, owner, item, provs)
        scenarios.append(sc)
        return sc

    # with an accelerated clock (SPEC §4) every offset shrinks like the rule periods do
    h = timedelta(hours=1) / settings.accelerator
    d = timedelta(days=1) / settings.accelerator
    minute = timedelta(minutes=1) / settings.accelerator
    office = Office(settings)

    # 1. an awarded random draw whose proof verifies
    sc = scenario("awarded-random", 4)
    if sc:
        cap = _cap(sc.item, 0)
        start = office.morning(now - 40 * d)
        deadline = office.deadline(start)
        pl.draft(sc, start - h, cap=cap, method=Method.random, deadline=deadline)
        pl.publish(sc, start)
        pl.ask(
            sc,
            start + 3 * h,
            0,
            "成果是否需要通过专家评审？评审费用由谁承担？",
            "需通过专家技术评审，评审费用由采购人另行承担，不含在报价内。",
            start + 6 * h,
        )
        for i, f in enumerate(["0.92", "0.88", "0.95", "0.90"][: len(sc.providers)]):
            pl.bid(sc, start + d + i * h, i, _price(cap, f), days=min(12, sc.item.time_limit_days))
        pl.due(sc, deadline + minute)
        selected = office.morning(deadline + d) + 1 * h
        pl.select(sc, selected)
        pl.due(sc, pl.period(selected, settings.publicity_days) + minute)

    # 2. an awarded lowest-price purchase
    sc = scenario("awarded-lowest")
    if sc:
        cap = _cap(sc.item, 1)
        start = office.morning(now - 34 * d)
        deadline = office.deadline(start)
        pl.draft(sc, start - 2 * h, cap=cap, method=Method.lowest_price, deadline=deadline, funding=Funding.mixed)
        pl.publish(sc, start)
        for i, f in enumerate(["0.86", "0.81", "0.93"]):
            pl.bid(sc, start + d + i * h, i, _price(cap, f), days=min(10, sc.item.time_limit_days))
        pl.due(sc, deadline + minute)
        selected = office.morning(deadline + d) + 2 * h
        pl.select(sc, selected)
        pl.due(sc, pl.period(selected, settings.publicity_days) + minute)

    # 3. an awarded scored purchase
    sc = scenario("awarded-scored")
    if sc:
        cap = _cap(sc.item, 2)
        start = office.morning(now - 30 * d)
        deadline = office.deadline(start)
        weights = WeightsIn(price=50, quality=40, credit=10)
        pl.draft(sc, start - h, cap=cap, method=Method.scored, deadline=deadline, weights=weights)
        pl.publish(sc, start)
        for i, f in enumerate(["0.90", "0.84", "0.97"]):
            pl.bid(sc, start + 2 * d + i * h, i, _price(cap, f), days=min(15, sc.item.time_limit_days))
        pl.due(sc, deadline + minute)
        selected = office.morning(deadline + d) + 4 * h
        pl.select(sc, selected, marks=True)
        pl.due(sc, pl.period(selected, settings.publicity_days) + minute)

    # 4. a direct selection with its written reason, awarded
    sc = scenario("awarded-direct")
    if sc:
        cap = _cap(sc.item, 3)
        start = office.morning(now - 26 * d)
        deadline = office.deadline(start)
        pl.draft(sc, start - h, cap=cap, method=Method.direct, deadline=deadline, min_bids=1)
        pl.publish(sc, start)
        for i, f in enumerate(["0.94", "0.89"]):
            pl.bid(sc, start + d + i * h, i, _price(cap, f), days=min(8, sc.item.time_limit_days))
        pl.due(sc, deadline + minute)
        selected = office.morning(deadline + d) + 3 * h
        pl.select(
            sc,
            selected,
            pick=1,
            reason="项目涉及抢险救灾，需在最短工期内完成；该单位承诺工期最短且具备本县同类项目经验。",
        )
        pl.due(sc, pl.period(selected, settings.publicity_days) + minute)

    # 5. an objection upheld: the winner excluded, a fresh draw, then awarded
    sc = scenario("awarded-after-objection", 4)
    if sc and admin:
        cap = _cap(sc.item, 4)
        start = office.morning(now - 45 * d)
        deadline = office.deadline(start)
        pl.draft(sc, start - h, cap=cap, method=Method.random, deadline=deadline)
        pl.publish(sc, start)
        for i, f in enumerate(["0.91", "0.87", "0.93", "0.89"][: len(sc.providers)]):
            pl.bid(sc, start + d + i * h, i, _price(cap, f))
        pl.due(sc, deadline + minute)
        selected = office.morning(deadline + d) + 1 * h
        pl.select(sc, selected)
        holder: dict[str, uuid.UUID] = {}
        pl.object(sc, selected + 5 * h, 0, "中选单位拟派项目负责人同时在另一项目任职，不满足本项目人员要求。", holder)
        decided = selected + d + 2 * h
        pl.decide(
            sc,
            decided,
            admin,
            True,
            "经核查，中选单位拟派项目负责人存在在岗冲突，质疑成立；排除该投标，依规重新抽取。",
            holder,
        )
        pl.due(sc, pl.period(decided, settings.publicity_days) + minute)

    # 5b. awards of every age, so that the contracts that follow them have histories of every length
    for n, age in enumerate((140, 90, 60, 45, 3)):
        start = office.morning(now - (age + 10) * d)
        deadline = office.deadline(start)
        selected = office.morning(deadline + d) + 2 * h
        awarded = pl.period(selected, settings.publicity_days) + minute
        if awarded >= now:  # holidays can stretch the periods; never plan a step in the future
            continue
        sc = scenario(f"awarded-history-{n}")
        if not sc:
            break
        cap = _cap(sc.item, 6 + n)
        pl.draft(sc, start - h, cap=cap, method=Method.lowest_price, deadline=deadline)
        pl.publish(sc, start)
        for i, f in enumerate(["0.89", "0.84", "0.92"]):
            pl.bid(sc, start + d + i * h, i, _price(cap, f), days=min(15, sc.item.time_limit_days))
        pl.due(sc, deadline + minute)
        pl.select(sc, selected)
        pl.due(sc, awarded)

    # 6. in publicity: a random draw shown with its proof
    sc = scenario("publicity-random")
    if sc:
        cap = _cap(sc.item, 5)
        start = office.start_for_deadline_before(now - 3 * h)
        deadline = office.deadline(start)
        pl.draft(sc, start - h, cap=cap, method=Method.random, deadline=deadline)
        pl.publish(sc, start)
        for i, f in enumerate(["0.89", "0.93", "0.85"]):
            pl.bid(sc, start + 5 * h + i * h, i, _price(cap, f))
        pl.due(sc, deadline + minute)
        pl.select(sc, deadline + h)

    # 7. in publicity with a pending objection (the award waits for the decision)
    sc = scenario("publicity-objection")
    if sc:
        cap = _cap(sc.item, 6)
        start = office.start_for_deadline_before(now - 4 * h)
        deadline = office.deadline(start)
        pl.draft(sc, start - h, cap=cap, method=Method.lowest_price, deadline=deadline)
        pl.publish(sc, start)
        for i, f in enumerate(["0.90", "0.84", "0.88"]):
            pl.bid(sc, start + 4 * h + i * h, i, _price(cap, f))
        pl.due(sc, deadline + minute)
        pl.select(sc, deadline + h)
        pl.object(sc, deadline + 2 * h, 0, "中选报价明显低于成本，质疑其能否按质完成服务，请予复核。", {})

    # 8. evaluating: bids opened, one abnormally low price explained, waiting for the owner
    sc = scenario("evaluating")
    if sc:
        cap = _cap(sc.item, 7)
        start = office.start_for_deadline_before(now - 2 * h)
        deadline = office.deadline(start)
        pl.draft(sc, start - h, cap=cap, method=Method.lowest_price, deadline=deadline)
        pl.publish(sc, start)
        for i, f in enumerate(["0.90", "0.40", "0.93"]):
            pl.bid(sc, start + 3 * h + i * h, i, _price(cap, f))
        pl.due(sc, deadline + minute)
        pl.explain(
            sc,
            deadline + 30 * minute,
            1,
            "本单位已完成该区域地形测绘及同类项目，基础资料可复用，人员常驻本县，差旅及外业成本显著降低，报价可覆盖全部成本。",
        )

    # 9. open: sealed bids being received, a question answered
    sc = scenario("open")
    if sc:
        cap = _cap(sc.item, 8)
        start = office.morning(now - d)
        deadline = office.deadline(start, not_before=now + 2 * d)
        pl.draft(sc, start - h, cap=cap, method=Method.random, deadline=deadline)
        pl.publish(sc, start)
        pl.ask(sc, start + 2 * h, 1, "是否接受联合体投标？", "不接受联合体投标。", start + 4 * h)
        pl.ask(sc, start + 5 * h, 2, "现场踏勘时间如何安排？", None, start + 6 * h)
        pl.bid(sc, start + 6 * h, 0, _price(cap, "0.91"))
        pl.bid(sc, start + 7 * h, 2, _price(cap, "0.88"))

    # 10. open, scored, just published
    sc = scenario("open-scored")
    if sc:
        cap = _cap(sc.item, 9)
        start = office.morning(now - d) + 5 * h  # yesterday afternoon
        deadline = office.deadline(start, not_before=now + 3 * d)
        weights = WeightsIn(price=40, quality=50, credit=10)
        pl.draft(sc, start - h, cap=cap, method=Method.scored, deadline=deadline, weights=weights)
        pl.publish(sc, start)

    # 11. cancelled while open
    sc = scenario("cancelled")
    if sc:
        cap = _cap(sc.item, 10)
        start = office.morning(now - 12 * d)
        deadline = office.deadline(start, not_before=start + 5 * d)
        pl.draft(sc, start - h, cap=cap, method=Method.random, deadline=deadline)
        pl.publish(sc, start)
        pl.bid(sc, start + d, 0, _price(cap, "0.9"))
        pl.cancel(sc, start + 2 * d, "项目可行性研究报告调整，建设规模变更，本次采购终止，调整后重新发布。")

    # 12. failed: fewer valid bids than the minimum, republished as a new round (open)
    sc = scenario("failed-republished")
    if sc:
        cap = _cap(sc.item, 11)
        start = office.morning(now - 15 * d)
        deadline = office.deadline(start)
        pl.draft(sc, start - h, cap=cap, method=Method.random, deadline=deadline)
        pl.publish(sc, start)
        pl.bid(sc, start + d, 0, _price(cap, "0.9"))
        pl.due(sc, deadline + minute)
        again = office.morning(deadline + d)
        pl.republish(sc, again, office.deadline(again, not_before=now + 3 * d))
        pl.bid(sc, again + 2 * h, 1, _price(cap, "0.87"))

    # 13. a draft
    sc = scenario("draft")
    if sc:
        pl.draft(
            sc,
            office.morning(now - d) + 6 * h,
            cap=_cap(sc.item, 12),
            method=Method.lowest_price,
            deadline=office.deadline(now, not_before=now + 10 * d),
        )

    return scenarios


async def load(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    cast = await find_cast(session)
    if not cast.owners or not cast.items:
        return {
            "bidding demo": "nothing created: it needs approved owners and catalog items with at least three "
            "qualified approved providers (load the listings demo first)"
        }
    now = clock.now()
    # plan on whole local hours (a real office publishes at 17:00, not at 17:36:12)
    scenarios = plan(cast, await _admin(session), now, settings)
    fresh = []
    for sc in scenarios:
        exists = await session.scalar(
            select(Purchase.id).where(col(Purchase.owner_id) == sc.owner[0].id, col(Purchase.title) == sc.title)
        )
        if exists is None:
            fresh.append(sc)
    steps = sorted(
        ((moment, i, n, step) for i, sc in enumerate(fresh) for n, (moment, step) in enumerate(sc.steps)),
        key=lambda s: (s[0], s[1], s[2]),
    )
    for moment, _i, _n, step in steps:
        if moment >= now:  # pragma: no cover - the plan keeps every step in the past
            raise RuntimeError(f"demo step planned in the future: {moment}")
        with clock.frozen(moment):
            await step(session)
    await session.flush()
    created = {sc.key: sc.purchase_id for sc in fresh}
    states: dict[str, int] = {}
    for sc in fresh:
        p = await session.get(Purchase, sc.purchase_id)
        if p is not None:
            states[p.status] = states.get(p.status, 0) + 1
    return {
        "demo purchases created": len(created),
        "demo purchases by status": ", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "-",
    }
