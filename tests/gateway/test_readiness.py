from bpmlink.kit.embedded import free_port
from bpmlink.kit.settings import Settings
from tests.fixtures.app import make_settings

from .conftest import running_gateway


async def test_gateway_stays_ready_without_redis_because_it_still_stores_events(settings: Settings) -> None:
    no_redis = make_settings(settings.database_url, f"redis://127.0.0.1:{free_port()}/0")
    async with running_gateway(no_redis) as hook:
        response = await hook.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and "redis" in response.json()["degraded"]


async def test_gateway_is_not_ready_without_postgres(settings: Settings) -> None:
    no_db = make_settings(f"postgresql://bpmlink:x@127.0.0.1:{free_port()}/bpmlink", settings.redis_url)
    async with running_gateway(no_db) as hook:
        response = await hook.get("/readyz")
    assert response.status_code == 503
    assert "database" in response.json()["error"]["details"]


async def test_gateway_is_ready_with_both(settings: Settings) -> None:
    async with running_gateway(settings) as hook:
        response = await hook.get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "ready"


async def test_start_up_objects_are_kept_out_of_the_collectors_way_while_the_gateway_runs(settings: Settings) -> None:
    import gc

    from bpmlink_gateway.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
