"""What the rules share: plain property views, cron arithmetic, the stack index and the policy builders."""
