"""The retained `grainlink.layout/1` message, built from the depot configuration."""

from __future__ import annotations

from datetime import datetime

from protocols.depot.model import DepotConfig


def layout_message(config: DepotConfig, generated_at: datetime):
    """The layout the central side registers the depot from (contract mqtt.md)."""
    from protocols.mqtt.models import Layout, LayoutCable, LayoutCamera, LayoutGranary, Region

    granaries = [
        LayoutGranary(
            granary=g.code, name=g.name, type=g.type, length_m=g.length_m, width_m=g.width_m,
            grain_height_m=g.grain_height_m, capacity_t=g.capacity_t, grain=g.grain,
            storage_mode=g.storage_mode,
            cables=[LayoutCable(**c.model_dump()) for c in g.cable_list()],
            layer_depths_m=list(g.layer_depths_m),
            cameras=[c.camera for c in config.cameras if c.granary == g.code],
        )
        for g in config.granaries
    ]
    cameras = [
        LayoutCamera(camera=c.camera, granary=c.granary, name=c.name or c.camera)
        for c in config.cameras
    ]
    region = config.depot.region
    return Layout(
        depot=config.depot.code, name=config.depot.name,
        region=Region(province=region.province, city=region.city, county=region.county),
        generated_at=generated_at, granaries=granaries, cameras=cameras,
    )
