"""The app and the CLI open the same store (issue 24, item 3): one resolution order, `--db` (or EMOTRACE_DB) >
EMOTRACE_HOME > the default saved in Settings > the user data folder, with the saved value checked."""

from __future__ import annotations

import pytest

from emotrace.core.paths import check_db_url, resolve_db_url, save_db_url, saved_db_url


@pytest.fixture
def plain_user(tmp_path, monkeypatch):
    """No EMOTRACE_HOME: the user's own XDG folders (here, temporary ones)."""
    monkeypatch.delenv("EMOTRACE_HOME")
    monkeypatch.delenv("EMOTRACE_DB", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


def test_the_order(plain_user, monkeypatch):
    default, why = resolve_db_url()
    assert why == "default" and default.endswith("/data/EmoTrace/emotrace.sqlite")
    save_db_url(str(plain_user / "team.sqlite"))
    assert resolve_db_url() == (str(plain_user / "team.sqlite"), "settings")
    monkeypatch.setenv("EMOTRACE_HOME", str(plain_user / "home"))
    assert resolve_db_url() == (f"sqlite:///{plain_user / 'home' / 'emotrace.sqlite'}", "EMOTRACE_HOME")
    monkeypatch.setenv("EMOTRACE_DB", "sqlite:///x.sqlite")
    assert resolve_db_url() == ("sqlite:///x.sqlite", "EMOTRACE_DB")
    assert resolve_db_url("y.sqlite") == ("y.sqlite", "--db")


def test_emotrace_home_beats_a_saved_default_in_the_cli_too(plain_user, monkeypatch, capsys):
    """The app used to pin its saved store and ignore EMOTRACE_HOME, while `emotrace stats` used EMOTRACE_HOME."""
    from emotrace.cli.main import main

    save_db_url(str(plain_user / "saved.sqlite"))
    monkeypatch.setenv("EMOTRACE_HOME", str(plain_user / "home"))
    assert main(["stats"]) == 0
    assert (plain_user / "home" / "emotrace.sqlite").is_file() and not (plain_user / "saved.sqlite").exists()


@pytest.mark.parametrize("text", ["alice", "", "  ", "postgres://", "folder/"])
def test_a_store_that_is_no_store_is_refused(plain_user, text):
    with pytest.raises(ValueError):
        check_db_url(text)
    with pytest.raises(ValueError):
        save_db_url(text)
    assert saved_db_url() is None


@pytest.mark.parametrize("text", ["team.sqlite", "~/x.db", "sqlite:///tmp/a.sqlite", "postgresql+psycopg://u@h/emotrace"])
def test_real_stores_are_accepted(plain_user, text):
    assert check_db_url(text)


def test_a_hand_edited_bad_setting_is_ignored(plain_user):
    from emotrace.core.paths import settings_file

    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text("[store]\nurl = alice\n")
    assert saved_db_url() is None and resolve_db_url()[1] == "default"
