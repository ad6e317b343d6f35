from fastapi.testclient import TestClient

from serving.main import create_app


def test_health_and_a_clear_503_before_anything_is_trained(learnlake_home):
    client = TestClient(create_app(learnlake_home))
    assert client.get("/health").json()["popularity_champion"] is None
    response = client.get("/api/v1/courses/c1/popular-items")
    assert response.status_code == 503
    assert "learnlake pipeline run" in response.json()["detail"]


def test_bad_parameters_are_a_422_with_the_reason(learnlake_home):
    client = TestClient(create_app(learnlake_home))
    response = client.get("/api/v1/courses/c1/popular-items", params={"k": "many"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "k"]
