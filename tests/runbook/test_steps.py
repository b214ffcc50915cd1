from runbook.steps import step


def test_a_step_with_a_command_carries_it():
    assert step("Restore", "bring it back", "restic restore latest") == {
        "title": "Restore", "why": "bring it back", "command": "restic restore latest"}


def test_a_step_done_by_hand_has_no_command_key():
    """The schema reads a missing command as a manual step; an empty string would render an empty code block."""
    assert "command" not in step("Pause GitOps", "so Flux does not undo the restore")
