"""The settings object: validation, immutability, what its repr shows."""

from __future__ import annotations

import dataclasses

import pytest

from ontraport_pandas.sandbox import DEMO_API_KEY, SandboxConfig, create_app


@pytest.mark.parametrize(
    "bad",
    [
        {"default_order": "newest"},
        {"text_collation": "utf8"},
        {"condition_order": "right-to-left"},
        {"fault_kinds": ("404",)},
        {"fault_rate": 1.5},
        {"contacts": -1},
        {"rate_limit": 0},
        {"rate_window": 0},
        {"range_max": 0},
        {"unknown_list_fields": "warn"},
        {"email_match": "fuzzy"},
    ],
)
def test_invalid_settings_fail_early(bad):
    with pytest.raises(ValueError):
        SandboxConfig(**bad)


def test_config_is_frozen_hashable_and_keeps_the_key_out_of_repr():
    config = SandboxConfig(access={"sequences": "GET"}, clock=lambda: 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1  # type: ignore[misc]
    assert config == SandboxConfig(access={"sequences": "GET"})  # the clock does not take part
    assert hash(config) == hash(SandboxConfig())
    assert DEMO_API_KEY not in repr(config)


def test_inject_faults_checks_the_kind():
    app = create_app(contacts=5)
    try:
        with pytest.raises(ValueError):
            app.inject_faults("418")
    finally:
        app.close()
