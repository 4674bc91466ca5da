import pytest

from bpmlink.kit.logs import forget_secrets

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.app",
    "tests.fixtures.sandbox",
    "tests.fixtures.pipeline",
    "tests.fixtures.smtp",
    "tests.fixtures.published_sheet",
    "tests.fixtures.file_server",
]


@pytest.fixture(autouse=True)
def _forget_tenant_secrets() -> None:
    """Each test starts with no remembered tenant secret: one test's sandbox password ("Supervisor")
    would otherwise be redacted from the log lines another test asserts on."""
    forget_secrets()
