"""The builder: the layer stack, each layer's settings and the training settings, as one spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, ListItem, ListView, Select, Static

from tuigrad import presets
from tuigrad import spec as specs
from tuigrad.errors import SpecError, TuigradError
from tuigrad.spec import Spec
from tuigrad.ui import editing

# (key, label, kind, choices) of the selected layer's fields; "init_param" follows the init.
LAYER_FIELDS = (
    ("width", "width", "input", ()),
    ("activation", "activation", "select", specs.ACTIVATIONS),
    ("init", "init", "select", specs.INITS),
    ("init_param", "init param", "input", ()),
    ("norm", "norm", "select", specs.NORMS),
    ("residual", "residual", "select", ("off", "on")),
    ("dropout", "dropout", "input", ()),
)
# The experiment's fields; "clip.param" follows the clipping mode.
GLOBAL_FIELDS = (
    ("title", "title", "input", ()),
    ("data.name", "data set", "select", specs.DATASETS),
    ("data.batch_size", "batch size", "input", ()),
    ("optimizer.name", "optimizer", "select", specs.OPTIMIZERS),
    ("optimizer.lr", "lr", "input", ()),
    ("optimizer.momentum", "momentum", "input", ()),
    ("optimizer.weight_decay", "wt decay", "input", ()),
    ("optimizer.schedule", "schedule", "select", specs.SCHEDULES),
    ("clip.mode", "clipping", "select", specs.CLIP_MODES),
    ("clip.param", "clip at", "input", ()),
    ("seed", "seed", "input", ()),
    ("device", "device", "input", ()),
    ("probe.every", "sampling", "input", ()),
)


MOVE = Binding.Group("move")
FILE = Binding.Group("save/load")


def field_id(key: str) -> str:
    return "f-" + key.replace(".", "-").replace("_", "-")


class BuilderScreen(Screen):
    """Edit the experiment; every field is checked as it is typed and the reason shown beside it."""

    BINDINGS = [
        Binding(
            "ctrl+t",
            "train",
            "Train",
            tooltip="Start training this experiment (resets the run if it changed)",
        ),
        Binding(
            "escape", "back", "Back", tooltip="Back to the dashboard; the edits stay here for later"
        ),
        Binding("a", "add_layer", "Add", tooltip="Add a layer after the selected one"),
        Binding("x", "remove_layer", "Del", tooltip="Remove the selected layer"),
        Binding("d", "duplicate_layer", "Dup", tooltip="Duplicate the selected layer"),
        Binding(
            "ctrl+up,K",
            "move_layer(-1)",
            "up",
            key_display="^↑",
            tooltip="Move the selected layer up",
            group=MOVE,
        ),
        Binding(
            "ctrl+down,J",
            "move_layer(1)",
            "down",
            key_display="^↓",
            tooltip="Move the selected layer down",
            group=MOVE,
        ),
        Binding(
            "ctrl+s", "save", "Save", tooltip="Save as TOML to the file named below", group=FILE
        ),
        Binding("ctrl+o", "load", "Load", tooltip="Load the TOML file named below", group=FILE),
    ]

    def __init__(self, spec: Spec, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.spec = spec
        self.errors: dict[str, str] = {}
        self.selected = 0

    # Layout.

    def compose(self) -> ComposeResult:
        with Horizontal(id="builder-body"):
            with Vertical(id="stack-pane", classes="pane"):
                yield Label("Layers", classes="pane-title")
                yield ListView(id="stack")
                yield Static("", id="head-line")
            with VerticalScroll(id="layer-pane", classes="pane"):
                yield Label("Layer", id="layer-title", classes="pane-title")
                layer = self.spec.model.resolved()[self.selected]
                for key, label, kind, choices in LAYER_FIELDS:
                    yield from _field(key, label, kind, choices, getattr(layer, key, None))
            with VerticalScroll(id="global-pane", classes="pane"):
                yield Label("Experiment", classes="pane-title")
                names = presets.preset_names()
                yield from _row(
                    "preset",
                    Select(
                        [(n, n) for n in names],
                        prompt="choose a preset",
                        id="f-preset",
                        compact=True,
                    ),
                )
                for key, label, kind, choices in GLOBAL_FIELDS:
                    yield from _field(key, label, kind, choices, self._global_value(key))
                yield from _row("file", Input("experiment.toml", id="f-path", compact=True))
                with Horizontal(id="file-buttons"):
                    yield Button("Save", id="save", compact=True)
                    yield Button("Load", id="load", compact=True)
                    yield Button("Train", id="train", variant="success", compact=True)
        yield Static("", id="builder-status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.set_spec(self.spec)

    # Filling the form from the spec.

    def set_spec(self, spec: Spec) -> None:
        """Show `spec` in every field, dropping the errors of what was typed before."""
        self.spec = spec
        self.errors.clear()
        self.selected = min(self.selected, spec.model.depth - 1)
        with self.prevent(Input.Changed, Select.Changed):
            for key, *_ in GLOBAL_FIELDS:
                self._show_value(key, self._global_value(key))
        self._fill_stack()
        self._fill_layer()
        self._show_status()

    def _fill_stack(self) -> None:
        stack = self.query_one("#stack", ListView)
        layers = self.spec.model.resolved()
        pad = len(str(len(layers))) + 1
        labels = [f"{f'L{i}':<{pad}} {layer.summary()}" for i, layer in enumerate(layers, start=1)]
        items = list(stack.query(ListItem))
        if len(items) == len(labels):
            for item, text in zip(items, labels, strict=True):
                item.query_one(Label).update(text)
        else:
            stack.clear()
            stack.extend(ListItem(Label(text, markup=False)) for text in labels)
        with self.prevent(ListView.Highlighted):
            stack.index = self.selected
        classes = "classes" if self.spec.data.is_classification else "output"
        self.query_one("#head-line", Static).update(f"head {self.spec.output_dim} {classes}")

    def _fill_layer(self) -> None:
        layer = self.spec.model.resolved()[self.selected]
        self.query_one("#layer-title", Label).update(f"Layer L{self.selected + 1}")
        with self.prevent(Input.Changed, Select.Changed):
            for key, *_ in LAYER_FIELDS:
                if key == "init_param":
                    continue
                self._show_value(key, getattr(layer, key))
            self._show_param("init_param", editing.INIT_PARAMS.get(layer.init), layer)

    def _show_param(self, key: str, param: tuple[str, str] | None, layer: Any) -> None:
        field = self.query_one(f"#{field_id(key)}", Input)
        label = self.query_one(f"#{field_id(key)}-label", Label)
        field.disabled = param is None
        label.update(param[1] if param else "init param")
        field.value = _text(getattr(layer, param[0])) if param else ""
        field.placeholder = "none for this init" if param is None else ""
        self._flag(key, None)

    def _global_value(self, key: str) -> Any:
        if key == "clip.param":
            param = editing.CLIP_PARAMS.get(self.spec.clip.mode)
            return None if param is None else self._global_value(param)
        node: Any = self.spec
        for part in key.split("."):
            node = getattr(node, part)
        return node

    def _show_value(self, key: str, value: Any) -> None:
        widget = self.query_one(f"#{field_id(key)}")
        if isinstance(widget, Input):
            widget.value = "" if value is None else _text(value)
            if key == "clip.param":
                widget.disabled = value is None
                widget.placeholder = "off" if value is None else ""
        elif isinstance(widget, Select):
            widget.value = _choice(value)
        self._flag(key, None)

    # Edits.

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        key = _key_of(event.input)
        if key is not None:
            self._edit(key, event.value)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "f-preset":
            if event.value is not Select.BLANK:
                self._load(lambda: presets.load_preset(str(event.value)), f"preset {event.value}")
            return
        key = _key_of(event.select)
        if key is not None and event.value is not Select.BLANK:
            value = event.value
            if key == "residual":
                value = value == "on"
            self._edit(key, value)

    def _edit(self, key: str, raw: Any) -> None:
        """Apply one typed value; on a SpecError flag the field with the reason instead."""
        target = self._target(key)
        if target is None:
            return
        is_global = key in GLOBAL_KEYS
        try:
            value = editing.parse(target, raw)
            if value == self._current(target, is_global):
                self._flag(key, None)
                return
            if is_global:
                new = editing.set_value(self.spec, target, value)
            else:
                new = editing.set_layer_value(self.spec, self.selected, target, value)
        except SpecError as exc:
            self._flag(key, _reason(exc, target))
            return
        self._flag(key, None)
        self.spec = new
        if key in ("init", "clip.mode"):
            self._refresh_dependent(key)
        if not is_global:
            self._fill_stack()
        self._show_status()

    def _target(self, key: str) -> str | None:
        """The spec key a field edits: the init and clip parameters follow their scheme."""
        if key == "init_param":
            param = editing.INIT_PARAMS.get(self.spec.model.resolved()[self.selected].init)
            return param[0] if param else None
        if key == "clip.param":
            return editing.CLIP_PARAMS.get(self.spec.clip.mode)
        return key

    def _current(self, target: str, is_global: bool) -> Any:
        if is_global:
            return self._global_value(target)
        return getattr(self.spec.model.resolved()[self.selected], target)

    def _refresh_dependent(self, key: str) -> None:
        with self.prevent(Input.Changed):
            if key == "init":
                layer = self.spec.model.resolved()[self.selected]
                self._show_param("init_param", editing.INIT_PARAMS.get(layer.init), layer)
            else:
                self._show_value("clip.param", self._global_value("clip.param"))

    def _flag(self, key: str, reason: str | None) -> None:
        """Mark a field invalid with the reason shown under it, or clear the mark."""
        if reason is None and key not in self.errors:
            return
        had_errors = bool(self.errors)
        error = self.query_one(f"#{field_id(key)}-error", Static)
        self.query_one(f"#{field_id(key)}").set_class(reason is not None, "-invalid")
        if reason is None:
            del self.errors[key]
            error.display = False
        else:
            self.errors[key] = reason
            error.update(reason)
            error.display = True
        self._show_status()
        if had_errors != bool(self.errors):
            self.refresh_bindings()  # the footer offers Train only for a valid spec

    def _show_status(self) -> None:
        status = self.query_one("#builder-status", Static)
        if self.errors:
            first = next(iter(self.errors))
            status.update(
                f"{len(self.errors)} invalid: {first}: {self.errors[first]}; fix to train"
            )
            status.set_class(True, "-invalid")
            return
        params = self.spec.count_params()
        status.update(
            f"{self.spec.model.depth} hidden layers, {params:,} parameters  {self.spec.title}"
        )
        status.set_class(False, "-invalid")

    # The layer stack.

    @on(ListView.Highlighted, "#stack")
    def _layer_highlighted(self, event: ListView.Highlighted) -> None:
        index = event.list_view.index
        if index is not None and index != self.selected:
            self.selected = index
            self._fill_layer()
            self._show_status()

    def _restack(self, new: Spec, selected: int) -> None:
        self.spec = new
        self.selected = max(0, min(selected, new.model.depth - 1))
        self._fill_stack()
        self._fill_layer()
        self._show_status()

    def _stack_edit(self, make: Any, selected: int) -> None:
        try:
            new = make()
        except SpecError as exc:
            self.notify(str(exc), severity="error")
            return
        self._restack(new, selected)

    def action_add_layer(self) -> None:
        self._stack_edit(
            lambda: editing.insert_layer(self.spec, self.selected + 1), self.selected + 1
        )

    def action_duplicate_layer(self) -> None:
        layer = self.spec.model.resolved()[self.selected]
        self._stack_edit(
            lambda: editing.insert_layer(self.spec, self.selected + 1, layer), self.selected + 1
        )

    def action_remove_layer(self) -> None:
        self._stack_edit(lambda: editing.remove_layer(self.spec, self.selected), self.selected)

    def action_move_layer(self, offset: int) -> None:
        self._stack_edit(
            lambda: editing.move_layer(self.spec, self.selected, offset), self.selected + offset
        )

    # Files, presets, training.

    def _path(self) -> Path:
        return Path(self.query_one("#f-path", Input).value.strip() or "experiment.toml")

    def action_save(self) -> None:
        if self.errors:
            self.notify("Fix the flagged fields before saving.", severity="error")
            return
        try:
            specs.save(self.spec, self._path())
        except OSError as exc:
            self.notify(f"Cannot save {self._path()}: {exc.strerror}", severity="error")
            return
        self.notify(f"Saved {self._path()}")

    def action_load(self) -> None:
        path = self._path()
        self._load(lambda: specs.load(path), str(path))

    def _load(self, make: Any, what: str) -> None:
        try:
            spec = make()
        except TuigradError as exc:
            self.notify(str(exc), severity="error", title=f"Cannot load {what}")
            return
        self.selected = 0
        self.set_spec(spec)
        self.notify(f"Loaded {what}")

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {"save": self.action_save, "load": self.action_load, "train": self.action_train}
        actions[event.button.id or ""]()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "train":
            return not self.errors or None
        return True

    def action_train(self) -> None:
        if self.errors:
            self.notify(
                "Fix the flagged fields first: training needs a valid experiment.", severity="error"
            )
            return
        self.app.train_spec(self.spec)

    def action_back(self) -> None:
        self.app.pop_screen()


GLOBAL_KEYS = frozenset(key for key, *_ in GLOBAL_FIELDS)


def _field(key: str, label: str, kind: str, choices: tuple[str, ...], value: Any) -> ComposeResult:
    if kind == "select":
        value = _choice(value) if value is not None else choices[0]
        widget: Widget = Select(
            [(c, c) for c in choices],
            value=value,
            allow_blank=False,
            id=field_id(key),
            compact=True,
        )
    else:
        text = "" if value is None else _text(value)
        widget = Input(text, id=field_id(key), compact=True, select_on_focus=True)
    widget.field_key = key  # type: ignore[attr-defined]
    yield from _row(label, widget, key)


def _row(label: str, widget: Widget, key: str | None = None) -> ComposeResult:
    label_id = f"{field_id(key)}-label" if key else None
    with Horizontal(classes="field"):
        yield Label(label, id=label_id, classes="field-label")
        yield widget
    if key:
        error = Static("", id=f"{field_id(key)}-error", classes="field-error", markup=False)
        error.display = False
        yield error


def _key_of(widget: Widget) -> str | None:
    return getattr(widget, "field_key", None)


def _choice(value: Any) -> str:
    """What a select shows for a spec value: booleans as off/on."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _reason(exc: SpecError, key: str) -> str:
    """The error in a few words for the field's own line; other keys are named."""
    if exc.key.endswith(key) or exc.key.endswith(f".{key}"):
        return exc.allowed
    return f"{exc.key}: {exc.allowed}"
