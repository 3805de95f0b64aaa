"""The text lint (converters.textlint): it catches each problem class, and every text a fresh
build and a hunt over the examples write passes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.compile import compile_target
from converters.loading.rules import RuleSet
from converters.textlint import (
    lint_dist,
    lint_file,
    lint_kibana_rule,
    lint_query,
    lint_text,
    repeated_lines,
    sentences,
)
from converters.valuelists import load_value_lists
from tests.conftest import test_lists as customer_lists
from tests.dist_helpers import ROOT, built_dist


def checks(text: str, **kwargs: object) -> set[str]:
    return {f.check for f in lint_text(text, "t", **kwargs)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "Fires on each event where selection; selection: event.name is CREATE_USER.",
        "Fires when query|expand is on the list.",
        "Fires when the recovery address is %disposable_email_domains%.",
        "condition: selection and not filter",
        "Fires when 1 of selection_* holds.",
        "A field|contains test.",
    ],
)
def test_sigma_syntax(text: str) -> None:
    assert "sigma-syntax" in checks(text)


@pytest.mark.parametrize(
    "text",
    ["Operation is Add user..", "Done.; then more.", "A list, , of things.", "Why:. Because."],
)
def test_doubled_punctuation(text: str) -> None:
    assert "doubled-punctuation" in checks(text)


@pytest.mark.parametrize(
    "text",
    [
        "Wait for it... and it comes.",
        "Source IP 2001:db8::1 added a user.",
        "At 10:05:00.123Z, version 1.2.3.",
        "See https://example.com/a..b for more.",
        "Run `Remove-Thing -Id 'x'..` later.",
    ],
)
def test_ordinary_punctuation_passes(text: str) -> None:
    assert checks(text, markup="markdown") == set()


def test_repeated_phrase() -> None:
    assert "repeated-phrase" in checks("**Fires on:** Fires on each event.", markup="markdown")
    assert checks("It had had enough.") == set()  # one word twice is English


@pytest.mark.parametrize(
    ("text", "markup"),
    [
        ("Hello {{ rule.title }}.", "plain"),
        ("{% if x %}y{% endif %}", "plain"),
        ("Revoke-MgUserSignInSession -UserId '<source.user.email>'", "plain"),
        ("```\ngam user <actor.email> signout\n```", "markdown"),
        ("<p>gam user &lt;actor.email&gt; signout</p>", "html"),
        ("- Account: `dac.hunt.entity.0`", "markdown"),
        ("Acting admin: $result.actor.email$", "plain"),
    ],
)
def test_unrendered_placeholders(text: str, markup: str) -> None:
    assert "placeholder" in checks(text, markup=markup) or "unrendered-template" in checks(
        text, markup=markup
    )


def test_splunk_tokens_are_meant_in_a_notable() -> None:
    assert checks("Acting admin: $result.actor.email$", splunk_tokens=True) == set()


def test_links_and_tags_are_no_placeholders() -> None:
    assert checks("- <https://attack.mitre.org/techniques/T1585/002/>", markup="markdown") == set()
    assert checks("<p>A <code>x</code> <b>bold</b> move.</p>", markup="html") == set()


@pytest.mark.parametrize("value", ["dac-empty-list", "255.255.255.255/32"])
def test_stand_in_values_in_texts_and_queries(value: str) -> None:
    assert "stand-in-value" in checks(f"The address is {value}.")
    query = f'any where source.ip in ("{value}")'
    assert [f.check for f in lint_query(query, "q")] == ["stand-in-value"]
    assert lint_query('any where source.ip == "198.51.100.7"', "q") == []


@pytest.mark.parametrize(
    "query",
    ["any where not () and x == 1", "| where user IN ()", "search a=1 OR ( )", "x AND NOT()"],
)
def test_empty_clauses_in_queries(query: str) -> None:
    assert [f.check for f in lint_query(query, "q")] == ["empty-clause"]
    assert lint_query("| eval t=now() | where isnull(x)", "q") == []


def test_over_long_kibana_description() -> None:
    short = {"description": "An admin created an account. It matters. Severity high: act now."}
    assert lint_kibana_rule(short, "r") == []
    four = {"description": "One. Two. Three. Four."}
    assert {f.check for f in lint_kibana_rule(four, "r")} == {"too-long"}
    long = {"description": " ".join(f"w{n}" for n in range(150)) + "."}
    assert {f.check for f in lint_kibana_rule(long, "r")} == {"too-long"}


def test_sentences() -> None:
    text = 'A user was added (operation "Add user."). Informational on its own. Why? This.'
    assert sentences(text) == [
        'A user was added (operation "Add user.").',
        "Informational on its own.",
        "Why?",
        "This.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "- Group: ip = \\198.51.100.17",
        "| examples/entra\\_directory\\_audits.json | entra |",
        "(id \\-7269276395872141068)",
    ],
)
def test_stray_markdown_escapes(text: str) -> None:
    assert "stray-escape" in checks(text, markup="markdown")


def test_needed_markdown_escapes_pass() -> None:
    text = "\\# not a heading\n\n\\- not a list\n\n1\\. not a list, *a\\*b*, \\_x and C:\\\\logs"
    assert checks(text, markup="markdown") == set()


def test_description_and_next_steps_do_not_repeat() -> None:
    first = "An admin created five accounts within one hour, by hand.\nShort line."
    second = "Check the admin's sessions and the accounts' sign-ins.\nShort line."
    assert repeated_lines(first, second, "w") == []
    assert [f.check for f in repeated_lines(first, first, "w")] == ["repeated-text"]


def test_the_hunts_json_is_read_for_its_playbooks(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    alert = {"group": {"UserId": "a..b"}, "playbook": "Fires on: Fires on x|contains y."}
    path.write_text(json.dumps(alert) + "\n", encoding="utf-8")
    assert {f.check for f in lint_file(path)} == {"sigma-syntax", "repeated-phrase"}


@pytest.mark.parametrize("target", ["splunk", "elastic", "sqlite"])
@pytest.mark.parametrize("shipped", [True, False], ids=["shipped-lists", "test-lists"])
def test_no_query_holds_a_stand_in_or_an_empty_clause(
    ruleset: RuleSet, target: str, shipped: bool
) -> None:
    """The shipped lists leave the threat-intelligence list and tuning lists empty: an empty
    list emits no clause at all, in SPL, EQL, ES|QL and the hunt's SQL alike."""
    lists = load_value_lists(ROOT) if shipped else customer_lists()
    queries = compile_target(ruleset, target, lists)
    findings = [f for rule, query in queries.by_rule.items() for f in lint_query(query, rule)]
    assert not findings, "\n".join(map(str, findings[:20]))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_dist(tmp_path_factory)


def test_every_text_in_dist_passes(dist: Path) -> None:
    # Each kind of text the lint reads is there: a moved file would pass unread.
    for pattern in (
        "splunk/*/default/savedsearches.conf",
        "splunk/*/default/macros.conf",
        "elastic/rules.ndjson",
        "playbooks/*.md",
        "playbooks/*.html",
    ):
        assert list(dist.glob(pattern)), pattern
    findings = lint_dist(dist)
    assert not findings, "\n".join(map(str, findings[:40]))


def test_every_hunt_report_passes(tmp_path: Path) -> None:
    examples = sorted((ROOT / "examples").iterdir())
    outputs = [tmp_path / name for name in ("report.md", "report.html", "alerts.jsonl")]
    args = ["hunt", "--root", str(ROOT), *map(str, examples)]
    args += ["--report", str(outputs[0]), "--report", str(outputs[1]), "--out", str(outputs[2])]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (tmp_path / "stdout.txt").write_text(result.output, encoding="utf-8")
    document = CliRunner().invoke(
        main, ["hunt", "--root", str(ROOT), *map(str, examples), "--json"]
    )
    assert document.exit_code == 0
    (tmp_path / "hunt.json").write_text(document.stdout, encoding="utf-8")
    assert "playbook" in document.stdout
    texts = [*outputs, tmp_path / "stdout.txt", tmp_path / "hunt.json"]
    findings = [f for path in texts for f in lint_file(path)]
    assert not findings, "\n".join(map(str, findings[:40]))
