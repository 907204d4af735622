from __future__ import annotations

from pathlib import Path

import pytest

from botgpt.domain.policy import TitleStrategy
from botgpt.entrypoints.settings import Settings, SettingsError


def test_defaults_are_the_embedded_stack() -> None:
    settings = Settings.load(environ={})
    assert (settings.store, settings.chat_provider) == ("sqlite", "llama_cpp")
    assert settings.sqlite_path == Path("botgpt-data") / "botgpt.sqlite3"


def test_environment_overrides_the_file_which_overrides_defaults(tmp_path: Path) -> None:
    config = tmp_path / "botgpt.toml"
    config.write_text('store = "memory"\nllama_n_ctx = 4096\ntemperature = 0.5\n')
    settings = Settings.load(environ={"BOTGPT_CONFIG": str(config), "BOTGPT_LLAMA_N_CTX": "1024"})
    assert settings.store == "memory"
    assert settings.llama_n_ctx == 1024
    assert settings.temperature == 0.5


def test_environment_values_are_typed() -> None:
    settings = Settings.load(
        environ={
            "BOTGPT_LLAMA_PREFIX_CACHE": "off",
            "BOTGPT_DATA_DIR": "/srv/bot",
            "BOTGPT_TITLE_STRATEGY": "model",
        }
    )
    assert settings.llama_prefix_cache is False
    assert settings.data_dir == Path("/srv/bot")
    assert settings.policy().title_strategy is TitleStrategy.MODEL


@pytest.mark.parametrize(
    "environ",
    [
        {"BOTGPT_STORE": "postgres"},
        {"BOTGPT_LLAMA_N_CTX": "big"},
        {"BOTGPT_LLAMA_PREFIX_CACHE": "maybe"},
    ],
)
def test_bad_values_are_named(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(environ)).removeprefix("BOTGPT_").lower()):
        Settings.load(environ=environ)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BOTGPT_TEMPERATURE": "hot"}, "setting temperature: expected a number, got 'hot'"),
        ({"BOTGPT_LLAMA_N_CTX": "2k"}, "setting llama_n_ctx: expected a whole number, got '2k'"),
    ],
)
def test_bad_numbers_say_what_is_expected(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.load(environ=environ)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BOTGPT_TEMPERATURE": "9"}, "setting temperature must be between 0 and 2; got 9.0"),
        ({"BOTGPT_LLAMA_SLOTS": "0"}, "setting llama_slots must be between 1 and 64; got 0"),
        ({"BOTGPT_MAX_UPLOAD_MB": "-5"}, "setting max_upload_mb must be at least 1; got -5"),
        ({"BOTGPT_CITATION_MIN_SUPPORT": "7"}, "setting citation_min_support must be between 0 and 1; got 7.0"),
        ({"BOTGPT_LLAMA_THREADS": "-1"}, "setting llama_threads must be at least 0; got -1"),
    ],
)
def test_out_of_range_numbers_are_refused_with_the_range(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.load(environ=environ)
    assert str(refused.value) == message


def test_every_default_is_within_its_own_range() -> None:
    from botgpt.entrypoints.settings import setting_fields
    from botgpt.entrypoints.settings_sources import coerce

    for field in setting_fields():
        assert coerce(field, field.default) == field.default, field.name


def test_a_fractional_value_for_a_whole_number_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "botgpt.toml"
    config.write_text("llama_n_ctx = 2048.5\n")
    with pytest.raises(SettingsError, match=r"expected a whole number, got 2048\.5"):
        Settings.load(environ={}, config_file=config)


def test_unknown_file_keys_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "botgpt.toml"
    config.write_text('stor = "memory"\n')
    with pytest.raises(SettingsError, match="stor"):
        Settings.load(environ={}, config_file=config)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    from botgpt.entrypoints.settings import setting_fields

    missing = [f.name for f in setting_fields() if f"BOTGPT_{f.name.upper()}" not in readme]
    assert not missing, f"README lacks: {missing}"


def test_the_readme_table_is_the_generated_one() -> None:
    from botgpt.entrypoints.cli import settings_table

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert settings_table() in readme, "regenerate it with: botgpt settings --markdown"
