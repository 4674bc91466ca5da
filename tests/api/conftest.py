"""Fixtures of the api tests: a hasher counting the password hashes and checks that reach it."""

import pytest

from bpmlink.kit import security


class CountingHasher:
    def __init__(self, hasher):
        self.hasher = hasher
        self.hashed: list[str] = []
        self.verified = 0

    def hash(self, password):
        self.hashed.append(password)
        return self.hasher.hash(password)

    def verify(self, password_hash, password):
        self.verified += 1
        return self.hasher.verify(password_hash, password)


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    counting = CountingHasher(security._hasher)
    monkeypatch.setattr(security, "_hasher", counting)
    return counting
