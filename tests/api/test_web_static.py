"""The PWA build is served compressed, hashed assets cached for a year, no source maps."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from amarktai.api.app import _mount_web
from amarktai.api.webfiles import IMMUTABLE

JS = b"console.log('amarktai');\n" * 200


@pytest.fixture
def client(tmp_path: Path) -> httpx.AsyncClient:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Amarktai</title>")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (dist / "manifest.webmanifest").write_text('{"name": "Amarktai"}')
    (dist / "assets" / "index-AbC123.js").write_bytes(JS)
    (dist / "assets" / "index-AbC123.js.gz").write_bytes(gzip.compress(JS))
    (dist / "assets" / "index-AbC123.js.br").write_bytes(b"brotli-bytes")
    (dist / "assets" / "index-AbC123.css").write_text("body{margin:0}")
    (dist / "assets" / "index-AbC123.js.map").write_text('{"version":3}')
    app = FastAPI()
    _mount_web(app, dist)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_hashed_assets_are_immutable_and_the_shell_revalidates(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/assets/index-AbC123.css")
    assert r.status_code == 200
    assert r.headers["cache-control"] == IMMUTABLE
    for path in ("/", "/index.html", "/sw.js", "/manifest.webmanifest"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "no-cache", path
    r = await client.get("/manifest.webmanifest")
    assert r.headers["content-type"].startswith("application/manifest+json")


async def test_brotli_then_gzip_then_identity(client: httpx.AsyncClient) -> None:
    r = await client.get("/assets/index-AbC123.js", headers={"accept-encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "br"
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == IMMUTABLE
    r = await client.get("/assets/index-AbC123.js", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.content == JS  # httpx decodes gzip
    assert int(r.headers["content-length"]) < len(JS) / 10
    r = await client.get("/assets/index-AbC123.js", headers={"accept-encoding": "br;q=0, gzip;q=0"})
    assert "content-encoding" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.content == JS


async def test_source_maps_are_not_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/assets/index-AbC123.js.map")
    assert r.status_code == 404


async def test_conditional_request_on_a_compressed_asset(client: httpx.AsyncClient) -> None:
    r = await client.get("/assets/index-AbC123.js", headers={"accept-encoding": "br"})
    again = await client.get(
        "/assets/index-AbC123.js",
        headers={"accept-encoding": "br", "if-none-match": r.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.headers["cache-control"] == IMMUTABLE
