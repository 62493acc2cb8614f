"""Username and password rules."""

import pytest
from auth_svc.domain import (
    InvalidPassword,
    InvalidUsername,
    WeakPassword,
    same_username,
    validate_password,
    validate_username,
)


@pytest.mark.parametrize("name", ["bob", "a" * 32, "alice_01", "j.doe", "x-y-z", "ABC"])
def test_valid_usernames(name):
    assert validate_username(name) == name


@pytest.mark.parametrize("name", ["", "ab", "a" * 33, "has space", "émile", "a/b", "semi;colon", "tab\tname"])
def test_invalid_usernames_name_the_field(name):
    with pytest.raises(InvalidUsername) as info:
        validate_username(name)
    assert info.value.field == "username" and info.value.code == "validation_error"


@pytest.mark.parametrize("password", ["k3v8-q2zt", "x" * 128, "Passw0rd!", "pass with spaces"])
def test_valid_passwords(password):
    assert validate_password(password) == password


@pytest.mark.parametrize("password", ["", "1234567", "x" * 129])
def test_invalid_passwords_name_the_field(password):
    with pytest.raises(InvalidPassword) as info:
        validate_password(password)
    assert info.value.field == "password"


@pytest.mark.parametrize("password", ["12345678", "password", "PASSWORD", "iloveyou1", "qwertyuiop", "passw0rd"])
def test_common_passwords_are_refused_as_weak_naming_the_field(password):
    with pytest.raises(WeakPassword) as info:
        validate_password(password)
    assert (info.value.field, info.value.code) == ("password", "weak_password")


def test_the_username_as_password_is_refused_as_weak():
    with pytest.raises(WeakPassword):
        validate_password("Alice-2024", "alice-2024")
    assert validate_password("Alice-2024", "bob") == "Alice-2024"


def test_usernames_compare_case_insensitively():
    assert same_username("Alice", "aLICE")
    assert not same_username("alice", "alice2")
