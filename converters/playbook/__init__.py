"""The analyst playbook: loaded from playbooks/<technique>.yml, rendered into every alert."""

from converters.playbook.model import (
    AlertContext,
    Entity,
    Escalation,
    Indicator,
    Playbook,
    Question,
    Technique,
    load_playbook,
)
from converters.playbook.render import (
    ElasticText,
    Pages,
    SplunkText,
    render_elastic,
    render_pages,
    render_splunk,
    templates_dir,
)

__all__ = [
    "AlertContext",
    "ElasticText",
    "Entity",
    "Escalation",
    "Indicator",
    "Pages",
    "Playbook",
    "Question",
    "SplunkText",
    "Technique",
    "load_playbook",
    "render_elastic",
    "render_pages",
    "render_splunk",
    "templates_dir",
]
