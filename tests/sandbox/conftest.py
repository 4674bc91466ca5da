from collections.abc import Iterator

import httpx
import pytest

SUPERVISOR = "410006e1-ca4e-4502-a9ec-e54d922d2c00"
OUR_COMPANY = "e308b781-3c5b-4ecb-89ef-5c1ed4da488e"
EMPTY = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def anon(sandbox) -> Iterator[httpx.Client]:
    """A client with no credentials (redirects are not followed)."""
    with sandbox.client() as c:
        yield c


@pytest.fixture
def api(sandbox) -> Iterator[httpx.Client]:
    """A forms-authenticated client that sends BPMCSRF."""
    c = sandbox.login()
    try:
        yield c
    finally:
        c.close()
