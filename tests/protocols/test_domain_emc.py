import pytest

from protocols.domain.emc import (
    EMC_COEFFICIENTS,
    EmcCoefficients,
    UnknownGrainError,
    db_to_wb,
    emc_chung_pfost_db,
    emc_db,
    emc_henderson_db,
    emc_wb,
    wb_to_db,
)
from protocols.domain.units import round2


def test_domain_md_checks():
    assert round(emc_henderson_db(20, 65, "maize"), 1) == 15.9
    assert round(emc_chung_pfost_db(20, 65, "wheat"), 1) == 16.3


def test_corn_alias_and_preferred_equation():
    assert emc_henderson_db(20, 65, "corn") == emc_henderson_db(20, 65, "maize")
    assert emc_db(20, 65, "wheat") == emc_chung_pfost_db(20, 65, "wheat")
    assert emc_wb(20, 65, "maize") == pytest.approx(db_to_wb(emc_henderson_db(20, 65, "maize")))


@pytest.mark.parametrize("grain", sorted(EMC_COEFFICIENTS))
def test_every_table_entry_is_plausible(grain):
    # stored grain at 65 %RH, 20 °C sits around 11-16 % wet basis; wetter air, more moisture
    wb = emc_wb(20, 65, grain)
    assert 11 < wb < 16
    assert emc_db(20, 75, grain) > emc_db(20, 65, grain) > emc_db(20, 50, grain)
    assert emc_db(30, 65, grain) < emc_db(10, 65, grain)


def test_unknown_grain_is_named():
    with pytest.raises(UnknownGrainError, match="'sorghum'.*known: maize, paddy, wheat"):
        emc_henderson_db(20, 65, "sorghum")
    with pytest.raises(UnknownGrainError, match="chung_pfost"):
        emc_chung_pfost_db(20, 65, "maize")


def test_own_coefficients_from_settings():
    mine = EmcCoefficients(8.6541e-5, 1.8634, 49.810, "granary setting")
    assert emc_henderson_db(20, 65, coefficients=mine) == emc_henderson_db(20, 65, "maize")


@pytest.mark.parametrize("rh", [0, 100, -5, 120])
def test_rh_out_of_range(rh):
    with pytest.raises(ValueError, match="rh_pct"):
        emc_henderson_db(20, rh, "maize")


def test_basis_conversion():
    assert wb_to_db(13.5) == pytest.approx(15.6069, abs=1e-4)
    assert db_to_wb(wb_to_db(12.8)) == pytest.approx(12.8)
    with pytest.raises(ValueError):
        wb_to_db(100)
    with pytest.raises(ValueError):
        db_to_wb(-1)


@pytest.mark.parametrize(
    "value, expected",
    [(14.800000001, 14.8), (14.805, 14.81), (-12.345, -12.35), (-0.004, 0.0), (85.0, 85.0)],
)
def test_round2(value, expected):
    assert round2(value) == expected
