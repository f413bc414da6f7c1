"""The built PWA (web/dist) as static files: precompressed, cacheable, no source maps.

* A request that accepts brotli or gzip gets the `.br` / `.gz` file the build wrote next
  to the asset (web/vite.config.ts), with the original's media type and `Vary: Accept-Encoding`.
* Hashed files under `assets/` never change, so browsers keep them a year (`immutable`);
  everything else (index.html, sw.js, the manifest, icons) is revalidated on every load
  (`no-cache`) so a new release is picked up at once.
* Source maps (`*.map`) are never served, even when a build left one in dist.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Content codings we have files for, best first.
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def _accepted(header: str) -> set[str]:
    """Codings the client accepts (q=0 means refused)."""
    accepted: set[str] = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = params.strip().lower()
        if q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        accepted.add(name)
    return accepted


class WebFiles(StaticFiles):
    """StaticFiles for the PWA build; see the module docstring."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.endswith(".map"):
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            hashed = path.replace(os.sep, "/").startswith("assets/")
            response.headers["cache-control"] = IMMUTABLE if hashed else REVALIDATE
        return response

    def file_response(
        self,
        full_path: Any,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        request_headers = Headers(scope=scope)
        accepted = _accepted(request_headers.get("accept-encoding", ""))
        original = os.fspath(full_path)
        media_type = mimetypes.guess_type(original)[0] or "application/octet-stream"
        for coding, suffix in _ENCODINGS:
            if coding not in accepted:
                continue
            try:
                packed = os.stat(original + suffix)
            except OSError:
                continue
            response: Response = FileResponse(
                original + suffix,
                status_code=status_code,
                stat_result=packed,
                media_type=media_type,
                headers={"content-encoding": coding, "vary": "Accept-Encoding"},
            )
            if self.is_not_modified(response.headers, request_headers):
                return NotModifiedResponse(response.headers)
            return response
        response = super().file_response(full_path, stat_result, scope, status_code)
        if os.path.exists(original + ".gz") or os.path.exists(original + ".br"):
            response.headers["vary"] = "Accept-Encoding"
        return response
