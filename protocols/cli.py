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
        help="list the built-in Modbus register profiles",
        description="List the built-in Modbus register profiles.",
    )
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


def cmd_profiles(_args: argparse.Namespace) -> int:
    try:
        from protocols.modbus.profiles import BUILTIN_PROFILES
    except ImportError as exc:
        print(f"register profiles are not available: {exc}", file=sys.stderr)
        return 1
    for name, profile in sorted(BUILTIN_PROFILES.items()):
        kind = getattr(profile, "kind", "?")
        fc = getattr(profile, "function_code", "?")
        print(f"{name}\tkind={kind}\tfunction_code={fc}")
    return 0
