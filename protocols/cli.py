"""`grainlink protocols ...`: message schemas, payload validation, register profiles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protocols.os_zh import os_reason

# The source column of `profiles` for a profile that comes with grainlink.
BUILT_IN = "内置"


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    export = commands.add_parser(
        "export-schemas",
        help="写出每种 MQTT 消息的 JSON Schema",
        description="按模型生成每种 MQTT 消息的 JSON Schema，每种一个文件。",
    )
    export.add_argument("dir", nargs="?", type=Path, default=None,
                        help="目标文件夹（默认：protocols/mqtt/schemas）")
    export.set_defaults(func=cmd_export_schemas)

    check = commands.add_parser(
        "check-schemas",
        help="已提交的 JSON Schema 文件与模型不一致时以 1 退出",
        description="把 DIR 中的 JSON Schema 文件与模型生成的结果比较。",
    )
    check.add_argument("dir", nargs="?", type=Path, default=None,
                       help="要检查的文件夹（默认：protocols/mqtt/schemas）")
    check.set_defaults(func=cmd_check_schemas)

    validate = commands.add_parser(
        "validate",
        help="按在某主题上收到的消息校验消息文件",
        description="把 JSON 消息文件当作在 TOPIC 上收到的消息，按 v1 契约校验；"
        "有任何一个被拒绝时以 1 退出。",
    )
    validate.add_argument("topic", help="如 grainlink/v1/HN-0731-001/telemetry")
    validate.add_argument("files", nargs="+", type=Path, help="消息文件（'-' 表示标准输入）")
    validate.set_defaults(func=cmd_validate)

    profiles = commands.add_parser(
        "profiles",
        help="列出 Modbus 寄存器配置：内置的和载入的，以及它们的设置",
        description="列出内置的 Modbus 寄存器配置，以及库点配置文件 `profiles:` 中的（--config）"
        "或这里给出的配置文件和文件夹中的，连同它们的设置；"
        "有配置出问题时以 1 退出（每处问题写明文件、行号和设置）。",
    )
    profiles.add_argument("--config", type=Path, default=None, help="库点配置文件：也列出其中的寄存器配置")
    profiles.add_argument("paths", nargs="*", type=Path, help="寄存器配置文件，或放这些文件的文件夹")
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
            stale.append(f"{path}: 缺少此文件")
        elif path.read_text(encoding="utf-8") != text:
            stale.append(f"{path}: 与模型不一致")
    for line in stale:
        print(line, file=sys.stderr)
    if stale:
        print("请运行 `grainlink protocols export-schemas` 重新生成", file=sys.stderr)
        return 1
    print(f"{target}: 全部 Schema 文件与模型一致")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from protocols.mqtt.codec import decode_message
    from protocols.mqtt.errors import MessageError

    failures = 0
    for path in args.files:
        try:
            payload = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        except OSError as exc:
            print(f"{path}: 读不了：{os_reason(exc)}", file=sys.stderr)
            failures += 1
            continue
        try:
            message = decode_message(args.topic, payload)
        except MessageError as exc:
            failures += 1
            for field, reason in exc.problems:
                print(f"{path}: {field + ': ' if field else ''}{reason}", file=sys.stderr)
            continue
        print(f"{path}: 通过（{message.SCHEMA_ID}）")
    return 1 if failures else 0


def cmd_profiles(args: argparse.Namespace) -> int:
    try:
        from protocols.depot.loader import ConfigErrors, parse_depot_config, read_profile_files
        from protocols.modbus.profiles import BUILTIN_PROFILES, describe_profile, read_profiles_yaml
    except ImportError as exc:
        print(f"寄存器配置不可用：{exc}", file=sys.stderr)
        return 1
    rows = [(name, BUILT_IN, profile) for name, profile in sorted(BUILTIN_PROFILES.items())]
    failures = 0
    config = getattr(args, "config", None)
    if config is not None:
        try:
            depot = parse_depot_config(config.read_text(encoding="utf-8"), str(config))
        except OSError as exc:
            print(f"{config}: 读不了文件：{os_reason(exc)}", file=sys.stderr)
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
            print(f"{path}: 读不了：{os_reason(exc)}", file=sys.stderr)
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
