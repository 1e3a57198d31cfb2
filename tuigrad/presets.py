"""Finding presets and turning a SPEC argument (path or preset name) plus --set into a Spec."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tuigrad import spec as specs
from tuigrad.errors import SpecFileError
from tuigrad.spec import Spec

DEFAULT_PRESET = "default"


def preset_dir() -> Path:
    """Where the presets are: inside the installed package, or at the source checkout's root."""
    packaged = Path(str(resources.files("tuigrad"))) / "presets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in preset_dir().glob("*.toml"))


def load_preset(name: str) -> Spec:
    path = preset_dir() / f"{name}.toml"
    if not path.is_file():
        valid = ", ".join(preset_names())
        raise SpecFileError(f"{name!r} is neither a spec file nor a preset; presets: {valid}")
    return specs.load(path)


def resolve(arg: str | None, assignments: list[str] | None = None) -> Spec:
    """The spec named by a CLI argument (a TOML path or a preset name), with --set applied."""
    if arg is None:
        spec = (
            load_preset(DEFAULT_PRESET)
            if (preset_dir() / f"{DEFAULT_PRESET}.toml").is_file()
            else Spec()
        )
    elif arg.endswith(".toml") or Path(arg).is_file() or "/" in arg:
        spec = specs.load(arg)
    else:
        spec = load_preset(arg)
    if assignments:
        spec = spec.with_values(dict(specs.parse_assignment(a) for a in assignments))
    return spec
