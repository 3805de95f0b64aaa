"""Shared fixtures: the rules compile once per session, the domain list loads once."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.compile import Queries, compile_target
from converters.domains import DomainList, load_domains
from converters.loading.rules import RuleSet, load_rules

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_rules(REPO / "sigma_rules")


@pytest.fixture(scope="session")
def domains() -> DomainList:
    return load_domains(REPO)


@pytest.fixture(scope="session")
def sqlite_queries(ruleset: RuleSet) -> Queries:
    return compile_target(ruleset, "sqlite")


@pytest.fixture(scope="session")
def eql_queries(ruleset: RuleSet) -> Queries:
    return compile_target(ruleset, "elastic")
