"""Domain maths both sides need: dew point (`psychro`), grain EMC (`emc`), rounding (`units`)."""
