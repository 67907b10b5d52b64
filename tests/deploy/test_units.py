"""The service files for servers: each app instance restarted on its own, the settings they read, TURN."""
from __future__ import annotations

import configparser

from settings import Settings
from tests.conftest import REPO

DEPLOY = REPO / "deploy"


def test_each_app_instance_is_a_systemd_service_that_restarts() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read(DEPLOY / "systemd" / "engage-app@.service")
    service = unit["Service"]
    assert service["Restart"] == "always" and service["User"] == "engage"
    command = service["ExecStart"].split()
    assert command[1:4] == ["-m", "streamlit", "run"] and (REPO / command[4]).exists()
    assert "--server.port" in command and command[command.index("--server.port") + 1] == "%i"


def test_the_example_settings_are_valid_settings() -> None:
    lines = (DEPLOY / "systemd" / "engage.env.example").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    settings = Settings.from_env(env)
    assert settings.database_url.startswith("postgresql+psycopg://") and settings.secure_cookies
    assert any(url.startswith("turn:") for url in settings.ice_servers[0]["urls"])
    assert {"STREAMLIT_SERVER_COOKIE_SECRET", "FORWARDED_ALLOW_IPS"} <= set(env)


def test_turn_relays_only_to_the_app_servers() -> None:
    conf = (DEPLOY / "coturn" / "turnserver.conf").read_text().splitlines()
    assert "lt-cred-mech" in conf and "no-cli" in conf
    assert "denied-peer-ip=127.0.0.0-127.255.255.255" in conf and any(c.startswith("allowed-peer-ip=") for c in conf)
