pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.app",
    "tests.fixtures.sandbox",
    "tests.fixtures.pipeline",
    "tests.fixtures.smtp",
]
