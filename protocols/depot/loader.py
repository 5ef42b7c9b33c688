"""Depot YAML text → `DepotConfig`, or every problem of the file at once, each with its line.

The caller reads the depot file (and the environment); the one read done here is of the vendor
profile files the depot file names under `profiles:` (a depot file is not complete without
them), through `read_files`, which tests and tools may replace.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from protocols.depot.checks import BusView, Parts, cross_check
from protocols.depot.model import AirSource, Bus, Camera, DepotConfig, Granary, Unit
from protocols.depot.yamlnodes import YamlDocument, format_setting, load_yaml


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    setting: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.setting}: {self.message}"


class ConfigErrors(Exception):
    """All problems of one depot file."""

    def __init__(self, errors: list[ConfigProblem]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def resolve_path(config_source: str | os.PathLike, path: str | os.PathLike) -> str:
    """`path` as written in the depot file, resolved against the file's own folder."""
    path = os.path.expanduser(os.fspath(path))
    if os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(os.fspath(config_source))), path))


def locate_setting(text: str, source: str, path: tuple, message: str) -> ConfigProblem:
    """A problem found outside the parser (a missing password file) placed at its line."""
    line, setting = load_yaml(text).locate(path)
    return ConfigProblem(source, line, setting, message)


_BUS_ADAPTER: TypeAdapter = TypeAdapter(Bus)
_INLINE_SECRET = "passwords never go in the depot file: use password_env (an environment variable) or password_file"


ProfileFiles = Callable[[str], list[tuple[str, str]]]  # path → [(file, text)]; raises OSError


def read_profile_files(path: str) -> list[tuple[str, str]]:
    """A profile file, or every *.yaml / *.yml file of a folder (in name order)."""
    where = Path(path)
    files = sorted(p for p in where.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()) \
        if where.is_dir() else [where]
    out = []
    for file in files:
        try:
            out.append((str(file), file.read_text(encoding="utf-8")))
        except UnicodeDecodeError as exc:
            raise OSError(f"{file} is not UTF-8 text ({exc.reason})") from None
    return out


def parse_depot_config(text: str, source: str, read_files: ProfileFiles = read_profile_files) -> DepotConfig:
    """Validate the depot file `text` (named `source` in messages); raise `ConfigErrors`."""
    doc = load_yaml(text)
    problems: list[ConfigProblem] = [ConfigProblem(source, p.line, p.setting, p.message) for p in doc.problems]
    if doc.root is None and not problems:
        problems.append(ConfigProblem(source, None, "(file)", "the file is empty"))
    if problems and doc.data is None:
        raise ConfigErrors(problems)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigErrors([ConfigProblem(source, 1, "(file)", "the file must be a mapping of settings (depot:, granaries:, ...)")])

    def report(path: tuple, message: str) -> None:
        line, setting = doc.locate(path)
        problems.append(ConfigProblem(source, line, setting, message))

    data = _strip_inline_secrets(data, report)
    config: DepotConfig | None = None
    try:
        config = DepotConfig.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            report(tuple(err["loc"]), _message(err))
    vendor, origins, lookup = _vendor_profiles(data.get("profiles"), source, doc, problems, read_files)
    for path, message in cross_check(_valid_parts(data), lookup):
        report(path, message)
    if problems or config is None:
        raise ConfigErrors(_sorted_unique(problems))
    config._vendor_profiles = vendor
    config._profile_sources = origins
    return config


def _strip_inline_secrets(data: dict, report) -> dict:
    data = dict(data)
    broker = data.get("broker")
    if isinstance(broker, dict) and "password" in broker:
        report(("broker", "password"), _INLINE_SECRET)
        data["broker"] = {k: v for k, v in broker.items() if k != "password"}
    cameras = data.get("cameras")
    if isinstance(cameras, list):
        cleaned = []
        for i, cam in enumerate(cameras):
            if isinstance(cam, dict) and "password" in cam:
                report(("cameras", i, "password"), _INLINE_SECRET)
                cam = {k: v for k, v in cam.items() if k != "password"}
            cleaned.append(cam)
        data["cameras"] = cleaned
    return data


def _message(err: dict) -> str:
    kind, loc, given = err["type"], err["loc"], err.get("input")
    if kind == "missing":
        return "required setting is missing"
    if kind == "extra_forbidden":
        return "unknown setting" + _suggestion(str(loc[-1]), err)
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("value_error", "assertion_error") or isinstance(given, dict | list):
        return msg
    return f"{msg} (got {given!r})"


def _suggestion(name: str, err: dict) -> str:
    # pydantic does not tell which names would have been valid; the model does.
    import difflib  # only a broken file needs it; the running agent never does

    known = _known_names(err["loc"][:-1])
    close = difflib.get_close_matches(name, known, n=1)
    return f": did you mean {close[0]!r}?" if close else ""


def _known_names(loc: tuple) -> list[str]:
    model: Any = DepotConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        if part in ("serial", "tcp"):
            from protocols.depot.model import SerialBus, TcpBus

            model = SerialBus if part == "serial" else TcpBus
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        model = _model_of(field.annotation) if field else None
    return list(model.model_fields) if model is not None and hasattr(model, "model_fields") else []


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    origin = getattr(annotation, "__origin__", None)
    return _model_of(origin) if origin is not None and origin is not annotation else None


def _vendor_profiles(raw: Any, source: str, doc: YamlDocument, problems: list[ConfigProblem],
                     read_files: ProfileFiles):
    """Parsed vendor profiles, the file each came from, and a name → profile lookup over
    built-ins and vendors."""
    from protocols.modbus.profiles import BUILTIN_PROFILES, ProfileError, parse_profile

    vendor: dict[str, Any] = {}
    origins: dict[str, str] = {}
    failed: set[str] = set()
    if isinstance(raw, dict):
        for name, body in raw.items():
            if not isinstance(body, dict):
                continue  # the model already reported it
            if name in BUILTIN_PROFILES:
                line, setting = doc.locate(("profiles", name))
                problems.append(ConfigProblem(source, line, setting, f"{name!r} is a built-in profile: give yours another name"))
                continue
            try:
                vendor[name] = parse_profile({"name": name, **body}, source=f"{source}: profiles.{name}")
                origins[name] = source
            except ProfileError as exc:
                failed.add(name)
                field = getattr(exc, "field", None)
                path = ("profiles", name, *(field.split(".") if isinstance(field, str) else ()))
                line, setting = doc.locate(path)
                problems.append(ConfigProblem(source, line, setting, _profile_reason(exc)))
    elif isinstance(raw, str | list):
        places = [(("profiles",), raw)] if isinstance(raw, str) else \
            [(("profiles", i), given) for i, given in enumerate(raw)]
        _profile_files(places, source, doc, problems, read_files, vendor, origins, failed)

    def lookup(name: str) -> Any:
        return vendor.get(name) or BUILTIN_PROFILES.get(name)

    # A vendor profile that failed to parse still exists by name: do not also call it unknown.
    def lookup_known(name: str) -> Any:
        found = lookup(name)
        return found if found is not None or name not in failed else _Unparsed()

    return vendor, origins, lookup_known


def _profile_files(places: list[tuple[tuple, Any]], source: str, doc: YamlDocument,
                   problems: list[ConfigProblem], read_files: ProfileFiles, vendor: dict, origins: dict,
                   failed: set) -> None:
    """Profiles from the files and folders named under `profiles:`; a problem inside a profile
    file names that file, its line and the setting."""
    from protocols.modbus.profiles import BUILTIN_PROFILES, read_profiles_yaml

    for here, given in places:
        def report(message: str, here: tuple = here) -> None:
            line, setting = doc.locate(here)
            problems.append(ConfigProblem(source, line, setting, message))

        if not isinstance(given, str) or not given.strip():
            report("a profile file or folder, written as a path (e.g. ./umt8.yaml)")
            continue
        path = resolve_path(source, given)
        try:
            files = read_files(path)
        except OSError as exc:
            report(f"cannot read the profile file or folder {path}: {exc.strerror or exc}")
            continue
        if not files:
            report(f"the folder {path} holds no *.yaml profile files")
        for file, text in files:
            profiles, trouble, names = read_profiles_yaml(text, file)
            problems.extend(ConfigProblem(file, line, setting, message) for line, setting, message in trouble)
            for name, line in names.items():
                if name in BUILTIN_PROFILES:
                    problems.append(ConfigProblem(file, line, f"profiles.{name}",
                                                  f"{name!r} is a built-in profile: give yours another name"))
                elif name in origins:
                    problems.append(ConfigProblem(file, line, f"profiles.{name}",
                                                  f"profile {name!r} is defined twice (also in {origins[name]})"))
                elif name in profiles:
                    vendor[name], origins[name] = profiles[name], file
                else:
                    failed.add(name)


class _Unparsed:
    """Stands in for a vendor profile that has its own problems already reported."""

    kind = "cable_unit"


def _profile_reason(exc: Exception) -> str:
    return getattr(exc, "reason", None) or str(exc)


def _salvage(validate, item: Any) -> Any:
    """`item` validated; on failure retried once without the settings that failed (they have
    been reported already), so its relations to the rest of the file can still be checked."""
    try:
        return validate(item)
    except (ValidationError, ValueError, TypeError) as exc:
        if not isinstance(exc, ValidationError) or not isinstance(item, dict):
            return None
        bad = set()
        for err in exc.errors():
            loc = err["loc"]
            bad.add(loc[1] if loc and loc[0] in ("serial", "tcp") and len(loc) > 1 else loc[0] if loc else None)
        if bad & {"code", "name", "kind", "address", "camera", None}:
            return None
        try:
            return validate({k: v for k, v in item.items() if k not in bad})
        except (ValidationError, ValueError, TypeError):
            return None


def _valid_parts(data: dict) -> Parts:
    """The list items that validate (possibly without their bad settings), by index."""
    parts = Parts()

    def each(key: str) -> list[tuple[int, Any]]:
        items = data.get(key)
        return list(enumerate(items)) if isinstance(items, list) else []

    for i, item in each("granaries"):
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            parts.granary_codes.add(item["code"])
        if (g := _salvage(Granary.model_validate, item)) is not None:
            parts.granaries[i] = g
    for i, item in each("buses"):
        if not isinstance(item, dict):
            continue
        units = item.get("units") if isinstance(item.get("units"), list) else []
        for unit in units:
            if isinstance(unit, dict) and isinstance(unit.get("address"), int):
                parts.unit_places.add((str(item.get("name")), unit["address"]))
        bus = _salvage(_BUS_ADAPTER.validate_python, {**item, "units": []})
        if bus is None:
            continue
        valid_units = {k: u for k, raw in enumerate(units) if (u := _salvage(Unit.model_validate, raw)) is not None}
        parts.buses[i] = BusView(bus.name, getattr(bus, "device", None), valid_units)
    for i, item in each("air"):
        if (a := _salvage(AirSource.model_validate, item)) is not None:
            parts.air[i] = a
    for i, item in each("cameras"):
        if (c := _salvage(Camera.model_validate, item)) is not None:
            parts.cameras[i] = c
    return parts


def _sorted_unique(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    seen: set[ConfigProblem] = set()
    unique = [p for p in problems if not (p in seen or seen.add(p))]
    return sorted(unique, key=lambda p: (p.line or 0))


__all__ = [
    "ConfigErrors", "ConfigProblem", "format_setting", "locate_setting", "parse_depot_config", "resolve_path",
]
