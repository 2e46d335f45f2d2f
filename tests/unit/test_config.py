"""Settings: defaults, the YAML file, HUB_<SECTION>__<KEY> overrides, and errors that say why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.config import ConfigError, load_settings
from hub.model import Channel, Queue

WEB = Channel.WEBCHAT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None = None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=environ or {})
    return str(caught.value)


# ---------------------------------------------------------------- defaults and file


def test_config_defaults_load_without_file_or_environment() -> None:
    settings = load_settings(None, environ={})

    assert (settings.http.host, settings.http.port, settings.http.public_url) == (
        "127.0.0.1",
        8080,
        None,
    )
    assert settings.database.echo is False
    assert settings.security.secret_key is None
    assert settings.webchat.queue == "support"
    assert settings.webchat.max_message_bytes == 8192
    assert settings.routing.default_capacity == {
        Channel.WEBCHAT: 3,
        Channel.EMAIL: 5,
        Channel.SMS: 5,
        Channel.VOICE: 1,
        Channel.API: 1,
    }
    assert settings.queue_map() == {
        "support": Queue("support", frozenset({WEB}), 0, 20.0, 15.0),
    }


def test_config_followup_owner_wait_defaults_to_five_minutes_and_can_be_set() -> None:
    assert load_settings(None, environ={}).routing.followup_owner_wait_s == 300
    environ = {"HUB_ROUTING__FOLLOWUP_OWNER_WAIT_S": "60"}
    assert load_settings(None, environ=environ).routing.followup_owner_wait_s == 60


def test_config_ignores_unrelated_environment_variables() -> None:
    environ = {"HOME": "/root", "HUB_DEBUG": "1", "HUBBLE__X": "2", "PATH": "/bin"}

    assert load_settings(None, environ=environ) == load_settings(None, environ={})


def test_config_reads_yaml_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
http:
  host: 0.0.0.0
  port: 9000
database:
  echo: true
security:
  secret_key: s3cret-value
webchat:
  queue: chat
  embed_origins: [https://shop.example]
routing:
  default_capacity: {webchat: 2, email: 4}
queues:
  - name: chat
    channels: [webchat]
    offer_timeout_s: 12
    wrap_up_s: 0
  - name: mail
    channels: [email, sms]
    priority: 3
""",
    )

    settings = load_settings(path, environ={})

    assert (settings.http.host, settings.http.port) == ("0.0.0.0", 9000)
    assert settings.database.echo is True
    assert settings.security.secret_key is not None
    assert settings.security.secret_key.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    assert settings.webchat.embed_origins == ["https://shop.example"]
    # Channels not named keep their defaults.
    assert settings.routing.default_capacity == {
        Channel.WEBCHAT: 2,
        Channel.EMAIL: 4,
        Channel.SMS: 5,
        Channel.VOICE: 1,
        Channel.API: 1,
    }
    assert settings.queue_map() == {
        "chat": Queue("chat", frozenset({WEB}), 0, 12.0, 0.0),
        "mail": Queue("mail", frozenset({Channel.EMAIL, Channel.SMS}), 3, 20.0, 15.0),
    }


@pytest.mark.parametrize("text", ["", "# nothing here\n", "---\n"])
def test_config_empty_file_means_defaults(tmp_path: Path, text: str) -> None:
    assert load_settings(write(tmp_path, text), environ={}) == load_settings(None, environ={})


# ---------------------------------------------------------------- environment overrides


@pytest.mark.parametrize(
    ("environ", "read"),
    [
        ({"HUB_HTTP__PORT": "9000"}, lambda s: s.http.port == 9000),
        ({"HUB_HTTP__PORT": " 9000 "}, lambda s: s.http.port == 9000),
        ({"HUB_HTTP__HOST": "0.0.0.0"}, lambda s: s.http.host == "0.0.0.0"),
        (
            {"HUB_HTTP__PUBLIC_URL": "https://hub.example"},
            lambda s: s.http.public_url == "https://hub.example",
        ),
        ({"HUB_DATABASE__ECHO": "true"}, lambda s: s.database.echo is True),
        ({"HUB_DATABASE__ECHO": "0"}, lambda s: s.database.echo is False),
        ({"HUB_DATABASE__ECHO": "yes"}, lambda s: s.database.echo is True),
        ({"HUB_SECURITY__COOKIE_SECURE": "on"}, lambda s: s.security.cookie_secure is True),
        (
            {"HUB_SECURITY__SECRET_KEY": "k3y"},
            lambda s: s.security.secret_key.get_secret_value() == "k3y",
        ),
        ({"HUB_WEBCHAT__MAX_MESSAGE_BYTES": "100"}, lambda s: s.webchat.max_message_bytes == 100),
        ({"hub_http__port": "9000"}, lambda s: s.http.port == 8080),  # the prefix is upper case
    ],
)
def test_config_env_overrides_scalars(environ: dict[str, str], read: Any) -> None:
    assert read(load_settings(None, environ=environ))


def test_config_env_overrides_a_nested_mapping_key() -> None:
    settings = load_settings(None, environ={"HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT": "2"})

    assert settings.routing.default_capacity[Channel.WEBCHAT] == 2


def test_config_api_tasks_default_to_the_chat_queue_one_per_agent_unless_set(
    tmp_path: Path,
) -> None:
    settings = load_settings(None, environ={})
    assert (settings.api_queue(), settings.routing.default_capacity[Channel.API]) == ("support", 1)
    path = write(
        tmp_path,
        "queues:\n  - {name: support, channels: [webchat]}\n"
        "  - {name: tasks, channels: [api]}\napi: {queue: tasks}\n",
    )
    settings = load_settings(path, environ={"HUB_ROUTING__DEFAULT_CAPACITY__API": "2"})
    assert (settings.api_queue(), settings.routing.default_capacity[Channel.API]) == ("tasks", 2)


def test_config_env_nested_override_keeps_the_other_defaults() -> None:
    settings = load_settings(None, environ={"HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT": "2"})

    assert settings.routing.default_capacity == {
        Channel.WEBCHAT: 2,
        Channel.EMAIL: 5,
        Channel.SMS: 5,
        Channel.VOICE: 1,
        Channel.API: 1,
    }


@pytest.mark.parametrize(
    ("environ", "read"),
    [
        (
            {"HUB_WEBCHAT__EMBED_ORIGINS": "[https://a.example, https://b.example]"},
            lambda s: s.webchat.embed_origins == ["https://a.example", "https://b.example"],
        ),
        ({"HUB_WEBCHAT__EMBED_ORIGINS": "  []"}, lambda s: s.webchat.embed_origins == []),
        (
            {"HUB_ROUTING__DEFAULT_CAPACITY": "{webchat: 1, voice: 0}"},
            lambda s: (
                s.routing.default_capacity
                == {
                    Channel.WEBCHAT: 1,
                    Channel.EMAIL: 5,
                    Channel.SMS: 5,
                    Channel.VOICE: 0,
                    Channel.API: 1,
                }
            ),
        ),
    ],
)
def test_config_env_reads_yaml_looking_values(environ: dict[str, str], read: Any) -> None:
    assert read(load_settings(None, environ=environ))


def test_config_env_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "http:\n  port: 9000\n  host: 10.0.0.1\n")

    settings = load_settings(path, environ={"HUB_HTTP__PORT": "9100"})

    assert (settings.http.port, settings.http.host) == (9100, "10.0.0.1")


def test_config_env_can_point_webchat_at_a_queue_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "queues:\n  - {name: chat, channels: [webchat]}\n")

    settings = load_settings(path, environ={"HUB_WEBCHAT__QUEUE": "chat"})

    assert settings.webchat.queue == "chat"


def test_config_env_overrides_the_queue_list() -> None:
    settings = load_settings(
        None,
        environ={
            "HUB_QUEUES": "[{name: chat, channels: [webchat]}]",
            "HUB_WEBCHAT__QUEUE": "chat",
        },
    )

    assert list(settings.queue_map()) == ["chat"]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"HUB_HTTP__PORT": "abc"},
            ["http.port", "'abc'", "HUB_HTTP__PORT"],
        ),
        (
            {"HUB_HTTP__PORT": "70000"},
            ["http.port", "65535", "'70000'", "HUB_HTTP__PORT"],
        ),
        (
            {"HUB_HTTP__PORT": "0"},
            ["http.port", "'0'", "HUB_HTTP__PORT"],
        ),
        (
            {"HUB_DATABASE__ECHO": "maybe"},
            ["database.echo", "'maybe'", "HUB_DATABASE__ECHO"],
        ),
        (
            {"HUB_HTTP__PROT": "9000"},
            ["http.prot", "Extra inputs are not permitted", "'9000'", "HUB_HTTP__PROT"],
        ),
        (
            {"HUB_WEBCHAT__MAX_MESSAGE_BYTES": "2000000"},
            ["webchat.max_message_bytes", "'2000000'", "HUB_WEBCHAT__MAX_MESSAGE_BYTES"],
        ),
        (
            {"HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT": "lots"},
            [
                "routing.default_capacity.webchat",
                "'lots'",
                "HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT",
            ],
        ),
        (
            {"HUB_WEBCHAT__QUEUE": "sales"},
            ["webchat.queue", "'sales'", "not a configured queue", "HUB_WEBCHAT__QUEUE"],
        ),
        (
            {"HUB_ROUTING__DEFAULT_CAPACITY__FAX": "1"},
            ["routing.default_capacity.fax", "HUB_ROUTING__DEFAULT_CAPACITY__FAX"],
        ),
        (
            {"HUB_ROUTING__FOLLOWUP_OWNER_WAIT_S": "-5"},
            ["routing.followup_owner_wait_s", "'-5'", "HUB_ROUTING__FOLLOWUP_OWNER_WAIT_S"],
        ),
        (
            {"HUB_ROUTING__FOLLOWUP_OWNER_WAIT_S": "soon"},
            ["routing.followup_owner_wait_s", "'soon'", "HUB_ROUTING__FOLLOWUP_OWNER_WAIT_S"],
        ),
    ],
)
def test_config_env_error_names_key_value_and_variable(
    environ: dict[str, str], expected: list[str]
) -> None:
    message = config_error(environ=environ)

    for part in expected:
        assert part in message, (part, message)


def test_config_env_error_reports_every_mistake() -> None:
    message = config_error(environ={"HUB_HTTP__PORT": "abc", "HUB_DATABASE__ECHO": "maybe"})

    assert "HUB_HTTP__PORT" in message
    assert "HUB_DATABASE__ECHO" in message


@pytest.mark.parametrize(
    "environ",
    [
        {"HUB__PORT": "1"},
        {"HUB_HTTP____PORT": "1"},
        {"HUB_HTTP__PORT__": "1"},
        {"HUB_WEBCHAT__EMBED_ORIGINS": "[unclosed"},
        {"HUB_ROUTING__DEFAULT_CAPACITY": "{webchat: 1"},
    ],
)
def test_config_env_malformed_override_is_refused_naming_the_variable(
    environ: dict[str, str],
) -> None:
    [variable] = environ

    assert variable in config_error(environ=environ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http:\n  port: 70000\n", ["http.port", "70000", "65535", "config.yaml"]),
        ("http:\n  prot: 1\n", ["http.prot", "Extra inputs are not permitted"]),
        ("smtp:\n  port: 25\n", ["smtp", "Extra inputs are not permitted"]),
        ("security:\n  session_ttl_s: 5\n", ["security.session_ttl_s", "60", "5"]),
        (
            "queues:\n"
            "  - {name: dup-q, channels: [webchat]}\n"
            "  - {name: dup-q, channels: [email]}\n"
            "webchat: {queue: dup-q}\n",
            ["queues", "unique", "dup-q"],
        ),
        ("queues: []\n", ["queues", "at least 1"]),
        ("queues:\n  - {name: support, channels: []}\n", ["queues.0.channels"]),
        ("queues:\n  - {name: Support!, channels: [webchat]}\n", ["queues.0.name", "Support!"]),
        ("queues:\n  - {name: support, channels: [fax]}\n", ["queues.0.channels.0", "fax"]),
        (
            "queues:\n  - {name: support, channels: [webchat], offer_timeout_s: 0}\n",
            ["queues.0.offer_timeout_s", "0"],
        ),
        (
            "queues:\n  - {name: sales, channels: [webchat]}\n",
            ["webchat.queue", "'support'", "not a configured queue"],
        ),
        (
            "queues:\n  - {name: support, channels: [email]}\n",
            ["webchat.queue", "'support'", "does not accept webchat"],
        ),
        (
            "routing:\n  default_capacity: {webchat: -1}\n",
            ["routing", "webchat", "-1"],
        ),
        (
            "api: {queue: tasks}\n",
            ["api.queue", "'tasks'", "not a configured queue"],
        ),
        (
            "api: {queue: support}\n",
            ["api.queue", "'support'", "does not accept api"],
        ),
    ],
)
def test_config_file_error_names_key_and_value(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    message = config_error(write(tmp_path, text))

    assert message.startswith("invalid configuration:")
    assert str(tmp_path / "config.yaml") in message  # where the mistake came from
    for part in expected:
        assert part in message, (part, message)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        pytest.param(
            {"HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT": "-1"},
            "HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT",
            id="negative-capacity",
        ),
        pytest.param({"HUB_SMTP__PORT": "25"}, "HUB_SMTP__PORT", id="unknown-section"),
        pytest.param({"HUB_HTTP__HOST__NAME": "x"}, "HUB_HTTP__HOST__NAME", id="not-a-mapping"),
    ],
)
def test_config_env_error_at_a_shorter_path_names_the_variable(
    environ: dict[str, str], variable: str
) -> None:
    message = config_error(environ=environ)

    assert variable in message
    assert "[from defaults]" not in message


def test_config_invalid_yaml_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "http:\n  port: [9000\n")

    message = config_error(path)

    assert message.startswith(f"{path} is not valid YAML")


@pytest.mark.parametrize("text", ["- http\n- port\n", "just a string\n", "42\n"])
def test_config_file_must_hold_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)

    assert config_error(path) == f"{path} must hold a mapping of sections at the top level"


def test_config_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    message = config_error(path)

    assert message.startswith(f"cannot read config file {path}")
    assert "No such file" in message


def test_config_error_does_not_echo_the_secret_key() -> None:
    # A mistake elsewhere must not print the secret set alongside it.
    message = config_error(
        environ={"HUB_SECURITY__SECRET_KEY": "top-secret-value", "HUB_HTTP__PORT": "abc"}
    )

    assert "top-secret-value" not in message


@pytest.mark.parametrize("secret", ["[not: yaml", "{x: 1}", "[1, 2]"])
def test_config_secrets_from_the_environment_are_taken_verbatim_never_echoed(
    secret: str,
) -> None:
    settings = load_settings(
        None,
        environ={"HUB_SECURITY__SECRET_KEY": secret, "HUB_EMAIL__RELAY_PASSWORD": secret},
    )
    assert settings.security.secret_key is not None
    assert settings.security.secret_key.get_secret_value() == secret
    assert settings.email.relay_password is not None
    assert settings.email.relay_password.get_secret_value() == secret
    message = config_error(environ={"HUB_EMAIL__RELAY_PASSWORD": secret, "HUB_HTTP__PORT": "x"})
    assert secret not in message


def test_config_agent_capacity_covers_only_channels_some_queue_accepts() -> None:
    settings = load_settings(None, environ={})
    assert settings.agent_capacity() == {Channel.WEBCHAT: 3}


# ---------------------------------------------------------------- metrics and logging


def test_config_metrics_default_to_loopback_on_the_main_port() -> None:
    metrics = load_settings(None, environ={}).metrics
    assert metrics.enabled and metrics.port is None
    assert [str(n) for n in metrics.allow] == ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"HUB_METRICS__ALLOW": "10.0.0.0/8, 192.168.1.7"}, ["10.0.0.0/8", "192.168.1.7/32"]),
        ({"HUB_METRICS__ALLOW": '["fd00::/8"]'}, ["fd00::/8"]),
        ({"HUB_METRICS__ALLOW": ""}, []),
    ],
)
def test_config_metrics_allow_from_the_environment(
    environ: dict[str, str], expected: list[str]
) -> None:
    assert [str(n) for n in load_settings(None, environ=environ).metrics.allow] == expected


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"HUB_METRICS__ALLOW": "10.0.0.1/8"}, "metrics.allow"),  # host bits set: a typo
        ({"HUB_METRICS__ALLOW": "localhost"}, "metrics.allow"),
        ({"HUB_METRICS__PORT": "70000"}, "metrics.port"),
        ({"HUB_LOGGING__FORMAT": "xml"}, "logging.format"),
    ],
)
def test_config_metrics_and_logging_mistakes_name_the_key(
    environ: dict[str, str], named: str
) -> None:
    assert named in config_error(environ=environ)


# ---------------------------------------------------------------- cluster


def test_config_cluster_is_off_by_default_and_needs_postgresql(tmp_path: Path) -> None:
    assert not load_settings(None, environ={}).cluster.enabled
    message = config_error(environ={"HUB_CLUSTER__REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert "cluster.redis_url" in message and "PostgreSQL" in message
    settings = load_settings(
        write(
            tmp_path,
            "database: {url: 'postgresql+asyncpg://hub@db/hub'}\n"
            "cluster: {redis_url: 'redis://127.0.0.1:6379/0', node_id: node-1}\n",
        ),
        environ={},
    )
    assert settings.cluster.enabled and settings.cluster.node_id == "node-1"
    assert "redis://" in config_error(
        environ={
            "HUB_DATABASE__URL": "postgresql+asyncpg://hub@db/hub",
            "HUB_CLUSTER__REDIS_URL": "http://127.0.0.1:6379",
        }
    )


def test_previous_secret_keys_keep_old_visitor_tokens_valid_after_rotation() -> None:
    from channels.webchat.transport import VisitorTokens
    from hub.app import secret_keys

    old = load_settings(None, environ={"HUB_SECURITY__SECRET_KEY": "old-key-0123456789"})
    old_token = VisitorTokens(secret_keys(old), 3600).issue("visitor-1")
    rotated = load_settings(
        None,
        environ={
            "HUB_SECURITY__SECRET_KEY": "new-key-0123456789",
            "HUB_SECURITY__PREVIOUS_SECRET_KEYS": "older-key-x, old-key-0123456789",
        },
    )
    keys = secret_keys(rotated)
    assert keys == ["older-key-x", "old-key-0123456789", "new-key-0123456789"]
    tokens = VisitorTokens(keys, 3600)
    assert tokens.read(old_token) == "visitor-1"  # still recognised after the rotation
    fresh = tokens.issue("visitor-2")
    # New tokens are signed with the new key alone: the old key does not verify them.
    assert VisitorTokens(["new-key-0123456789"], 3600).read(fresh) == "visitor-2"
    assert VisitorTokens(["old-key-0123456789"], 3600).read(fresh) is None
    # Dropping the old key ends its tokens.
    assert VisitorTokens(["new-key-0123456789"], 3600).read(old_token) is None


# ---------------------------------------------------------------- reply targets


def test_config_reply_targets_default_per_channel_and_none_for_calls() -> None:
    targets = load_settings(None, environ={}).reply_targets()
    assert targets.target_s("support", Channel.WEBCHAT) == 60
    assert targets.target_s("support", Channel.SMS) == 300
    assert targets.target_s("support", Channel.EMAIL) == 4 * 3600
    assert targets.target_s("support", Channel.VOICE) is None
    assert targets.target_s("no-such-queue", Channel.WEBCHAT) == 60


@pytest.mark.parametrize(
    ("value", "chat", "email"),
    [
        ("30", 30, 30),  # one number for every channel
        ("{webchat: 45}", 45, 4 * 3600),  # one channel; the others keep their defaults
        ("{webchat: 45, email: 7200}", 45, 7200),
    ],
)
def test_config_reply_target_per_queue(value: str, chat: float, email: float) -> None:
    queues = f"[{{name: support, channels: [webchat, email], reply_target_s: {value}}}]"
    targets = load_settings(None, environ={"HUB_QUEUES": queues}).reply_targets()
    assert targets.target_s("support", Channel.WEBCHAT) == chat
    assert targets.target_s("support", Channel.EMAIL) == email


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{voice: 10}", "reply_target_s: voice has none (calls are live)"),
        ("0", "reply_target_s for webchat must be more than 0"),
        ("{sms: 700000}", "reply_target_s for sms must be more than 0 and at most 604800"),
    ],
)
def test_config_reply_target_refused_with_reason(value: str, message: str) -> None:
    queues = f"[{{name: support, channels: [webchat], reply_target_s: {value}}}]"
    assert message in config_error(environ={"HUB_QUEUES": queues})
