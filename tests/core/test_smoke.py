from tests.conftest import Team


def test_quota(pro: Team) -> None:
    assert pro.get("/api/open/v3/faceswap/quota/info") == {"code": 1000, "msg": "OK", "data": {"credit": 1000}}
