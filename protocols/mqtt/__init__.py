"""MQTT contract v1 as code: topics (`topics`), payload models (`models`), bytes (`codec`)."""
