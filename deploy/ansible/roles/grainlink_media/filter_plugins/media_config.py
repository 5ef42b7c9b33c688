"""Filter `grainlink_media_config`: deploy/media/nginx-live.conf.template filled in.

The template is the one the demo and the tests start nginx with (grainlink/demo/media.py), in
Python's `string.Template` form ($NAME, `$$` for nginx's own variables), so Ansible fills it the
same way instead of keeping a second, Jinja copy that could drift. Every placeholder must be
given: a missing one is an error naming it.
"""

from __future__ import annotations

from string import Template

from ansible.errors import AnsibleFilterError


def grainlink_media_config(template_text: str, values: dict) -> str:
    try:
        return Template(template_text).substitute({k: str(v) for k, v in values.items()})
    except KeyError as exc:
        raise AnsibleFilterError(f"grainlink_media: the template needs a value for {exc.args[0]}") from None
    except ValueError as exc:
        raise AnsibleFilterError(f"grainlink_media: the template is malformed: {exc}") from None


class FilterModule:
    def filters(self):
        return {"grainlink_media_config": grainlink_media_config}
