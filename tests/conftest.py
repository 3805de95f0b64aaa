"""Shared fixtures: the rules compile once per session, the domain list loads once."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.compile import Queries, compile_target
from converters.domains import DomainList, load_domains
from converters.loading.rules import RuleSet, load_rules
from converters.valuelists import ValueList, load_value_lists

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_rules(REPO / "sigma_rules")


@pytest.fixture(scope="session")
def domains() -> DomainList:
    return load_domains(REPO)


# The repository ships an empty threat-intelligence list; the tests bring one of their own
# (the RFC 5737 range the threat-intel cases use), as a customer does.
TEST_LISTS = {"threat_intel_ips": REPO / "tests" / "lists" / "threat_intel_ips.csv"}


def test_lists() -> dict[str, ValueList]:
    return load_value_lists(REPO, TEST_LISTS)


@pytest.fixture(scope="session")
def lists() -> dict[str, ValueList]:
    return test_lists()


@pytest.fixture(scope="session")
def sqlite_queries(ruleset: RuleSet, lists: dict[str, ValueList]) -> Queries:
    return compile_target(ruleset, "sqlite", lists)


@pytest.fixture(scope="session")
def eql_queries(ruleset: RuleSet, lists: dict[str, ValueList]) -> Queries:
    return compile_target(ruleset, "elastic", lists)
