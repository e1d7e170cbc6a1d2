import os
from pathlib import Path

import pytest

# nothing in the tests may download: the Hub client must fail fast instead
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROJECT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = PROJECT.parent / "shared" / "fixtures"


@pytest.fixture
def shared_fixture():
    """Path to a file under ../shared/fixtures, or a skip saying it is absent."""

    def get(rel: str) -> Path:
        path = SHARED_FIXTURES / rel
        if not path.exists():
            pytest.skip(f"shared fixture {rel} is absent (../shared/fixtures is not beside the project)")
        return path

    return get
