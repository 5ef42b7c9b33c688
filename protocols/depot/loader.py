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
from protocols.os_zh import os_reason
from protocols.pydantic_zh import translate, union_message


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
_INLINE_SECRET = "密码不能写在库点配置文件里：请用 password_env（环境变量）或 password_file"


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
            raise OSError(f"{file} 不是 UTF-8 文本（{exc.reason}）") from None
    return out


def parse_depot_config(text: str, source: str, read_files: ProfileFiles = read_profile_files) -> DepotConfig:
    """Validate the depot file `text` (named `source` in messages); raise `ConfigErrors`."""
    doc = load_yaml(text)
    problems: list[ConfigProblem] = [ConfigProblem(source, p.line, p.setting, p.message) for p in doc.problems]
    if doc.root is None and not problems:
        problems.append(ConfigProblem(source, None, "(file)", "文件是空的"))
    if problems and doc.data is None:
        raise ConfigErrors(problems)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigErrors([ConfigProblem(source, 1, "(file)", "文件须为设置的映射（depot:、granaries: 等）")])

    def report(path: tuple, message: str) -> None:
        line, setting = doc.locate(path)
        problems.append(ConfigProblem(source, line, setting, message))

    data = _strip_inline_secrets(data, report)
    config: DepotConfig | None = None
    try:
        config = DepotConfig.model_validate(data)
    except ValidationError as exc:
        _report_validation(exc, report)
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


def _report_validation(exc: ValidationError, report) -> None:
    """Every pydantic error in Chinese, at its setting; a union's members (`profiles:` may be a
    mapping, a list or a path) are folded into one message about the setting itself."""
    members: dict[tuple, list[dict]] = {}
    for err in exc.errors():
        loc = tuple(err["loc"])
        # An unknown setting's own name is the user's text, never a union label ("a[1]: x").
        searched = loc[:-1] if err["type"] == "extra_forbidden" else loc
        label = next((i for i, part in enumerate(searched) if _is_union_label(part)), None)
        if label is None:
            report(_setting_of(err, loc), _message(err))
            continue
        members.setdefault(loc[:label], []).append({**err, "loc": loc[:label] + loc[label + 1:]})
    for where, errs in members.items():
        # A member that failed only deeper down fits the shape the user chose: report its errors.
        deeper = [e for e in errs if len(e["loc"]) > len(where)]
        if deeper:
            for err in deeper:
                report(err["loc"], _message(err))
        else:
            report(where, union_message(errs))


def _is_union_label(part: Any) -> bool:
    # pydantic names a plain union's member by its type in `loc` ('list[str]', 'str').
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "bool"))


def _setting_of(err: dict, loc: tuple) -> tuple:
    # A bus's `kind:` picks its type: a bad or missing kind is reported at `kind`, not the bus.
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return (*loc, str((err.get("ctx") or {}).get("discriminator", "kind")).strip("'"))
    return loc


def _message(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return translate(err) + _suggestion(str(err["loc"][-1]), err)
    return translate(err)


def _suggestion(name: str, err: dict) -> str:
    # pydantic does not tell which names would have been valid; the model does.
    import difflib  # only a broken file needs it; the running agent never does

    known = _known_names(err["loc"][:-1])
    close = difflib.get_close_matches(name, known, n=1)
    return f"：是否想写 {close[0]!r}？" if close else ""


def _known_names(loc: tuple) -> list[str]:
    if len(loc) == 2 and loc[0] == "profiles":  # an inline vendor profile
        from protocols.modbus.profile import RegisterProfile

        return list(RegisterProfile.model_fields)
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
    from protocols.modbus.profile import RegisterProfile
    from protocols.modbus.profiles import BUILTIN_PROFILES

    vendor: dict[str, Any] = {}
    origins: dict[str, str] = {}
    failed: set[str] = set()
    if isinstance(raw, dict):
        for name, body in raw.items():
            if not isinstance(body, dict):
                continue  # the model already reported it
            if name in BUILTIN_PROFILES:
                line, setting = doc.locate(("profiles", name))
                problems.append(ConfigProblem(source, line, setting, f"{name!r} 是内置寄存器配置：请给你的配置另起名字"))
                continue
            try:
                vendor[name] = RegisterProfile.model_validate({**body, "name": name})
                origins[name] = source
            except ValidationError as exc:
                # Each bad setting of the inline profile at its own line, as for the rest of the file.
                failed.add(name)
                for err in exc.errors():
                    err = {**err, "loc": ("profiles", name, *err["loc"])}
                    line, setting = doc.locate(err["loc"])
                    problems.append(ConfigProblem(source, line, setting, _message(err)))
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
            report("须为寄存器配置文件或文件夹的路径（如 ./umt8.yaml）")
            continue
        path = resolve_path(source, given)
        try:
            files = read_files(path)
        except OSError as exc:
            report(f"读不了寄存器配置文件或文件夹 {path}：{os_reason(exc)}")
            continue
        if not files:
            report(f"文件夹 {path} 里没有 *.yaml 寄存器配置文件")
        for file, text in files:
            profiles, trouble, names = read_profiles_yaml(text, file)
            problems.extend(ConfigProblem(file, line, setting, message) for line, setting, message in trouble)
            for name, line in names.items():
                if name in BUILTIN_PROFILES:
                    problems.append(ConfigProblem(file, line, f"profiles.{name}",
                                                  f"{name!r} 是内置寄存器配置：请给你的配置另起名字"))
                elif name in origins:
                    problems.append(ConfigProblem(file, line, f"profiles.{name}",
                                                  f"寄存器配置 {name!r} 定义了两次（另一处在 {origins[name]}）"))
                elif name in profiles:
                    vendor[name], origins[name] = profiles[name], file
                else:
                    failed.add(name)


class _Unparsed:
    """Stands in for a vendor profile that has its own problems already reported."""

    kind = "cable_unit"


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
