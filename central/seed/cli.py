"""`grainlink central seed`: fill a year of reserve business (lots, batches with tests,
movements, counts, settlements, plans, approvals, inspections) for the depots of depot files
or of the database, deterministic from `--seed`."""

from __future__ import annotations

import argparse
import sys
from datetime import date


def register_seed(subparsers) -> None:
    seed = subparsers.add_parser(
        "seed", help="为库点生成一年的储备业务数据（演示和测试用）",
        description="为给出的库点配置文件中的库点，或数据库中已有的库点，生成一年的储备业务"
                    "（domain.md §6–§11）；同一 --seed 生成的数据相同。")
    seed.add_argument("--settings", metavar="FILE", help="设置文件（YAML）")
    seed.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")
    seed.add_argument("--end-month", metavar="YYYY-MM",
                      help="所生成一年的最后一个月（默认：上个月）")
    seed.add_argument("--depot-file", action="append", default=[], metavar="FILE",
                      help="库点配置文件（depot.yaml）；多个就重复给出")
    seed.add_argument("--depot", action="append", default=None, metavar="CODE",
                      help="数据库中已有的库点；可重复（默认：全部）")
    seed.set_defaults(func=_seed)


def _end_month(text: str | None) -> date:
    today = date.today()
    if text is None:
        return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    try:
        year, month = (int(x) for x in text.split("-"))
        end = date(year, month, 1)
    except ValueError:
        raise ValueError(f"--end-month {text}：须写成 YYYY-MM，如 2026-10") from None
    if end >= date(today.year, today.month, 1) or year < 2001:
        raise ValueError(f"--end-month {text}：须为本月之前的一个完整月份")
    return end


def depots_from_files(paths: list[str]):
    import yaml

    from central.seed.business import SeedDepot, SeedGranary
    from protocols.os_zh import os_reason

    out = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh)
            info = data["depot"]
            out.append(SeedDepot(info["code"], info.get("name") or info["code"], dict(info.get("region") or {}), [
                SeedGranary(g["code"], g.get("name") or g["code"], float(g["capacity_t"]), g.get("grain", "wheat"),
                            g.get("type", "flat"), g.get("length_m"), g.get("width_m"))
                for g in data["granaries"]]))
        # Said in Chinese here: `grainlink edge check FILE` names every problem with its line.
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}：读不了文件：{os_reason(exc)}") from None
        except yaml.YAMLError:
            raise ValueError(f"{path}：不是有效的 YAML（`grainlink edge check {path}` 会指出位置）") from None
        except KeyError as exc:
            raise ValueError(f"{path}：缺少设置 {exc.args[0]}（`grainlink edge check {path}` 会列出全部问题）") from None
        except (TypeError, ValueError):
            raise ValueError(f"{path}：库点配置有误（`grainlink edge check {path}` 会列出全部问题）") from None
    return out


def _seed(args: argparse.Namespace) -> int:
    import psycopg

    from central.db.pool import connect
    from central.seed.business import depots_in_database, seed_business, seeded
    from central.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.settings)
        end = _end_month(args.end_month)
        depots = depots_from_files(args.depot_file)
    except (SettingsError, ValueError, OSError, KeyError, TypeError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        with connect(settings.database_url, autocommit=True, application_name="grainlink-seed") as conn:
            if not depots:
                depots = depots_in_database(conn, args.depot)
            if not depots:
                print("错误：没有粮库：请给出 --depot-file，或先登记粮库", file=sys.stderr)
                return 2
            if seeded(conn, depots):
                print(f"seed：{', '.join(d.code for d in depots)} 已有生成的业务数据，未做改动",
                      file=sys.stderr)
                return 0
            tally = seed_business(conn, settings, depots, args.seed, end)
    except psycopg.errors.UndefinedTable:
        print("错误：请先运行 `grainlink central migrate`", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"错误：连不上数据库：{exc}".rstrip(), file=sys.stderr)
        return 1
    print(f"seed：{len(depots)} 个粮库，截至 {end:%Y-%m} 的一年：{tally.line()}", file=sys.stderr)
    return 0
