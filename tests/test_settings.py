"""Settings are parsed once, with clear errors that name the variable."""

import re
from pathlib import Path

import pytest

from settings import Settings, SettingsError


def test_defaults_use_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    s = Settings.from_env({"GRIDWATCH_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'gridwatch.sqlite3'}"
    assert (s.port, s.language, s.refresh_seconds, s.tile_url) == (8050, "zh", 10, "")


def test_environment_and_overrides(tmp_path: Path) -> None:
    env = {"GRIDWATCH_DATABASE_URL": "postgresql://x@localhost/gw", "GRIDWATCH_PORT": "9000",
           "GRIDWATCH_LANGUAGE": "en", "GRIDWATCH_REFRESH_SECONDS": "5",
           "GRIDWATCH_PROXY_HOPS": "1"}
    s = Settings.from_env(env, port=9100, host=None)
    assert s.proxy_hops == 1 and Settings.from_env({}).proxy_hops == 0
    assert s.database_url == "postgresql://x@localhost/gw"
    assert s.port == 9100 and s.host == "127.0.0.1"
    assert s.language == "en" and s.refresh_seconds == 5


@pytest.mark.parametrize(
    ("env", "needle"),
    [({"GRIDWATCH_PORT": "eighty"}, "GRIDWATCH_PORT"),
     ({"GRIDWATCH_PORT": "70000"}, "1 to 65535"),
     ({"GRIDWATCH_LANGUAGE": "fr"}, "GRIDWATCH_LANGUAGE"),
     ({"GRIDWATCH_TILE_CRS": "bd09x"}, "GRIDWATCH_TILE_CRS"),
     ({"GRIDWATCH_SIMULATE": "perhaps"}, "GRIDWATCH_SIMULATE"),
     ({"GRIDWATCH_TIMEZONE": "Mars/Olympus"}, "GRIDWATCH_TIMEZONE"),
     ({"GRIDWATCH_PROXY_HOPS": "9"}, "GRIDWATCH_PROXY_HOPS")],
)
def test_bad_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        Settings.from_env(env)


def test_now_is_the_city_wall_clock() -> None:
    from datetime import UTC, datetime, timedelta

    shanghai = Settings(timezone="Asia/Shanghai").now()
    utc = datetime.now(UTC).replace(tzinfo=None)
    assert abs(shanghai - (utc + timedelta(hours=8))) < timedelta(seconds=5)
    assert shanghai.tzinfo is None


def test_every_setting_is_in_the_readmes_table() -> None:
    # docs/deploy.md sends the operator to the README's table for every setting.
    root = Path(__file__).resolve().parents[1]
    read = set(re.findall(r'"(GRIDWATCH_[A-Z0-9_]+)"', (root / "settings.py").read_text("utf-8")))
    table = (root / "README.md").read_text("utf-8")
    assert read and not {name for name in read if f"`{name}`" not in table}
