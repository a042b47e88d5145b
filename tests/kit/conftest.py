"""The sample campaign's kit, built once for the module that asks for it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from amplifier.check import load
from amplifier.config import Settings
from amplifier.content import Library
from amplifier.kit import BuiltKit, build_kit

BASE_URL = "https://kit.example.org/fbt/"
TODAY = date(2026, 12, 5)
SEED = "1234"


@dataclass(frozen=True)
class SampleKit:
    settings: Settings
    library: Library
    built: BuiltKit

    @property
    def out(self) -> Path:
        return self.built.out


@pytest.fixture(scope="module")
def sample_kit(tmp_path_factory: pytest.TempPathFactory) -> SampleKit:
    root = Path(__file__).resolve().parents[2]
    folder = tmp_path_factory.mktemp("sample")
    shutil.copy(root / "config.example.toml", folder / "config.example.toml")
    shutil.copytree(root / "posts", folder / "posts")
    settings, library = load(folder / "config.example.toml", None)
    built = build_kit(
        settings,
        library,
        folder / "site",
        campaigns=sorted(settings.campaigns),
        seed=SEED,
        today=TODAY,
        base_url=BASE_URL,
    )
    return SampleKit(settings, library, built)
