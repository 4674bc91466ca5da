import pytest

from bpmlink.bpmonline import BpmConnection


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("mycrm.creatio.com", "https://mycrm.creatio.com"),
        ("https://mycrm.creatio.com/0/", "https://mycrm.creatio.com"),
        ("http://10.0.0.5:8080/", "http://10.0.0.5:8080"),
    ],
)
def test_domain_is_normalised(domain, expected):
    assert BpmConnection(id="c", domain=domain).domain == expected


def test_token_url_defaults():
    cloud = BpmConnection(id="c", domain="https://186843-crm-bundle.creatio.com", auth="oauth")
    assert cloud.oauth_token_url == "https://186843-crm-bundle-is.creatio.com/connect/token"
    onsite = BpmConnection(id="c", domain="https://crm.example.com", auth="oauth")
    assert onsite.oauth_token_url == "https://crm.example.com/0/connect/token"
    netcore = BpmConnection(id="c", domain="https://crm.example.com", auth="oauth", path_prefix="")
    assert netcore.oauth_token_url == "https://crm.example.com/connect/token"
    given = BpmConnection(id="c", domain="https://x.creatio.com", auth="oauth", token_url="https://is.local/connect/token")
    assert given.oauth_token_url == "https://is.local/connect/token"


def test_from_params_and_secrets_are_not_in_repr():
    conn = BpmConnection.from_params(
        "42",
        {"domain": "https://x.example.com", "auth": "forms", "username": "Supervisor", "odata_version": 3,
         "path_prefix": ""},
        {"password": "s3cret"},
    )
    assert (conn.id, conn.odata_version, conn.path_prefix, conn.password) == ("42", 3, "", "s3cret")
    assert "s3cret" not in repr(conn)
    assert conn.login_url == "https://x.example.com/ServiceModel/AuthService.svc/Login"


def test_bad_params_are_refused():
    with pytest.raises(ValueError):
        BpmConnection(id="c", domain="x.example.com", auth="basic")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        BpmConnection(id="c", domain="x.example.com", odata_version=2)
