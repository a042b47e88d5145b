"""Fakes shipped with amplifier: fake X, Mastodon and Bluesky servers, the test rig, the
scenarios and the fault soak, for users' own tests and ours."""
