"""The Editor view: the whole scenario in forms, saved and loaded as TOML.

One tab per section (the case, market, entrants, partners, incumbents, regulators,
contract, entry-mode choice); lists get "Add" and "Remove". Each change is checked by the
TOML loader's own checks (:mod:`abm.app.editor`): a refused value shows the loader's
message under its field and the run keeps its last good state; a good one restarts the
run (Simulate) at month 0 with the edited case. "Download" saves the case as TOML;
"Browse..." (or a drop) loads one, within the app's upload limit. A copied link carries
the edited case whole (:mod:`abm.app.links`).
"""

from __future__ import annotations

import re

import solara

from abm import limits
from abm.app import access, state
from abm.app import editor as ed
from abm.app.widgets import Message, ScenarioFile

section_key = solara.reactive("")
"""The editor's open tab (a ``SectionSpec.key``; ``""``: the case's own fields)."""
item_index = solara.reactive(0)
"""The item shown in a list tab (the partner, the incumbent...)."""


def _css_name(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", name.lower())


@solara.component
def EditorField(spec: ed.FieldSpec, path: str, value, error: str | None):
    """One field: its box (or switch, or list), its unit and range, and the loader's message
    under it when its last value was refused."""
    label = spec.name + (f" ({spec.unit})" if spec.unit else "")
    hint = spec.doc + (f" — allowed: {spec.allowed}" if spec.allowed else "")

    def take(value):
        value = ed.parse(spec, value)
        state.apply_edit(path, lambda s: ed.edit(s, path, value), f"{path} = {value!r}")

    wide = ["abm-field-wide"] if spec.long_text else []
    with solara.Column(gap="0px", classes=["abm-field", f"abm-field-{_css_name(spec.name)}", *wide]):
        if spec.long_text:
            solara.InputTextArea(label, value=ed.shown(value), on_value=take, message=hint, error=bool(error), rows=3)
        elif spec.kind == "yes-no":
            solara.Checkbox(label=label, value=bool(value), on_value=take)
            solara.Text(hint, classes=["abm-field-hint"])
        elif spec.kind == "choice":
            solara.Select(label, values=list(spec.choices), value=value, on_value=take)
            solara.Text(hint, classes=["abm-field-hint"])
        else:
            solara.InputText(label, value=ed.shown(value), on_value=take, message=hint, error=bool(error))
        if error:
            solara.Text(error, classes=["abm-field-error"])


@solara.component
def ItemPicker(spec: ed.SectionSpec, items: list):
    """A list tab's items, and the buttons that add one or remove the one shown."""
    names = [x.name for x in items]
    index = min(item_index.value, len(items) - 1) if items else 0

    def add():
        if state.apply_edit(spec.key, lambda s: ed.add_item(s, spec.key), f"Added a {spec.singular}"):
            item_index.value = len(items)

    def remove():
        if state.apply_edit(spec.key, lambda s: ed.remove_item(s, spec.key, index), f"Removed {names[index]}"):
            item_index.value = max(0, index - 1)

    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}, classes=["abm-editor-items"]):
        if names:
            solara.ToggleButtonsSingle(
                value=names[index],
                values=names,
                on_value=lambda name: item_index.set(names.index(name)),
                classes=["abm-editor-item"],
            )
        solara.Button(
            f"Add {spec.singular}",
            icon_name="mdi-plus",
            on_click=add,
            outlined=True,
            classes=[f"abm-add-{spec.singular}"],
        )
        solara.Button(
            f"Remove {names[index]}" if names else f"Remove {spec.singular}",
            icon_name="mdi-delete-outline",
            on_click=remove,
            disabled=not names,
            outlined=True,
            classes=[f"abm-remove-{spec.singular}"],
        )
    error = state.edit_errors.value.get(spec.key)
    if error:
        solara.Text(error, classes=["abm-field-error", "abm-list-error"])


@solara.component
def SectionForm(spec: ed.SectionSpec, scenario, generation: int):
    """The fields of one section (of the item shown, for a list)."""
    index = None
    if spec.many:
        items = ed.items_of(scenario, spec.key)
        ItemPicker(spec, items)
        if not items:
            solara.Info(f"No {spec.singular} in this case: Add one.")
            return
        index = min(item_index.value, len(items) - 1)
        target = items[index]
    elif spec.key:
        target = getattr(scenario, spec.key)
    else:
        target = scenario
    errors = state.edit_errors.value
    form = [f"abm-editor-form-{spec.key or 'case'}", f"abm-editor-index-{index if index is not None else 0}"]
    with solara.Div(classes=["abm-editor-grid", *form]):
        for f in ed.fields_of(spec.cls):
            path = ed.path_of(spec.key, index, f.name)
            EditorField(f, path, getattr(target, f.name), errors.get(path)).key(f"{generation}:{path}")


def _show_section(key: str) -> None:
    section_key.set(key)
    item_index.set(0)


@solara.component
def EditorPage():
    solara.use_effect(state.ensure_run, [])
    scenario = state.editor_scenario()
    specs = {s.label: s for s in ed.SECTIONS}
    current = next((s for s in ed.SECTIONS if s.key == section_key.value), ed.SECTIONS[0])
    edited = state.base_choice.value == state.FILE_PREFIX + state.EDITED
    with solara.Column(gap="8px", classes=["abm-page", "abm-editor"]):
        solara.HTML(tag="h2", unsafe_innerHTML="Scenario editor", classes=["abm-title"])
        solara.Text(
            f"{scenario.title} — {'edited here' if edited else 'as chosen: ' + state.base_choice.value}. "
            "Every value is checked as a scenario file is; a refused one shows why under its field and the "
            "run keeps its last good case. A good change restarts the run (Simulate) at month 0.",
            classes=["abm-lead"],
        )
        Message(state.message.value)
        Message(state.notice.value, kind="success")
        if state.edit_status.value:
            solara.Text(state.edit_status.value, classes=["abm-editor-status"])
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}, classes=["abm-editor-files"]):
            with solara.Div(classes=["abm-save-toml"]):
                solara.FileDownload(
                    lambda: state.editor_scenario().to_toml(),
                    filename=f"{_css_name(scenario.name) or 'scenario'}.toml",
                    label="Download as TOML",
                    mime_type="application/toml",
                )
            with solara.Div(classes=["abm-load-toml"], style={"min-width": "360px"}):
                ScenarioFile(
                    on_file=access.load_upload,
                    label=f"or drop a .toml file here (at most {limits.APP_MAX_UPLOAD_BYTES // 1000:,} kB)",
                )
        solara.ToggleButtonsSingle(
            value=current.label,
            values=list(specs),
            on_value=lambda label: _show_section(specs[label].key),
            classes=["abm-editor-sections"],
        )
        SectionForm(current, scenario, state.edit_generation.value)
