"""The playbook as data, its loader and the alert texts rendered from it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from converters.errors import DacError
from converters.loading.rules import rule_files
from converters.loading.schema import INDICATORS
from converters.playbook import (
    AlertContext,
    Entity,
    Playbook,
    load_playbook,
    render_elastic,
    render_pages,
    render_splunk,
    templates_dir,
)
from converters.playbook.model import Command, CommandPart
from converters.playbook.render import md_text

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "playbooks" / "T1585.002.yml"
TOKEN_RE = re.compile(r"\$result\.[^$\s]+\$")


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return load_playbook(PLAYBOOK)


def make_ctx(**changes: object) -> AlertContext:
    ctx = AlertContext(
        rule_id="a973f2b6-0e9b-4ab8-a76e-cad008f16da6",
        rule_name="gws_bulk_user_creation",
        title="Google Workspace Accounts Created in Bulk by One Admin",
        description="One administrator created five or more\nuser accounts within one hour.",
        level="high",
        indicator="bulk-account-creation",
        logic="5 or more events within 1h, grouped by actor.email",
        data_sources=("Google Workspace Admin activity",),
        falsepositives=("A planned onboarding wave run by hand from an admin account.",),
        references=("https://attack.mitre.org/techniques/T1585/002/",),
        entities=(Entity("Acting admin", "actor.email"), Entity("Source IP", "ipAddress")),
    )
    return dataclasses.replace(ctx, **changes)  # type: ignore[arg-type]


def splunk_texts(playbook: Playbook, ctx: AlertContext) -> list[str]:
    out = render_splunk(playbook, ctx)
    return [out.description, out.next_steps]


def all_texts(playbook: Playbook, ctx: AlertContext) -> list[str]:
    elastic = render_elastic(playbook, ctx)
    return [*splunk_texts(playbook, ctx), elastic.description, elastic.note]


# --- the playbook data ---------------------------------------------------------------------


def test_playbook_covers_every_indicator_and_the_seed(playbook: Playbook) -> None:
    assert playbook.technique.id == "T1585.002"
    assert playbook.technique.tactic_id == "TA0042"
    assert [i.id for i in playbook.indicators] == list(INDICATORS)
    assert len(playbook.questions) == 4
    assert len(playbook.l1_steps) == 3
    assert len(playbook.t2_actions) == 4
    assert len(playbook.containment) == 4
    assert playbook.escalation.summary.startswith("Escalate to Tier 2 if multiple accounts")


def test_every_sigma_rule_indicator_has_a_playbook_entry(playbook: Playbook) -> None:
    for path in rule_files(ROOT / "sigma_rules"):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and "filter" not in doc:  # Sigma filters tune rules; they alert on nothing
                assert playbook.indicator(doc["indicator"]), path


def test_questions_for_puts_the_indicators_questions_first(playbook: Playbook) -> None:
    questions = playbook.questions_for("suspicious-source-ip")
    assert questions[0].id == "malicious-ip"
    assert sorted(q.id for q in questions) == sorted(q.id for q in playbook.questions)


# --- what every alert text carries ---------------------------------------------------------


def test_splunk_texts_carry_the_playbook(playbook: Playbook) -> None:
    """The description says what fired and the questions it raises; the next steps, what to
    do: together the whole playbook, neither repeating the other."""
    description, steps = splunk_texts(playbook, make_ctx())
    for question in playbook.questions:
        assert question.text in description
    for item in (*playbook.l1_steps, *playbook.t2_actions, *playbook.containment):
        assert item in steps and item not in description
    assert playbook.escalation.summary in steps
    for text in (description, steps):
        assert "Google Workspace Accounts Created in Bulk by One Admin" in text
        assert "\\" not in text  # the conf writer handles line continuation
    assert "One administrator created five or more user accounts" in description
    assert "5 or more events within 1h, grouped by actor.email" in description
    assert "Google Workspace Admin activity" in description
    assert "A planned onboarding wave" in steps
    assert "$result.actor.email$" in description
    assert "$result.ipAddress$" in description
    assert "One administrator created" not in steps


def test_elastic_note_carries_the_playbook(playbook: Playbook) -> None:
    ctx = make_ctx(entities=(Entity("Acting admin", "source.user.email"),))
    out = render_elastic(playbook, ctx)
    assert playbook.escalation.summary in out.note
    for item in (*playbook.l1_steps, *playbook.t2_actions, *playbook.containment):
        assert item in out.note
    assert "`source.user.email`" in out.note
    assert "A planned onboarding wave" in out.note
    assert out.note.startswith("## Triage and analysis")
    # The description: what happened and what the severity asks, not the playbook.
    assert out.description == (
        "One administrator created five or more user accounts within one hour. "
        "Severity high: triage it now and apply the decision for escalation."
    )


def test_elastic_commands_name_their_values_in_words(playbook: Playbook) -> None:
    command = Command(
        "Suspend the created account",
        (CommandPart("gam update user "), CommandPart("", "user.target.email", "the account")),
    )
    note = render_elastic(playbook, make_ctx(commands=(command,))).note
    assert "where ACCOUNT is the alert's account (`user.target.email`):" in note
    assert "gam update user ACCOUNT" in note
    assert "<user.target.email>" not in note


def test_questions_lead_with_the_indicators_own(playbook: Playbook) -> None:
    ctx = make_ctx(indicator="suspicious-source-ip")
    malicious = playbook.questions_for("suspicious-source-ip")[0].text
    other = next(q.text for q in playbook.questions if q.id == "disposable-service")
    description, _steps, _elastic_description, note = all_texts(playbook, ctx)
    for text in (description, note):
        assert text.index(malicious) < text.index(other)


@pytest.mark.parametrize("indicator", ["escalation", "bulk-account-creation"])
def test_escalation_rules_lead_with_t2_and_containment(playbook: Playbook, indicator: str) -> None:
    escalating = indicator == "escalation"
    _description, steps, _elastic, note = all_texts(playbook, make_ctx(indicator=indicator))
    assert ("start with the Tier 2 actions" in steps) == escalating
    for text in (steps, note):
        first_l1 = text.index(playbook.l1_steps[0])
        t2 = text.index(playbook.t2_actions[0])
        containment = text.index(playbook.containment[0])
        assert (t2 < first_l1 and containment < first_l1) == escalating
    assert (note.index(playbook.t2_actions[0]) < note.index("One administrator created")) == (
        escalating
    )


def test_text_is_tidy(playbook: Playbook) -> None:
    for text in all_texts(playbook, make_ctx()):
        assert "\n\n\n" not in text
        assert text == text.strip()
        assert all(line == line.rstrip() for line in text.splitlines())


# --- escaping ------------------------------------------------------------------------------


def test_splunk_doubles_literal_dollars_but_not_tokens(playbook: Playbook) -> None:
    ctx = make_ctx(description="Costs $5 per $USER$.", title="Pay $1")
    description, steps = splunk_texts(playbook, ctx)
    assert "Costs $$5 per $$USER$$." in description
    assert "$result.actor.email$" in description
    for text in (description, steps):
        assert "Pay $$1" in text
        assert "$$result" not in text


def mark_texts(value: object, key: str = "") -> object:
    """Prefix every free text of a playbook document with "$" (ids and id lists untouched)."""
    if isinstance(value, dict):
        return {k: mark_texts(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mark_texts(v, key) for v in value]
    if isinstance(value, str) and key not in ("id", "questions"):
        return "$ " + value
    return value


def test_splunk_dollar_in_every_playbook_and_rule_text(tmp_path: Path) -> None:
    document = yaml.safe_load(PLAYBOOK.read_text(encoding="utf-8"))
    marked = tmp_path / "T1585.002.yml"
    marked.write_text(yaml.safe_dump(mark_texts(document)), encoding="utf-8")
    marked_playbook = load_playbook(marked)
    assert marked_playbook.l1_steps[0].startswith("$ ")
    assert marked_playbook.questions[0].text.startswith("$ ")
    ctx = make_ctx(
        title="$a", description="$b", logic="$c", level="$d", data_sources=("$e",),
        falsepositives=("$f",), references=("$g",), entities=(Entity("$h", "actor.email"),),
    )  # fmt: skip
    for text in splunk_texts(marked_playbook, ctx):
        rest = TOKEN_RE.sub("", text).replace("$$", "")
        assert "$" not in rest, "an undoubled $ would be read as a Splunk token"


def test_markdown_escapes_rule_text(playbook: Playbook) -> None:
    ctx = make_ctx(title="a_b [c]", description="# not a heading\n\n*x* `y` <b> p|q")
    out = render_elastic(playbook, ctx)
    assert "a_b \\[c\\]" in out.note  # an underscore inside a word is no emphasis
    assert "a_b [c]" not in out.note
    for text in (out.note, out.description):
        assert "\\# not a heading" in text
    assert "\\*x\\* \\`y\\` \\<b> p\\|q" in out.note


def test_md_text_filter() -> None:
    """Escaped only where markdown reads the mark: no stray backslash in an address."""
    assert md_text("a_b [c]") == "a_b \\[c\\]"
    assert md_text("_a_ b_") == "\\_a\\_ b\\_"
    assert md_text("#1 at start\n## again") == "#1 at start\n\\## again"
    assert md_text("x # y") == "x # y"
    assert md_text("back\\slash") == "back\\\\slash"
    assert md_text("198.51.100.17") == "198.51.100.17"
    assert md_text("-7269276395872141068") == "-7269276395872141068"
    assert md_text("examples/entra_directory_audits.json") == "examples/entra_directory_audits.json"
    assert md_text("1. a\n2) b\n- c\n+ d\n> e\n---") == "1\\. a\n2\\) b\n\\- c\n\\+ d\n\\> e\n\\---"
    assert md_text("Apps > Gmail <b>") == "Apps > Gmail \\<b>"


def test_html_page_escapes_script(playbook: Playbook) -> None:
    ctx = make_ctx(title="<script>alert(1)</script>", description="a <script>b</script>")
    pages = render_pages(playbook, [ctx, make_ctx(indicator="escalation", rule_name="esc")])
    assert "<script>" not in pages.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages.html
    assert re.search(r"(?<!\\)<script>", pages.markdown) is None  # escaped: \<script>
    for text in (pages.html, pages.markdown):
        assert playbook.escalation.summary in text
        for step in playbook.l1_steps:
            assert step in text
        assert "actor.email" in text


def test_pages_have_contents_and_a_section_per_indicator(playbook: Playbook) -> None:
    pages = render_pages(playbook, [make_ctx()])
    assert "<style>" in pages.html and "<nav" in pages.html
    assert "<link" not in pages.html and "<script" not in pages.html  # no external assets
    assert "## Contents" in pages.markdown
    for indicator in playbook.indicators:
        assert f'<section class="indicator" id="indicator-{indicator.id}">' in pages.html
        assert f'<a href="#indicator-{indicator.id}">' in pages.html
        assert f"### Indicator: {indicator.name}" in pages.markdown
    # The rule sits in its indicator's section.
    bulk = pages.html.index('id="indicator-bulk-account-creation"')
    rule = pages.html.index("Google Workspace Accounts Created in Bulk by One Admin")
    assert bulk < rule < pages.html.index('id="indicator-disposable-email-domain"')


def test_html_links_only_web_addresses(playbook: Playbook) -> None:
    ctx = make_ctx(references=("javascript:alert(1)", "https://example.org/x"))
    html = render_pages(playbook, [ctx]).html
    assert 'href="javascript' not in html
    assert '<a href="https://example.org/x">' in html


# --- rendering errors ----------------------------------------------------------------------


def test_unknown_rule_indicator_is_an_error(playbook: Playbook) -> None:
    with pytest.raises(DacError, match="indicator 'nope' has no entry in the playbook"):
        render_splunk(playbook, make_ctx(indicator="nope"))


def test_entity_field_that_breaks_a_token_is_an_error(playbook: Playbook) -> None:
    with pytest.raises(DacError, match="cannot be a token"):
        render_splunk(playbook, make_ctx(entities=(Entity("x", "a$b"),)))


def test_templates_dir_default_and_override(playbook: Playbook, tmp_path: Path) -> None:
    assert templates_dir() == ROOT / "playbooks" / "templates"
    assert templates_dir(tmp_path) == tmp_path
    (tmp_path / "splunk_description.txt.j2").write_text("ok\n{% if %}\n", encoding="utf-8")
    with pytest.raises(DacError) as info:
        render_splunk(playbook, make_ctx(), templates=tmp_path)
    problem = info.value.problems[0]
    assert problem.path == tmp_path / "splunk_description.txt.j2"
    assert problem.line == 2


def test_missing_template_names_the_file(playbook: Playbook, tmp_path: Path) -> None:
    with pytest.raises(DacError, match=r"elastic_description\.md\.j2: template not found"):
        render_elastic(playbook, make_ctx(), templates=tmp_path)


# --- loader errors -------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(DacError) as info:
        load_playbook(path)
    assert all(p.path == path for p in info.value.problems)
    return [(p.line, p.reason) for p in info.value.problems]


def real_with(old: str, new: str) -> str:
    text = PLAYBOOK.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = real_with("l1_steps:", "l1_stepz:")
    problems = problems_of(write(tmp_path, text))
    assert (line_of(text, "l1_stepz:"), problems[0][1]) == problems[0]
    assert "unknown key 'l1_stepz'" in problems[0][1]
    assert any("missing required key 'l1_steps'" in reason for _, reason in problems)


def test_unknown_nested_key(tmp_path: Path) -> None:
    text = real_with("    name: Bulk account creation", "    nmae: Bulk account creation")
    problems = problems_of(write(tmp_path, text))
    line = line_of(text, "nmae:")
    assert any(ln == line and "unknown key 'nmae' in indicators.0" in r for ln, r in problems)


def test_unknown_indicator_id(tmp_path: Path) -> None:
    text = real_with("  - id: untraceable-account", "  - id: untraceable-acount")
    problems = problems_of(write(tmp_path, text))
    line = line_of(text, "untraceable-acount")
    assert any(ln == line and "'untraceable-acount' is not one of" in r for ln, r in problems)
    assert any("'untraceable-account' has no entry" in r for _, r in problems)


def test_unknown_question_reference(tmp_path: Path) -> None:
    text = real_with("questions: [malicious-ip]", "questions: [malicious-ipp]")
    problems = problems_of(write(tmp_path, text))
    assert any("unknown question 'malicious-ipp'" in r for _, r in problems)
    assert problems[0][0] == line_of(text, "malicious-ipp")


def test_wrong_type(tmp_path: Path) -> None:
    text = real_with("  tactic_id: TA0042", "  tactic_id: [TA0042]")
    problems = problems_of(write(tmp_path, text))
    assert problems == [
        (line_of(text, "tactic_id"), "technique.tactic_id must be a non-empty string")
    ]


def test_malformed_yaml_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "technique:\n  id: T1585.002\n  name: [unclosed\nlog_sources: x\n")
    with pytest.raises(DacError) as info:
        load_playbook(path)
    (problem,) = info.value.problems
    assert problem.path == path
    assert problem.line is not None and problem.line >= 3
    assert problem.reason.startswith("malformed YAML")
    assert str(path) in str(info.value)


def test_not_a_mapping_and_empty(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "- a\n- b\n")) == [(None, "the playbook must be a mapping")]
    assert problems_of(write(tmp_path, "# nothing\n")) == [(None, "the playbook is empty")]
