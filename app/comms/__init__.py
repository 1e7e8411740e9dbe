"""Communication: status-update templates, the update cadence, and the process clock."""
