"""Registries that the composition root fills at start-up: event handlers, worker jobs, the
ratings shown in the provider directory.

Each is a :class:`Registry`, with a public way for tests to scope or reset it: ``with
registry.scoped(): registry.register(...)`` gives back the previous contents when the block
ends, so no test touches private module state and none leaks what it registered.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Registry(Generic[K, V]):
    """An ordered mapping of keys to registered values (a later registration of a key replaces
    the earlier one, so registering twice is harmless)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[K, V] = {}

    def register(self, key: K, value: V) -> None:
        self._items[key] = value

    def unregister(self, key: K) -> None:
        self._items.pop(key, None)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def items(self) -> list[tuple[K, V]]:
        return list(self._items.items())

    def values(self) -> list[V]:
        return list(self._items.values())

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def reset(self) -> None:
        """Forget every registration."""
        self._items.clear()

    @contextlib.contextmanager
    def scoped(self, *, empty: bool = False) -> Iterator[Registry[K, V]]:
        """Registrations made inside the block are undone when it ends (``empty=True`` also
        starts the block without the current ones)."""
        saved = dict(self._items)
        if empty:
            self._items.clear()
        try:
            yield self
        finally:
            self._items = saved

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {len(self._items)} entries>"
