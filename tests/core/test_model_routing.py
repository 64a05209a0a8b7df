"""``model_name`` chooses the engine a task runs on (issue 20): each model-backed engine has its
worker queue, lists its model (and the effects only it makes), and a task goes to the engine of
the model it names, of the effect it asks for, or of the operator's default model. Stand-in
engines (tests/support/engines) take the models' place: the routing is what is tested here."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from tests.conftest import Team, make_settings, run_pending

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
BATCH = CREATE + "/batch"
SWAP = "/api/open/v4/characterSwap/create"
STILL = "tests.support.engines.still_video"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "data",
        engine_plugins={
            "image2video": f"{STILL}:StillVideoPipeline",
            "image2video-second": f"{STILL}:SecondStillVideoPipeline",
            "character-swap": f"{STILL}:StillSwapPipeline",
            "character-swap-replacer": f"{STILL}:ReplaceOnlyPipeline",
        },
    )


def _task_engine(runtime: Runtime, task_id: str) -> str:
    from reelsmith.store.models import Task

    with runtime.db.read() as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.engine


def _i2v(team: Team, media_url: str, **fields: object) -> dict:
    return team.post(BATCH, {"image_url": f"{media_url}/face.png", "prompt": "zoom in", **fields})


def test_the_model_named_chooses_the_engine_and_the_task_runs_there(
    runtime: Runtime, pro: Team, media_url: str
) -> None:
    models = pro.client.get("/api/open/v4/aigModel/list", headers=pro.headers).json()["data"]
    assert [m["value"] for m in models] == ["test-still-v1", "test-second"]
    default = _i2v(pro, media_url)["data"]["successList"][0]
    second = _i2v(pro, media_url, model_name="test-second")["data"]["successList"][0]
    assert second["model_name"] == "test-second"
    assert _task_engine(runtime, default["_id"]) == "image2video"
    assert _task_engine(runtime, second["_id"]) == "image2video-second"
    assert run_pending(runtime) == 2
    results = pro.post("/api/open/v4/image2Video/resultsByIds", {"_ids": f"{default['_id']},{second['_id']}"})
    assert [r["status"] for r in results["data"]["result"]] == [3, 3]


def test_an_effect_goes_to_the_engine_that_makes_it(runtime: Runtime, pro: Team, media_url: str) -> None:
    made = _i2v(pro, media_url, effect_code="second_only", prompt="")["data"]["successList"][0]
    assert _task_engine(runtime, made["_id"]) == "image2video-second" and made["model_name"] == "test-second"
    refused = _i2v(pro, media_url, effect_code="second_only", prompt="", model_name="test-still-v1")
    assert refused["code"] == 1003 and "is not made by the model test-still-v1" in refused["msg"]
    assert _i2v(pro, media_url, model_name="test-second", count=3)["msg"] == "count must be at most 2 for test-second"


def test_character_swap_model_name_and_its_modes(runtime: Runtime, pro: Team, media_url: str) -> None:
    body = {"image": f"{media_url}/portrait.png", "video": f"{media_url}/talking.mp4", "mode": "replace"}
    chosen = pro.post(SWAP, {**body, "model_name": "test-replacer"})
    assert chosen["code"] == 1000, chosen
    assert chosen["data"]["model_name"] == "test-replacer"
    assert _task_engine(runtime, chosen["data"]["_id"]) == "character-swap-replacer"
    refused = pro.post(SWAP, {**body, "mode": "animate", "model_name": "test-replacer"})
    assert refused["code"] == 1003 and "mode 'animate' is not run by the model test-replacer" in refused["msg"]
    unknown = pro.post(SWAP, {**body, "model_name": "sora"})
    assert unknown["code"] == 1003 and "model_name 'sora' is not an installed model" in unknown["msg"]
    plain = pro.post(SWAP, body)["data"]  # no model named: the first installed, the product's own engine
    assert plain["model_name"] == "test-still-swap" and _task_engine(runtime, plain["_id"]) == "character-swap"
    assert run_pending(runtime) == 2


def test_the_operators_default_model(tmp_path: Path, media_url: str, settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from reelsmith.api.app import create_app

    runtime = Runtime(settings.model_copy(update={"default_models": {"character_swap": "test-replacer"}}))
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=1000)
        team = Team(client, creds.client_id, creds.api_key, 0, "")
        body = {"image": f"{media_url}/portrait.png", "video": f"{media_url}/talking.mp4", "mode": "replace"}
        replaced = team.post(SWAP, body)["data"]
        assert _task_engine(runtime, replaced["_id"]) == "character-swap-replacer"
        # The default does not run animate: the product's own engine does.
        animated = team.post(SWAP, {**body, "mode": "animate"})["data"]
        assert _task_engine(runtime, animated["_id"]) == "character-swap"


def test_every_installed_model_is_listed_with_its_engine(pro: Team) -> None:
    listed = pro.get("/api/reelsmith/v1/models")["data"]["result"]
    engines = {model["value"]: (model["product"], model["engine"], model["modes"]) for model in listed}
    assert engines["test-second"] == ("image2video", "image2video-second", [])
    assert engines["test-replacer"] == ("character_swap", "character-swap-replacer", ["replace"])
