"""Reports for the owner: the console's Overview figures and the rollups they read (issues 15, 18)."""
