"""The student hand-out: building it (release), the reference it replays (oracle), and check() in a notebook."""
