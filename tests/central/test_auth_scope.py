"""Pure scope and role rules of API users (no database)."""

import pytest

from central.api.auth import depot_in_scope
from central.users import User, UserError, hash_token, new_token, validate_user

REGION = {"province": "430000", "city": "430100", "county": "430102"}


@pytest.mark.parametrize(
    ("role", "scope", "region", "depot", "visible"),
    [
        ("admin", "000000", REGION, "D1", True),
        ("admin", "000000", None, "D1", True),
        ("province", "430000", REGION, "D1", True),
        ("province", "440000", REGION, "D1", False),
        ("province", "430000", None, "D1", False),
        ("city", "430100", REGION, "D1", True),
        ("city", "430200", REGION, "D1", False),
        ("city", "430100", "430100", "D1", True),
        ("county", "430102", REGION, "D1", True),
        ("county", "430103", REGION, "D1", False),
        ("county", "430102", "430100", "D1", False),
        ("depot", "D1", REGION, "D1", True),
        ("depot", "D1", REGION, "D2", False),
    ],
)
def test_depot_in_scope(role, scope, region, depot, visible):
    assert depot_in_scope(User("u", role, scope, True), region, depot) is visible


@pytest.mark.parametrize(
    ("role", "scope"),
    [("admin", "000000"), ("province", "430000"), ("city", "430100"), ("county", "430102"),
     ("depot", "HN-0731-001")],
)
def test_valid_role_scope(role, scope):
    validate_user("alice", role, scope)


@pytest.mark.parametrize(
    ("name", "role", "scope", "message"),
    [
        ("alice", "viewer", "000000", "角色 'viewer'"),
        ("alice", "admin", "430000", "admin 的范围须为 000000"),
        ("alice", "province", "430100", "省级代码以 0000 结尾"),
        ("alice", "province", "000000", "省级代码"),
        ("alice", "city", "430000", "市级代码"),
        ("alice", "city", "430102", "市级代码"),
        ("alice", "county", "430100", "县级代码"),
        ("alice", "county", "43010", "6 位行政区划代码"),
        ("alice", "depot", "bad code!", "库点用户的范围"),
        ("bad name", "admin", "000000", "用户名 'bad name'"),
    ],
)
def test_invalid_role_scope_names_the_problem(name, role, scope, message):
    with pytest.raises(UserError, match=message):
        validate_user(name, role, scope)


def test_tokens_are_random_and_hashed():
    a, b = new_token(), new_token()
    assert a != b and len(a) > 40
    assert hash_token(a) != hash_token(b) and len(hash_token(a)) == 32
