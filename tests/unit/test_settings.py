"""Settings: sources, precedence and one clear line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from asciihub.errors import ConfigError
from asciihub.settings import Settings, load_settings, setting_fields, settings_table


def test_defaults_need_nothing() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.resolved_kv_url().startswith("sqlite://")
    assert settings.resolved_objects_url().startswith("file://")


def test_precedence_defaults_toml_env_flags(tmp_path: Path) -> None:
    config = tmp_path / "asciihub.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\nmax_frames = 50\n')
    settings = load_settings(
        config_file=config,
        environ={"ASCIIHUB_PORT": "9100", "ASCIIHUB_MAX_FRAMES": "60"},
        overrides={"port": 9200},
    )
    assert settings.host == "0.0.0.0"
    assert settings.max_frames == 60
    assert settings.port == 9200


def test_config_from_environment_variable(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[asciihub]\ngallery_page_size = 12\n")
    assert load_settings(environ={"ASCIIHUB_CONFIG": str(config)}).gallery_page_size == 12


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"ASCIIHUB_PORT": "eighty"}, "setting port: 'eighty' is not a valid int"),
        ({"ASCIIHUB_PORT": "70000"}, "setting port: 70000 is above the maximum 65535"),
        ({"ASCIIHUB_LOG_LEVEL": "loud"}, "setting log_level: 'loud' is not one of"),
        ({"ASCIIHUB_AUTO_MIGRATE": "perhaps"}, "setting auto_migrate"),
        ({"ASCIIHUB_MAX_FRAMES": "0"}, "below the minimum 1"),
    ],
)
def test_bad_values_name_the_key(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ=environ)
    assert fragment in info.value.message
    assert "\n" not in info.value.message


def test_unknown_and_broken_config_files(tmp_path: Path) -> None:
    unknown = tmp_path / "u.toml"
    unknown.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(config_file=unknown, environ={})
    broken = tmp_path / "b.toml"
    broken.write_text("port = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config_file=broken, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "missing.toml", environ={})


def test_every_setting_is_documented() -> None:
    for spec in setting_fields():
        assert spec.metadata.get("doc"), f"{spec.name} has no description"
    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    assert settings_table() in docs, "docs/configuration.md is out of date: run `make docs`"
