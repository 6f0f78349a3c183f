"""Facts computed from parsed rows (not file readers): ESP events, ESP tracking
with its value scales, ccmsetup runs, task-sequence runs and steps."""
