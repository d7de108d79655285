"""``bridge users``: add (prompt twice or --password-stdin), list, disable, reset-password — as an owner runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from bridge.cli import cli
from bridge.console.routing import Role
from tests.console.conftest import PASSWORD, Console
from tests.support.client import Bridge


def users_cli(tmp_path: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), "users", *args], input=stdin, obj={})


def test_add_with_a_prompt_typed_twice_then_sign_in(bridge: Bridge, console: Console, tmp_path: Path) -> None:
    added = users_cli(
        tmp_path, "add", "--email", "Owner@Shop.Test", "--role", "owner", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert added.exit_code == 0, added.output
    assert "owner@shop.test (owner) added" in added.output
    assert PASSWORD not in added.output
    response = console.login(console.client(), "OWNER@shop.test")  # the e-mail's case does not matter
    assert response.status_code == 302


def test_add_refuses_a_mismatch_a_short_password_and_a_second_account(bridge: Bridge, tmp_path: Path) -> None:
    mismatch = users_cli(tmp_path, "add", "--email", "a@shop.test", "--role", "staff", stdin=f"{PASSWORD}\nother\n")
    assert "do not match" in mismatch.output and mismatch.exit_code == 1  # asked again; the input ended
    assert "added" not in mismatch.output  # (the add below succeeds: nothing was created)
    short = users_cli(tmp_path, "add", "--email", "a@shop.test", "--role", "staff", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    ok = users_cli(tmp_path, "add", "--email", "a@shop.test", "--role", "staff", "--password-stdin", stdin=PASSWORD)
    assert ok.exit_code == 0, ok.output
    again = users_cli(tmp_path, "add", "--email", "A@shop.test", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    assert again.exit_code == 1 and "already exists" in again.output
    bad_role = users_cli(
        tmp_path, "add", "--email", "b@shop.test", "--role", "admin", "--password-stdin", stdin=PASSWORD
    )
    assert bad_role.exit_code == 2
    bad_email = users_cli(tmp_path, "add", "--email", "nobody", "--role", "staff", "--password-stdin", stdin=PASSWORD)
    assert bad_email.exit_code == 1 and "not an e-mail address" in bad_email.output


def test_list_disable_and_reset_password(bridge: Bridge, console: Console, tmp_path: Path) -> None:
    email = console.add_user(Role.STAFF, "kim@shop.test")
    client = console.login_as(Role.VIEWER, "vic@shop.test")

    listed = [json.loads(line) for line in users_cli(tmp_path, "list", "--json").output.splitlines()]
    assert [(u["email"], u["role"], u["state"]) for u in listed] == [
        ("kim@shop.test", "staff", "active"),
        ("vic@shop.test", "viewer", "active"),
    ]
    assert all("password_hash" not in u for u in listed)
    table = users_cli(tmp_path, "list").output
    assert table.splitlines()[0].split()[:4] == ["ID", "EMAIL", "ROLE", "STATE"]

    disabled = users_cli(tmp_path, "disable", "vic@shop.test")
    assert disabled.exit_code == 0 and "1 session(s) ended" in disabled.output
    assert client.get("/console/").status_code == 302  # the open session died with the account
    assert console.login(console.client(), "vic@shop.test").status_code == 401
    assert "disabled" in users_cli(tmp_path, "list").output
    assert users_cli(tmp_path, "disable", "nobody@shop.test").exit_code == 1

    new_password = "a brand new passphrase"
    kim = console.client()
    assert console.login(kim, email).status_code == 302
    reset = users_cli(tmp_path, "reset-password", email, "--password-stdin", stdin=new_password + "\n")
    assert reset.exit_code == 0 and "1 session(s) ended" in reset.output
    assert kim.get("/console/").status_code == 302
    assert console.login(console.client(), email).status_code == 401  # the old password no longer works
    assert console.login(console.client(), email, new_password).status_code == 302


def test_enable_and_set_role_take_effect_on_the_next_page(bridge: Bridge, console: Console, tmp_path: Path) -> None:
    console.add_user(Role.OWNER)  # sam is not the last owner once promoted (that one cannot be disabled)
    client = console.login_as(Role.STAFF, "sam@shop.test")
    assert client.get("/console/audit").status_code == 403
    promoted = users_cli(tmp_path, "set-role", "sam@shop.test", "owner")
    assert promoted.exit_code == 0 and "is now owner" in promoted.output
    assert client.get("/console/audit").status_code == 200  # the same session, the new role

    assert users_cli(tmp_path, "disable", "sam@shop.test").exit_code == 0
    assert console.login(console.client(), "sam@shop.test").status_code == 401
    assert client.get("/console/").status_code == 302  # disabling ended the session
    assert users_cli(tmp_path, "enable", "sam@shop.test").exit_code == 0
    client = console.client()
    assert console.login(client, "sam@shop.test").status_code == 302
    assert users_cli(tmp_path, "set-role", "nobody@shop.test", "viewer").exit_code == 1

    audit_page = client.get("/console/audit?actor=cli").get_data(as_text=True)
    for action in ("console_user.role", "console_user.disabled", "console_user.enabled"):
        assert action in audit_page
