"""`grainlink protocols ...`: message schemas, payload validation, register profiles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    export = commands.add_parser(
        "export-schemas",
        help="write the JSON Schema of every MQTT payload",
        description="Write one JSON Schema file per MQTT payload schema, generated from the models.",
    )
    export.add_argument("dir", nargs="?", type=Path, default=None,
                        help="target folder (default: protocols/mqtt/schemas)")
    export.set_defaults(func=cmd_export_schemas)

    check = commands.add_parser(
        "check-schemas",
        help="exit 1 if the committed JSON Schema files differ from the models",
        description="Compare the JSON Schema files in DIR with what the models generate.",
    )
    check.add_argument("dir", nargs="?", type=Path, default=None,
                       help="folder to check (default: protocols/mqtt/schemas)")
    check.set_defaults(func=cmd_check_schemas)

    validate = commands.add_parser(
        "validate",
        help="validate payload files as if received on a topic",
        description="Validate JSON payload files against contract v1 as received on TOPIC; "
        "exit 1 if any is rejected.",
    )
    validate.add_argument("topic", help="e.g. grainlink/v1/HN-0731-001/telemetry")
    validate.add_argument("files", nargs="+", type=Path, help="payload files ('-' for stdin)")
    validate.set_defaults(func=cmd_validate)

    profiles = commands.add_parser(
        "profiles",
        help="list the Modbus register profiles: built-in and loaded, with their settings",
        description="List the built-in Modbus register profiles and those of a depot file's "
        "`profiles:` (--config) or of profile files and folders given here, with their settings; "
        "exit 1 if a profile has a problem (each named by file, line and setting).",
    )
    profiles.add_argument("--config", type=Path, default=None, help="a depot file: list its profiles too")
    profiles.add_argument("paths", nargs="*", type=Path, help="profile files or folders of them")
    profiles.set_defaults(func=cmd_profiles)


def _schemas_dir(arg: Path | None) -> Path:
    from protocols.mqtt.schema_export import SCHEMAS_DIR

    return arg if arg is not None else SCHEMAS_DIR


def cmd_export_schemas(args: argparse.Namespace) -> int:
    from protocols.mqtt.schema_export import rendered_schemas

    target = _schemas_dir(args.dir)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in rendered_schemas().items():
        (target / name).write_text(text, encoding="utf-8")
        print(target / name)
    return 0


def cmd_check_schemas(args: argparse.Namespace) -> int:
    from protocols.mqtt.schema_export import rendered_schemas

    target = _schemas_dir(args.dir)
    stale = []
    for name, text in rendered_schemas().items():
        path = target / name
        if not path.is_file():
            stale.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            stale.append(f"{path}: differs from the models")
    for line in stale:
        print(line, file=sys.stderr)
    if stale:
        print("run `grainlink protocols export-schemas` to regenerate", file=sys.stderr)
        return 1
    print(f"{target}: all schema files match the models")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from protocols.mqtt.codec import decode_message
    from protocols.mqtt.errors import MessageError

    failures = 0
    for path in args.files:
        try:
            payload = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            failures += 1
            continue
        try:
            message = decode_message(args.topic, payload)
        except MessageError as exc:
            failures += 1
            for field, reason in exc.problems:
                print(f"{path}: {field + ': ' if field else ''}{reason}", file=sys.stderr)
            continue
        print(f"{path}: ok ({message.SCHEMA_ID})")
    return 1 if failures else 0


def cmd_profiles(args: argparse.Namespace) -> int:
    try:
        from protocols.depot.loader import ConfigErrors, parse_depot_config, read_profile_files
        from protocols.modbus.profiles import BUILTIN_PROFILES, describe_profile, read_profiles_yaml
    except ImportError as exc:
        print(f"register profiles are not available: {exc}", file=sys.stderr)
        return 1
    rows = [(name, "built-in", profile) for name, profile in sorted(BUILTIN_PROFILES.items())]
    failures = 0
    config = getattr(args, "config", None)
    if config is not None:
        try:
            depot = parse_depot_config(config.read_text(encoding="utf-8"), str(config))
        except OSError as exc:
            print(f"{config}: cannot read the file: {exc.strerror or exc}", file=sys.stderr)
            return 1
        except ConfigErrors as exc:
            print(exc, file=sys.stderr)
            return 1
        sources = depot.profile_sources
        rows += [(name, sources.get(name, str(config)), p) for name, p in sorted(depot.vendor_profiles.items())]
    for path in getattr(args, "paths", None) or []:
        try:
            files = read_profile_files(str(path))
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            failures += 1
            continue
        for file, text in files:
            found, problems, _ = read_profiles_yaml(text, file)
            for line, setting, message in problems:
                print(f"{file}:{line}: {setting}: {message}" if line else f"{file}: {setting}: {message}",
                      file=sys.stderr)
            failures += bool(problems)
            rows += [(name, file, p) for name, p in sorted(found.items())]
    for name, source, profile in rows:
        print(f"{name}\t{source}\t{describe_profile(profile)}")
    return 1 if failures else 0
