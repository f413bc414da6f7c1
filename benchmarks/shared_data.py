"""Where the recorded market data of the development checkout lives (the `shared/data`
folder beside the repo), for benchmarks and tests that read it on purpose.

Not product code: a person who clones the repository has no such folder, and the product
reads its candle store, a folder the user names (`$AMARKTAI_SHARED_DATA`) and the sample
shipped in the package (`amarktai.marketdata.sources`). Lookup: $AMARKTAI_SHARED_DATA when
set, else the nearest `shared/data` above a starting point (the working directory and this
file by default).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from amarktai.kit.errors import NotFound

ENV = "AMARKTAI_SHARED_DATA"


def find_shared_data_dir(
    origins: Iterable[Path] | None = None, *, code: str = "shared_data_missing"
) -> Path:
    env = os.environ.get(ENV)
    if env:
        path = Path(env).expanduser()
        if path.is_dir():
            return path
        raise NotFound(f"{ENV}={env} is not a directory", code=code, details={"env": ENV})
    starts = (
        list(origins)
        if origins is not None
        else [Path.cwd().resolve(), Path(__file__).resolve().parent]
    )
    for origin in starts:
        for folder in (origin, *origin.parents):
            candidate = folder / "shared" / "data"
            if candidate.is_dir():
                return candidate
    raise NotFound(
        f"no shared/data folder found above {', '.join(str(o) for o in starts)}; set {ENV}",
        code=code,
        details={"env": ENV},
    )
