"""The connection picker and the plan preview, driven in Python (no browser, no kernel)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ipywidgets as w
import pandas as pd
import pytest

from ontraport_pandas.client import Ontraport
from ontraport_pandas.context import default_client
from ontraport_pandas.errors import ConfigurationError
from ontraport_pandas.widgets import ConnectionPicker, PlanPreview, config_dir

SIM = [sys.executable, "-m", "ontraport_pandas.sandbox.membrane"]
SECRET = "opd-test-secret-4f9c2a7e1b"
SANDBOX = {"contacts": 120, "rate_limit": None}


@pytest.fixture(autouse=True)
def no_membrane(monkeypatch, tmp_path):
    """No Membrane CLI, and the picker's memory in a temporary folder."""
    monkeypatch.setenv("ONTRAPORT_PANDAS_MEMBRANE", str(tmp_path / "no-such-membrane"))
    monkeypatch.setenv("ONTRAPORT_PANDAS_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("ONTRAPORT_APP_ID", "2_opd_test_app")
    monkeypatch.setenv("ONTRAPORT_API_KEY", SECRET)


def _widgets(root: w.Widget) -> list[w.Widget]:
    """Every widget reachable from ``root`` through its traits (children, layout, style, …)."""
    seen: dict[int, w.Widget] = {}

    def walk(value: object) -> None:
        if isinstance(value, w.Widget):
            if id(value) in seen:
                return
            seen[id(value)] = value
            for key in value.keys:
                walk(getattr(value, key))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(root)
    return list(seen.values())


def _assert_no_secret(root: w.Widget) -> int:
    widgets = _widgets(root)
    for widget in widgets:
        state = widget.get_state()  # exactly what is synchronised to the browser and saved
        assert SECRET not in json.dumps(state, default=str), type(widget).__name__
        for name, value in widget.trait_values().items():
            assert SECRET not in repr(value), f"{type(widget).__name__}.{name}"
    return len(widgets)


# ------------------------------------------------------------------------------ picker
def test_picker_without_membrane_offers_the_sandbox_and_says_how_to_install():
    picker = ConnectionPicker()
    assert picker.choices == {
        "sandbox": "Sandbox (demo data)",
        "membrane:": "Membrane (connect through the Membrane CLI)",
    }
    assert picker.value is None and picker.client is None
    assert picker.status_text() == "Pick a connection."
    # nothing about the Membrane CLI for those who did not choose it
    assert "membrane" not in (picker.note.value + picker.status.value + repr(picker).split("\n")[0]).lower()
    picker.value = "sandbox"
    assert "npm install" not in picker.note.value + picker.status.value + repr(picker)
    # choosing Membrane says how to install it
    picker.value = "membrane:"
    assert picker.client is None
    assert "npm install -g @membranehq/cli" in picker.status_text()
    assert "npm install -g @membranehq/cli" in picker.note.value
    assert "Not connected" in picker.status.value
    picker.value = "sandbox"
    assert picker.note.value == "" and picker.client is not None
    picker.close()


def test_picker_is_an_ipywidget():
    picker = ConnectionPicker(sandbox_options=SANDBOX, remember=False)
    assert isinstance(picker, w.VBox) and picker.widget is picker
    assert picker.children[1] is picker.status and picker.children[2] is picker.note
    assert picker.dropdown in picker.children[0].children
    values: list[object] = []
    clients: list[object] = []
    picker.observe(lambda change: values.append(change["new"]), names="value")
    picker.observe(lambda change: clients.append(change["new"]), names="client")
    picker.value = "sandbox"
    assert values == ["sandbox"] and clients[-1] is picker.client is not None
    picker.dropdown.value = None  # the front end clears the choice
    assert values == ["sandbox", None] and picker.client is None and clients[-1] is None
    # nests in another box, and displays as a widget view
    box = w.VBox([picker])
    assert box.children == (picker,)
    bundle = picker._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == picker.model_id
    # value and client are not synchronised to the browser
    assert "value" not in picker.keys and "client" not in picker.keys
    picker.close()
    assert picker.comm is None


def test_picker_offers_the_environment_key_only_when_set(secret_env):
    picker = ConnectionPicker()
    assert list(picker.choices) == ["sandbox", "env", "membrane:"]
    assert SECRET not in repr(picker)
    picker.close()


def test_an_unreachable_environment_key_is_reported_after_a_few_tries(secret_env, caplog):
    """No network here: the picker says so after its short probe, not after a load's half minute."""
    from ontraport_pandas.widgets import PROBE_ATTEMPTS

    picker = ConnectionPicker()
    with caplog.at_level("INFO", logger="ontraport_pandas"):
        picker.value = "env"
    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == PROBE_ATTEMPTS - 1
    assert picker.client is None and picker.error
    assert SECRET not in picker.error and SECRET not in repr(picker)
    picker.close()


def test_the_probe_leaves_the_client_its_own_retry_policy():
    picker = ConnectionPicker(sandbox_options=SANDBOX)
    picker.value = "sandbox"
    assert picker.client is not None and picker.client.session.retry.attempts == 12
    picker.close()


def test_picking_the_sandbox_connects_and_sets_the_default():
    seen: list[Ontraport | None] = []
    picker = ConnectionPicker(set_default=True, sandbox_options=SANDBOX)
    picker.on_change(seen.append)
    picker.value = "sandbox"
    op = picker.client
    assert op is not None and not op.live
    assert default_client() is op
    assert seen == [op]
    assert picker.contact_count == 120
    assert picker.status_text() == f"SANDBOX · {op.name} · 120 contacts"
    assert "SANDBOX" in picker.status.value and "<b>120</b> contacts" in picker.status.value
    assert len(op.contacts(progress=False)) == 120
    # choosing nothing forgets the client and the default
    picker.value = None
    assert picker.client is None and default_client(required=False) is None
    assert seen[-1] is None
    picker.close()


def test_the_dropdown_drives_the_picker_as_in_the_browser():
    picker = ConnectionPicker(sandbox_options=SANDBOX)
    picker.dropdown.value = "sandbox"  # what a click in the front end does
    assert picker.value == "sandbox" and picker.client is not None
    picker.close()


def test_picker_remembers_the_choice_key_only(secret_env):
    first = ConnectionPicker(sandbox_options=SANDBOX)
    first.value = "sandbox"
    memory = config_dir() / "connection-picker.json"
    assert json.loads(memory.read_text()) == {"choice": "sandbox"}
    second = ConnectionPicker(sandbox_options=SANDBOX)
    assert second.value == "sandbox" and second.client is not None
    third = ConnectionPicker(sandbox_options=SANDBOX, remember=False)
    assert third.value is None
    for p in (first, second, third):
        p.close()


def test_picker_rejects_unknown_choices():
    picker = ConnectionPicker()
    with pytest.raises(ValueError, match="Unknown connection choice"):
        picker.value = "postgres"
    with pytest.raises(ValueError, match="ONTRAPORT_API_KEY"):
        picker.value = "env"
    picker.close()


def test_picker_shows_the_install_command_for_an_unlisted_membrane_connection():
    picker = ConnectionPicker()
    picker.value = "membrane:conn_123"  # accepted, then connecting explains what is missing
    assert picker.client is None
    assert "npm install -g @membranehq/cli" in picker.status_text()
    assert "Not connected" in picker.status.value
    picker.close()


def test_picker_degrades_to_text_and_html():
    picker = ConnectionPicker(value="sandbox", sandbox_options=SANDBOX, remember=False)
    bundle = picker._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("ConnectionPicker(value='sandbox'): SANDBOX")
    assert "* sandbox" in bundle["text/plain"]
    assert "120</b> contacts" in bundle["text/html"]
    picker.close()


def test_no_secret_in_any_widget_trait(secret_env, tmp_path):
    picker = ConnectionPicker(set_default=True, sandbox_options=SANDBOX)
    picker.value = "sandbox"
    op = picker.client
    contacts = op.contacts(progress=False)
    edited = contacts.copy()
    edited["firstname"] = edited["firstname"].str.upper()
    preview = PlanPreview(op.plan(edited))
    preview.apply_button.click()
    assert preview.result is not None and preview.result.ok
    preview.undo_button.click()
    assert _assert_no_secret(picker) > 5
    assert _assert_no_secret(preview) > 5
    # the env choice too: its client never reaches a synchronised trait
    picker.value = "env"
    assert picker.value == "env"
    assert _assert_no_secret(picker) > 5
    from ipywidgets.embed import dependency_state

    saved = json.dumps(dependency_state([picker, preview]), default=str)  # what a saved notebook holds
    assert SECRET not in saved and "sandbox" in saved
    for text in (repr(picker), repr(preview), json.dumps(picker._repr_mimebundle_())):
        assert SECRET not in text
    assert SECRET not in (config_dir() / "connection-picker.json").read_text()
    picker.close()
    preview.close()


# ------------------------------------------------------------------------------ membrane
def _sim(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEMBRANE_SIM_HOME": str(home)}
    return subprocess.run([*SIM, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def membrane_sim(monkeypatch, tmp_path):
    """The membrane simulator with its demo connections, named by ONTRAPORT_PANDAS_MEMBRANE."""
    home = tmp_path / "membrane-sim"
    init = _sim(home, "sim", "init", "--contacts", "120", "--rate-limit", "none")
    if init.returncode != 0:
        pytest.skip(f"the membrane simulator is not ready: `sim init` failed: {init.stderr.strip()[:300]}")
    monkeypatch.setenv("MEMBRANE_SIM_HOME", str(home))
    monkeypatch.setenv("ONTRAPORT_PANDAS_MEMBRANE", " ".join(SIM))
    return home


def test_picker_lists_the_simulator_connections_with_their_state(membrane_sim):
    picker = ConnectionPicker()
    assert picker.choices == {
        "membrane:conn_ontraport_demo": "Membrane: Ontraport (demo) [READY]",
        "membrane:conn_ontraport_pending": "Membrane: Ontraport (unfinished) [CLIENT_ACTION_REQUIRED]",
        "sandbox": "Sandbox (demo data)",
    }
    assert picker.note.value == ""  # Membrane notes wait for a Membrane choice
    picker.value = "membrane:conn_ontraport_demo"
    assert "1 connection(s) to other apps not shown" in picker.note.value  # HubSpot
    assert picker.client is not None and not picker.client.live  # the simulator is no live account
    assert picker.contact_count == 120
    assert "Membrane connection conn_ontraport_demo" in picker.status_text()
    picker.close()


def test_picker_gives_the_exact_fix_for_a_connection_that_is_not_ready(membrane_sim):
    picker = ConnectionPicker()
    picker.value = "membrane:conn_ontraport_pending"
    assert picker.client is None
    assert "membrane connect --connectionId conn_ontraport_pending" in picker.status_text()
    assert "<code>membrane connect --connectionId conn_ontraport_pending</code>" in picker.status.value
    picker.close()


def test_refresh_lists_new_connections_and_login_problems(membrane_sim):
    picker = ConnectionPicker()
    made = _sim(
        membrane_sim, "connect", "--connectorId", "cnr_ontraport", "--name", "Second account", "--json"
    )
    assert made.returncode == 0, made.stderr
    new_id = json.loads(made.stdout)["id"]
    picker.refresh_button.click()
    assert picker.choices[f"membrane:{new_id}"] == "Membrane: Second account [READY]"
    _sim(membrane_sim, "logout")
    picker.refresh()
    assert [k for k in picker.choices] == ["sandbox", "membrane:"]
    assert "membrane login" not in picker.note.value  # not until Membrane is chosen
    picker.value = "membrane:"
    assert "membrane login" in picker.note.value and "membrane login" in picker.status_text()
    picker.close()


# ------------------------------------------------------------------------------ plan preview
def test_plan_preview_applies_on_click_and_undoes(op):
    contacts = op.contacts(progress=False)
    edited = contacts.copy()
    ids = list(contacts.index[:3])
    edited.loc[ids, "lastname"] = ["Alpha", "Beta", "Gamma"]
    preview = PlanPreview(op.plan(edited))
    assert preview.badge == "SANDBOX"
    assert "SANDBOX" in preview.header.value and "LIVE" not in preview.header.value
    assert preview.confirm is None
    assert preview.apply_button.description == "Apply to sandbox" and not preview.apply_button.disabled
    assert preview.undo_button.disabled
    assert preview.diff.value.count("<tr style=") == 3
    preview.apply_button.click()
    assert [op.contact(i)["lastname"] for i in ids] == ["Alpha", "Beta", "Gamma"]
    assert preview.result is not None and preview.result.ok
    assert preview.apply_button.disabled and not preview.undo_button.disabled
    assert "Applied" in preview.status.value and "3 ok" in preview.status.value
    assert preview.apply() is preview.result  # a second click does not push again
    preview.undo_button.click()
    assert [op.contact(i)["lastname"] for i in ids] == list(contacts.loc[ids, "lastname"])
    assert preview.undo_result is not None and preview.undo_button.disabled
    assert "Undone" in preview.status.value


def test_plan_preview_needs_the_tick_for_a_destructive_plan(op):
    contacts = op.contacts(progress=False)
    edited = contacts.copy()
    titled = contacts.index[contacts["title"].notna()][:30]
    edited.loc[titled, "title"] = pd.NA  # 30 clears: over the threshold
    plan = op.plan(edited)
    assert plan.confirm_required is not None
    preview = PlanPreview(plan)
    assert preview.confirm is not None and "30 cells" in preview.confirm.description
    assert preview.apply_button.disabled
    assert preview.apply() is None and "Tick the confirmation" in preview.status.value
    assert op.contact(int(titled[0]))["title"] == contacts.at[titled[0], "title"]
    preview.confirm.value = True
    assert not preview.apply_button.disabled
    preview.apply_button.click()
    assert preview.result is not None and preview.result.ok
    cleared = op.contact(int(titled[0]))["title"]
    assert pd.isna(cleared) or cleared == ""
    assert preview.confirm.disabled


def test_plan_preview_names_rows_leaving_sequences_and_applies_them(op):
    contacts = op.contacts(progress=False)
    members = [i for i in contacts.index if contacts.at[i, "updateSequence"]][:26]
    edited = contacts.copy()
    for i in members:
        edited.at[i, "updateSequence"] = []
    plan = op.plan(edited)
    preview = PlanPreview(plan)
    leaves = plan.counts["unsubscriptions"]
    assert leaves >= 26 and preview.confirm is not None
    assert f"takes rows out of sequences or automations {leaves} times" in preview.confirm.description
    assert "sequence changes" in preview.header.value
    preview.confirm.value = True
    preview.apply_button.click()
    assert preview.result is not None and preview.result.ok
    after = op.contacts(progress=False)
    assert all(after.at[i, "updateSequence"] == [] for i in members)


def test_plan_preview_shows_failures_first(op):
    contacts = op.contacts(progress=False)
    first, second = int(contacts.index[0]), int(contacts.index[1])
    edited = contacts.copy()
    edited.loc[[first, second], "lastname"] = ["Mine", "Also mine"]
    plan = op.plan(edited)
    op.request("PUT", "Contacts", json={"id": first, "lastname": "Changed by a colleague"})
    preview = PlanPreview(plan)
    preview.apply()
    statuses = preview.result.frame.set_index("record_id")["status"]
    assert statuses[first] == "conflict" and statuses[second] == "ok"
    rows = preview.output.value.split("overflow:auto")[1]  # the per-row table, after the summary
    assert rows.index(">conflict<") < rows.index(">ok<")
    assert "⚠" in preview.status.value


def test_plan_preview_of_a_live_account_says_live(served):
    from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID
    from ontraport_pandas.transports.http import HTTPTransport

    # A REST client that calls itself live (what a real account is), over the served sandbox.
    transport = HTTPTransport(DEMO_APP_ID, DEMO_API_KEY, base_url=served.url, live=True, name="Test account")
    with Ontraport(transport) as live_op:
        contacts = live_op.contacts(progress=False, limit=5)
        edited = contacts.copy()
        edited["lastname"] = "Live"
        preview = PlanPreview(live_op.plan(edited))
        assert preview.badge == "LIVE"
        assert ">LIVE<" in preview.header.value and "real Ontraport data" in preview.header.value
        assert preview.apply_button.description == "Apply to LIVE account"
        assert preview.apply_button.button_style == "danger"
        assert repr(preview).startswith("PlanPreview [LIVE] (not applied)")


def test_an_empty_plan_cannot_be_applied(op):
    preview = PlanPreview(op.plan(op.contacts(progress=False)))
    assert preview.apply_button.disabled and preview.apply_button.description == "Nothing to apply"
    assert preview.apply() is None
    assert "Nothing to write" in preview.diff.value


# ------------------------------------------------------------------------------ imports
def test_import_ontraport_pandas_loads_no_notebook_extra():
    code = (
        "import sys, ontraport_pandas as opd\n"
        "op = opd.connect('sandbox', contacts=20, rate_limit=None)\n"
        "op.contacts(progress=False); op.plan(op.contacts(progress=False))\n"
        "print(sorted(m for m in ('ipywidgets', 'matplotlib', 'nbformat', 'nbclient', 'tqdm') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


def test_widgets_without_ipywidgets_names_the_extra():
    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "try:\n"
        "    import ontraport_pandas.widgets\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert 'pip install "ontraport-pandas[notebook]"' in out.stdout


def test_plan_preview_is_an_ipywidget(op):
    contacts = op.contacts(progress=False)
    edited = contacts.copy()
    edited.loc[contacts.index[:2], "lastname"] = ["Observed", "Twice"]
    preview = PlanPreview(op.plan(edited), progress=False)
    assert isinstance(preview, w.VBox) and preview.widget is preview
    assert preview.header in preview.children and preview.progress_area in preview.children
    results: list[object] = []
    preview.observe(lambda change: results.append(change["new"]), names="result")
    undone: list[object] = []
    preview.observe(lambda change: undone.append(change["new"]), names="undo_result")
    preview.apply_button.click()
    assert results == [preview.result] and preview.result.ok
    preview.undo_button.click()
    assert undone == [preview.undo_result]
    assert "result" not in preview.keys  # the outcome is never synchronised to the browser
    bundle = preview._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == preview.model_id
    assert bundle["text/plain"].startswith("PlanPreview [SANDBOX] (applied, then undone)")
    preview.close()
    assert preview.comm is None


def test_picker_passes_the_time_zone_to_its_clients():
    with pytest.raises(ConfigurationError, match="tz="):
        ConnectionPicker(tz="Nowhere/Special")
    picker = ConnectionPicker(value="sandbox", sandbox_options=SANDBOX, remember=False, tz="Asia/Tokyo")
    assert picker.client is not None and picker.client.tz == "Asia/Tokyo"
    assert str(picker.client.contacts(progress=False)["date"].dtype.tz) == "Asia/Tokyo"
    picker.close()


def test_a_client_outlives_its_garbage_collected_picker():
    picker = ConnectionPicker(value="sandbox", sandbox_options=SANDBOX, remember=False)
    op = picker.client
    picker.__del__()  # what garbage collection runs: the widget closes, the client it gave out does not
    assert picker.comm is None
    assert op is not None and len(op.contacts(progress=False)) == 120
