"""The append-only, hash-chained audit trail (SPEC §5 "Audit trail").

Every package records state changes with :func:`market.audit.service.record`; the events are
written in the same transaction as the change, at commit time, behind a lock on the chain head.
"""

from market.audit.service import VerifyResult, record, verify

__all__ = ["VerifyResult", "record", "verify"]
