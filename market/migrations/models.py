"""Every table model of every package, imported so that the metadata is complete."""

from bidding import models as _bidding  # noqa: F401
from invoices import models as _invoices  # noqa: F401
from listings import credit as _credit  # noqa: F401
from listings import models as _listings  # noqa: F401
from market import numbering as _numbering  # noqa: F401
from market.audit import models as _audit  # noqa: F401
from market.db import metadata
from market.identity import models as _identity  # noqa: F401
from market.notify import models as _notify  # noqa: F401

__all__ = ["metadata"]
