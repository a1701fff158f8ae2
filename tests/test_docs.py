"""The README documents every command and every option of the CLI."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from neardup.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    """Every command, subcommands of groups as "group sub" (e.g. "index create")."""
    out: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        out[prefix + name] = command
        if isinstance(command, click.Group):
            out |= _commands(command, f"{prefix}{name} ")
    return out


ALL = _commands(main)
COMMANDS = sorted(ALL)


def test_readme_opens_with_the_two_newcomer_commands() -> None:
    blocks = README.split("```bash\n")
    assert "pip install . && neardup run examples/" in blocks[1].splitlines()[0]
    assert "pip install '.[test]'" in blocks[2].splitlines()[0] and "pytest" in blocks[2]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"neardup {name}" in README


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_in_the_readme(name: str) -> None:
    command = ALL[name]
    for param in command.params:
        if isinstance(param, click.Option):
            longest = max(param.opts, key=len)
            assert longest in README, f"{name} {longest} is not documented"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_of_every_command(runner, name: str) -> None:
    result = runner.invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
