"""What the reserve-management routes share: field types that refuse what cannot be true (a
negative or NaN quantity, a date in the future or outside 2000–2100), one mapping of the
stores' refusals to HTTP answers, and the conversion of rows to plain JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import HTTPException, Request
from pydantic import AfterValidator, BeforeValidator, Field

from central.api.auth import scope_sql
from central.intake.rules import UnknownVariety
from central.lots import store
from central.lots.settlement import SettlementError
from central.stocktake.maths import CountError
from central.users import User
from protocols.mqtt.topics import CODE_PATTERN

CODE = CODE_PATTERN  # a depot/granary code, as the MQTT contract defines it
LOT = r"^[A-Za-z0-9_.-]{1,64}$"
# Beyond a day ahead is not a fact yet (a depot east of UTC is already in tomorrow).
_AHEAD = timedelta(days=1)


def _exact(value):
    # JSON numbers arrive as floats: go through their shortest text so 0.1 stays 0.1
    return Decimal(str(value)) if isinstance(value, float) else value


def _in_range(value: date) -> date:
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise ValueError("日期须在 2000-01-01 至 2100-12-31 之间")
    return value


def _not_future(value: date | datetime) -> date | datetime:
    today = datetime.now(UTC)
    limit = today + _AHEAD if isinstance(value, datetime) else (today + _AHEAD).date()
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("须带时区（如 2026-11-22T08:00:00Z）")
    if value > limit:
        raise ValueError("不能晚于今天（记录的是已经发生的事）")
    day = value.date() if isinstance(value, datetime) else value
    _in_range(day)
    return value


FactDate = Annotated[date, AfterValidator(_not_future)]
FactTime = Annotated[datetime, AfterValidator(_not_future)]
PlanDate = Annotated[date, AfterValidator(_in_range)]
Tonnes = Annotated[Decimal, BeforeValidator(_exact),
                   Field(gt=0, le=Decimal("10000000"), max_digits=14, decimal_places=3)]
Percent = Annotated[Decimal, BeforeValidator(_exact), Field(ge=0, lt=100, max_digits=7, decimal_places=4)]
Metres = Annotated[Decimal, BeforeValidator(_exact), Field(gt=0, le=500, max_digits=10, decimal_places=4)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
TestWeight = Annotated[Decimal, BeforeValidator(_exact), Field(ge=100, le=1500, max_digits=8, decimal_places=3)]
Factor = Annotated[Decimal, BeforeValidator(_exact), Field(ge=Decimal("0.5"), le=2, max_digits=6, decimal_places=4)]


def scope_where(user: User) -> tuple[str, list]:
    return scope_sql(user)


def run(conn, fn, *args, passthrough: tuple = (), **kwargs):
    """Run a store change in one transaction; its refusals become 409/422 answers (except
    those in `passthrough`, which the caller handles)."""
    try:
        with conn.transaction():
            return fn(conn, *args, **kwargs)
    except passthrough:
        raise
    except store.LotConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except (store.LotInvalid, SettlementError, CountError) as exc:
        raise HTTPException(422, str(exc)) from None
    except UnknownVariety as exc:
        raise HTTPException(422, f"variety：品种 {exc} 没有设置安全水分（设置 safe_moisture_pct）") from None


def plain(value):
    """Rows to JSON-ready values: Decimal → float, date → ISO text (datetimes stay)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def settings_of(request: Request):
    return request.app.state.settings
