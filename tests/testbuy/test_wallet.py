"""The test-buy wallet: key files, the environment, and a key type that never shows itself."""

from __future__ import annotations

import os
import pickle
import secrets
import stat
from pathlib import Path

import pytest

from index.testbuy.wallet import KEY_ENV, REDACTED, PrivateKey, WalletError, load_key, new_key_file, redact


def test_new_key_file_is_0600_never_overwritten_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "w.key"
    old = os.umask(0)
    try:
        address = new_key_file(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_key(path)
    assert key is not None and key.address == address
    with pytest.raises(FileExistsError):
        new_key_file(path)


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.key"
    new_key_file(path)
    path.chmod(0o644)
    with pytest.raises(WalletError, match="chmod 600"):
        load_key(path)


def test_key_from_environment_and_errors_never_echo_it() -> None:
    hexkey = secrets.token_hex(32)
    key = load_key(None, {KEY_ENV: "0x" + hexkey.upper()})
    assert key is not None and key.address.startswith("0x")
    assert load_key(None, {}) is None
    bad = hexkey[:-1] + "z"
    with pytest.raises(WalletError) as info:
        load_key(None, {KEY_ENV: bad})
    assert hexkey[:-1] not in str(info.value) and KEY_ENV in str(info.value)


def test_the_key_never_prints_and_is_redacted_in_any_spelling() -> None:
    hexkey = secrets.token_hex(32)
    key = PrivateKey(hexkey)
    for text in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert hexkey not in text.lower()
    key.account()
    assert key.address in repr(key) and hexkey not in repr(key).lower()
    message = f"boom 0x{hexkey.upper()} and {hexkey} end"
    assert redact(message, key) == f"boom 0x{REDACTED} and {REDACTED} end"
    assert redact("nothing", None) == "nothing"
    with pytest.raises(TypeError):
        pickle.dumps(key)


@pytest.mark.parametrize("text", ["", "0x1234", "zz" * 32, "0x" + "ab" * 33])
def test_malformed_keys(text: str) -> None:
    with pytest.raises(WalletError):
        PrivateKey(text)


def test_wallet_new_command(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    path = tmp_path / "w.key"
    proc = run_cli("wallet", "new", "--out", str(path), cwd=tmp_path)
    key = load_key(path)
    assert key is not None and key.address in proc.stdout and stat.S_IMODE(path.stat().st_mode) == 0o600
    hexkey = path.read_text().splitlines()[-1][2:]
    assert hexkey not in proc.stdout and hexkey not in proc.stderr
    again = run_cli("wallet", "new", "--out", str(path), cwd=tmp_path, check=False)
    assert again.returncode == 1 and "not overwritten" in again.stderr
