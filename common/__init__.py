"""Code the edge agent and the central service both run that is not part of a contract:
secrets from the environment or a file, the paho client set-up, retry delays, Prometheus
text. It imports neither `edge` nor `central` nor `grainlink`; `protocols` stays the pure
contract."""
