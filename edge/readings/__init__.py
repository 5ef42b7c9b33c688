"""From a unit's answer to committed outbox rows: stamping a unit's cable scan into
`GrainScan`/`AirReading` messages (`stamp`), holding them while the clock is unsynchronised
and committing them (`collector`)."""
